"""The explorer's callbacks, driven without a browser by setting control values."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.widgets import ExplorerState, compute_view, filter_journeys


@pytest.fixture(scope="module")
def data():
    return clk.prepare(clk.datasets.load_sample())


@pytest.fixture(scope="module")
def ex(data):
    return clk.widgets.explorer(data)


def test_controls_and_initial_view(ex, data):
    assert set(ex.controls) >= {
        "conversion", "level", "model", "lookback", "dates", "product_lines", "divisions",
        "channels",
    }  # fmt: skip
    assert ex.view is not None
    assert ex.view.n_converting > 0
    assert ex.view.credit["share"].sum() == pytest.approx(1.0)
    opts = clk.widgets.options(data)
    assert list(ex.controls["product_lines"].options) == opts["product_lines"]
    # the channels are the prepared model's classified channels: never empty
    assert len(opts["channels"]) > 3
    assert list(ex.controls["channels"].options) == opts["channels"]
    assert "journeys" in ex.status.value


def test_model_change_recomputes(ex, data):
    ex.controls["model"].value = "first_touch"
    assert ex.view.state.model == "first_touch"
    j = data.journeys(conversion="opportunity", level="account", lookback="180d")
    expected = clk.attribution.attribute(j, model="first_touch").channels
    got = ex.view.credit.sort("channel")
    assert got["share"].to_list() == pytest.approx(expected.sort("channel")["share"].to_list())
    ex.controls["model"].value = "linear"


def test_level_and_conversion(ex):
    ex.controls["level"].value = "person"
    assert ex.view.state.level == "person"
    ex.controls["conversion"].value = "won"
    won = ex.view.n_converting
    ex.controls["conversion"].value = "opportunity"
    assert ex.view.n_converting >= won
    ex.controls["level"].value = "account"


def test_filters_narrow_the_data(ex, data):
    line = ex.controls["product_lines"].options[0]
    ex.controls["product_lines"].value = (line,)
    assert ex.view.state.product_lines == (line,)
    kept = filter_journeys(data, ex.view.state)["journey_id"].unique()
    deals = data.funnel("opportunity").filter(pl.col("entity_id").is_in(kept.implode()))
    assert set(deals["product_line"].unique().to_list()) == {line}
    ex.controls["product_lines"].value = ()

    ch = ex.controls["channels"].options[0]
    ex.controls["channels"].value = (ch,)
    assert set(ex.view.credit["channel"].to_list()) <= {ch}
    ex.controls["channels"].value = ()


def test_date_range_and_lookback(ex):
    months = ex.controls["dates"].options
    ex.controls["dates"].value = (months[-3][1], months[-1][1])
    st = ex.view.state
    assert st.start == months[-3][1]
    assert st.end.month == months[-1][1].month
    assert (st.end + dt.timedelta(days=1)).day == 1
    ex.controls["lookback"].value = 30
    assert ex.view.state.lookback_days == 30


def test_empty_selection_is_explained(data):
    view = compute_view(data, ExplorerState(channels=("No Such Channel",)))
    assert view.n_converting == 0
    assert view.credit.height == 0
    assert any("no converting" in n for n in view.notes)


def test_custom_chart_function(data):
    seen = []

    def chart(frame: pl.DataFrame, *, title: str):
        seen.append((frame.height, title))
        return clk.viz.attribution_chart(frame, title=title)

    ex = clk.widgets.explorer(data, chart=chart)
    assert seen
    assert seen[0][1].startswith("Credit by channel")
    assert ex.chart.to_dict()["title"]["text"].startswith("Credit by channel")
