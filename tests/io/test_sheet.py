"""Excel workbooks (.xlsx / .xls) as table sources: real export shapes written with openpyxl."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._sheet import read_sheet_table, read_table
from closedloop_kit.io._text import sniff

openpyxl = pytest.importorskip("openpyxl")
pytest.importorskip("fastexcel")

UTC = dt.UTC

HUBSPOT_HEADER = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Contact owner",
    "Create Date",
    "Lifecycle Stage",
    "Original Source",
    "Became a Lead Date",
    "Associated Company IDs",
    "Associated Company",
]


def _workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """Write ``{sheet name: rows}`` as an .xlsx (None = empty cell)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def _hubspot_rows() -> list[list[Any]]:
    # Record ID is an Excel number (HubSpot writes ids as numbers); Create Date a real
    # Excel date-time cell; Became a Lead Date a date cell; one row has empty trailing cells
    return [
        HUBSPOT_HEADER,
        [
            51234567890,
            "Ann",
            "Akin",
            "Ann@Example.COM",
            "+49 30 1234",
            "Max Mustermann",
            dt.datetime(2026, 1, 5, 14, 3, 22),
            "opportunity",
            "Paid Search",
            dt.date(2026, 1, 5),
            "9001;9002",
            "Acme GmbH",
        ],
        [
            1234,
            "Bo",
            "Ng",
            "bo@example.com",
            None,
            None,
            dt.datetime(2026, 1, 6, 9, 0, 0),
            "lead",
            "Organic Search",
            dt.date(2026, 1, 6),
            9003,  # a single associated company: HubSpot writes it as a number
        ],
        [7, "Cy", None, "not-an-email", None, None, "2026-01-07 10:00", "lead", None, None],
    ]


GOOGLE_ROWS: list[list[Any]] = [
    ["Campaign report"],
    ["January 1, 2026 - January 31, 2026"],
    ["Day", "Campaign", "Campaign ID", "Campaign type", "Currency code", "Cost", "Impr.", "Clicks"],
    [dt.date(2026, 1, 1), "brand_search", 1234567890, "Search", "EUR", 1020.5, 12000, 310],
    [dt.date(2026, 1, 2), "brand_search", 1234567890, "Search", "EUR", 5, None, 3],
    [dt.date(2026, 1, 2), "yt_awareness", 789, "Video", "EUR", 0, 10, 0],
    ["Total: Account", None, None, None, None, 1025.5, 12010, 313],
    ["Total: Search", None, None, None, None, 1025.5, 12000, 313],
]

JAN1, JAN2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
META_HEADER = "Reporting starts,Reporting ends,Campaign name,Day,Amount spent (EUR),Impressions"
META_ROWS: list[list[Any]] = [
    [*META_HEADER.split(","), "Link clicks"],
    [JAN1, JAN1, "Q1 ABM retargeting", JAN1, 12.34, 1000, None],
    [JAN2, JAN2, "Q1 ABM retargeting", JAN2, 7, 500, 4],
]


# --------------------------------------------------------------------------- reading cells
def test_cells_read_as_csv_text_ids_dates_and_source_rows(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "contacts.xlsx", {"Contacts": _hubspot_rows()})
    t = read_sheet_table(p)
    f = t.frame
    assert t.header == tuple(HUBSPOT_HEADER)
    # integer-valued numbers come out without ".0", even beyond 2**31
    assert f["Record ID"].to_list() == ["51234567890", "1234", "7"]
    assert f["Associated Company IDs"].to_list() == ["9001;9002", "9003", None]
    # a column of date-times keeps the time; a column of dates is ISO dates
    assert f["Create Date"].to_list() == [
        "2026-01-05 14:03:22",
        "2026-01-06 09:00:00",
        "2026-01-07 10:00",
    ]
    assert f["Became a Lead Date"].to_list() == ["2026-01-05", "2026-01-06", None]
    assert f.schema[clk.io._text.SOURCE_ROW] == pl.Int64
    assert f["source_row"].to_list() == [2, 3, 4]  # sheet rows; row 1 is the header
    assert all(t == pl.String for c, t in f.schema.items() if c != "source_row")
    assert (t.sniff.kind, t.sniff.sheet, t.sniff.header_line) == ("xlsx", "Contacts", 1)


