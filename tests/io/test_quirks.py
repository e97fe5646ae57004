"""Real exports, read faithfully: nothing the readers cannot be sure of is guessed silently.

One test per quirk, each on a small file in the vendor's real shape.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.io import read_salesforce
from closedloop_kit.io._parse import date_bounds, parse_date, parse_datetime
from closedloop_kit.schema import salesforce_id18

UTC = dt.UTC
OPP15 = "0065e00000OpPaA"
ACC15 = "0015e00000XyZab"


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


# ---------------------------------------------------------------------- dates
def test_report_two_digit_years_follow_the_excel_window_and_are_noted(tmp_path: Path) -> None:
    # a Salesforce opportunity report saved through Excel: m/d/yy dates, 12-hour clock
    p = _write(
        tmp_path,
        "opportunities_report.csv",
        '"Opportunity ID","Opportunity Name","Account ID","Amount","Close Date","Stage",'
        '"Created Date"\n'
        f'"{OPP15}","Athena - 40 seats","{ACC15}","12,000.00","02/03/24","Closed Won",'
        '"02/23/26 08:55 PM"\n',
    )
    res = read_salesforce(p, object="Opportunity")
    opp = res["opportunities"].row(0, named=True)
    # 24 and 26 are below the pivot 30: 2024 and 2026 (not 24 and 26 AD)
    assert opp["close_date"] == dt.date(2024, 2, 3)
    assert opp["created_at"] == dt.datetime(2026, 2, 23, 20, 55, tzinfo=UTC)
    notes = res.report["notes"][0]
    assert "two-digit year(s) read in the 1930-2029 window" in notes


def test_two_digit_year_pivot_both_sides() -> None:
    r = parse_date(pl.Series(["12/31/29", "01/01/30", "15-Mar-98"]), column="d")
    # 29 → 2029 (last year of the window), 30 → 1930 (first), 98 → 1998
    assert r.value.to_list() == [dt.date(2029, 12, 31), None, dt.date(1998, 3, 15)]
    # 1930 is before the plausible range (1990..): rejected with the reason, not kept
    assert "outside the plausible dates 1990-01-01" in r.problem[1]


def test_out_of_range_dates_rejected_with_reason_file_and_line(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "Opportunity.csv",
        "Id,Name,AccountId,StageName,CloseDate,Amount\n"
        f"{OPP15},Ok,{ACC15},Prospecting,2026-03-31,10\n"
        f"0065e00000OpPbB,Year typo,{ACC15},Prospecting,0202-03-31,10\n"
        f"0065e00000OpPcC,Far future,{ACC15},Prospecting,2202-12-31,10\n",
    )
    res = read_salesforce(p)
    assert res["opportunities"].height == 1
    rej = res.rejected.sort("source_row")
    assert rej["source_row"].to_list() == [3, 4]
    assert rej["source_file"].to_list() == [str(p), str(p)]
    assert rej["reason"].str.contains("outside the plausible dates").all()
    assert res.report["rows_rejected"][0] == 2
    assert res.reconciles
    # a wider range is an option: then both load
    wide = read_salesforce(p, date_range=("0100-01-01", "2999-12-31"))
    assert wide["opportunities"].height == 3


def test_open_end_placeholder_is_no_date_and_noted() -> None:
    # Salesforce DatedConversionRate.NextStartDate of the current rate
    r = parse_date(pl.Series(["2026-01-01", "9999-12-31"]), column="NextStartDate")
    assert r.value.to_list() == [dt.date(2026, 1, 1), None]
    assert r.problem.null_count() == 2  # not a problem: the row is kept
    assert "1 year-9999 value(s) read as no date" in r.notes[0]


def test_date_range_default_and_validation() -> None:
    lo, hi = date_bounds()
    assert lo == dt.date(1990, 1, 1)
    assert hi.year == dt.date.today().year + 10
    with pytest.raises(ValueError, match="`date_range` must have earliest <= latest"):
        date_bounds(("2030-01-01", "2020-01-01"))
    with pytest.raises(ValueError, match="ISO strings"):
        date_bounds(("soon", "later"))


def test_excel_serial_zero_is_not_a_date() -> None:
    # 0/1 written into a date column by a formula: not 1899-12-30 / 1900-01-01
    r = parse_datetime(pl.Series(["1", "46027.5"]), column="Created")
    assert r.value[0] is None
    assert "outside the plausible dates" in r.problem[0]
    assert r.value[1] == dt.datetime(2026, 1, 5, 12, tzinfo=UTC)


def test_ambiguous_day_month_is_refused_with_a_message() -> None:
    with pytest.raises(clk.errors.SourceFormatError, match="pass `dayfirst=True`"):
        parse_date(pl.Series(["03/04/2026", "05/06/2026"]), column="Close Date")


# ---------------------------------------------------------------------- encodings
def test_mixed_utf8_and_windows_1252_lines_decoded_line_by_line(tmp_path: Path) -> None:
    # a Data Loader export (UTF-8) with rows appended by a Windows tool (Windows-1252)
    head = '"ID","FIRSTNAME","LASTNAME","COMPANY","STATUS"\n'
    utf8 = '"00Q5e00000AbCdE","Rosé","Müller","Café GmbH","Open"\n'
    legacy = '"00Q5e00000AbCdF","Zoë","Ångström","Brasserie Noël","Open"\n'
    p = _write(tmp_path, "Lead.csv", (head + utf8).encode() + legacy.encode("cp1252"))
    res = read_salesforce(p)
    people = res["people"].sort("source_row")
    assert people["first_name"].to_list() == ["Rosé", "Zoë"]  # not "RosÃ©"
    assert people["company_name"].to_list() == ["Café GmbH", "Brasserie Noël"]
    rep = res.report.row(0, named=True)
    assert rep["encoding"] == "utf-8 (mixed with windows-1252)"
    assert "1 line(s) not valid UTF-8 decoded as Windows-1252 (line(s) 3)" in rep["notes"]


def test_all_windows_1252_file_is_not_called_mixed(tmp_path: Path) -> None:
    text = "Id,FirstName,LastName,Company,Status\n00Q5e00000AbCdE,Rosé,Nagy,Café,Open\n"
    res = read_salesforce(_write(tmp_path, "Lead.csv", text.encode("cp1252")))
    assert res["people"]["first_name"].to_list() == ["Rosé"]
    assert res.report["encoding"][0] == "windows-1252"
    assert "mixed encodings" not in (res.report["notes"][0] or "")


# ---------------------------------------------------------------------- layout
def test_column_named_twice_is_noted(tmp_path: Path) -> None:
    # a report with the Last Name column added twice
    text = (
        "Id,FirstName,LastName,LastName,Company,Status\n"
        "00Q5e00000AbCdE,Ann,Akin,Akin-Berg,Athena,Open\n"
    )
    res = read_salesforce(_write(tmp_path, "Lead.csv", text))
    assert res["people"]["last_name"].to_list() == ["Akin"]  # the first one is mapped
    assert "column(s) named twice in the header: 'LastName'" in res.report["notes"][0]


def test_repeated_header_lines_skipped_and_noted(tmp_path: Path) -> None:
    # two HubSpot contact exports concatenated with `cat`
    header = "Record ID,First Name,Last Name,Email,Lifecycle Stage,Create Date\n"
    text = (
        header
        + "101,Ann,Akin,ann@athena.example,lead,2026-01-05 10:00\n"
        + header
        + "102,Bo,Berg,bo@berg.example,subscriber,2026-01-06 11:00\n"
    )
    res = clk.io.read_hubspot(_write(tmp_path, "contacts.csv", text))
    assert res["people"]["source_id"].sort().to_list() == ["101", "102"]
    assert res.rejected.height == 0  # not an "invalid id" row
    rep = res.report.row(0, named=True)
    assert rep["rows_read"] == 2
    assert res.reconciles
    assert "skipped 1 repeated header line(s) at line(s) 3" in rep["notes"]


def test_windows_1252_line_beyond_the_sniffed_sample(tmp_path: Path) -> None:
    # the first 64 KB are valid UTF-8 (with accents); a Windows-1252 line comes later
    from closedloop_kit.io import read_text_table

    rows = "".join(f"{i},Café {i}\n" for i in range(6000))
    data = b"n,name\n" + rows.encode() + "6000,Noël\n".encode("cp1252")
    t = read_text_table(_write(tmp_path, "big.csv", data))
    assert t.frame["name"][-1] == "Noël"
    assert t.frame["name"][0] == "Café 0"
    assert t.fallback_lines == (6002,)  # header + 6000 rows, then the legacy line


# ---------------------------------------------------------------------- detection
def _sf(prefix: str, i: int) -> str:
    return salesforce_id18(f"{prefix}5e00000Rc{i:03d}")


def test_valid_salesforce_ids_outrank_a_hubspot_like_header(tmp_path: Path) -> None:
    # an Account report whose labels (Record ID, Create Date, Email) read like HubSpot's
    accounts = [_sf("001", i) for i in range(3)]
    _write(
        tmp_path,
        "accounts.csv",
        "Record ID,Account Name,Website,Create Date,Email\n"
        + "".join(
            f"{a},Acme {i},acme{i}.example,2026-01-0{i + 1},x{i}@acme.example\n"
            for i, a in enumerate(accounts)
        ),
    )
    _write(
        tmp_path,
        "Opportunity.csv",
        "Id,Name,AccountId,StageName,CloseDate,Amount,CurrencyIsoCode\n"
        + "".join(
            f"{_sf('006', i)},Deal {i},{a},Prospecting,2026-03-31,100,USD\n"
            for i, a in enumerate(accounts)
        ),
    )
    data = clk.load(tmp_path, progress=False)
    rep = data.load_report.sort("path")
    assert rep["reader"].to_list() == ["salesforce", "salesforce"]
    assert data["accounts"]["account_id"].to_list() == [f"sf:{a}" for a in accounts]
    joined = data["opportunities"].join(data["accounts"], on="account_id")
    assert joined.height == 3  # every opportunity joins its account
    acc_notes = rep.filter(pl.col("path").str.ends_with("accounts.csv"))["notes"][0]
    assert "`Record ID` holds Account record ids" in acc_notes
    # read_salesforce on the file alone reads it too (no "no Salesforce object" error)
    assert read_salesforce(tmp_path / "accounts.csv")["accounts"].height == 3


def test_invalid_checksums_are_not_salesforce_evidence(tmp_path: Path) -> None:
    from closedloop_kit.io._registry import detect_reader
    from closedloop_kit.io._text import sniff

    good = _sf("001", 1)
    bad = good[:15] + ("AAB" if good[15:] != "AAB" else "AAC")  # wrong checksum suffix
    p = _write(
        tmp_path,
        "companies.csv",
        "Record ID,Name,Create Date,Email\n" + f"{bad},Acme,2026-01-01,x@acme.example\n",
    )
    _spec, _score, scores = detect_reader(sniff(p))
    assert dict(scores)["salesforce"] < 0.9


# ---------------------------------------------------------------------- folders
def test_salesforce_folder_reads_what_it_knows_and_lists_the_rest(tmp_path: Path) -> None:
    # a weekly Data Export: canonical objects beside Case, Solution and a zip manifest
    _write(tmp_path, "Lead.csv", f"Id,LastName,Company,Status\n{_sf('00Q', 1)},Akin,A,Open\n")
    _write(tmp_path, "Account.csv", f"Id,Name\n{_sf('001', 1)},Athena\n")
    _write(tmp_path, "Case.csv", f"Id,Subject,Status\n{_sf('500', 1)},Broken,New\n")
    _write(tmp_path, "Solution.csv", f"Id,SolutionName\n{_sf('501', 1)},Restart\n")
    res = read_salesforce(tmp_path)
    assert res["people"].height == 1
    assert res["accounts"].height == 1
    rep = res.report.sort("path")
    skipped = rep.filter(pl.col("reader") == "unknown")
    assert [Path(p).name for p in skipped["path"]] == ["Case.csv", "Solution.csv"]
    assert skipped["notes"].str.starts_with("skipped by `read_salesforce`: ").all()
    assert skipped["notes"].str.contains("Case|Solution").all()
    assert (skipped["rows_read"] == 0).all()
    # a single file still says why it cannot be read
    with pytest.raises(clk.errors.SourceFormatError, match="Case records"):
        read_salesforce(tmp_path / "Case.csv")


# ---------------------------------------------------------------------- reject ledger
def test_rejects_in_derived_tables_are_counted_in_the_report(tmp_path: Path) -> None:
    # a Pardot prospect export (API names) whose CRM contact FID is not a Salesforce id
    p = _write(
        tmp_path,
        "prospects.csv",
        "id,email,first_name,last_name,crm_lead_fid,crm_contact_fid,created_at\n"
        "101,ann@acme.example,Ann,Lee,,003A0000006Vm9rIAC,2026-01-05 09:00:00\n"
        "102,bo@beta.example,Bo,Ng,,not-an-id,2026-01-05 09:00:00\n"
        "103,cy@gamma.example,Cy,Oh,,12345,2026-01-05 09:00:00\n",
    )
    res = clk.io.read_pardot(p)
    assert res["people"].height == 3  # the people are kept
    rep = res.report
    # every refused row, in any table, is counted: 2 identity links here
    assert int(rep["rows_rejected"].sum()) == res.rejected.height == 2
    links = rep.filter(pl.col("table") == "identity_links").row(0, named=True)
    assert (links["rows_read"], links["rows_kept"], links["rows_rejected"]) == (3, 1, 2)
    assert res.reconciles  # read = kept + rejected + merged, row by row
    data = clk.load(tmp_path, progress=False)
    assert int(data.load_report["rows_rejected"].sum()) == data.rejected.height == 2


# ---------------------------------------------------------------------- join rates
def test_join_rates_in_the_load_report_and_a_warning_when_low(tmp_path: Path) -> None:
    accounts = [_sf("001", i) for i in range(4)]
    _write(tmp_path, "Account.csv", "Id,Name\n" + "".join(f"{a},Acme {a[-4:]}\n" for a in accounts))
    # 4 opportunities: 1 on a loaded account, 3 on accounts that were not exported
    others = [_sf("001", 100 + i) for i in range(3)]
    _write(
        tmp_path,
        "Opportunity.csv",
        "Id,Name,AccountId,StageName,CloseDate,Amount,CurrencyIsoCode\n"
        + "".join(
            f"{_sf('006', i)},Deal {i},{a},Prospecting,2026-03-31,100,USD\n"
            for i, a in enumerate([accounts[0], *others])
        ),
    )
    # 2 contacts, both on loaded accounts
    _write(
        tmp_path,
        "Contact.csv",
        "Id,LastName,AccountId\n" + f"{_sf('003', 1)},Ng,{accounts[1]}\n"
        f"{_sf('003', 2)},Oh,{accounts[2]}\n",
    )
    with pytest.warns(clk.errors.DataQualityWarning, match=r"1 of 4 \(25%\)"):
        data = clk.load(tmp_path, progress=False)
    rep = data.load_report
    opp = rep.filter(pl.col("path").str.ends_with("Opportunity.csv"))["notes"][0]
    assert "joins: opportunities.account_id -> accounts: 1 of 4 (25%) find a loaded row" in opp
    con = rep.filter(pl.col("path").str.ends_with("Contact.csv"))["notes"][0]
    assert "joins: people.account_id -> accounts: 2 of 2 (100%)" in con


def test_join_rates_cross_check_by_hand() -> None:
    from closedloop_kit.io._joins import join_rates

    tables = {
        "campaign_members": pl.DataFrame(
            {"campaign_id": ["c1", "c1", "c2", "c3", None], "source_file": ["m.csv"] * 5}
        ),
        "campaigns": pl.DataFrame({"campaign_id": ["c1", "c2"]}),
    }
    r = join_rates(tables).row(0, named=True)
    # 4 members with a campaign; c1, c1, c2 found, c3 not: 3 / 4
    manual = sum(c in {"c1", "c2"} for c in ["c1", "c1", "c2", "c3"]) / 4
    assert (r["rows_with_reference"], r["rows_joined"]) == (4, 3)
    assert r["join_rate"] == manual == 0.75
