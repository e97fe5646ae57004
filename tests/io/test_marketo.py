"""Marketo bulk activity extracts (attributes in both shapes) and lead exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import polars as pl
import pytest

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io.marketo import read_marketo

HEADER = [
    "marketoGUID",
    "leadId",
    "activityDate",
    "activityTypeId",
    "campaignId",
    "primaryAttributeValueId",
    "primaryAttributeValue",
    "attributes",
]


def extract(rows: list[list[object]]) -> str:
    """A bulk activity extract as Marketo writes it (attributes JSON in one quoted cell)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for r in rows:
        w.writerow([json.dumps(v) if isinstance(v, (dict, list)) else v for v in r])
    return buf.getvalue()


def test_attributes_as_object_and_as_name_value_list(tmp_path):
    p = tmp_path / "activities.csv"
    p.write_text(
        extract(
            [
                # attributes as a JSON object
                [
                    "g1",
                    42,
                    "2023-11-01T10:00:00Z",
                    1,
                    5,
                    9,
                    "example.com/pricing",
                    {
                        "Query Parameters": "utm_source=linkedin&utm_medium=paid_social",
                        "Referrer URL": "https://www.linkedin.com/",
                        "Client IP Address": "1.2.3.4",
                    },
                ],
                # attributes as a list of {name, value}
                [
                    "g2",
                    42,
                    "2023-11-01T10:05:00Z",
                    2,
                    5,
                    77,
                    "Demo Request Form",
                    [
                        {"name": "Webpage URL", "value": "example.com/demo"},
                        {"name": "Query Parameters", "value": "utm_campaign=q4_demo"},
                    ],
                ],
                ["g3", 43, "2023-11-02T08:00:00Z", 11, 6, 12, "Nov Newsletter", {"Link": "/x"}],
            ]
        )
    )
    res = read_marketo(p)
    tp = res["touchpoints"].sort("touchpoint_id")
    assert tp["touchpoint_id"].to_list() == ["mkto:g1", "mkto:g2", "mkto:g3"]
    assert tp["person_id"].to_list() == ["mkto:42", "mkto:42", "mkto:43"]
    assert tp["touch_type"].to_list() == ["web_visit", "form_fill", "email_click"]
    assert tp["source"].to_list() == ["linkedin", None, "marketo"]
    assert tp["medium"].to_list() == ["paid_social", None, "email"]
    assert tp["campaign_name"].to_list() == [None, "q4_demo", "Nov Newsletter"]
    assert tp["landing_page"].to_list() == ["example.com/pricing", "example.com/demo", None]
    assert tp["content"].to_list() == [None, "Demo Request Form", "/x"]
    assert tp["channel"].to_list() == [None, None, "Email"]
    assert res.reconciles


def test_field_changes_become_stage_history_and_ignored_types_are_explained(tmp_path):
    p = tmp_path / "activities.csv"
    p.write_text(
        extract(
            [
                [
                    "g1",
                    42,
                    "2023-11-03T09:00:00Z",
                    13,
                    5,
                    44,
                    "Lead Status",
                    [
                        {"name": "New Value", "value": "MQL"},
                        {"name": "Old Value", "value": "Open"},
                        {"name": "Reason", "value": "Score threshold"},
                    ],
                ],
                [
                    "g2",
                    42,
                    "2023-11-04T09:00:00Z",
                    104,
                    1001,
                    1001,
                    "Webinar Nov",
                    {"New Status": "Attended", "Old Status": "Registered", "Success": True},
                ],
                ["g3", 42, "2023-11-04T09:00:00Z", 24, 5, 3, "Newsletter list", {}],
            ]
        )
    )
    res = read_marketo(p)
    h = res["stage_history"].sort("changed_at")
    assert h["field"].to_list() == ["status", "program_status"]
    assert h["old_value"].to_list() == ["Open", "Registered"]
    assert h["new_value"].to_list() == ["MQL", "Attended"]
    assert h["entity_id"].to_list() == ["mkto:42", "mkto:42"]
    assert h["campaign_name"].to_list() == [None, "Webinar Nov"]
    assert res["touchpoints"].height == 0
    assert res.rejected["reason"].to_list() == [
        "activity type 24 (Add to List) is neither a touch nor a tracked field change"
    ]
    assert res.reconciles
    # one file, reported as touches (+ ignored) and as field changes
    assert res.report["rows_read"].sum() == 3


def test_bad_attributes_json_rejects_the_row_only(tmp_path):
    p = tmp_path / "activities.csv"
    text = extract([["g1", 42, "2023-11-01T10:00:00Z", 10, 5, 9, "Email A", {}]])
    text += 'g2,42,2023-11-01T10:00:00Z,10,5,9,Email A,"{""broken"": "\n'
    p.write_text(text)
    res = read_marketo(p)
    assert res["touchpoints"].height == 1
    assert res.rejected["source_row"].to_list() == [3]
    assert "not valid JSON" in res.rejected["reason"].item()


