"""The issue's "must show" flow on the bundled sample company (load_sample)."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.errors import DataQualityWarning

SEG = ["product_line", "sales_division"]


def test_roi_to_funding_on_sample_company() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # the demo-org quirk, on purpose
        prepared = clk.prepare(clk.datasets.load_sample())
        funnel = prepared.funnel("person")
    journeys = prepared.journeys(conversion="won", level="account", lookback="365d")
    total_cost = None
    for model in ("first_touch", "linear", "w_shaped"):
        credits = clk.attribution.attribute(journeys, model=model)
        for by in ("campaign", "channel"):
            roi = clk.roi.summary(credits, prepared, by=by, every="quarter")
            rec = dict(roi.reconciliation.iter_rows())
            total_cost = total_cost or rec["total_cost"]
            assert rec["total_cost"] == pytest.approx(total_cost)  # same spend, every model
            assert roi.table["cost"].sum() + roi.unallocated["cost"].sum() == pytest.approx(
                total_cost
            )
    costs = clk.planning.cost_per_sales_ready(prepared, by=SEG)
    assert costs.table["cost"].sum() == pytest.approx(total_cost)
    commitments = costs.table.filter(pl.col("sales_ready") > 0).select(
        *SEG,
        pl.lit("2027Q1").alias("quarter"),
        pl.lit(1_000_000.0).alias("bookings"),
        pl.lit(0.5).alias("sourced_share"),
    )
    plan = clk.planning.budget(commitments, costs)
    ttc = clk.funnel.time_to_close(funnel, start="raw_lead", event="won")
    sched = clk.planning.funding_schedule(plan, ttc)
    budget_total = plan.table["budget"].drop_nulls().sum()
    assert sched.by_quarter["funding"].sum() == pytest.approx(budget_total)
