"""Pardot prospect exports (CRM FIDs) and visitor activities."""

from __future__ import annotations

import datetime as dt

import pytest

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io.pardot import read_pardot


def test_prospects_with_crm_fids_ui_labels(tmp_path):
    p = tmp_path / "prospects.csv"
    p.write_text(
        "Id,First Name,Last Name,Email,Company,Score,Grade,Created Date,Campaign,"
        "CRM Lead FID,CRM Contact FID\n"
        "101,Ann,Lee,ann@acme.com,Acme,55,B+,2023-10-01 09:00:00,Website,00Q5e00000AbCdE,\n"
        '102,Bo,Ng,bo@beta.io,Beta,"1,200",A,2023-10-02 09:00:00,Webinar,,003A0000006Vm9rIAC\n'
        "103,Cy,Oh,cy@gamma.io,Gamma,3,C,2023-10-03 09:00:00,Website,,\n"
    )
    res = read_pardot(p, tz="America/New_York")
    people = res["people"].sort("person_id")
    assert people["person_id"].to_list() == ["pardot:101", "pardot:102", "pardot:103"]
    assert people["score"].to_list() == [55.0, 1200.0, 3.0]
    assert people["grade"].to_list() == ["B+", "A", "C"]
    # 09:00 New York (EDT, UTC-4) = 13:00 UTC
    assert people["created_at"][0] == dt.datetime(2023, 10, 1, 13, 0, tzinfo=dt.UTC)
    links = res["identity_links"].sort("id_value")
    assert links.select("id_value", "linked_id_value", "rule").rows() == [
        ("pardot:101", "sf:00Q5e00000AbCdEEAV", "pardot_crm_lead_id"),
        ("pardot:102", "sf:003A0000006Vm9rIAC", "pardot_crm_contact_id"),
    ]
    assert res.report["time_zone_assumed"].to_list() == ["America/New_York"]
    assert res.reconciles


def test_prospects_api_names_and_invalid_fid(tmp_path):
    p = tmp_path / "prospects_api.csv"
    p.write_text(
        "id,email,first_name,crm_lead_fid,crm_contact_fid,score,grade\n"
        "1,a@x.com,A,00Q5e00000AbCdEXXX,,1,A\n"
    )
    res = read_pardot(p)
    assert res["people"].height == 1
    assert res["identity_links"].height == 0
    assert res.rejected["table"].to_list() == ["identity_links"]
    assert "checksum" in res.rejected["reason"].item()


def test_visitor_activity_type_codes(tmp_path):
    p = tmp_path / "visitor_activities.csv"
    p.write_text(
        "id,prospect_id,visitor_id,type,type_name,details,email_id,campaign_id,created_at\n"
        "1,101,9,2,View,/pricing,,5,2023-11-01T10:00:00Z\n"
        "2,101,9,4,Success,Demo Form,,5,2023-11-01T10:05:00Z\n"
        "3,101,,6,Sent,Nov Newsletter,77,6,2023-11-02T08:00:00Z\n"
        "4,101,,11,Open,Nov Newsletter,77,6,2023-11-02T09:00:00Z\n"
        "5,101,,1,Click,https://x.com/a,77,6,2023-11-02T09:01:00Z\n"
        "6,,9,1,Click,https://x.com/file.pdf,,5,2023-11-03T09:01:00Z\n"
        "7,101,,13,Bounced,Nov Newsletter,77,6,2023-11-02T08:00:01Z\n"
    )
    res = read_pardot(p)
    tp = res["touchpoints"].sort("touchpoint_id")
    assert tp["touch_type"].to_list() == [
        "web_visit",
        "form_fill",
        "email_send",
        "email_open",
        "email_click",  # a Click with an email_id
        "web_click",
    ]
    assert tp["person_id"].to_list()[-1] is None
    assert tp["anonymous_id"].to_list()[-1] == "pardot:visitor:9"
    assert tp["channel"].to_list() == [None, None, "Email", "Email", "Email", None]
    assert res.rejected["reason"].to_list() == [
        "visitor activity type 13 (Bounced) is not a marketing touch"
    ]
    assert res.reconciles


def test_not_a_pardot_file(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("foo,bar\n1,2\n")
    with pytest.raises(SourceFormatError, match="Pardot"):
        read_pardot(p)


def test_doc_lists_every_mapping():
    from pathlib import Path

    from closedloop_kit.io.pardot import ACTIVITY_COLUMNS, ACTIVITY_TYPES, PROSPECT_COLUMNS

    doc = (Path(__file__).parents[2] / "docs" / "howto-marketo-pardot.md").read_text()
    for names in PROSPECT_COLUMNS.values():
        for name in names:
            assert f"`{name}`" in doc, name
    for name in ACTIVITY_COLUMNS:
        assert f"`{name}`" in doc, name
    for name, target in ACTIVITY_TYPES.values():
        if target is not None:
            assert name in doc, name
            assert f"`{target}`" in doc, target


def test_day_first_dates_of_a_resaved_export_need_dayfirst(tmp_path):
    # an export re-saved by Excel in a UK locale: 02/11/2023 10:00 reads both ways
    p = tmp_path / "visitor_activities.csv"
    p.write_text(
        "id,prospect_id,visitor_id,type,type_name,details,email_id,campaign_id,created_at\n"
        "1,101,9,2,View,/pricing,,5,02/11/2023 10:00\n"
        "2,101,9,4,Success,Demo Form,,5,03/11/2023 10:05\n"
    )
    with pytest.raises(SourceFormatError, match="dayfirst"):
        read_pardot(p)
    when = read_pardot(p, dayfirst=True, tz="Europe/London")["touchpoints"].sort("touchpoint_id")
    # 10:00 London on 2 November (GMT, UTC+0) = 10:00 UTC
    assert when["occurred_at"].to_list()[0] == dt.datetime(2023, 11, 2, 10, tzinfo=dt.UTC)


def test_date_range_rejects_rows_outside_and_keeps_the_bounds(tmp_path):
    p = tmp_path / "visitor_activities.csv"
    p.write_text(
        "id,prospect_id,visitor_id,type,type_name,details,created_at\n"
        "1,7,,2,View,/pricing,2023-10-31 23:59:59\n"
        "2,7,,2,View,/pricing,2023-11-01 00:00:00\n"
        "3,7,,2,View,/pricing,2023-11-30 23:59:59\n"
        "4,7,,2,View,/pricing,2023-12-01 00:00:00\n"
    )
    res = read_pardot(p, date_range=("2023-11-01", "2023-11-30"))
    assert sorted(res["touchpoints"]["touchpoint_id"].to_list()) == ["pardot:2", "pardot:3"]
    rej = res.rejected.sort("source_row")
    assert rej["source_row"].to_list() == [2, 5]
    assert rej["reason"].str.contains("outside the plausible dates 2023-11-01..2023-11-30").all()
    assert res.report["rows_rejected"][0] == 2
    assert res.reconciles
    prospects = tmp_path / "prospects.csv"
    prospects.write_text(
        "Id,Email,Score,Grade,Created Date\n"
        "1,a@x.com,1,A,2023-11-30 12:00:00\n"
        "2,b@x.com,1,A,2023-12-01 12:00:00\n"
    )
    people = read_pardot(prospects, date_range=("2023-11-01", "2023-11-30"))
    assert people["people"]["person_id"].to_list() == ["pardot:1"]
    assert people.report["rows_rejected"][0] == 1