def test_numbers_booleans_times_errors_and_blank_columns(tmp_path: Path) -> None:
    p = tmp_path / "cells.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Id", "Amount", "Rate", "Flag", "At", None, "Note"])
    ws.append([1, 1020.5, 0.25, True, dt.time(10, 30), None, "#N/A"])
    ws.append([2, -3.0, 1 / 3, False, None, None, "x"])
    ws.append([None, None, None, None, None, "orphan", None])  # data without a header
    ws["G2"].data_type = "e"  # an error cell, as Excel writes #N/A
    wb.save(p)
    f = read_sheet_table(p).frame
    assert f.columns == ["Id", "Amount", "Rate", "Flag", "At", "column", "Note", "source_row"]
    assert f["Amount"].to_list() == ["1020.5", "-3", None]
    assert f["Rate"].to_list()[:2] == ["0.25", "0.333333333"]  # up to 9 decimals
    assert f["Flag"].to_list()[:2] == ["true", "false"]
    assert f["At"].to_list()[0] == "10:30:00"
    assert f["Note"].to_list()[0] is None  # error cells are empty
    assert f["column"].to_list() == [None, None, "orphan"]


def test_blank_column_without_header_and_blank_rows_dropped(tmp_path: Path) -> None:
    p = tmp_path / "gaps.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B3"] = "Id"  # table starts at B3: rows 1-2 and column A are empty
    ws["C3"] = "Email"
    ws["E3"] = "Score"  # column D: no header and no value
    ws["B4"], ws["C4"], ws["E4"] = "a1", "a@x.com", 5
    ws["B6"], ws["C6"], ws["E6"] = "a2", "b@x.com", 6  # row 5 blank
    wb.save(p)
    t = read_sheet_table(p)
    assert t.frame.rows() == [("a1", "a@x.com", "5", 4), ("a2", "b@x.com", "6", 6)]
    assert t.sniff.header_line == 3
    assert t.preamble == ("", "")


# --------------------------------------------------------------------------- HubSpot
def test_hubspot_contacts_xlsx_through_read_hubspot(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "hubspot-crm-exports-all-contacts.xlsx", {"Sheet1": _hubspot_rows()})
    res = clk.io.read_hubspot(p, tz="Europe/Berlin")
    people = res["people"].sort("source_row")
    assert people["person_id"].to_list() == ["hs:51234567890", "hs:1234", "hs:7"]
    assert people["source_row"].to_list() == [2, 3, 4]
    assert people["account_id"].to_list() == ["hs:9001", "hs:9003", None]
    assert people["email_normalized"].to_list()[:2] == ["ann@example.com", "bo@example.com"]
    # 14:03:22 Berlin (UTC+1 in January) = 13:03:22 UTC; "2026-01-07 10:00" typed as text
    assert people["created_at"].to_list() == [
        dt.datetime(2026, 1, 5, 13, 3, 22, tzinfo=UTC),
        dt.datetime(2026, 1, 6, 8, 0, tzinfo=UTC),
        dt.datetime(2026, 1, 7, 9, 0, tzinfo=UTC),
    ]
    rep = res.report.row(0, named=True)
    assert rep["reader"] == "hubspot"
    assert rep["format"] == "crm export (xlsx sheet 'Sheet1')"
    assert rep["header_line"] == 1
    assert rep["rows_read"] == rep["rows_kept"] + rep["rows_rejected"] + rep["rows_merged"] == 3
    assert res.reconciles


def test_hubspot_deals_xlsx_amounts_and_close_dates(tmp_path: Path) -> None:
    header = ["Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date"]
    mar31, apr30 = dt.date(2026, 3, 31), dt.date(2026, 4, 30)  # date cells
    jan10, jan11 = dt.datetime(2026, 1, 10, 10), dt.datetime(2026, 1, 11, 10)  # date-time cells
    rows = [
        [*header, "Create Date", "Associated Company IDs", "Associated Contact IDs"],
        [901, "Big deal", "Closed Won", "Sales Pipeline", 12500, mar31, jan10, 9001, "0051;52"],
        [902, "Small", "Appointment Scheduled", "Sales Pipeline", 99.95, apr30, jan11],
    ]
    p = _workbook(tmp_path / "deals.xlsx", {"Deals": rows})
    res = clk.io.read_hubspot(p)
    deals = res["opportunities"].sort("source_row")
    assert deals["opportunity_id"].to_list() == ["hs:901", "hs:902"]
    assert deals["amount"].to_list() == [12500.0, 99.95]
    assert deals["close_date"].to_list() == [dt.date(2026, 3, 31), dt.date(2026, 4, 30)]
    assert deals["account_id"].to_list() == ["hs:9001", None]
    assert deals["source_row"].to_list() == [2, 3]
    assert sorted(res["opportunity_contacts"]["person_id"].to_list()) == ["hs:0051", "hs:52"]
    assert res.reconciles


