"""Sampling intervals and the model-disagreement band in ``compare``."""

from __future__ import annotations

import polars as pl
import pytest

from closedloop_kit.attribution import attribute, bootstrap, compare
from closedloop_kit.datasets._worlds import make_attribution_world


def test_compare_shows_disagreement_band_and_sampling_intervals() -> None:
    j = make_attribution_world(4301, n_journeys=3_000, channels=4).journeys
    out = compare(j, models=["linear", "shapley", "logistic"], intervals=20, seed=2)
    assert out.columns == [
        "model",
        "channel",
        "conversions",
        "value",
        "share",
        "disagreement_lower",
        "disagreement_upper",
        "sampling_lower",
        "sampling_upper",
    ]
    # the band is the min / max share of the data-driven models (linear is a rule)
    wide = out.pivot(on="model", index="channel", values="share").sort("channel")
    band = out.filter(pl.col("model") == "linear").sort("channel")
    assert band["disagreement_lower"].to_list() == pytest.approx(
        wide.select(pl.min_horizontal("shapley", "logistic"))["shapley"].to_list()
    )
    assert band["disagreement_upper"].to_list() == pytest.approx(
        wide.select(pl.max_horizontal("shapley", "logistic"))["shapley"].to_list()
    )
    assert (out["sampling_lower"] <= out["sampling_upper"]).all()
    # the sampling interval is the model's own bootstrap
    ci = bootstrap(j, model="shapley", n=20, seed=2).sort("channel")
    own = out.filter(pl.col("model") == "shapley").sort("channel")
    assert own["sampling_lower"].to_list() == pytest.approx(ci["share_lower"].to_list())


def test_band_is_null_without_two_data_driven_models() -> None:
    j = pl.DataFrame(
        {
            "journey_id": [1, 1, 2],
            "channel": ["A", "B", "B"],
            "position": [0, 1, 0],
            "converted": [True, True, False],
        }
    )
    out = compare(j, models=["first_touch", "last_touch"])
    assert out["disagreement_lower"].null_count() == out.height
    assert "sampling_lower" not in out.columns


def test_bootstrap_multistage_resamples_journeys() -> None:
    from tests.attribution.test_multistage import STAGES, _hand_world

    j = _hand_world()
    ci = bootstrap(j, model="multistage", n=5, seed=0, stages=STAGES)
    point = attribute(j, model="multistage", stages=STAGES).channels
    assert ci["share"].to_list() == pytest.approx(point["share"].to_list())
    assert (ci["share_lower"] <= ci["share_upper"]).all()
