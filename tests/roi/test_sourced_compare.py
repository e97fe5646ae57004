"""Tests of clk.roi.sourced_vs_influenced and clk.roi.compare_models."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.roi import compare_models, sourced_vs_influenced


def _t(m: int, d: int = 1) -> dt.datetime:
    return dt.datetime(2026, m, d, tzinfo=dt.UTC)


def test_sourced_vs_influenced_known_values() -> None:
    funnel = pl.DataFrame(
        {
            "entity_id": ["o1", "o2", "o3", "o4"],
            "product_line": ["A", "A", "A", "B"],
            "sourced_by": ["marketing", "sales", "marketing", "partner"],
            "sourced_by_rule": ["explicit", "lead_source", "touch_at_creation", "explicit"],
            "opportunity_at": [_t(1), _t(1), _t(2), _t(3)],
            "won_at": [_t(6), _t(6), None, _t(5)],
            "exit_at": [None, None, None, None],
            "observed_until": [_t(9)] * 4,
            "amount_corporate": [100.0, 200.0, 400.0, 800.0],
            "won_amount_corporate": [100.0, 200.0, None, 800.0],
        },
        schema_overrides={"exit_at": pl.Datetime("us", "UTC")},
    )
    journeys = pl.DataFrame(
        {
            "journey_id": ["o1", "o2", "o2", "o3", "o4"],
            # o1 touch 2 months before close (in window); o2: the sales touch in window is not
            # marketing, its marketing touch is > 70 days before close; o3 open: touch
            # before observed_until (Sept) in window; o4: marketing touch after close
            "occurred_at": [_t(4), _t(5, 20), _t(1, 2), _t(8), _t(5, 2)],
            "is_marketing": [True, False, True, True, True],
        }
    )
    r = sourced_vs_influenced(funnel, journeys, by="product_line", window="70d")
    a = r.table.filter(pl.col("product_line") == "A").row(0, named=True)
    # A: pipeline 100 + 200 + 400 = 700; sourced o1 + o3 = 500 → 5/7
    assert a["pipeline"] == 700.0
    assert a["sourced_pipeline"] == 500.0
    assert a["sourced_pipeline_share"] == pytest.approx(5 / 7)
    # influenced: o1 (Apr 1 is 61 d before Jun 1) and o3 (Aug 1 is 31 d before Sep 1)
    assert a["influenced_pipeline"] == 500.0
    # bookings: o1 100 + o2 200 = 300; sourced 100 → 1/3; influenced 100 → 1/3
    assert a["bookings"] == 300.0
    assert a["sourced_bookings_share"] == pytest.approx(1 / 3)
    assert a["influenced_bookings_share"] == pytest.approx(1 / 3)
    b = r.table.filter(pl.col("product_line") == "B").row(0, named=True)
    assert b["influenced_bookings"] == 0.0
    assert b["sourced_bookings_share"] == 0.0
    # the sourcing rule is recorded per entity, not re-derived
    assert r.entities.sort("entity_id")["sourced_by_rule"].to_list() == [
        "explicit",
        "lead_source",
        "touch_at_creation",
        "explicit",
    ]
    assert "SourcedResult" in r._repr_html_()


JOURNEYS = pl.DataFrame(
    {
        "journey_id": [1, 1, 2, 3, 3, 4],
        "touch_id": [1, 2, 3, 4, 5, 6],
        "channel": ["Email", "Paid Search", "Paid Search", "Email", "Display", "Display"],
        "campaign_id": ["e1", "s1", "s1", "e1", None, None],
        "campaign_name": [None, None, None, None, None, None],
        "position": [0, 1, 0, 0, 1, 0],
        "converted": [True, True, True, True, True, False],
        "value": [100.0, 100.0, 50.0, 200.0, 200.0, None],
    }
)
SPEND = pl.DataFrame(
    {
        "date": [dt.date(2026, 1, 1)] * 3,
        "currency": ["USD"] * 3,
        "channel": ["Email", "Paid Search", "Display"],
        "campaign_id": ["e1", "s1", None],
        "cost": [50.0, 100.0, 20.0],
    }
)


def _prepared() -> clk.Prepared:
    return clk.prepare(clk.ClosedLoopData({"spend": SPEND}), identity=False)


def test_compare_models_known_values() -> None:
    r = compare_models(JOURNEYS, _prepared(), models=["first_touch", "last_touch", "linear"])
    w = {row["channel"]: row for row in r.wide.iter_rows(named=True)}
    # first touch: Email 100 + 200 = 300 → ROI (300 − 50)/50 = 5; last touch: Email 0 → −1
    assert w["Email"]["roi_first_touch"] == pytest.approx(5.0)
    assert w["Email"]["roi_last_touch"] == pytest.approx(-1.0)
    # linear: Email 50 + 100 = 150 → 2
    assert w["Email"]["roi_linear"] == pytest.approx(2.0)
    assert w["Email"]["roi_range"] == pytest.approx(6.0)
    # Display: first 0, last 200 → (200 − 20)/20 = 9
    assert w["Display"]["roi_last_touch"] == pytest.approx(9.0)
    costs = r.table.group_by("model").agg(pl.col("cost").sum())["cost"].to_list()
    assert costs == [170.0, 170.0, 170.0]  # same spend under every model


def test_compare_models_bootstrap_intervals() -> None:
    r = compare_models(JOURNEYS, _prepared(), models=["linear", "last_touch"], bootstrap=50, seed=3)
    t = r.table
    assert {"roi_lower", "roi_upper"} <= set(t.columns)
    assert (t["roi_lower"] <= t["roi"] + 1e-9).all()
    assert (t["roi"] <= t["roi_upper"] + 1e-9).all()
    again = compare_models(
        JOURNEYS, _prepared(), models=["linear", "last_touch"], bootstrap=50, seed=3
    )
    assert again.table.equals(t)
    camp = compare_models(JOURNEYS, _prepared(), models=["linear"], by="campaign", bootstrap=30)
    e1 = camp.table.filter(pl.col("campaign") == "e1").row(0, named=True)
    assert e1["attributed_revenue_lower"] <= e1["attributed_revenue"]
    assert e1["attributed_revenue"] <= e1["attributed_revenue_upper"]


@pytest.mark.parametrize("by", ["campaign", "channel"])
def test_compare_models_with_no_journey_and_no_cost(by: str) -> None:
    """A GA4-only export (dbt_ga4_export): no cost, no converting journey. The wide table
    keeps one ROI column per model (the pivot of an empty table had none)."""
    empty = clk.prepare(clk.ClosedLoopData({}), identity=False)
    r = compare_models(JOURNEYS.clear(), empty, models=["first_touch", "linear"], by=by)
    assert r.wide.columns == [by, "roi_first_touch", "roi_linear", "roi_range"]
    assert r.wide.height == 0