def test_pardot_prospects_xlsx(tmp_path: Path) -> None:
    rows = [
        ["Id", "Email", "CRM Lead FID", "Score", "Grade"],
        [7, "a@x.com", "00Q5e00000AbCdE", 40, "B"],
        [8, "b@x.com", None, 0, "D"],
    ]
    res = clk.io.read_pardot(_workbook(tmp_path / "prospects.xlsx", {"Prospects": rows}))
    assert res["people"].sort("source_row")["person_id"].to_list() == ["pardot:7", "pardot:8"]
    assert res["identity_links"]["linked_id_value"].to_list() == ["sf:00Q5e00000AbCdEEAV"]
    assert res.report["rows_read"][0] == 2
    assert res.reconciles


# --------------------------------------------------------------------------- ad costs
def test_google_ads_ui_xlsx_preamble_total_rows(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "Campaign report.xlsx", {"Campaign report": GOOGLE_ROWS})
    res = clk.io.read_ad_costs(p)
    s = res["spend"].sort("date", "ad_campaign_name")
    # 1020.50 + 5.00 + 0.00 = 1025.50, the "Total: Account" row, which is not data
    assert s["cost"].to_list() == [1020.5, 5.0, 0.0]
    assert s["date"].to_list() == [dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 2)]
    assert s["ad_campaign_id"].to_list() == ["gads:1234567890", "gads:1234567890", "gads:789"]
    assert s["impressions"].to_list() == [12000, None, 10]
    assert s["currency"].unique().to_list() == ["EUR"]
    assert s["source_row"].to_list() == [4, 5, 6]
    rep = res.report.row(0, named=True)
    assert rep["header_line"] == 3
    assert rep["format"] == "google_ads report (xlsx sheet 'Campaign report')"
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_rejected"]) == (3, 3, 0)
    assert res.reconciles
    t = read_sheet_table(p)
    assert t.preamble == ("Campaign report", '"January 1, 2026 - January 31, 2026"')
    assert t.footer == ("Total: Account,,,,,1025.5,12010,313", "Total: Search,,,,,1025.5,12000,313")


def test_meta_amount_spent_currency_in_header_xlsx(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "meta.xlsx", {"Raw Data Report": META_ROWS})
    res = clk.io.read_ad_costs(p)
    s = res["spend"].sort("date")
    assert s["platform"].unique().to_list() == ["meta_ads"]
    assert s["cost"].to_list() == [12.34, 7.0]
    assert s["currency"].to_list() == ["EUR", "EUR"]
    assert s["clicks"].to_list() == [None, 4]
    assert s["source_row"].to_list() == [2, 3]
    assert res.report["rows_read"][0] == 2
    assert res.reconciles


# --------------------------------------------------------------------------- sheets
def test_two_sheets_default_first_table_and_sheet_option(tmp_path: Path) -> None:
    notes = [["Exported from Meta Ads Manager"], ["Do not edit"]]  # a cover sheet, no table
    p = _workbook(tmp_path / "two.xlsx", {"Notes": notes, "Meta": META_ROWS, "Google": GOOGLE_ROWS})
    assert sniff(p).sheet == "Meta"
    assert read_sheet_table(p).sniff.sheet == "Meta"
    assert read_sheet_table(p, sheet="Google").frame.height == 3
    assert read_sheet_table(p, sheet=2).sniff.header_line == 3
    assert read_table(p, sheet=-1).sniff.sheet == "Google"
    with pytest.raises(SourceFormatError, match=r"two\.xlsx: `sheet` must be one of"):
        read_sheet_table(p, sheet="Bing")
    res = clk.io.read_ad_costs(p)
    assert res["spend"]["platform"].unique().to_list() == ["meta_ads"]


def test_hidden_sheet_is_not_the_default(tmp_path: Path) -> None:
    # a hidden lookup sheet before the report: the visible table is read
    p = _workbook(tmp_path / "hidden.xlsx", {"Lookup": GOOGLE_ROWS, "Meta": META_ROWS})
    wb = openpyxl.load_workbook(p)
    wb["Lookup"].sheet_state = "hidden"
    wb.save(p)
    assert sniff(p).sheet == "Meta"
    assert read_sheet_table(p).sniff.sheet == "Meta"
    assert read_sheet_table(p, sheet="Lookup").frame.height == 3  # still readable by name