def test_lead_export_people_and_crm_links(tmp_path):
    p = tmp_path / "leads.csv"
    p.write_text(
        "id,email,firstName,lastName,company,leadStatus,createdAt,sfdcLeadId,sfdcContactId,"
        "sfdcAccountId,leadScore\n"
        " 42,Ann@Acme.com,Ann,Lee,Acme,MQL,2023-10-01T08:00:00Z,00Q5e00000AbCdE,,,55\n"
        "43,bo@beta.io,Bo,Ng,Beta,Open,2023-10-02T08:00:00Z,,003A0000006Vm9rXXX,"
        "001A0000006Vm9r,10\n"
    )
    res = read_marketo(p)
    people = res["people"].sort("person_id")
    assert people["person_id"].to_list() == ["mkto:42", "mkto:43"]
    assert people["person_type"].unique().to_list() == ["prospect"]
    assert people["email_normalized"].to_list() == ["ann@acme.com", "bo@beta.io"]
    assert people["account_id"].to_list() == [None, "sf:001A0000006Vm9rIAC"]
    links = res["identity_links"]
    assert links.select("id_value", "linked_id_type", "linked_id_value").rows() == [
        ("mkto:42", "crm_id", "sf:00Q5e00000AbCdEEAV")
    ]
    # the contact id's checksum is wrong: that link is rejected, the person is kept
    assert res.rejected["table"].to_list() == ["identity_links"]
    assert "checksum" in res.rejected["reason"].item()
    assert res.reconciles


def test_wrong_file_suggests_nothing_silly(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("Day,Campaign,Cost,Impr.\n2023-11-01,a,1,2\n")
    with pytest.raises(SourceFormatError, match="read_ad_costs"):
        read_marketo(p)


def test_missing_activity_column(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("marketoGUID,leadId,activityTypeId\n1,2,10\n")
    with pytest.raises(SourceFormatError, match="activityDate"):
        read_marketo(p)
    assert pl.__version__


def test_doc_lists_every_mapping():
    from pathlib import Path

    from closedloop_kit.io.marketo import ACTIVITY_TYPES, LEAD_COLUMNS

    doc = (Path(__file__).parents[2] / "docs" / "howto-marketo-pardot.md").read_text()
    for names in LEAD_COLUMNS.values():
        for name in names:
            assert f"`{name}`" in doc, name
    for type_id, (name, _kind, _target) in ACTIVITY_TYPES.items():
        assert f"| {type_id} | {name} |" in doc, name


def test_date_range_rejects_activities_outside_and_keeps_the_bounds(tmp_path):
    p = tmp_path / "activities.csv"
    p.write_text(
        extract(
            [
                [1, 42, "2023-10-31T23:59:59Z", 10, 7, 3, "Oct", {}],  # a second before
                [2, 42, "2023-11-01T00:00:00Z", 10, 7, 3, "Nov", {}],  # first day: kept
                [3, 42, "2023-11-30T23:59:59Z", 10, 7, 3, "Nov", {}],  # last day: kept
                [4, 42, "2023-12-01T00:00:00Z", 10, 7, 3, "Dec", {}],
            ]
        )
    )
    res = read_marketo(p, date_range=("2023-11-01", "2023-11-30"))
    assert res["touchpoints"]["touchpoint_id"].sort().to_list() == ["mkto:2", "mkto:3"]
    rej = res.rejected.sort("source_row")
    assert rej["source_row"].to_list() == [2, 5]  # lines (header on line 1)
    assert rej["reason"].str.contains("outside the plausible dates 2023-11-01..2023-11-30").all()
    assert res.report["rows_rejected"][0] == 2
    assert res.reconciles
    # without it, every activity is plausible
    assert read_marketo(p)["touchpoints"].height == 4


def test_date_range_applies_to_lead_created_dates(tmp_path):
    p = tmp_path / "leads.csv"
    p.write_text(
        "id,email,sfdcLeadId,createdAt\n"
        "1,a@x.com,00Q5e00000AbCdE,2024-01-01T00:00:00Z\n"
        "2,b@x.com,,2019-06-30T10:00:00Z\n"
    )
    res = read_marketo(p, date_range=(dt.date(2020, 1, 1), dt.date(2024, 1, 1)))
    assert res["people"]["person_id"].to_list() == ["mkto:1"]
    assert res.rejected.filter(pl.col("table") == "people")["source_row"].to_list() == [3]
    assert res.reconciles
