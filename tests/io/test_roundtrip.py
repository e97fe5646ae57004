"""Property: a Lead table written in any export dialect reads back to the same values.

Hypothesis draws records (names with commas, quotes, line breaks and accents; 15- or
18-character ids; timestamps) and a dialect (delimiter, quoting, line ends, encoding with
or without BOM, report preamble and footer), writes the file with Python's ``csv``
module (an independent writer), and checks that ``read_salesforce`` returns every record
with its values and its real line number, and that the counts reconcile.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from closedloop_kit.io import read_salesforce
from closedloop_kit.io._parse import NULL_TOKENS
from closedloop_kit.schema import salesforce_id18

UTC = dt.UTC
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
TEXT = (
    st.lists(st.sampled_from([*"abcXYZ ,;'\"\n\tÉéüß-&/", "\r\n"]), min_size=1, max_size=12)
    .map("".join)
    .filter(lambda s: s.strip().lower() not in NULL_TOKENS)  # those read as empty
)
RECORD = st.fixed_dictionaries(
    {
        "base": st.text(alphabet=ALNUM, min_size=12, max_size=12),
        "long": st.booleans(),
        "last": TEXT,
        "company": TEXT,
        "created": st.datetimes(
            min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 12, 31)
        ).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
    }
)
DIALECT = st.fixed_dictionaries(
    {
        "delimiter": st.sampled_from([",", ";", "\t"]),
        "quote_all": st.booleans(),
        "line_end": st.sampled_from(["\n", "\r\n"]),
        "encoding": st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
        "report": st.booleans(),
    }
)


def _write(path: Path, records: list[dict[str, object]], d: dict[str, object]) -> list[int]:
    """Write the records; return the 1-based line each record starts on."""
    buf = io.StringIO(newline="")
    w = csv.writer(
        buf,
        delimiter=str(d["delimiter"]),
        quoting=csv.QUOTE_ALL if d["quote_all"] else csv.QUOTE_MINIMAL,
        lineterminator=str(d["line_end"]),
    )
    end = str(d["line_end"])
    lines_before = 0
    if d["report"]:
        buf.write(f"Lead Report{end}{end}")
        lines_before = 2
        w.writerow(["Lead ID", "Last Name", "Company / Account", "Create Date"])
    else:
        w.writerow(["Id", "LastName", "Company", "CreatedDate"])
    starts = []
    line = lines_before + 2
    for r in records:
        starts.append(line)
        created = r["created"]
        assert isinstance(created, dt.datetime)
        if d["report"]:  # reports write the user's local time, US style, to the minute
            stamp = f"{created.month}/{created.day}/{created.year} " + created.strftime(
                "%I:%M %p"
            ).lstrip("0")
        else:
            stamp = (
                created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}+0000"
            )
        row = [_id(r), r["last"], r["company"], stamp]
        w.writerow(row)
        line += 1 + sum(str(v).count("\n") for v in row)
    if d["report"]:
        buf.write(f'{end}"Grand Totals ({len(records)} records)"{end}')
        buf.write(f'"Confidential Information - Do Not Distribute"{end}')
    path.write_bytes(buf.getvalue().encode(str(d["encoding"])))
    return starts


def _id(r: dict[str, object]) -> str:
    sf15 = "00Q" + str(r["base"])
    return salesforce_id18(sf15) if r["long"] else sf15


@settings(
    max_examples=int(os.environ.get("ROUNDTRIP_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(RECORD, min_size=1, max_size=8, unique_by=lambda r: r["base"]), DIALECT)
def test_any_dialect_reads_back(
    tmp_path: Path, records: list[dict[str, object]], d: dict[str, object]
) -> None:
    path = tmp_path / "Lead.csv"
    try:
        starts = _write(path, records, d)
    except UnicodeEncodeError:  # cp1252 cannot write every drawn character
        return
    res = read_salesforce(path, object="Lead")
    rep = res.report.row(0, named=True)
    assert rep["rows_read"] == len(records) == rep["rows_kept"], (rep, res.rejected)
    people = res["people"].sort("source_row")
    assert people["source_row"].to_list() == starts
    assert people["person_id"].to_list() == [f"sf:{salesforce_id18(_id(r)[:15])}" for r in records]
    # values are trimmed (exports pad nothing that matters); line breaks inside stay
    assert people["last_name"].to_list() == [str(r["last"]).strip() for r in records]
    assert people["company_name"].to_list() == [str(r["company"]).strip() for r in records]
    minute = d["report"]
    assert people["created_at"].to_list() == [
        r["created"].replace(  # type: ignore[union-attr]
            tzinfo=UTC, **({"second": 0, "microsecond": 0} if minute else {})
        )
        for r in records
    ]
