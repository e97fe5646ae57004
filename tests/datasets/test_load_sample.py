"""``clk.load("sample_data/")`` reconciles with the simulated world and the planted dirt."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.datasets import make_b2b
from closedloop_kit.datasets.sample import EXPORT_CONFIG

pytestmark = pytest.mark.slow  # reading ~370 files takes ~30-40 s


@pytest.fixture(scope="module")
def loaded(sample_data_dir: Path):
    if not (sample_data_dir / "truth/expected_load.csv").is_file():
        pytest.skip("sample_data/ not generated")
    return clk.load(sample_data_dir, progress=False)


@pytest.fixture(scope="module")
def world():
    cfg = EXPORT_CONFIG
    return make_b2b(cfg["seed"], accounts=cfg["accounts"], months=cfg["months"], start=cfg["start"])


@pytest.fixture(scope="module")
def expected(sample_data_dir: Path) -> dict[str, dict[str, str]]:
    with (sample_data_dir / "truth/expected_load.csv").open(encoding="utf-8") as fh:
        return {r["file"]: r for r in csv.DictReader(fh)}


def test_every_file_reconciles_with_the_readme(loaded, expected) -> None:
    report = loaded.load_report.with_columns(
        pl.col("path").str.replace(r"^.*?sample_data/", "").alias("file")
    )
    for file, exp in expected.items():
        if file.startswith("ga4/"):
            continue
        row = report.filter(pl.col("file") == file).row(0, named=True)
        assert row["rows_read"] == int(exp["data_rows"]), file
        assert row["rows_rejected"] == int(exp["expected_rejected"]), file
        assert row["rows_merged"] == int(exp["expected_merged"]), file
        assert row["rows_kept"] == int(exp["expected_kept"]), file
    unknown = report.filter(pl.col("reader") == "unknown")["file"]
    assert unknown.str.starts_with("truth/").all()  # only the truth files are not data


def test_only_the_planted_rows_are_rejected(loaded) -> None:
    rej = loaded.rejected.with_columns(pl.col("source_file").str.replace(r"^.*/", ""))
    assert sorted(zip(rej["table"], rej["source_file"], strict=True)) == [
        ("opportunities", "Opportunity.csv"),
        ("people", "Lead.csv"),
        ("people", "Lead.csv"),
    ]


def test_key_counts_match_the_world(loaded, world) -> None:
    for table, key in [
        ("people", "person_id"),
        ("opportunities", "opportunity_id"),
        ("accounts", "account_id"),
        ("campaigns", "campaign_id"),
    ]:
        assert set(loaded.frame(table)[key]) == set(world.data.frame(table)[key]), table
    for table in ("campaign_members", "opportunity_contacts", "spend", "fx_rates"):
        assert loaded.frame(table).height == world.data.frame(table).height, table
    wo, lo = world.data.frame("opportunities"), loaded.frame("opportunities")
    assert lo["is_won"].sum() == wo["is_won"].sum()
    won_world = wo.filter(pl.col("is_won"))["amount_corporate"].sum()
    won_loaded = lo.filter(pl.col("is_won"))["amount_corporate"].sum()
    assert won_loaded == pytest.approx(won_world, rel=1e-4)  # FX rates round-trip 1/x
    keys = ["date", "platform", "ad_campaign_id", "currency", "cost"]
    assert (
        loaded.frame("spend")
        .select(keys)
        .sort(keys)
        .equals(world.data.frame("spend").select(keys).sort(keys))
    )
    spend_w = world.data.frame("spend")["cost_corporate"].sum()
    assert loaded.frame("spend")["cost_corporate"].sum() == pytest.approx(spend_w, rel=1e-4)
    # GA4 sessions and form fills: one per simulated web session / form
    for touch_type in ("web_session", "form_fill"):
        n_w = world.data.frame("touchpoints").filter(pl.col("touch_type") == touch_type).height
        n_l = loaded.frame("touchpoints").filter(pl.col("touch_type") == touch_type).height
        assert n_l == n_w, touch_type
    assert loaded.frame("identity_links").height == world.data.frame("identity_links").height
    # Salesforce status and stage changes
    for field in ("status", "stage"):
        sw = world.data.frame("stage_history").filter(
            (pl.col("field") == field) & (pl.col("source_system") == "salesforce")
        )
        sl = loaded.frame("stage_history").filter(
            (pl.col("field") == field) & (pl.col("source_system") == "salesforce")
        )
        assert sl.height == sw.height, field
