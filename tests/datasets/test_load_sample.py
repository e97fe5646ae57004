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
        ("activities", "activity_id"),
        ("users", "user_id"),
        ("products", "product_id"),
        ("opportunity_products", "line_item_id"),
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


def test_sales_side_round_trips(loaded, world, sample_data_dir: Path) -> None:
    # every column of the sales-side tables reads back as simulated (corporate line totals
    # to 1e-4: the exported rates round-trip 1/x, as for the opportunities above)
    for table, key in [
        ("activities", "activity_id"),
        ("users", "user_id"),
        ("products", "product_id"),
        ("opportunity_products", "line_item_id"),
    ]:
        w = world.data.frame(table).drop("source_file", "source_row")
        lo = loaded.frame(table).select(w.columns)
        joined = lo.join(w, on=key, suffix="_w")
        for col in w.columns:
            if col == key or col == "total_amount_corporate":
                continue
            diff = joined.filter(pl.col(col).ne_missing(pl.col(f"{col}_w")))
            assert diff.height == 0, (table, col, diff.select(key, col, f"{col}_w").head(3))
        if table == "opportunity_products":
            assert joined["total_amount_corporate"].to_list() == pytest.approx(
                joined["total_amount_corporate_w"].to_list(), rel=1e-4
            )


def test_truth_says_who_is_sales_ready_by_the_meeting(loaded, sample_data_dir: Path) -> None:
    truth = pl.read_csv(sample_data_dir / "truth/sales_ready.csv", try_parse_dates=True)
    identity = pl.read_csv(sample_data_dir / "truth/identity.csv")
    counts = pl.read_csv(sample_data_dir / "truth/stage_counts.csv")
    assert truth.height == counts.filter(pl.col("stage") == "sales_ready")["count"].item()
    meetings = loaded.frame("activities").filter(pl.col("type") == "meeting")
    humans = meetings.join(identity, on="person_id", how="left")
    assert humans["true_person_key"].null_count() == 0
    assert set(humans["true_person_key"]) == set(truth["true_person_key"])
    first = humans.group_by("true_person_key").agg(pl.col("created_at").min())
    check = truth.join(first, on="true_person_key")
    assert (check["created_at"] == check["meeting_set_at"]).all()
