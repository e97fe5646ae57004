"""read_salesforce on the sales-side objects: Task, Event, User/UserRole, Product2,
PricebookEntry and OpportunityLineItem, each on a small file in Salesforce's real shape
(Data Export API names, report labels, the warehouse-synced snake_case)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

import closedloop_kit as clk
from closedloop_kit.io import read_salesforce
from closedloop_kit.schema import salesforce_id18

UTC = dt.UTC


def _id(prefix: str, n: int) -> str:
    """An 18-character id with a valid checksum: prefix + '5e00000' + 5 characters."""
    return salesforce_id18(f"{prefix}5e00000Ab{n:03d}")


LEAD, CONTACT, ACC, OPP = _id("00Q", 1), _id("003", 1), _id("001", 1), _id("006", 1)
CASE, USER, USER2, CAMP = _id("500", 1), _id("005", 1), _id("005", 2), _id("701", 1)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_task_calls_and_emails_split_who_and_what(tmp_path: Path) -> None:
    t1, t2, t3, t4 = (_id("00T", i) for i in range(1, 5))
    p = _write(
        tmp_path,
        "Task.csv",
        "Id,WhoId,WhatId,AccountId,OwnerId,Subject,ActivityDate,Status,Priority,Type,"
        "TaskSubtype,CallType,CallDisposition,CallDurationInSeconds,CompletedDateTime,"
        "IsClosed,CreatedDate,IsDeleted\n"
        f"{t1},{LEAD},,,{USER},Call,2026-01-05,Completed,Normal,Call,Call,Outbound,"
        "Left voicemail,42,2026-01-05T14:03:22.000Z,true,2026-01-05T14:03:22.000Z,false\n"
        f"{t2},{CONTACT},{OPP},{ACC},{USER},Email: pricing,2026-01-06,Completed,Normal,Email,"
        "Email,,,,2026-01-06T09:00:00.000Z,true,2026-01-06T09:00:00.000Z,false\n"
        f"{t3},{CONTACT},{CASE},,{USER},Follow up,2026-01-09,Not Started,High,Other,Task,,,,,"
        "false,2026-01-07T10:00:00.000Z,false\n"
        f"{t4},,{CAMP},,{USER},Plan webinar,2026-01-10,Completed,Normal,,Task,,,,,"
        "true,2026-01-07T10:00:00.000Z,true\n",
    )
    res = read_salesforce(p)
    assert res.reconciles
    a = res["activities"].sort("source_row")
    assert a["type"].to_list() == ["call", "email", "task", "task"]
    assert a["person_id"].to_list() == [f"sf:{LEAD}", f"sf:{CONTACT}", f"sf:{CONTACT}", None]
    # WhatId 006 → opportunity, 701 → campaign, 500 (a Case) → dropped with a note
    assert a["opportunity_id"].to_list() == [None, f"sf:{OPP}", None, None]
    assert a["campaign_id"].to_list() == [None, None, None, f"sf:{CAMP}"]
    assert a["account_id"].to_list() == [None, f"sf:{ACC}", None, None]
    assert "1 WhatId(s) point to other objects" in res.report["notes"][0]
    first = a.row(0, named=True)
    assert first["outcome"] == "Left voicemail"
    assert first["direction"] == "Outbound"
    assert first["duration_seconds"] == 42
    assert first["occurred_at"] == dt.datetime(2026, 1, 5, 14, 3, 22, tzinfo=UTC)
    # an open task has no CompletedDateTime: it is dated by its due date (midnight UTC)
    assert a["occurred_at"][2] == dt.datetime(2026, 1, 9, tzinfo=UTC)
    assert a["status"][2] == "Not Started"
    assert a["is_deleted"].to_list() == [False, False, False, True]


def test_event_meeting_duration_and_synced_shape(tmp_path: Path) -> None:
    e1, e2 = _id("00U", 1), _id("00U", 2)
    p = _write(
        tmp_path,
        "sf_event_data.csv",
        "id,_fivetran_synced,account_id,activity_date,activity_date_time,created_date,"
        "duration_in_minutes,end_date_time,event_subtype,is_deleted,owner_id,start_date_time,"
        "subject,type,what_id,who_id\n"
        f"{e1},2026-02-01 00:00:00,{ACC},2026-01-20,2026-01-20 15:00:00,2026-01-12 08:00:00,"
        f"45,2026-01-20 15:45:00,Event,false,{USER},2026-01-20 15:00:00,Intro meeting,,"
        f"{ACC},{CONTACT}\n"
        f"{e2},2026-02-01 00:00:00,,2026-01-21,2026-01-21 10:00:00,2026-01-13 08:00:00,"
        f",2026-01-21 10:30:00,Event,false,{USER},2026-01-21 10:00:00,Call back,Call,,{LEAD}\n",
    )
    res = read_salesforce(p)
    a = res["activities"].sort("source_row")
    # an Event is a meeting unless its Type says otherwise
    assert a["type"].to_list() == ["meeting", "call"]
    # 45 minutes = 2700 s; without DurationInMinutes, end - start = 30 min = 1800 s
    assert a["duration_seconds"].to_list() == [2700, 1800]
    assert a["occurred_at"][0] == dt.datetime(2026, 1, 20, 15, tzinfo=UTC)
    assert a["created_at"][0] == dt.datetime(2026, 1, 12, 8, tzinfo=UTC)
    assert a["account_id"].to_list() == [f"sf:{ACC}", None]
    assert a["person_id"].to_list() == [f"sf:{CONTACT}", f"sf:{LEAD}"]


def test_user_roles_and_divisions_from_the_role_hierarchy(tmp_path: Path) -> None:
    ceo, emea, sdr, mkt = (_id("00E", i) for i in range(1, 5))
    _write(
        tmp_path,
        "UserRole.csv",
        "Id,Name,ParentRoleId\n"
        f"{ceo},CEO,\n{emea},EMEA Sales,{ceo}\n{sdr},EMEA SDR,{emea}\n{mkt},Marketing,{ceo}\n",
    )
    _write(
        tmp_path,
        "User.csv",
        "Id,Username,FirstName,LastName,Email,UserRoleId,ManagerId,UserType,IsActive\n"
        f"{USER},ann@x.com,Ann,Berg,ann@x.com,{sdr},{USER2},Standard,true\n"
        f"{USER2},bo@x.com,Bo,Chen,bo@x.com,{emea},,Standard,true\n"
        f"{_id('005', 3)},pat@partner.com,Pat,Diaz,pat@partner.com,,,PowerPartner,false\n",
    )
    res = clk.load(tmp_path, progress=False)
    u = res.users.sort("source_row")
    assert u["name"].to_list() == ["Ann Berg", "Bo Chen", "Pat Diaz"]
    assert u["role"].to_list() == ["EMEA SDR", "EMEA Sales", None]
    # no Division column: the role right below the top role names the division
    assert u["sales_division"].to_list() == ["EMEA Sales", "EMEA Sales", None]
    assert u["manager_id"].to_list() == [f"sf:{USER2}", None, None]
    assert u["is_partner"].to_list() == [False, False, True]
    assert u["is_active"].to_list() == [True, True, False]
    report = res.load_report.filter(pl.col("path").str.ends_with("UserRole.csv")).row(0, named=True)
    assert (report["rows_read"], report["rows_merged"]) == (4, 4)  # a lookup, folded in


def test_user_division_field_wins_over_the_hierarchy(tmp_path: Path) -> None:
    ceo, na = _id("00E", 1), _id("00E", 2)
    _write(tmp_path, "UserRole.csv", f"Id,Name,ParentRoleId\n{ceo},CEO,\n{na},NA Sales,{ceo}\n")
    p = _write(
        tmp_path,
        "User.csv",
        "Id,Username,LastName,Division,UserRoleId\n"
        f"{USER},a@x.com,Ames,North America,{na}\n{USER2},m@x.com,Moss,,{ceo}\n",
    )
    u = read_salesforce(p)["users"].sort("source_row")
    assert u["sales_division"].to_list() == ["North America", None]
    assert u["role"].to_list() == ["NA Sales", "CEO"]


def test_products_and_line_items_with_pricebook_lookup(tmp_path: Path) -> None:
    prod, entry = _id("01t", 1), _id("01u", 1)
    li1, li2 = _id("00k", 1), _id("00k", 2)
    _write(
        tmp_path,
        "Product2.csv",
        "Id,Name,ProductCode,Family,IsActive,CreatedDate\n"
        f"{prod},Analytics Cloud,ANL-CLD,Analytics,true,2025-01-01T00:00:00.000Z\n",
    )
    _write(
        tmp_path,
        "PricebookEntry.csv",
        f"Id,Pricebook2Id,Product2Id,UnitPrice,CurrencyIsoCode\n"
        f"{entry},{_id('01s', 1)},{prod},24000,EUR\n",
    )
    _write(
        tmp_path,
        "OpportunityLineItem.csv",
        "Id,OpportunityId,PricebookEntryId,Name,Quantity,UnitPrice,ListPrice,Discount,"
        "TotalPrice,CurrencyIsoCode,ServiceDate,CreatedDate\n"
        f"{li1},{OPP},{entry},Analytics Cloud,10,2400,2400,12.5,21000,EUR,2026-03-01,"
        "2026-01-10T10:00:00.000Z\n"
        f"{li2},{OPP},{entry},Analytics Cloud,1,500,500,,500,EUR,,2026-01-10T10:00:00.000Z\n",
    )
    _write(
        tmp_path,
        "DatedConversionRate.csv",
        "Id,IsoCode,ConversionRate,StartDate,NextStartDate\n"
        "1,USD,1,2025-01-01,\n2,EUR,0.8,2025-01-01,\n",
    )
    data = clk.load(tmp_path, progress=False)
    assert data.products.row(0, named=True)["family"] == "Analytics"
    li = data.opportunity_products.sort("source_row")
    # no Product2Id column: the product comes from the PricebookEntry
    assert li["product_id"].to_list() == [f"sf:{prod}", f"sf:{prod}"]
    assert li["opportunity_id"].to_list() == [f"sf:{OPP}", f"sf:{OPP}"]
    # Discount is in percent: 12.5 % → 0.125; 10 × 2400 × (1 − 0.125) = 21000
    assert li["discount_rate"].to_list() == [0.125, None]
    assert li["total_amount"].to_list() == [21000.0, 500.0]
    # EUR → USD at 1 / 0.8 = 1.25 per EUR: 21000 × 1.25 = 26250, 500 × 1.25 = 625
    # (dated by ServiceDate, else the created date)
    assert li["total_amount_corporate"].to_list() == [26250.0, 625.0]


def test_line_item_report_labels(tmp_path: Path) -> None:
    li = salesforce_id18("00k5e00000Ab001")[:15]  # reports write 15-character ids
    p = _write(
        tmp_path,
        "OpportunityLineItem.csv",
        "Opportunity Product ID,Opportunity ID,Product ID,Product Name,Quantity,Sales Price,"
        "Total Price,Total Price Currency\n"
        f'{li},{OPP[:15]},{_id("01t", 1)[:15]},Platform Cloud,2,"$1,000.00","$2,000.00",USD\n',
    )
    res = read_salesforce(p)
    row = res["opportunity_products"].row(0, named=True)
    assert row["line_item_id"] == f"sf:{salesforce_id18(li)}"
    assert row["opportunity_id"] == f"sf:{OPP}"
    assert (row["quantity"], row["unit_price"], row["total_amount"]) == (2.0, 1000.0, 2000.0)
    assert row["currency"] == "USD"
