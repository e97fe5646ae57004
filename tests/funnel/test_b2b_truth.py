"""The funnel on the simulated company matches the simulation's known truth."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

import closedloop_kit as clk
from tests.helpers import build_funnel

make_b2b = getattr(clk.datasets, "make_b2b", None)
pytestmark = pytest.mark.skipif(make_b2b is None, reason="clk.datasets.make_b2b not available")


@pytest.fixture(scope="module")
def world():
    return make_b2b(seed=0, accounts=250, months=24)


@pytest.fixture(scope="module")
def resolved(world):
    """The data with the true identity as golden ids (identity is tested elsewhere)."""
    people = world.data.frame("people")
    if "golden_person_id" in people.columns:
        people = people.drop("golden_person_id")
    ident = world.truth.identity.select(
        "person_id", pl.col("true_person_key").alias("golden_person_id")
    )
    return world.data.with_tables(people=people.join(ident, on="person_id", how="left"))


def _build(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clk.errors.DataQualityWarning)
        return build_funnel(data, result=True, **kw)


@pytest.fixture(scope="module")
def opp_funnel(resolved):
    res = _build(resolved, grain="opportunity")
    assert res.rejected.height == 0
    return res.funnel


def truth_count(world, stage: str) -> int:
    return int(world.truth.stage_counts.filter(pl.col("stage") == stage)["count"].item())


def test_opportunity_and_won_counts_match_truth(world, opp_funnel):
    counts = dict(clk.funnel.conversion(opp_funnel).counts.select("stage", "n").iter_rows())
    assert counts["opportunity"] == truth_count(world, "opportunity")
    assert counts["won"] == truth_count(world, "won")
    assert int(opp_funnel["is_open"].sum()) == int(world.truth.cycle["open_at_end"].item())


def test_win_rate_matches_truth_with_ci(world, opp_funnel):
    rates = clk.funnel.conversion(opp_funnel).rates
    r = rates.filter((pl.col("from_stage") == "opportunity") & (pl.col("to_stage") == "won"))
    truth = world.truth.stage_conversion.filter(
        (pl.col("from_stage") == "opportunity") & (pl.col("to_stage") == "won")
    )["rate"].item()
    assert r["rate"].item() == pytest.approx(truth)
    assert r["ci_low"].item() <= truth <= r["ci_high"].item()


def test_median_time_to_close_within_ci_of_truth(world, opp_funnel):
    # truth: true (uncensored) close times of every deal, open ones included
    cycle = world.truth.cycle.row(0, named=True)
    opp = clk.funnel.time_to_close(opp_funnel).quantiles.filter(pl.col("quantile") == 0.5)
    q = opp.row(0, named=True)
    assert q["ci_low"] <= cycle["median_days_opportunity_to_close"] <= q["ci_high"]
    lead = clk.funnel.time_to_close(opp_funnel, start="raw_lead").quantiles
    q = lead.filter(pl.col("quantile") == 0.5).row(0, named=True)
    assert q["ci_low"] <= cycle["median_days_lead_to_close"] <= q["ci_high"]


def test_cycle_is_months_long(opp_funnel):
    # the seed's "multi-month sales cycle": median opportunity -> close of 2-6 months
    q = clk.funnel.time_to_close(opp_funnel).quantiles
    median = q.filter(pl.col("quantile") == 0.5)["days"].item()
    assert 30 < median < 200


def test_sourcing_on_the_simulated_company(resolved, opp_funnel):
    res = clk.funnel.sourcing(
        opp_funnel,
        by=["product_line", "sales_division"],
        commitments=[{"source": "marketing", "metric": "pipeline", "share": 0.5}],
    )
    shares = res.shares.filter(pl.col("metric") == "pipeline")
    sums = shares.group_by("product_line", "sales_division").agg(pl.col("share").sum())
    assert sums["share"].drop_nulls().to_list() == pytest.approx(
        [1.0] * sums["share"].drop_nulls().len()
    )
    comp = res.comparison
    assert comp.height == shares.select("product_line", "sales_division").unique().height
    # explicit opportunity sourced_by is used first
    assert res.rules.filter(pl.col("sourced_by_rule") == "explicit")["n"].sum() > 0
