"""Property: Salesforce opportunities, as a Data Export or a report export, read back.

Hypothesis draws opportunities (stage, amount in cents and currency, probability, close
date) and writes them either as a Data Export (API names, plain amounts with a
``CurrencyIsoCode`` column, ``Probability`` 0-100, ISO dates) or as a report export
(labels, ``"EUR 1,234.50"`` / ``"$1,234.50"`` amounts, ``"65%"``, ``M/D/YYYY`` dates,
15-character ids, a Grand Totals footer). Every opportunity must come back with the same
amount and currency, probability as a rate, close date, and won/closed flags from the
stage.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from closedloop_kit.io import read_salesforce
from closedloop_kit.schema import salesforce_id18

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
STAGES = {  # stage: (closed, won)
    "Prospecting": (False, False),
    "Negotiation/Review": (False, False),
    "Closed Won": (True, True),
    "Closed Lost": (True, False),
}
SYMBOL = {"USD": "$", "EUR": "EUR ", "GBP": "£"}
OPP = st.fixed_dictionaries(
    {
        "base": st.text(alphabet=ALNUM, min_size=12, max_size=12),
        "stage": st.sampled_from(sorted(STAGES)),
        "cents": st.integers(0, 10**10),
        "currency": st.sampled_from(sorted(SYMBOL)),
        "probability": st.integers(0, 100),
        "close": st.dates(min_value=dt.date(2020, 1, 13), max_value=dt.date(2030, 12, 31)),
    }
)


def _money(cents: int) -> str:
    return f"{cents // 100:,}.{cents % 100:02d}"


@settings(
    max_examples=int(os.environ.get("ROUNDTRIP_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(OPP, min_size=1, max_size=8, unique_by=lambda o: o["base"]), st.booleans())
def test_opportunities_read_back(
    tmp_path: Path, opps: list[dict[str, object]], report: bool
) -> None:
    # a report's M/D/YYYY dates need one day > 12 to decide the order; keep one
    opps[0] = {**opps[0], "close": dt.date(2026, 1, 13)}
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    if report:
        w.writerow(
            [
                "Opportunity ID",
                "Opportunity Name",
                "Stage",
                "Amount",
                "Probability (%)",
                "Close Date",
            ]
        )
    else:
        w.writerow(
            ["Id", "Name", "StageName", "Amount", "CurrencyIsoCode", "Probability", "CloseDate"]
        )
    for o in opps:
        sf15 = "006" + str(o["base"])
        cents, ccy, close = int(o["cents"]), str(o["currency"]), o["close"]  # type: ignore[call-overload]
        assert isinstance(close, dt.date)
        if report:
            w.writerow(
                [
                    sf15,
                    'Deal, "big"',
                    o["stage"],
                    f"{SYMBOL[ccy]}{_money(cents)}",
                    f"{o['probability']}%",
                    f"{close.month}/{close.day}/{close.year}",
                ]
            )
        else:
            w.writerow(
                [
                    salesforce_id18(sf15),
                    "Deal",
                    o["stage"],
                    f"{cents // 100}.{cents % 100:02d}",
                    ccy,
                    o["probability"],
                    close.isoformat(),
                ]
            )
    if report:
        buf.write(f'\n"Grand Totals ({len(opps)} records)"\n')
    path = tmp_path / ("opportunity_report.csv" if report else "Opportunity.csv")
    path.write_text(buf.getvalue(), encoding="utf-8")

    res = read_salesforce(path, object="Opportunity")
    rep = res.report.row(0, named=True)
    assert rep["rows_read"] == len(opps) == rep["rows_kept"], (rep, res.rejected)
    got = res["opportunities"].sort("source_row")
    assert got["opportunity_id"].to_list() == [
        f"sf:{salesforce_id18('006' + str(o['base']))}" for o in opps
    ]
    assert [round(Decimal(str(a)) * 100) for a in got["amount"].to_list()] == [
        o["cents"] for o in opps
    ]
    assert got["currency"].to_list() == [o["currency"] for o in opps]
    assert [round(p * 100) for p in got["probability_rate"].to_list()] == [
        o["probability"] for o in opps
    ]
    assert got["close_date"].to_list() == [o["close"] for o in opps]
    assert got["is_closed"].to_list() == [STAGES[str(o["stage"])][0] for o in opps]
    assert got["is_won"].to_list() == [STAGES[str(o["stage"])][1] for o in opps]
