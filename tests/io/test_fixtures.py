"""Every Salesforce and HubSpot export in tests/data/real loads with the right reader.

Nothing is lost silently: every file reconciles (rows read = kept + rejected + merged),
every rejected row carries a reason, and files outside the canonical model are listed in
the load report with why they were not read.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.io import read_hubspot, read_salesforce


def _check(data: clk.ClosedLoopData) -> pl.DataFrame:
    r = data.load_report
    assert (r["rows_read"] == r["rows_kept"] + r["rows_rejected"] + r["rows_merged"]).all()
    assert data.rejected["reason"].null_count() == 0
    unknown = r.filter(pl.col("reader") == "unknown")
    assert unknown["notes"].null_count() == 0  # every skipped file says why
    return r


@pytest.mark.parametrize(
    ("folder", "reader"),
    [
        ("salesforce-data-loader-examples", "salesforce"),
        ("apex-recipes", "salesforce"),
        ("dbt_salesforce", "salesforce"),
        ("dbt_hubspot", "hubspot"),
    ],
)
def test_fixture_folders_load_with_the_right_reader(
    shared_fixtures: Path, folder: str, reader: str
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = clk.load(shared_fixtures / folder, progress=False)
    # the only warnings are low join rates, and they are real: the dbt seed files are
    # obfuscated samples whose contacts point at accounts that are not in the seeds
    assert all("low join rate" in str(w.message) for w in caught)
    if folder == "dbt_salesforce":
        assert any("people.account_id -> accounts" in str(w.message) for w in caught)
    r = _check(data)
    read = r.filter(pl.col("reader") != "unknown")
    assert read.height > 0
    assert read["reader"].unique().to_list() == [reader]


def test_demo_org_closed_converted_lead_loads(shared_fixtures: Path) -> None:
    lead = shared_fixtures / "salesforce-data-loader-examples/data/initial/treeapi/Lead.json"
    people = read_salesforce(lead)["people"]
    odd = people.filter((pl.col("status_raw") == "Closed - Converted") & ~pl.col("is_converted"))
    assert odd.height >= 1


def test_data_loader_account_csv(shared_fixtures: Path) -> None:
    res = read_salesforce(
        shared_fixtures / "salesforce-data-loader-examples/data/initial/csv/Account.csv"
    )
    acc = res["accounts"]
    assert acc.height == 12
    assert acc.filter(pl.col("name") == "Burlington Textiles Corp of America")[
        "annual_revenue"
    ].to_list() == [350_000_000.0]
    assert acc["account_id"].str.len_chars().unique().to_list() == [21]  # "sf:" + 18


def test_apex_hostile_strings_survive(shared_fixtures: Path) -> None:
    res = read_salesforce(shared_fixtures / "apex-recipes/data/Opportunities.csv")
    assert res.reconciles
    assert res["opportunities"].height + res.rejected.height == 50


def test_dbt_salesforce_invalid_ids_caught(shared_fixtures: Path) -> None:
    seeds = shared_fixtures / "dbt_salesforce/integration_tests/seeds"
    contacts = read_salesforce(seeds / "sf_contact_data.csv")
    # two 17-character contact ids are rejected with the reason
    reasons = contacts.rejected["reason"].to_list()
    assert len(reasons) == 2
    assert all("not a Salesforce id" in r for r in reasons)
    opps = read_salesforce(seeds / "sf_opportunity_data.csv")
    notes = opps.report["notes"][0]
    # base64-obfuscated account and owner ids are caught (nulled and reported)
    assert "invalid Salesforce id" in notes
    assert "==" in notes


def test_dbt_salesforce_history_mode_deduplicated(shared_fixtures: Path) -> None:
    seeds = shared_fixtures / "dbt_salesforce/integration_tests/seeds"
    res = read_salesforce(seeds / "sf_opportunity_history_data.csv")
    opps = res["opportunities"]
    assert opps["opportunity_id"].is_unique().all()
    rep = res.report.row(0, named=True)
    # records with no active version keep their latest version (and say so)
    assert "no active version" in rep["notes"]
    assert rep["rows_read"] == rep["rows_kept"] + rep["rows_rejected"] + rep["rows_merged"]
    assert res["stage_history"].height > 0


def test_dbt_hubspot_core_tables(shared_fixtures: Path) -> None:
    seeds = shared_fixtures / "dbt_hubspot/integration_tests/seeds"
    contacts = read_hubspot(seeds / "contact_data.csv")
    assert contacts["people"]["person_id"].str.starts_with("hs:").all()
    assert contacts["identity_links"].height > 0  # property_hs_merged_object_ids
    deals = read_hubspot(seeds / "deal_data.csv")
    assert deals["opportunities"].height == 43 + 1
    stages = read_hubspot(seeds / "deal_stage_data.csv")
    assert stages["stage_history"]["entity_type"].unique().to_list() == ["opportunity"]


def test_every_real_file_is_read_or_skipped_with_its_reason(shared_fixtures: Path) -> None:
    """All the real exports at once: each file is read, or listed with why it was not."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = clk.load(shared_fixtures, progress=False)
    assert all("low join rate" in str(w.message) for w in caught)
    r = _check(data)
    files = sorted(
        str(p)
        for p in shared_fixtures.rglob("*")
        if p.is_file() and p.suffix in (".csv", ".json") and not p.name.startswith(".")
    )
    assert sorted(set(r["path"].to_list())) == files  # every file has a report row
    not_read = r.filter(pl.col("rows_read") == 0)
    assert not_read["notes"].null_count() == 0
    assert (not_read["notes"].str.len_chars() > 20).all()  # a reason, not a blank
    assert int(r["rows_rejected"].sum()) == data.rejected.height  # one reject ledger
    read = r.filter(pl.col("rows_read") > 0)
    assert set(read["reader"].unique()) >= {"salesforce", "hubspot"}
