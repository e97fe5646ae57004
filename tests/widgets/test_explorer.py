"""The explorer's callbacks, driven without a browser by setting control values."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.widgets import ExplorerState, compute_view, filter_data


@pytest.fixture(scope="module")
def data():
    return clk.identity.resolve(clk.datasets.load_sample()).data


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
    assert "journeys" in ex.status.value


def test_model_change_recomputes(ex, data):
    ex.controls["model"].value = "first_touch"
    assert ex.view.state.model == "first_touch"
    j = clk.attribution.journeys(
        data, conversion="opportunity_created", level="account", lookback="180d"
    )
    expected = clk.attribution.attribute(j, model="first_touch").channels
    got = ex.view.credit.sort("channel")
    assert got["share"].to_list() == pytest.approx(expected.sort("channel")["share"].to_list())
    ex.controls["model"].value = "linear"


def test_level_and_conversion(ex):
    ex.controls["level"].value = "person"
    assert ex.view.state.level == "person"
    ex.controls["conversion"].value = "won"
    won = ex.view.n_converting
    ex.controls["conversion"].value = "opportunity_created"
    assert ex.view.n_converting >= won
    ex.controls["level"].value = "account"


def test_filters_narrow_the_data(ex, data):
    line = ex.controls["product_lines"].options[0]
    ex.controls["product_lines"].value = (line,)
    assert ex.view.state.product_lines == (line,)
    sub = filter_data(data, ex.view.state)
    assert set(sub.frame("opportunities")["product_line"].unique().to_list()) == {line}
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
