"""KPI tiles: value, change and its colour from a small KPI frame."""

from __future__ import annotations

import polars as pl
import pytest

import closedloop_kit as clk


def _frame(**over):
    base = {
        "kpi": ["pipeline", "cost_per_sales_ready", "roi"],
        "label": ["Pipeline", "Cost per sales-ready lead", "ROI"],
        "kind": ["currency", "currency", "percent"],
        "better": ["up", "down", "up"],
        "current": [120000.0, 550.0, 0.5],
        "previous": [100000.0, 500.0, 0.45],
        "change": [0.2, 0.1, 0.05],
    }
    base.update(over)
    return pl.DataFrame(base)


def test_tiles_show_value_change_and_colour():
    html = clk.viz.kpi_tiles(_frame(), title="March").html
    # 120,000 vs 100,000: +20 %, a rise in pipeline is good (green)
    assert 'data-kpi="pipeline"' in html
    assert "$120,000" in html
    assert "▲ 20.0% vs $100,000" in html
    # cost per sales-ready lead rose 10 %: bad (red)
    pipeline, cost, roi = html.split('class="clk-kpi"')[1:]
    assert "clk-good" in pipeline
    assert "clk-bad" in cost
    assert "▲ 10.0% vs $550" not in cost
    assert "▲ 10.0% vs $500" in cost
    # ROI 45 % -> 50 %: up 5 percentage points
    assert "50.0%" in roi
    assert "▲ 5.0 pts vs 45.0%" in roi
    assert "<h3>March</h3>" in html


def test_no_previous_value_shows_no_change():
    html = clk.viz.kpi_tiles(_frame(previous=[None, None, None], change=[None, None, None])).html
    assert html.count("previous —") == 3
    assert "▲" not in html


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="needs the columns"):
        clk.viz.kpi_tiles(pl.DataFrame({"label": ["x"]}))
