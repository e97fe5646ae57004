"""Headline KPIs: hand-checked on a tiny company, and cross-checked against the sample data."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.widgets import kpis, previous_period


def test_previous_period():
    assert previous_period(dt.date(2026, 1, 1), dt.date(2026, 3, 31)) == (
        dt.date(2025, 10, 1),
        dt.date(2025, 12, 31),
    )
    assert previous_period(dt.date(2026, 3, 2), dt.date(2026, 3, 8)) == (
        dt.date(2026, 2, 23),
        dt.date(2026, 3, 1),
    )


@pytest.fixture(scope="module")
def sample():
    return clk.prepare(clk.datasets.load_sample())


def test_kpis_match_an_independent_computation(sample):
    start, end = dt.date(2025, 10, 1), dt.date(2025, 12, 31)
    got = kpis(sample, start=start, end=end)
    assert got["kpi"].to_list() == [k for k, *_ in clk.widgets.KPIS]
    values = dict(zip(got["kpi"], got["current"], strict=True))
    opps = sample.data.frame("opportunities")
    # pipeline: a plain loop over the opportunities created in the quarter
    pipeline = sum(
        r["amount_corporate"] or 0.0
        for r in opps.iter_rows(named=True)
        if r["created_at"] is not None and start <= r["created_at"].date() <= end
    )
    assert values["pipeline"] == pytest.approx(pipeline)
    # cost of record: ad spend + campaign actual cost (what roi.summary divides by)
    costs, _ = sample.costs()
    spend = sum(
        r["cost_corporate"] or 0.0 for r in costs.iter_rows(named=True) if start <= r["date"] <= end
    )
    ready = values["sales_ready"]
    assert ready > 0
    assert values["cost_per_sales_ready"] == pytest.approx(spend / ready)
    prev = dict(zip(got["kpi"], got["previous"], strict=True))
    change = dict(zip(got["kpi"], got["change"], strict=True))
    if prev["pipeline"]:
        assert change["pipeline"] == pytest.approx((pipeline - prev["pipeline"]) / prev["pipeline"])


def test_product_line_filter_changes_the_numbers(sample):
    start, end = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    everything = kpis(sample, start=start, end=end)
    line = clk.widgets.options(sample)["product_lines"][0]
    one = kpis(sample, start=start, end=end, product_lines=[line])
    a = dict(zip(everything["kpi"], everything["current"], strict=True))
    b = dict(zip(one["kpi"], one["current"], strict=True))
    assert 0 < b["pipeline"] < a["pipeline"]
    assert b["sales_ready"] <= a["sales_ready"]
    opps = sample.data.frame("opportunities").filter(
        (pl.col("product_line") == line) & pl.col("created_at").dt.date().is_between(start, end)
    )
    assert b["pipeline"] == pytest.approx(opps["amount_corporate"].sum())


def test_dashboard_updates_tiles_and_tables_in_place(sample):
    dash = clk.widgets.dashboard(sample, chart=None)
    assert dash.controls["period"].value is not None
    assert "clk-kpi" in dash.tiles.value
    before = dash.tiles.value
    line = dash.controls["product_lines"].options[0]
    dash.controls["product_lines"].value = (line,)
    assert dash.view.state.product_lines == (line,)
    assert dash.tiles.value != before
    assert dash.controls["channels"].options  # touches classified for the channel filter
    campaigns = dash.controls["campaigns"].options
    assert campaigns
    assert not campaigns[0][1].startswith(campaigns[0][0])
    dash.controls["campaigns"].value = (campaigns[0][1],)
    assert dash.view.state.campaigns == (campaigns[0][1],)
    dash.controls["period"].value = None
    assert "Choose a period" in dash.tiles.value


def test_cost_is_the_cost_of_record(sample):
    # the tiles divide by the same cost as roi.summary and cost_per_sales_ready: ad spend
    # *and* campaign actual cost (the tiles once used the spend table alone)
    start, end = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    costs, _ = sample.costs()
    in_year = costs.filter(pl.col("date").is_between(start, end))
    assert (in_year["source"] == "campaign_actual_cost").any()
    got = kpis(sample, start=start, end=end)
    values = dict(zip(got["kpi"], got["current"], strict=True))
    period = (start, end + dt.timedelta(days=1))
    planned = clk.planning.cost_per_sales_ready(sample, by=(), period=period).table
    assert values["cost_per_sales_ready"] == pytest.approx(planned["cost_per_sales_ready"][0])
    assert values["sales_ready"] == planned["sales_ready"][0]
