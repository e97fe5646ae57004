"""On the simulated company: cost per sales-ready lead matches the simulation's truth."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.errors import DataQualityWarning
from closedloop_kit.planning import budget, cost_per_sales_ready, funding_schedule

SEG = ["product_line", "sales_division"]


@pytest.fixture(scope="module")
def world() -> object:
    return clk.datasets.make_b2b(seed=3, accounts=150, months=12)


def test_cost_per_sales_ready_cost_matches_truth(world: object) -> None:
    truth = world.truth  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # the demo-org quirk, on purpose
        r = cost_per_sales_ready(clk.prepare(world.data))  # type: ignore[attr-defined]
    # every simulated cost row names a campaign with product line and division: all
    # direct; spend (EUR at dated rates) + program cost equals the truth to the cent in
    # every segment (the sales-ready counts per segment: tests/prepared/test_truth.py)
    assert r.table["allocated_cost"].abs().max() == pytest.approx(0.0)
    got = r.table.filter(pl.col("cost") > 0).join(truth.segments, on=SEG, suffix="_truth")
    assert got.height == truth.segments.height
    for row in got.iter_rows(named=True):
        assert row["cost"] == pytest.approx(row["spend_corporate"], abs=0.02)
    assert r.unallocated.height == 0


def test_funnel_to_budget_to_funding(world: object) -> None:
    with warnings.catch_warnings():
        # the simulated CRM has the demo-org Status/IsConverted quirk on purpose
        warnings.simplefilter("ignore", DataQualityWarning)
        prepared = clk.prepare(world.data)  # type: ignore[attr-defined]
        funnel = prepared.funnel("person")
    costs = cost_per_sales_ready(prepared)
    # the spend side does not depend on the funnel: same total as the truth
    assert costs.table["cost"].sum() == pytest.approx(
        world.truth.segments["spend_corporate"].sum(),  # type: ignore[attr-defined]
        abs=0.1,
    )
    commitments = costs.table.select(*SEG).with_columns(
        pl.lit("2026Q1").alias("quarter"), pl.lit(20).alias("sales_ready")
    )
    plan = budget(commitments, costs)
    assert plan.table["budget"].sum() == pytest.approx(
        20 * costs.table["cost_per_sales_ready"].sum()
    )
    ttc = clk.funnel.time_to_close(funnel, start="raw_lead", event="won", period="quarter")
    sched = funding_schedule(plan, ttc)
    assert sched.by_quarter["funding"].sum() == pytest.approx(plan.table["budget"].sum())
    assert sched.profile["share"].sum() == pytest.approx(1.0)
    # funding never comes after the bookings it pays for
    assert (sched.schedule["quarter_offset"] >= 0).all()
