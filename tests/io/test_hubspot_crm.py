"""read_hubspot on engagements, owners, products, line items, lists, forms and the
per-type email event tables, each on small files in HubSpot's real shapes (CRM UI export
labels and the warehouse-synced tables)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

import closedloop_kit as clk
from closedloop_kit.io import read_hubspot

UTC = dt.UTC
SYNC = "2023-06-08 23:22:50.048000"


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


def test_synced_engagement_tables_with_associations(tmp_path: Path) -> None:
    _write(tmp_path, "engagement.csv", f"id,type,_fivetran_synced,portal_id\n101,CALL,{SYNC},1\n")
    call = _write(
        tmp_path,
        "engagement_call.csv",
        "engagement_id,_fivetran_deleted,_fivetran_synced,property_hs_createdate,"
        "property_hs_timestamp,property_hubspot_owner_id,property_hs_call_disposition,"
        "property_hs_call_duration,property_hs_call_direction,type\n"
        f"101,false,{SYNC},2026-03-01 19:43:05.526,2026-03-01 19:40:00,32779820,"
        "f240bbac-87c9-4f6e-bf70-924b57d47db7,95400,OUTBOUND,CALL\n",
    )
    _write(
        tmp_path,
        "engagement_meeting.csv",
        "engagement_id,_fivetran_synced,end_time,source,start_time,meeting_outcome,title\n"
        f"102,{SYNC},2026-03-05 14:30:00,CRM_UI,2026-03-05 13:00:00,COMPLETED,Intro\n",
    )
    _write(
        tmp_path,
        "engagement_contact.csv",
        f"contact_id,engagement_id,engagement_type,type_id,_fivetran_synced,category\n"
        f"501,101,CALL,194,{SYNC},HUBSPOT_DEFINED\n502,102,MEETING,200,{SYNC},HUBSPOT_DEFINED\n",
    )
    _write(
        tmp_path,
        "engagement_deal.csv",
        f"deal_id,engagement_id,engagement_type,type_id,_fivetran_synced,category\n"
        f"9001,102,MEETING,212,{SYNC},HUBSPOT_DEFINED\n",
    )
    one = read_hubspot(call)["activities"].row(0, named=True)
    assert one["activity_id"] == "hs:101"
    assert one["type"] == "call"
    assert one["outcome"] == "Connected"  # the default outcome id, as the UI labels it
    assert one["duration_seconds"] == 95  # hs_call_duration is in milliseconds
    assert one["owner_id"] == "hs:32779820"
    assert one["person_id"] == "hs:501"  # from engagement_contact beside the file
    data = clk.load(tmp_path, progress=False)
    a = data.activities.sort("activity_id")
    assert a["activity_id"].to_list() == ["hs:101", "hs:102"]
    assert a["type"].to_list() == ["call", "meeting"]  # the meeting table has no type column
    meeting = a.row(1, named=True)
    assert meeting["duration_seconds"] == 90 * 60
    assert meeting["opportunity_id"] == "hs:9001"
    assert meeting["outcome"] == "COMPLETED"
    # the base engagement table repeats the per-type rows: read as a lookup, not twice
    rep = data.load_report.filter(pl.col("path").str.ends_with("/engagement.csv")).row(
        0, named=True
    )
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_merged"]) == (1, 0, 1)


def test_ui_exports_of_meetings_with_owner_names(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "owners.csv",
        "\ufeffOwner ID,First Name,Last Name,Email,Owner type,Primary team,Role,Business unit\n"
        "31000001,Casey,Klein,casey@x.com,PERSON,APAC Sales,AE,APAC\n",
    )
    meetings = _write(
        tmp_path,
        "meetings.csv",
        "\ufeffRecord ID,Meeting name,Meeting start time,Meeting end time,Meeting outcome,"
        "Activity assigned to,Create Date,Associated Contact IDs,Associated Company IDs,"
        "Associated Deal IDs\n"
        "20001,Intro meeting,2026-02-02 09:00,2026-02-02 10:00,Scheduled,Casey Klein,"
        "2026-01-26 20:30,1170;1171,5400032984,\n",
    )
    res = read_hubspot(meetings)
    row = res["activities"].row(0, named=True)
    assert row["type"] == "meeting"  # by the file name
    assert row["owner_id"] == "hs:31000001"  # the owner's name keyed by the owners export
    assert row["person_id"] == "hs:1170"  # the first associated contact
    assert row["account_id"] == "hs:5400032984"
    assert row["created_at"] == dt.datetime(2026, 1, 26, 20, 30, tzinfo=UTC)
    assert row["duration_seconds"] == 3600
    notes = res.report["notes"][0]
    assert "several `contact_ids`" in notes
    owners = read_hubspot(tmp_path / "owners.csv")["users"].row(0, named=True)
    assert (owners["user_id"], owners["name"], owners["team"]) == (
        "hs:31000001",
        "Casey Klein",
        "APAC Sales",
    )
    assert (owners["role"], owners["sales_division"]) == ("AE", "APAC")


def test_synced_owners_with_teams_and_roles(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "owner.csv",
        "owner_id,_fivetran_synced,created_at,portal_id,type,updated_at,email,first_name,"
        "last_name,active_user_id\n"
        f"35252170,{SYNC},2020-02-13 18:19:32.792,1,PERSON,{SYNC},a@x.com,Ann,Lee,12345\n"
        f"40706000,{SYNC},2020-02-13 18:19:32.792,1,PERSON,{SYNC},b@x.com,Bo,Ng,56789\n",
    )
    _write(
        tmp_path,
        "owner_team.csv",
        f"owner_id,team_id,is_team_primary,_fivetran_synced\n35252170,6789,true,{SYNC}\n",
    )
    _write(
        tmp_path, "team.csv", f"id,name,_fivetran_synced\n6789,APAC SDR,{SYNC}\n1234,EMEA,{SYNC}\n"
    )
    _write(
        tmp_path,
        "users.csv",
        f"id,primary_team_id,role_id,email,first_name,last_name,_fivetran_synced\n"
        f"12345,6789,1,a@x.com,Ann,Lee,{SYNC}\n56789,1234,2,b@x.com,Bo,Ng,{SYNC}\n",
    )
    _write(
        tmp_path,
        "role.csv",
        f"id,name,requires_billing_write,_fivetran_synced\n1,SDR,true,{SYNC}\n2,AE,false,{SYNC}\n",
    )
    data = clk.load(tmp_path, progress=False)
    u = data.users.sort("user_id")
    assert u["user_id"].to_list() == ["hs:35252170", "hs:40706000"]
    # the primary team from owner_team, else the user's primary team
    assert u["team"].to_list() == ["APAC SDR", "EMEA"]
    assert u["role"].to_list() == ["SDR", "AE"]
    assert u["name"].to_list() == ["Ann Lee", "Bo Ng"]
    report = data.load_report
    assert (report["rows_read"] == report["rows_kept"] + report["rows_merged"]).all()


def test_products_and_line_items_with_deal_association(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "product.csv",
        "id,_fivetran_deleted,_fivetran_synced,property_name,property_price,property_hs_sku,"
        "property_product_family,property_createdate\n"
        f"77,false,{SYNC},Analytics Cloud,24000,ANL-CLD,Analytics,2025-01-01 00:00:00\n",
    )
    _write(
        tmp_path,
        "line_item.csv",
        "id,_fivetran_deleted,_fivetran_synced,property_name,property_price,property_quantity,"
        "property_amount,property_hs_product_id,property_hs_discount_percentage,"
        "property_hs_line_item_currency_code,property_createdate\n"
        f"9901,false,{SYNC},Analytics Cloud,2400,10,21600,77,10,EUR,2026-01-10 10:00:00\n",
    )
    _write(
        tmp_path, "line_item_deal.csv", f"line_item_id,deal_id,_fivetran_synced\n9901,555,{SYNC}\n"
    )
    data = clk.load(tmp_path, progress=False, corporate_currency="EUR")
    p = data.products.row(0, named=True)
    assert (p["product_id"], p["family"], p["list_price"]) == ("hs:77", "Analytics", 24000.0)
    li = data.opportunity_products.row(0, named=True)
    assert li["opportunity_id"] == "hs:555"
    assert li["product_id"] == "hs:77"
    # 10 × 2400 × (1 − 0.10) = 21600, discount given in percent
    assert (li["quantity"], li["discount_rate"], li["total_amount"]) == (10.0, 0.1, 21600.0)
    assert (li["currency"], li["total_amount_corporate"]) == ("EUR", 21600.0)


def test_lists_become_campaigns_and_memberships(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "contact_list.csv",
        "id,_fivetran_deleted,_fivetran_synced,created_at,updated_at,name,created_by_id,"
        "object_type_id,processing_status,processing_type,list_version,filters_updated_at\n"
        f"330,false,{SYNC},2019-07-16 15:47:36,2019-07-16 15:47:36,Webinar attendees,1,0-1,"
        "COMPLETE,MANUAL,1,2019-07-16 15:47:36\n",
    )
    _write(
        tmp_path,
        "contact_list_member.csv",
        "contact_id,contact_list_id,_fivetran_deleted,_fivetran_synced,added_at\n"
        f"501,330,false,{SYNC},2020-05-10 01:04:46.778\n"
        f"502,330,true,{SYNC},2020-05-09 20:11:58.336\n",
    )
    data = clk.load(tmp_path, progress=False)
    c = data.campaigns.row(0, named=True)
    assert (c["campaign_id"], c["name"], c["type"]) == (
        "hs:list:330",
        "Webinar attendees",
        "HubSpot list",
    )
    m = data.campaign_members.sort("person_id")
    assert m["campaign_id"].unique().to_list() == ["hs:list:330"]
    assert m["status"].to_list() == ["Member", "Removed"]
    assert m["has_responded"].to_list() == [False, False]


def test_forms_name_submissions_and_click_events_give_urls(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "form.csv",
        "guid,action,created_at,form_type,name,portal_id\n"
        "abc-1,POST,2023-11-01 10:15:00,REGULAR,Newsletter Signup,1\n",
    )
    subs = _write(
        tmp_path,
        "contact_form_submission.csv",
        "timestamp,form_id,contact_id,conversion_id,page_url,portal_id,title,_fivetran_synced\n"
        f"2023-11-01 10:20:00,abc-1,501,c-1,https://x.com/news,1,News page,{SYNC}\n",
    )
    assert read_hubspot(subs)["touchpoints"]["campaign_name"].to_list() == ["Newsletter Signup"]
    _write(
        tmp_path,
        "contacts.csv",
        "Record ID,Email,Lifecycle Stage,Create Date\n501,ann@x.com,lead,2023-10-01 10:00\n",
    )
    events = _write(
        tmp_path,
        "email_event.csv",
        "id,_fivetran_synced,app_id,created,email_campaign_id,portal_id,type,recipient\n"
        f"e1,{SYNC},1,2023-11-02 10:00:00,7,1,CLICK,ann@x.com\n"
        f"e2,{SYNC},1,2023-11-02 09:00:00,7,1,OPEN,ann@x.com\n",
    )
    _write(
        tmp_path,
        "email_event_click.csv",
        "id,_fivetran_synced,referer,browser,location,ip_address,url,user_agent\n"
        f"e1,{SYNC},https://mail.x.com,b,l,,https://x.com/offer,ua\n",
    )
    _write(tmp_path, "email_event_open.csv", f"id,_fivetran_synced,duration\ne2,{SYNC},2700\n")
    t = read_hubspot(events)["touchpoints"].sort("touchpoint_id")
    assert t["touch_type"].to_list() == ["email_click", "email_open"]
    assert t["landing_page"].to_list() == ["https://x.com/offer", None]
    assert t["referrer"].to_list() == ["https://mail.x.com", None]
    assert t["person_id"].to_list() == ["hs:501", "hs:501"]
    opens = read_hubspot(tmp_path / "email_event_open.csv")
    assert opens.report.row(0, named=True)["rows_merged"] == 1  # details, folded into e2


def test_ui_task_and_note_exports(tmp_path: Path) -> None:
    tasks = _write(
        tmp_path,
        "tasks.csv",
        "Record ID,Task Title,Task status,Task type,Due date,Create Date,Associated Contact IDs\n"
        "31,Send proposal,NOT_STARTED,TODO,2026-02-10 09:00,2026-02-01 08:00,77\n",
    )
    row = read_hubspot(tasks)["activities"].row(0, named=True)
    assert (row["type"], row["subject"], row["status"], row["subtype"]) == (
        "task",
        "Send proposal",
        "NOT_STARTED",
        "TODO",
    )
    assert row["occurred_at"] == dt.datetime(2026, 2, 10, 9, tzinfo=UTC)
    assert row["person_id"] == "hs:77"
