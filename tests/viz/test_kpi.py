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


def test_report_kpis_reads_the_tiles_back_exactly():
    frame = _frame(current=[120000.004, 1 / 3, 0.5], previous=[100000.0, None, 0.45])
    got = clk.report.report_kpis(clk.viz.kpi_tiles(frame, title="March").html)
    assert got["kpi"].to_list() == ["pipeline", "cost_per_sales_ready", "roi"]
    assert got["label"].to_list() == frame["label"].to_list()
    # the unrounded numbers, not the text: 1/3 survives, the tile shows "$0"
    assert got["current"].to_list() == [120000.004, 1 / 3, 0.5]
    assert got["previous"].to_list() == [100000.0, None, 0.45]
    assert got["shown"].to_list() == ["$120,000", "$0", "50.0%"]
    assert got["delta"][2] == "▲ 5.0 pts vs 45.0%"


def test_report_kpis_of_a_page_without_tiles_is_empty():
    got = clk.report.report_kpis("<html><table><tr><td>1</td></tr></table></html>")
    assert got.height == 0
    assert got.columns == ["kpi", "label", "current", "previous", "shown", "delta"]


def test_report_kpis_reads_attributes_in_any_order():
    # the offline HTML export sorts a tag's attributes
    tile = clk.viz.kpi_tiles(_frame()).html.split('<div class="clk-kpis">')[1]
    page = tile.replace(
        '<div class="clk-kpi" data-kpi="pipeline" data-value="120000.0" data-previous="100000.0">',
        '<div class="clk-kpi" data-kpi="pipeline" data-previous="100000.0" data-value="120000.0">',
    )
    assert page != tile
    got = clk.report.report_kpis(page)
    assert got.row(0, named=True)["current"] == 120000.0
    assert got.row(0, named=True)["previous"] == 100000.0
