"""ROI on the simulated company: every model, by campaign and channel, totals reconcile."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.errors import DataQualityWarning
from closedloop_kit.roi import compare_models, sourced_vs_influenced, summary


@pytest.fixture(scope="module")
def world() -> object:
    return clk.datasets.make_b2b(seed=3, accounts=150, months=12)


@pytest.fixture(scope="module")
def prepared(world: object) -> clk.Prepared:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # simulated CRM quirk on purpose
        p = clk.prepare(world.data)  # type: ignore[attr-defined]
        p.funnel("person"), p.funnel("opportunity")
    return p


@pytest.fixture(scope="module")
def journeys(prepared: clk.Prepared) -> pl.DataFrame:
    return prepared.journeys(conversion="won", level="account", lookback="365d")


@pytest.mark.parametrize("model", ["first_touch", "w_shaped", "shapley"])
@pytest.mark.parametrize("by", ["campaign", "channel"])
def test_roi_reconciles_on_simulated_company(
    world: object, prepared: clk.Prepared, journeys: pl.DataFrame, model: str, by: str
) -> None:
    truth = world.truth  # type: ignore[attr-defined]
    credits = clk.attribution.attribute(journeys, model=model)
    r = summary(credits, prepared, by=by, every="quarter")
    rec = dict(r.reconciliation.iter_rows())
    # all cost: spend + program cost = the simulation's total, nothing unconverted
    assert rec["total_cost"] == pytest.approx(truth.segments["spend_corporate"].sum(), abs=0.1)
    assert rec["allocated_cost"] + rec["unallocated_cost"] == pytest.approx(rec["total_cost"])
    assert r.unconverted.height == 0
    credited = float(credits.credits["credited_value"].sum())
    assert rec["total_attributed_revenue"] == pytest.approx(credited)
    assert r.table["attributed_revenue"].sum() + r.unallocated[
        "attributed_revenue"
    ].sum() == pytest.approx(credited)
    # bookings view moves revenue between quarters, never changes the total
    b = summary(credits, prepared, by=by, view="bookings")
    assert b.table["attributed_revenue"].sum() == pytest.approx(r.table["attributed_revenue"].sum())
    assert set(b.table["view"]) == {"bookings"}


def test_compare_and_sourced_on_simulated_company(
    prepared: clk.Prepared, journeys: pl.DataFrame
) -> None:
    c = compare_models(
        journeys, prepared, models=["first_touch", "linear", "w_shaped"], bootstrap=20, seed=1
    )
    assert {"roi_first_touch", "roi_linear", "roi_w_shaped", "roi_range"} <= set(c.wide.columns)
    assert (c.table["roi_lower"] <= c.table["roi_upper"] + 1e-12).all()
    funnel = prepared.funnel("opportunity")
    s = sourced_vs_influenced(funnel, journeys, by="product_line", window="365d")
    t = s.table
    assert (t["sourced_bookings"] <= t["bookings"] + 1e-9).all()
    assert (t["influenced_bookings"] <= t["bookings"] + 1e-9).all()
    assert t["opportunities"].sum() == funnel.filter(pl.col("opportunity_at").is_not_null()).height
