"""read_hubspot: CRM UI exports and warehouse-synced tables, each quirk on a small file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io import read_hubspot

UTC = dt.UTC

CONTACTS = (
    "Record ID,First Name,Last Name,Email,Lifecycle Stage,Original Source,Create Date,"
    "Became a Lead Date,Became a Marketing Qualified Lead Date,Became an Opportunity Date,"
    "Associated Company IDs,Merged Contact IDs\n"
    "0051,Ann,Akin,Ann@Example.COM,opportunity,Paid Search,2026-01-05 09:00,"
    "2026-01-05 09:00,2026-01-20 10:30,2026-02-03 08:00,9001;9002,77;78\n"
    "52,Bo,Ng,bo@example.com,lead,Organic Search,2026-01-06 09:00,2026-01-06 09:00,,,9003,\n"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_contacts_export_labels_and_ids_as_text(tmp_path: Path) -> None:
    res = read_hubspot(_write(tmp_path, "contacts.csv", CONTACTS), tz="Europe/Berlin")
    people = res["people"].sort("source_row")
    # ids look numeric but stay text: the leading zero survives
    assert people["person_id"].to_list() == ["hs:0051", "hs:52"]
    assert people["email_normalized"].to_list() == ["ann@example.com", "bo@example.com"]
    assert people["lifecycle_stage_raw"].to_list() == ["opportunity", "lead"]
    assert people["lead_source"].to_list() == ["Paid Search", "Organic Search"]
    # the first associated company is the account
    assert people["account_id"].to_list() == ["hs:9001", "hs:9003"]
    # 09:00 Berlin (UTC+1 in January) = 08:00 UTC
    assert people["created_at"][0] == dt.datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert res.report["time_zone_assumed"][0] == "Europe/Berlin"


def test_became_a_dates_become_lifecycle_history(tmp_path: Path) -> None:
    res = read_hubspot(_write(tmp_path, "contacts.csv", CONTACTS))
    hist = res["stage_history"].filter(pl.col("entity_id") == "hs:0051").sort("changed_at")
    assert hist["field"].unique().to_list() == ["lifecycle_stage"]
    assert hist["entity_type"].unique().to_list() == ["person"]
    assert hist["new_value"].to_list() == ["lead", "marketingqualifiedlead", "opportunity"]
    assert hist["old_value"].to_list() == [None, "lead", "marketingqualifiedlead"]


def test_merged_ids_become_identity_links(tmp_path: Path) -> None:
    res = read_hubspot(_write(tmp_path, "contacts.csv", CONTACTS))
    links = res["identity_links"].sort("id_value")
    assert links.select("id_value", "linked_id_value").rows() == [
        ("hs:77", "hs:0051"),
        ("hs:78", "hs:0051"),
    ]
    assert res.report["rows_kept"][0] == 2  # merged ids do not add people


def test_older_contact_id_header(tmp_path: Path) -> None:
    p = _write(tmp_path, "export.csv", "Contact ID,Email,Lifecycle Stage\n51,a@x.com,lead\n")
    assert read_hubspot(p)["people"]["person_id"].to_list() == ["hs:51"]


def test_deals_export(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "deals.csv",
        "Record ID,Deal Name,Deal Stage,Pipeline,Amount,Close Date,Create Date,"
        "Associated Company IDs,Associated Contact IDs\n"
        '901,Big deal,Closed Won,Sales Pipeline,"$12,500.00",2026-03-31,2026-01-10 10:00,'
        "9001,0051;52\n"
        "902,Small,Appointment Scheduled,Sales Pipeline,--,2026-04-30,2026-01-11 10:00,,\n",
    )
    res = read_hubspot(p)
    deals = res["opportunities"].sort("source_row")
    assert deals["opportunity_id"].to_list() == ["hs:901", "hs:902"]
    assert deals["amount"].to_list() == [12500.0, None]
    assert deals["is_won"].to_list() == [True, False]
    assert deals["is_closed"].to_list() == [True, False]
    assert deals["account_id"].to_list() == ["hs:9001", None]
    assert deals["close_date"].to_list() == [dt.date(2026, 3, 31), dt.date(2026, 4, 30)]
    oc = res["opportunity_contacts"].sort("person_id")
    assert oc["person_id"].to_list() == ["hs:0051", "hs:52"]
    assert "no deal stage" not in (res.report["notes"].item() or "")


def test_deals_without_a_stage_are_read_as_open_and_noted(tmp_path: Path) -> None:
    """A deal with neither a stage nor a closed flag (the dbt_hubspot export's 44): open is
    an assumption, so the load report says how many were read that way."""
    p = _write(
        tmp_path,
        "deals.csv",
        "Record ID,Deal Name,Deal Stage,Amount,Create Date\n"
        "901,Won,Closed Won,100,2026-01-10 10:00\n"
        "902,No stage,,200,2026-01-11 10:00\n"
        "903,No stage,,300,2026-01-12 10:00\n",
    )
    res = read_hubspot(p)
    assert res["opportunities"].sort("source_row")["is_closed"].to_list() == [True, False, False]
    assert "2 of 3 deals have no deal stage and no closed flag: read as open" in (
        res.report["notes"].item()
    )


def test_companies_export(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "companies.csv",
        "Record ID,Company name,Company Domain Name,Industry,Number of Employees,Annual Revenue\n"
        '9001,Acme,https://www.Acme.com/about,Software,250,"1,000,000"\n',
    )
    acc = read_hubspot(p)["accounts"].row(0, named=True)
    assert acc["account_id"] == "hs:9001"
    assert acc["domain"] == "acme.com"
    assert acc["employee_count"] == 250
    assert acc["annual_revenue"] == 1_000_000.0


def test_warehouse_deals_with_stage_lookup_and_stage_history(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "deal_pipeline_stage_data.csv",
        "_fivetran_deleted,_fivetran_synced,active,closed_won,is_closed,display_order,"
        "probability,stage_id,label,pipeline_id,created_at,updated_at\n"
        "FALSE,2020-07-09 15:25:37.054,TRUE,TRUE,TRUE,6,1.0,won1,Closed won,p1,"
        "2020-07-09 15:25:37.054,2020-07-09 15:25:37.054\n"
        "FALSE,2020-07-09 15:25:37.054,TRUE,FALSE,FALSE,1,0.2,qual1,Qualified,p1,"
        "2020-07-09 15:25:37.054,2020-07-09 15:25:37.054\n",
    )
    _write(
        tmp_path,
        "deal_company_data.csv",
        "company_id,deal_id,type_id,category\n12345,1244495215,5,HUBSPOT_DEFINED\n",
    )
    deals = _write(
        tmp_path,
        "deal_data.csv",
        "deal_id,is_deleted,deal_pipeline_id,deal_pipeline_stage_id,owner_id,portal_id,"
        "property_dealname,property_amount,property_closedate,property_createdate\n"
        "1244495215,false,p1,won1,7,4727653,Big,100,2020-01-31 00:00:00,2019-12-04 12:48:22\n",
    )
    stages = _write(
        tmp_path,
        "deal_stage_data.csv",
        "_fivetran_start,deal_id,_fivetran_active,_fivetran_end,_fivetran_synced,date_entered,"
        "source,source_id,value\n"
        "2019-12-04 12:48:22,1244495215,FALSE,2020-01-01 00:00:00,2021-01-07 8:15:46,"
        "2019-12-04 12:48:22,x,y,qual1\n"
        "2020-01-01 00:00:00,1244495215,TRUE,2050-01-01 00:00:00,2021-01-07 8:15:46,"
        "2020-01-01 00:00:00,x,y,won1\n",
    )
    d = read_hubspot(deals)["opportunities"].row(0, named=True)
    assert (d["stage_raw"], d["is_closed"], d["is_won"]) == ("Closed won", True, True)
    assert d["account_id"] == "hs:12345"
    h = read_hubspot(stages)["stage_history"].sort("changed_at")
    assert h["new_value"].to_list() == ["Qualified", "Closed won"]
    assert h["old_value"].to_list() == [None, "Qualified"]
    lookup = read_hubspot(tmp_path / "deal_pipeline_stage_data.csv").report.row(0, named=True)
    assert (lookup["rows_read"], lookup["rows_merged"]) == (2, 2)


def test_warehouse_contacts_property_prefix_and_merges(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "contact_data.csv",
        "_fivetran_deleted,_fivetran_synced,property_email,id,property_company,"
        "property_firstname,property_lastname,property_createdate,property_hs_merged_object_ids\n"
        "FALSE,2021-04-02 11:16:05,a@x.com,78971951,Acme,Ann,Akin,2021-04-01 17:32:47,"
        "76340251;46897301\n"
        "TRUE,2021-03-22 11:16:06,b@x.com,76340251,,Bo,Ng,2021-03-21 14:33:30,\n",
    )
    res = read_hubspot(p)
    people = res["people"].sort("source_row")
    assert people["is_deleted"].to_list() == [False, True]
    assert res["identity_links"].height == 2


def test_merge_audit_and_form_submissions(tmp_path: Path) -> None:
    audit = _write(
        tmp_path,
        "contact_merge_audit_data.csv",
        "canonical_vid,contact_id,vid_to_merge,_fivetran_synced,entity_id,first_name,last_name,"
        "num_properties_moved,timestamp,user_id\n"
        "5555,5555,11111,2020-12-30 11:20:31,json,,,2,2019-10-08 15:50:57,\n",
    )
    links = read_hubspot(audit)["identity_links"]
    assert links.select("id_value", "linked_id_value").row(0) == ("hs:11111", "hs:5555")
    forms = _write(
        tmp_path,
        "contact_form_submission_data.csv",
        "timestamp,form_id,contact_id,conversion_id,page_id,page_url,portal_id,title,"
        "_fivetran_synced\n"
        "2023-11-01 10:20:00,123,001,101,201,https://example.com/newsletter,12345,"
        "Newsletter Signup,2024-12-30 3:15:52\n",
    )
    res = read_hubspot(forms)
    t = res["touchpoints"].row(0, named=True)
    assert (t["person_id"], t["touch_type"], t["landing_page"]) == (
        "hs:001",
        "form_fill",
        "https://example.com/newsletter",
    )
    assert res["identity_links"].height == 1


def test_salesforce_export_suggests_read_salesforce(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "Lead.csv",
        "Id,LastName,Company,Status,IsConverted\n00Q5e00000AbCdE,Akin,Athena,Open,false\n",
    )
    with pytest.raises(SourceFormatError, match="read_salesforce"):
        read_hubspot(p)


def test_missing_record_id(tmp_path: Path) -> None:
    p = _write(tmp_path, "contacts.csv", "First Name,Email\nAnn,a@x.com\n")
    with pytest.raises(SourceFormatError, match="Record ID"):
        read_hubspot(p)


def test_ids_saved_through_excel(tmp_path: Path) -> None:
    # "51234567890.0" kept all its digits (repaired); "5.12346E+10" lost them (rejected,
    # or nulled with a note when it is only a reference)
    p = _write(
        tmp_path,
        "contacts.csv",
        "Record ID,Email,Lifecycle Stage,Associated Company IDs\n"
        "51234567890.0,a@x.com,lead,9001.0\n"
        "5.12346E+10,b@x.com,lead,9002\n"
        "52,c@x.com,lead,1.23457E+11\n",
    )
    res = read_hubspot(p)
    people = res["people"].sort("source_row")
    assert people["person_id"].to_list() == ["hs:51234567890", "hs:52"]
    assert people["account_id"].to_list() == ["hs:9001", None]
    assert res.rejected["reason"].to_list() == [
        "`Record ID`: '5.12346E+10' is an id Excel wrote in scientific notation; its digits "
        "are lost (export the file again without saving it from Excel)"
    ]
    rep = res.report.row(0, named=True)
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_rejected"]) == (3, 2, 1)
    assert "1 id(s) in scientific notation" in rep["notes"]


PARTICIPATIONS = (
    "id,createdAt,associations.contact.contactId,associations.contact.email,"
    "associations.marketingEvent.marketingEventId,associations.marketingEvent.name,"
    "properties.attendanceState,properties.occurredAt\n"
    "9001,2025-09-17T05:41:49Z,1348,ana@example.com,501,Q3 Product Webinar,ATTENDED,"
    "1758087709000\n"
    "9002,2025-09-18T05:41:49Z,1349,bo@example.com,501,Q3 Product Webinar,registered,"
    "1758174109000\n"
    "9003,2025-09-19T05:41:49Z,1350,cy@example.com,502,Summit 2025,CANCELLED,1758260509000\n"
    "9004,2025-09-19T05:41:49Z,1351,di@example.com,502,Summit 2025,NO_SHOW,1758260509000\n"
    "9005,2025-09-20T05:41:49Z,1352,ed@example.com,502,Summit 2025,MAYBE,1758346909000\n"
)


def test_marketing_event_participations_become_event_touches(tmp_path: Path) -> None:
    """Marketing Events API participations (flattened): attended and registered are touches."""
    res = read_hubspot(_write(tmp_path, "marketing_event_participations.csv", PARTICIPATIONS))
    rep = res.report.row(0, named=True)
    assert (rep["object"], rep["rows_read"], rep["rows_kept"]) == (
        "marketing_event_participation",
        5,
        2,
    )
    # a cancelled registration and a no-show are not touches; an unknown state is refused
    assert (rep["rows_merged"], rep["rows_rejected"]) == (2, 1)
    assert "2 cancelled registration(s) or no-show(s)" in rep["notes"]
    tp = res["touchpoints"].sort("touchpoint_id")
    assert tp["touchpoint_id"].to_list() == ["hs:event:9001", "hs:event:9002"]
    assert tp["person_id"].to_list() == ["hs:1348", "hs:1349"]
    assert tp["touch_type"].to_list() == ["event", "campaign_response"]
    assert tp["campaign_name"].to_list() == ["Q3 Product Webinar"] * 2
    # occurredAt is epoch milliseconds
    assert tp["occurred_at"].to_list()[0] == dt.datetime(2025, 9, 17, 5, 41, 49, tzinfo=UTC)
    assert tp["source_row"].to_list() == [2, 3]
    bad = res.rejected.row(0, named=True)
    assert bad["source_row"] == 6
    assert "attendance state MAYBE is not one of ATTENDED, REGISTERED" in bad["reason"]


def test_event_participations_are_found_by_their_columns(tmp_path: Path) -> None:
    import closedloop_kit as clk

    _write(tmp_path, "webinar_attendees_2025.csv", PARTICIPATIONS)
    data = clk.load(tmp_path, progress=False)
    assert data.load_report["reader"].to_list() == ["hubspot"]
    assert data.frame("touchpoints").height == 2
