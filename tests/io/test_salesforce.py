"""read_salesforce: one test per quirk, each on a small file in Salesforce's real shape."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io import read_salesforce
from closedloop_kit.schema import salesforce_id18

UTC = dt.UTC
LEAD15 = "00Q5e00000AbCdE"
LEAD18 = salesforce_id18(LEAD15)
ACC15 = "0015e00000XyZab"
ACC18 = salesforce_id18(ACC15)


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_data_loader_allcaps_quoted_headers(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "Account.csv",
        '"ID","NAME","ANNUALREVENUE","NUMBEROFEMPLOYEES","CREATEDDATE","ISDELETED"\n'
        f'"{ACC18}","Burlington Textiles","3.5E8","9000","2026-01-05T14:03:22.000+0000","false"\n',
    )
    res = read_salesforce(p)
    row = res["accounts"].row(0, named=True)
    assert row["account_id"] == f"sf:{ACC18}"
    assert row["annual_revenue"] == 350_000_000.0
    assert row["employee_count"] == 9000
    assert row["created_at"] == dt.datetime(2026, 1, 5, 14, 3, 22, tzinfo=UTC)
    assert res.report["format"][0] == "data loader csv"


def test_report_export_labels_15_char_ids_and_footer(tmp_path: Path) -> None:
    # report exports: label headers, 15-character ids, Grand Totals and notices at the end
    p = _write(
        tmp_path,
        "leads_report.csv",
        '"Lead ID","First Name","Last Name","Company / Account","Lead Status","Create Date"\n'
        f'"{LEAD15}","Ann","Akin","Athena","Open - Not Contacted","1/13/2026 9:00 AM"\n'
        "\n"
        '"Grand Totals (1 records)"\n'
        "\n"
        '"Confidential Information - Do Not Distribute"\n'
        '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n',
    )
    res = read_salesforce(p, object="Lead", tz="America/New_York")
    people = res["people"]
    assert people["person_id"].to_list() == [f"sf:{LEAD18}"]  # 15 → 18
    assert people["company_name"].to_list() == ["Athena"]
    # 9:00 New York (UTC-5) → 14:00 UTC, zone reported
    assert people["created_at"].to_list() == [dt.datetime(2026, 1, 13, 14, tzinfo=UTC)]
    rep = res.report.row(0, named=True)
    assert rep["time_zone_assumed"] == "America/New_York"
    assert rep["rows_read"] == 1
    assert rep["format"] == "report csv"
    assert "footer" in rep["notes"]


def test_15_and_18_char_ids_join(tmp_path: Path) -> None:
    a = _write(tmp_path, "Account.csv", f"Id,Name\n{ACC18},Acme\n")
    c = _write(tmp_path, "Contact.csv", f"Id,AccountId,LastName\n0035e00000AbCdE,{ACC15},Ng\n")
    accounts = read_salesforce(a)["accounts"]
    people = read_salesforce(c)["people"]
    assert people.join(accounts, on="account_id").height == 1


def test_invalid_ids_rejected_with_reason(tmp_path: Path) -> None:
    bad_checksum = LEAD18[:15] + "AAA"
    p = _write(
        tmp_path,
        "Lead.csv",
        "Id,LastName,Company,Status\n"
        f"{LEAD18},Ok,A,Open\n"
        f"{bad_checksum},Bad,B,Open\n"
        "00Q5e00000AbCd,Short,C,Open\n"
        "tqs6UXPA/Lm7W+0dX0+syw==,Base64,D,Open\n",
    )
    res = read_salesforce(p)
    assert res["people"].height == 1
    reasons = dict(zip(res.rejected["source_row"], res.rejected["reason"], strict=True))
    assert "fails its 18-character checksum" in reasons[3]
    assert "not a Salesforce id" in reasons[4]
    assert "not a Salesforce id" in reasons[5]
    assert json.loads(res.rejected.filter(pl.col("source_row") == 5)["raw"][0])["LastName"] == (
        "Base64"
    )
    assert res.reconciles


def test_deleted_and_merged_rows_kept_and_flagged(tmp_path: Path) -> None:
    master = salesforce_id18("00Q5e00000AbCdF")
    p = _write(
        tmp_path,
        "Lead.csv",
        "Id,LastName,Company,Status,IsDeleted,MasterRecordId\n"
        f"{LEAD18},Akin,A,Open,true,{master}\n"
        f"{master},Akin,A,Open,false,\n",
    )
    people = read_salesforce(p)["people"].sort("source_row")
    assert people["is_deleted"].to_list() == [True, False]
    assert people["merged_into_id"].to_list() == [f"sf:{master}", None]


def test_closed_converted_status_without_isconverted_loads(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "Lead.csv",
        f"Id,LastName,Company,Status,IsConverted\n{LEAD18},Akin,A,Closed - Converted,false\n",
    )
    people = read_salesforce(p)["people"]
    assert people["status_raw"].to_list() == ["Closed - Converted"]
    assert people["is_converted"].to_list() == [False]


def test_money_with_currency_iso_code_and_symbols(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "Opportunity.csv",
        "Id,Name,StageName,Amount,CurrencyIsoCode,CloseDate,IsClosed,IsWon,Probability\n"
        '0065e00000AbCdE,A,Closed Won,"1,234.50",EUR,2026-01-31,true,true,100\n'
        "0065e00000AbCdF,B,Prospecting,$99,,2026-02-28,false,false,10\n",
    )
    opps = read_salesforce(p)["opportunities"].sort("source_row")
    assert opps["amount"].to_list() == [1234.5, 99.0]
    assert opps["currency"].to_list() == ["EUR", "USD"]
    assert opps["close_date"].to_list() == [dt.date(2026, 1, 31), dt.date(2026, 2, 28)]
    assert opps["probability_rate"].to_list() == [1.0, 0.1]
    assert opps["stage_raw"].to_list() == ["Closed Won", "Prospecting"]


def test_stage_flags_derived_when_not_exported(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "Opportunity.csv",
        "Id,Name,StageName\n0065e00000AbCdE,A,Closed/Won\n0065e00000AbCdF,B,Closed Lost\n"
        "0065e00000AbCdG,C,Negotiation/Review\n",
    )
    opps = read_salesforce(p)["opportunities"].sort("source_row")
    assert opps["is_won"].to_list() == [True, False, False]
    assert opps["is_closed"].to_list() == [True, True, False]


def test_tree_api_json(tmp_path: Path) -> None:
    doc = {
        "records": [
            {
                "attributes": {"type": "Account", "referenceId": "AccountRef1"},
                "Name": "Acme",
                "AnnualRevenue": 350000000,
                "NumberOfEmployees": 9000,
            },
        ]
    }
    a = tmp_path / "Account.json"
    a.write_text(json.dumps(doc))
    c = tmp_path / "Contacts.csv"
    c.write_text('"lastName","accountId"\n"Ng","@AccountRef1"\n')
    acc = read_salesforce(a)["accounts"]
    # reference ids are scoped by the folder of the data plan they belong to
    assert acc["account_id"][0].startswith("sf:ref:")
    assert acc["account_id"][0].endswith(f"{tmp_path.name}/AccountRef1")
    people = read_salesforce(c, object="Contact")["people"]
    assert people["account_id"].to_list() == acc["account_id"].to_list()


def test_fivetran_history_mode_keeps_current_and_builds_stage_history(tmp_path: Path) -> None:
    opp = "0065e00000AbCdEAAV"
    opp = salesforce_id18(opp[:15])
    p = _write(
        tmp_path,
        "sf_opportunity_history_data.csv",
        "_fivetran_active,_fivetran_start,_fivetran_end,_fivetran_synced,id,name,stage_name,"
        "amount,close_date,is_closed,is_won\n"
        f"false,2026-01-01 10:00:00,2026-01-10 09:59:59,2026-01-10 10:00:00,{opp},A,"
        "Prospecting,100,2026-03-01 00:00:00,false,false\n"
        f"false,2026-01-10 10:00:00,2026-02-01 09:59:59,2026-02-01 10:00:00,{opp},A,"
        "Negotiation,100,2026-03-01 00:00:00,false,false\n"
        f"true,2026-02-01 10:00:00,9999-12-31 23:59:59,2026-02-01 10:00:00,{opp},A,"
        "Closed Won,120,2026-02-01 00:00:00,true,true\n",
    )
    res = read_salesforce(p)
    assert res["opportunities"]["stage_raw"].to_list() == ["Closed Won"]
    rep = res.report.row(0, named=True)
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_merged"]) == (3, 1, 2)
    hist = res["stage_history"].filter(pl.col("field") == "stage").sort("changed_at")
    assert hist["new_value"].to_list() == ["Prospecting", "Negotiation", "Closed Won"]
    assert hist["old_value"].to_list() == [None, "Prospecting", "Negotiation"]
    amount = res["stage_history"].filter(pl.col("field") == "amount")
    assert amount["new_value"].to_list() == ["100", "120"]


def test_campaign_member_responses_become_touchpoints(tmp_path: Path) -> None:
    camp = salesforce_id18("7015e00000AbCdE")
    p = _write(
        tmp_path,
        "CampaignMember.csv",
        "Id,CampaignId,LeadId,ContactId,Status,HasResponded,FirstRespondedDate,CreatedDate\n"
        f"00v5e00000AbCdE,{camp},{LEAD18},,Responded,true,2026-01-07,2026-01-05T10:00:00Z\n"
        f"00v5e00000AbCdF,{camp},,0035e00000AbCdE,Sent,false,,2026-01-05T10:00:00Z\n",
    )
    res = read_salesforce(p)
    members = res["campaign_members"].sort("source_row")
    assert members["person_id"].to_list() == [
        f"sf:{LEAD18}",
        f"sf:{salesforce_id18('0035e00000AbCdE')}",
    ]
    touches = res["touchpoints"]
    assert touches["touch_type"].to_list() == ["campaign_response"]
    assert touches["occurred_at"].to_list() == [dt.datetime(2026, 1, 7, tzinfo=UTC)]


def test_opportunity_history_and_field_history(tmp_path: Path) -> None:
    opp = salesforce_id18("0065e00000AbCdE")
    h = _write(
        tmp_path,
        "OpportunityHistory.csv",
        "Id,OpportunityId,StageName,Amount,CreatedDate\n"
        f"0085e00000AbCdE,{opp},Prospecting,10,2026-01-01T00:00:00.000+0000\n"
        f"0085e00000AbCdF,{opp},Closed Won,10,2026-02-01T00:00:00.000+0000\n",
    )
    f = _write(
        tmp_path,
        "OpportunityFieldHistory.csv",
        "Id,OpportunityId,Field,OldValue,NewValue,CreatedDate\n"
        f"0175e00000AbCdE,{opp},StageName,Prospecting,Closed Won,2026-02-01T00:00:00.000+0000\n",
    )
    hist = read_salesforce(h)["stage_history"].sort("changed_at")
    assert hist["old_value"].to_list() == [None, "Prospecting"]
    fh = read_salesforce(f)["stage_history"]
    assert fh["field"].to_list() == ["stage"]


def test_lead_history_and_contact_roles(tmp_path: Path) -> None:
    lh = _write(
        tmp_path,
        "LeadHistory.csv",
        "Id,LeadId,Field,OldValue,NewValue,CreatedDate\n"
        f"0175e00000AbCdE,{LEAD18},Status,Open,Working,2026-01-02T00:00:00.000+0000\n",
    )
    assert read_salesforce(lh)["stage_history"]["field"].to_list() == ["status"]
    ocr = _write(
        tmp_path,
        "OpportunityContactRole.csv",
        "Id,OpportunityId,ContactId,Role,IsPrimary\n"
        "00K5e00000AbCdE,0065e00000AbCdE,0035e00000AbCdE,Decision Maker,true\n",
    )
    roles = read_salesforce(ocr)["opportunity_contacts"]
    assert roles.select("role", "is_primary").row(0) == ("Decision Maker", True)


def test_dated_conversion_rates(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "DatedConversionRate.csv",
        "Id,IsoCode,ConversionRate,StartDate,NextStartDate\n"
        "04w5e00000AbCdE,EUR,0.9,2026-01-01,2026-02-01\n"
        "04w5e00000AbCdF,USD,1,2026-01-01,\n",
    )
    fx = read_salesforce(p)["fx_rates"].sort("currency")
    # 0.9 EUR per USD → 1 EUR = 1/0.9 USD
    assert fx["rate_to_corporate"].to_list() == pytest.approx([1 / 0.9, 1.0])
    assert fx["corporate_currency"].to_list() == ["USD", "USD"]


def test_bad_value_rejects_row_not_file(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "Opportunity.csv",
        "Id,Name,StageName,Amount,CloseDate\n"
        "0065e00000AbCdE,A,Prospecting,1;DROP TABLE users,2026-01-31\n"
        "0065e00000AbCdF,B,Prospecting,10,2026-01-31\n",
    )
    res = read_salesforce(p)
    assert res["opportunities"].height == 1
    assert "cannot read '1;DROP TABLE users' as a number" in res.rejected["reason"][0]
    assert res.rejected["source_row"].to_list() == [2]


def test_windows_1252_report(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "Contact.csv",
        f"Id,LastName,FirstName,AccountId\n0035e00000AbCdE,Müller,José,{ACC15}\n",
        encoding="cp1252",
    )
    res = read_salesforce(p)
    assert res["people"]["last_name"].to_list() == ["Müller"]
    assert res.report["encoding"][0] == "windows-1252"


def test_wrong_object_is_refused(tmp_path: Path) -> None:
    p = _write(tmp_path, "Lead.csv", f"Id,Name\n{ACC18},Acme\n")
    with pytest.raises(SourceFormatError, match=r"`object` is 'Lead' but the file holds Account"):
        read_salesforce(p, object="Lead")


def test_missing_required_columns(tmp_path: Path) -> None:
    p = _write(tmp_path, "OpportunityContactRole.csv", "Id,Role\n00K5e00000AbCdE,Buyer\n")
    with pytest.raises(SourceFormatError, match=r"needs column\(s\) \['OpportunityId'"):
        read_salesforce(p)


def test_hubspot_export_suggests_read_hubspot(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "contacts.csv",
        "Record ID,First Name,Email,Lifecycle Stage,Create Date\n51,Ann,a@x.com,lead,2026-01-05\n",
    )
    with pytest.raises(SourceFormatError, match="read_hubspot") as exc:
        read_salesforce(p)
    assert exc.value.suggestion == "clk.io.read_hubspot"


def test_folder_and_glob(tmp_path: Path) -> None:
    _write(tmp_path, "Lead.csv", f"Id,LastName,Company,Status\n{LEAD18},A,B,Open\n")
    _write(tmp_path, "Account.csv", f"Id,Name\n{ACC18},Acme\n")
    res = read_salesforce(tmp_path)
    assert set(res.tables) == {"people", "accounts"}
    assert read_salesforce(tmp_path / "L*.csv")["people"].height == 1
    assert res.reconciles


def test_formatted_report_workbook(tmp_path: Path) -> None:
    """A report exported as .xlsx: title and filter rows, Grand Totals and notices."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Lead Report"
    rows: list[list[object]] = [
        ["All Open Leads"],
        ["Filtered By:"],
        ["    Lead Status equals Open"],
        [],
        ["Lead ID", "First Name", "Last Name", "Company / Account", "Email", "Create Date"],
        [LEAD15, "Ann", "Akin", "Athena", "ann@x.com", dt.date(2026, 1, 5)],
        ["00Q5e00000AbCdF", "Bo", "Ng", "Bolt", "bo@x.com", dt.date(2026, 1, 6)],
        [],
        ["Grand Totals (2 records)"],
        [],
        ["Confidential Information - Do Not Distribute"],
    ]
    for row in rows:
        ws.append(row)
    path = tmp_path / "leads.xlsx"
    wb.save(path)
    res = read_salesforce(path)
    people = res["people"].sort("source_row")
    assert people["person_id"].to_list() == [f"sf:{LEAD18}", "sf:00Q5e00000AbCdFEAV"]
    assert people["source_row"].to_list() == [6, 7]  # sheet rows
    assert people["created_at"].to_list() == [
        dt.datetime(2026, 1, 5, tzinfo=UTC),
        dt.datetime(2026, 1, 6, tzinfo=UTC),
    ]
    rep = res.report.row(0, named=True)
    assert rep["format"] == "report (xlsx sheet 'Lead Report')"
    assert (rep["header_line"], rep["rows_read"], rep["rows_kept"]) == (5, 2, 2)


