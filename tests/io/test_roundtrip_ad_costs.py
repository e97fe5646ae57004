"""Property: a Google Ads UI report written in any locale reads back to the same numbers.

Hypothesis draws daily campaign rows (costs with cents, impressions and clicks in the
thousands) and a locale: English (``,`` separated, ``"1,234.50"``), German (``;``,
``1.234,50``) or French (``;``, ``1 234,50`` with a narrow no-break space), optionally
the "CSV (Excel)" variant (UTF-16 with BOM, tab separated), with the UI's title and date
range above the header and its ``Total:`` rows below. The numbers are formatted here,
independently of the parser, and must come back exactly.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from closedloop_kit.io.ad_costs import read_ad_costs

LOCALES = {
    # name: (delimiter, thousands separator, decimal mark)
    "en": (",", ",", "."),
    "de": (";", ".", ","),
    "fr": (";", "\u202f", ","),
}
ROW = st.fixed_dictionaries(
    {
        "day": st.dates(min_value=dt.date(2023, 1, 1), max_value=dt.date(2026, 12, 31)),
        "campaign": st.sampled_from(["brand_search", "nonbrand", "yt_awareness", "remarketing"]),
        "cents": st.integers(0, 250_000_000),
        "impressions": st.integers(0, 5_000_000),
        "clicks": st.integers(0, 90_000),
    }
)


def _group(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def _money(cents: int, thousands: str, mark: str) -> str:
    return f"{_group(cents // 100, thousands)}{mark}{cents % 100:02d}"


@settings(
    max_examples=int(os.environ.get("ROUNDTRIP_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(ROW, min_size=1, max_size=10, unique_by=lambda r: (r["day"], r["campaign"])),
    st.sampled_from(sorted(LOCALES)),
    st.booleans(),
)
def test_any_locale_reads_back(
    tmp_path: Path, rows: list[dict[str, object]], locale: str, excel: bool
) -> None:
    delim, thousands, mark = LOCALES[locale]
    if excel:
        delim = "\t"
    header = [
        "Day",
        "Campaign",
        "Campaign ID",
        "Campaign type",
        "Currency code",
        "Cost",
        "Impr.",
        "Clicks",
    ]

    def line(cells: list[str]) -> str:
        return delim.join(f'"{c}"' if delim in c or '"' in c else c for c in cells)

    lines = ["Campaign report", '"January 1, 2023 - December 31, 2026"', line(header)]
    for r in rows:
        cents, imp, clk = int(r["cents"]), int(r["impressions"]), int(r["clicks"])  # type: ignore[call-overload]
        lines.append(
            line(
                [
                    str(r["day"]),
                    str(r["campaign"]),
                    "123-456-7890",
                    "Search",
                    "EUR",
                    _money(cents, thousands, mark),
                    _group(imp, thousands),
                    _group(clk, thousands),
                ]
            )
        )
    total = sum(int(r["cents"]) for r in rows)  # type: ignore[call-overload]
    lines.append(line(["Total: Account", "", "", "", "", _money(total, thousands, mark), "", ""]))
    text = "\n".join(lines) + "\n"
    path = tmp_path / "Campaign report.csv"
    if excel:
        path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    else:
        path.write_text(text, encoding="utf-8")

    res = read_ad_costs(path, platform="google_ads")
    spend = res["spend"].sort("date", "ad_campaign_name")
    expected = sorted(rows, key=lambda r: (r["day"], r["campaign"]))  # type: ignore[arg-type, return-value]
    assert spend["date"].to_list() == [r["day"] for r in expected]
    got_cents = [round(Decimal(str(c)) * 100) for c in spend["cost"].to_list()]
    assert got_cents == [r["cents"] for r in expected]
    assert spend["impressions"].to_list() == [r["impressions"] for r in expected]
    assert spend["clicks"].to_list() == [r["clicks"] for r in expected]
    rep = res.report.row(0, named=True)
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_rejected"]) == (len(rows), len(rows), 0)
