"""Property: a HubSpot contacts export, as CSV or XLSX, reads back to the same contacts.

Hypothesis draws contacts (names with commas, quotes, line breaks and accents; ids that
look numeric, some zero-padded; several associated companies; merged contact ids; create
dates in the portal's time zone) and writes them the way HubSpot's export dialog does
(UTF-8 CSV with or without BOM, or an XLSX workbook). ``read_hubspot`` must return every
contact with its values, the first associated company as the account, one identity link
per merged id, and counts that reconcile.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from closedloop_kit.io import read_hubspot
from closedloop_kit.io._parse import NULL_TOKENS

HEADER = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Lifecycle Stage",
    "Create Date",
    "Associated Company IDs",
    "Merged Contact IDs",
]
NAME = (
    st.lists(st.sampled_from([*"abcXYZ ,;'\"\nÉéüß-&"]), min_size=1, max_size=10)
    .map("".join)
    .filter(lambda s: s.strip().lower() not in NULL_TOKENS)
)
CONTACT = st.fixed_dictionaries(
    {
        "id": st.integers(1, 10**11).map(str) | st.integers(1, 999).map(lambda i: f"{i:05d}"),
        "first": NAME,
        "last": NAME,
        "email": st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(com|de|io)", fullmatch=True),
        "stage": st.sampled_from(["subscriber", "lead", "marketingqualifiedlead", "opportunity"]),
        "created": st.datetimes(
            min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2026, 12, 31)
        ).map(lambda d: d.replace(second=0, microsecond=0)),
        "companies": st.lists(st.integers(1, 10**9).map(str), max_size=3, unique=True),
        "merged": st.lists(st.integers(10**11 + 1, 10**12).map(str), max_size=2, unique=True),
    }
)
ZONE = "Europe/Berlin"


def _rows(contacts: list[dict[str, object]]) -> list[list[str]]:
    return [
        [
            str(c["id"]),
            str(c["first"]),
            str(c["last"]),
            str(c["email"]),
            str(c["stage"]),
            c["created"].strftime("%Y-%m-%d %H:%M"),  # type: ignore[attr-defined]
            ";".join(c["companies"]),  # type: ignore[arg-type]
            ";".join(c["merged"]),  # type: ignore[arg-type]
        ]
        for c in contacts
    ]


@settings(
    max_examples=int(os.environ.get("ROUNDTRIP_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(CONTACT, min_size=1, max_size=6, unique_by=lambda c: c["id"]),
    st.sampled_from(["csv", "csv-bom", "xlsx"]),
)
def test_any_export_reads_back(
    tmp_path: Path, contacts: list[dict[str, object]], shape: str
) -> None:
    ids = {str(c["id"]) for c in contacts}
    # a merged id equal to a live contact id is another case; keep them apart
    contacts = [{**c, "merged": [m for m in c["merged"] if m not in ids]} for c in contacts]  # type: ignore[attr-defined]
    rows = _rows(contacts)
    if shape == "xlsx":
        openpyxl = pytest.importorskip("openpyxl")
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Contacts"
        ws.append(HEADER)
        for r in rows:
            ws.append(r)  # every cell text, as HubSpot writes ids and lists
        path = tmp_path / "hubspot-crm-exports-all-contacts.xlsx"
        wb.save(path)
    else:
        buf = io.StringIO(newline="")
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)
        path = tmp_path / "hubspot-crm-exports-all-contacts.csv"
        path.write_text(buf.getvalue(), encoding="utf-8-sig" if shape == "csv-bom" else "utf-8")

    res = read_hubspot(path, tz=ZONE)
    rep = res.report.row(0, named=True)
    assert rep["rows_read"] == len(contacts) == rep["rows_kept"], (rep, res.rejected)
    people = res["people"].sort("source_row")
    assert people["person_id"].to_list() == [f"hs:{c['id']}" for c in contacts]
    assert people["first_name"].to_list() == [str(c["first"]).strip() for c in contacts]
    assert people["last_name"].to_list() == [str(c["last"]).strip() for c in contacts]
    assert people["email_normalized"].to_list() == [str(c["email"]).lower() for c in contacts]
    assert people["lifecycle_stage_raw"].to_list() == [c["stage"] for c in contacts]
    berlin = ZoneInfo(ZONE)
    assert people["created_at"].to_list() == [
        c["created"].replace(tzinfo=berlin).astimezone(dt.UTC)  # type: ignore[attr-defined]
        for c in contacts
    ]
    assert people["account_id"].to_list() == [
        f"hs:{c['companies'][0]}" if c["companies"] else None  # type: ignore[index]
        for c in contacts
    ]
    links = res["identity_links"] if "identity_links" in res else None
    expected_links = sorted(
        (f"hs:{m}", f"hs:{c['id']}")
        for c in contacts
        for m in c["merged"]  # type: ignore[attr-defined]
    )
    got_links = (
        sorted(links.select("id_value", "linked_id_value").rows()) if links is not None else []
    )
    assert got_links == expected_links
