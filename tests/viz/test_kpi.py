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
        "previous": [100000.0, 500.0, None],
        "change": [0.2, 0.1, None],
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
    # no previous value: no change shown
    assert "50.0%" in roi
    assert "previous —" in roi
    assert "<h3>March</h3>" in html


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="needs the columns"):
        clk.viz.kpi_tiles(pl.DataFrame({"label": ["x"]}))