def test_sniff_fills_header_and_sample_for_detection(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "report.xlsx", {"Campaign report": GOOGLE_ROWS})
    fs = sniff(p)
    assert (fs.kind, fs.header_line, fs.sheet) == ("xlsx", 3, "Campaign report")
    assert fs.header[:3] == ("Day", "Campaign", "Campaign ID")
    assert fs.sample.splitlines()[1].startswith("2026-01-01,brand_search,1234567890")
    assert fs.encoding is None
    assert fs.delimiter is None


# --------------------------------------------------------------------------- clk.load
def test_load_folder_detects_workbooks(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    _workbook(folder / "contacts.xlsx", {"Contacts": _hubspot_rows()})
    _workbook(folder / "google.xlsx", {"Campaign report": GOOGLE_ROWS})
    _workbook(folder / "meta.xlsx", {"Raw Data Report": META_ROWS})
    data = clk.load(folder, corporate_currency="EUR", progress=False)  # no FX rates needed
    rep = data.load_report.sort("path")
    assert rep["reader"].to_list() == ["hubspot", "ad_costs", "ad_costs"]
    assert rep["object"].to_list() == ["contacts", "google_ads", "meta_ads"]
    assert rep["rows_read"].to_list() == [3, 3, 2]
    assert (rep["rows_read"] == rep["rows_kept"] + rep["rows_rejected"] + rep["rows_merged"]).all()
    assert data.frame("people").height == 3
    assert data.rejected.filter(pl.col("table") == "spend").height == 0
    # 1020.50 + 5.00 + 0.00 (Google, EUR) + 12.34 + 7.00 (Meta, EUR) = 1044.84
    assert data.frame("spend")["cost"].sum() == pytest.approx(1044.84)


# --------------------------------------------------------------------------- bad input
def test_truncated_workbook_names_file(tmp_path: Path) -> None:
    good = _workbook(tmp_path / "good.xlsx", {"Campaign report": GOOGLE_ROWS})
    p = tmp_path / "cut.xlsx"
    p.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    fs = sniff(p)
    assert (fs.kind, fs.header) == ("xlsx", ())  # sniff never raises
    with pytest.raises(SourceFormatError, match=r"cut\.xlsx: cannot read the Excel workbook"):
        read_sheet_table(p)
    with pytest.raises(SourceFormatError, match=r"cut\.xlsx.*truncated"):
        clk.io.read_ad_costs(p)
    rep = clk.load(p, progress=False).load_report
    assert rep["reader"].to_list() == ["unknown"]
    assert rep["rows_read"].to_list() == [0]


def test_encrypted_and_empty_workbooks(tmp_path: Path) -> None:
    # a password-protected .xlsx is an OLE container with an EncryptedPackage stream
    p = tmp_path / "secret.xlsx"
    p.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le")
    )
    assert sniff(p).kind == "xls"
    with pytest.raises(SourceFormatError, match=r"secret\.xlsx: the workbook is password-prot"):
        read_table(p)
    e = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(e)
    with pytest.raises(SourceFormatError, match=r"empty\.xlsx: the workbook holds no table"):
        read_sheet_table(e)
    with pytest.raises(SourceFormatError, match=r"empty\.xlsx.*expected a sheet with a header"):
        clk.io.read_hubspot(e)


def test_read_table_dispatches_and_refuses_other_kinds(tmp_path: Path) -> None:
    c = tmp_path / "a.csv"
    c.write_text("Id,Email\n1,a@x.com\n")
    assert read_table(c, sheet="ignored").frame.rows() == [("1", "a@x.com", 2)]
    j = tmp_path / "a.json"
    j.write_text('{"a": 1}')
    with pytest.raises(SourceFormatError, match=r"a\.json: expected a delimited text export"):
        read_table(j)
    with pytest.raises(SourceFormatError, match=r"a\.csv: expected an Excel workbook"):
        read_sheet_table(c)


def test_old_biff_xls(tmp_path: Path) -> None:
    # no writer for BIFF .xls is installed: read a real one shipped with statsmodels
    spec = importlib.util.find_spec("statsmodels")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("statsmodels not installed")
    base = Path(next(iter(spec.submodule_search_locations)))
    p = base / "tsa/statespace/tests/results/frbny_nowcast/Nowcasting/data/US/2016-06-29.xls"
    if not p.is_file():
        pytest.skip("statsmodels test data not installed")
    t = read_sheet_table(p)
    assert t.sniff.kind == "xls"
    assert t.header[:2] == ("Date", "PAYEMS")
    assert t.frame.row(0)[:2] == ("1985-01-01", "96373")
    assert t.frame["source_row"][0] == 2