def test_grouped_report_subtotals_and_group_fill_down(tmp_path: Path) -> None:
    """A summary report grouped by Lead Source and Lead Status (two levels), saved as CSV.

    The group values stand on each group's first row only, with a Subtotal line per
    group and a Total line; the company called "Total Solutions" is a record.
    """
    text = (
        '"Lead Source","Lead Status","Lead ID","First Name","Last Name","Company / Account"\n'
        f'"Web","Open","{LEAD15}","Ann","Akin","Athena"\n'
        '"","","00Q5e00000AbCdF","Bo","Ng","Total Solutions"\n'
        '"Subtotal","","","","",""\n'
        '"","Working","00Q5e00000AbCdG","Cy","Oh","Bolt"\n'
        '"Subtotal","","","","",""\n'
        '"Subtotal","","","","",""\n'
        '"Partner Referral","Open","00Q5e00000AbCdH","Di","Po","Crux"\n'
        '"Subtotal","","","","",""\n'
        '"Subtotal","","","","",""\n'
        '"Total","","","","",""\n'
        "\n"
        '"Confidential Information - Do Not Distribute"\n'
    )
    res = read_salesforce(_write(tmp_path, "grouped_leads.csv", text), object="Lead")
    people = res["people"].sort("source_row")
    assert people.select("lead_source", "status_raw", "company_name").rows() == [
        ("Web", "Open", "Athena"),
        ("Web", "Open", "Total Solutions"),
        ("Web", "Working", "Bolt"),
        ("Partner Referral", "Open", "Crux"),
    ]
    assert people["source_row"].to_list() == [2, 3, 5, 8]
    rep = res.report.row(0, named=True)
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_rejected"]) == (4, 4, 0)
    # summary lines inside the table are dropped and listed; the trailing ones go with
    # the footer (Subtotal, Subtotal, Total, the confidentiality line)
    assert "dropped 3 summary line(s) (subtotals, totals) at line(s) 4, 6, 7" in rep["notes"]
    assert "filled down grouping column(s) ['Lead Source', 'Lead Status']" in rep["notes"]
    assert "dropped 4 footer line(s)" in rep["notes"]


