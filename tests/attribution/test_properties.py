"""Invariants: credits sum to 1 per converting journey, row order, eager vs lazy."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop_kit.attribution import attribute

MODELS = [
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "j_shaped",
    "inverse_j",
    "w_shaped",
    "full_path",
    "markov",
    "shapley",
    "ordered_shapley",
    "fractribution",
]

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@st.composite
def journeys(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(1, 12))
    rows = []
    tid = 0
    for j in range(n):
        length = draw(st.integers(1, 6))
        conv = draw(st.booleans())
        chans = draw(
            st.lists(st.sampled_from(["A", "B", "C", "Direct"]), min_size=length, max_size=length)
        )
        lead = draw(st.integers(0, length - 1))
        for p, ch in enumerate(chans):
            rows.append(
                {
                    "journey_id": j,
                    "touch_id": tid,
                    "channel": ch,
                    "position": p,
                    "occurred_at": T0 + dt.timedelta(days=3 * p),
                    "converted": conv,
                    "value": 100.0 if conv else 0.0,
                    "is_lead_creation_touch": p == lead,
                    "is_opportunity_creation_touch": p == length - 1,
                    "is_closed_won_touch": False,
                }
            )
            tid += 1
    return pl.DataFrame(rows)


def _sums(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by("journey_id").agg(pl.col("credit").sum())


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=25)
@given(j=journeys())
def test_credits_sum_to_one_order_free_and_lazy(model: str, j: pl.DataFrame) -> None:
    res = attribute(j, model=model)
    credits = res.credits
    assert isinstance(credits, pl.DataFrame)
    n_conv = j.filter(pl.col("converted"))["journey_id"].n_unique()
    sums = _sums(credits)
    assert sums.height == n_conv
    assert ((sums["credit"] - 1.0).abs() < 1e-9).all()
    # row order does not matter
    shuffled = attribute(j.sample(fraction=1.0, shuffle=True, seed=1), model=model)
    a = credits.sort("touch_id")
    b = shuffled.credits.sort("touch_id")
    assert ((a["credit"] - b["credit"]).abs() < 1e-9).all()
    # eager and lazy agree
    lazy = attribute(j.lazy(), model=model)
    assert isinstance(lazy.credits, pl.LazyFrame)
    c = lazy.credits.collect().sort("touch_id")
    assert ((a["credit"] - c["credit"]).abs() < 1e-9).all()
    assert ((res.channels["conversions"] - lazy.channels["conversions"]).abs() < 1e-9).all()