def test_detail_rows_are_not_filled_down_without_summary_lines(tmp_path: Path) -> None:
    # a flat report: an empty Lead Source is a missing value, not a group
    text = (
        '"Lead Source","Lead ID","Last Name","Company / Account"\n'
        f'"Web","{LEAD15}","Akin","Athena"\n'
        '"","00Q5e00000AbCdF","Ng","Bolt"\n'
    )
    res = read_salesforce(_write(tmp_path, "leads_report.csv", text), object="Lead")
    assert res["people"].sort("source_row")["lead_source"].to_list() == ["Web", None]


def test_blank_line_in_an_export_is_reported_not_rejected(tmp_path: Path) -> None:
    p = _write(
        tmp_path, "Lead.csv", f"Id,LastName,Company\n{LEAD15},Akin,A\n\n{LEAD15[:-1]}F,Ng,B\n"
    )
    res = read_salesforce(p)
    rep = res.report.row(0, named=True)
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_rejected"]) == (2, 2, 0)
    assert "skipped 1 blank line(s) at line(s) 3" in rep["notes"]
    assert res["people"].sort("source_row")["source_row"].to_list() == [2, 4]


def test_european_account_export_decimal_comma_is_decided_per_file(tmp_path: Path) -> None:
    # AnnualRevenue "1.500.000,00" proves the decimal comma; NumberOfEmployees "1.200"
    # alone could be 1.2, and is read as 1200 with the file's mark
    p = _write(
        tmp_path,
        "Account.csv",
        "Id;Name;AnnualRevenue;NumberOfEmployees;CurrencyIsoCode\n"
        f"{ACC15};Acme;1.500.000,00;1.200;EUR\n"
        "0015e00000XyZac;Bolt;250.000,50;85;EUR\n",
    )
    res = read_salesforce(p)
    acc = res["accounts"].sort("source_row")
    assert acc["annual_revenue"].to_list() == [1_500_000.0, 250_000.5]
    assert acc["employee_count"].to_list() == [1200, 85]
    assert "AnnualRevenue: decimal comma" in res.report["notes"][0]
