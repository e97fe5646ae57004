"""Rule models: ChannelAttribution's definitions by brute force, known values, conventions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from closedloop_kit.attribution import attribute, attribute_paths, paths


def _random_paths(seed: int, n: int = 300, k: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    names = [f"ch{i}" for i in range(k)]
    rows = []
    for _ in range(n):
        length = int(rng.integers(1, 7))
        steps = [names[int(i)] for i in rng.integers(0, k, size=length)]
        rows.append(
            {
                "path": " > ".join(steps),
                "conversions": int(rng.integers(0, 5)),
                "value": 0.0,
                "nulls": int(rng.integers(0, 9)),
            }
        )
    frame = pl.DataFrame(rows)
    value = pl.Series(rng.uniform(0, 100, frame.height))
    return frame.with_columns(  # value only where there are conversions
        pl.when(pl.col("conversions") > 0).then(value).otherwise(0.0).alias("value")
    )


def _brute(frame: pl.DataFrame, model: str) -> dict[str, tuple[float, float]]:
    """ChannelAttribution's heuristic_models, written as a plain loop over paths."""
    out: dict[str, list[float]] = {}
    for row in frame.iter_rows(named=True):
        steps = [s.strip() for s in row["path"].split(">")]
        conv, value = row["conversions"], row["value"]
        if model == "first_touch":
            weights = {steps[0]: 1.0}
        elif model == "last_touch":
            weights = {steps[-1]: 1.0}
        else:  # linear: every touch 1/n, repeats add up
            weights = {}
            for s in steps:
                weights[s] = weights.get(s, 0.0) + 1.0 / len(steps)
        for ch, w in weights.items():
            acc = out.setdefault(ch, [0.0, 0.0])
            acc[0] += w * conv
            acc[1] += w * value * (conv > 0)
    return {k: (v[0], v[1]) for k, v in out.items()}


@pytest.mark.parametrize("model", ["first_touch", "last_touch", "linear"])
@pytest.mark.parametrize("seed", [0, 1])
def test_heuristics_match_channelattribution_definitions(model: str, seed: int) -> None:
    frame = _random_paths(seed)
    got = attribute_paths(frame, model=model, sep=">")
    expected = _brute(frame, model)
    for row in got.iter_rows(named=True):
        exp = expected.get(row["channel"], (0.0, 0.0))
        assert row["conversions"] == pytest.approx(exp[0], abs=1e-9)
        assert row["value"] == pytest.approx(exp[1], abs=1e-9)
    assert set(expected) <= set(got["channel"]) | {k for k, v in expected.items() if v[0] == 0}


def test_journey_level_equals_path_level() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for j in range(200):
        conv = bool(rng.random() < 0.4)
        for p in range(int(rng.integers(1, 6))):
            rows.append((j, f"c{int(rng.integers(0, 4))}", p, conv, 10.0 * conv))
    journeys = pl.DataFrame(
        rows, schema=["journey_id", "channel", "position", "converted", "value"], orient="row"
    )
    for model in ("first_touch", "last_touch", "linear", "markov", "shapley"):
        a = attribute(journeys, model=model).channels.sort("channel")
        b = attribute_paths(paths(journeys), model=model).sort("channel")
        np.testing.assert_allclose(a["conversions"], b["conversions"], atol=1e-9)
        np.testing.assert_allclose(a["value"], b["value"], atol=1e-9)


def _one_journey(n: int, **flags: list[bool]) -> pl.DataFrame:
    t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return pl.DataFrame(
        {
            "journey_id": [1] * n,
            "touch_id": list(range(n)),
            "channel": [f"c{i}" for i in range(n)],
            "position": list(range(n)),
            "occurred_at": [t0 + dt.timedelta(days=7 * i) for i in range(n)],
            "converted": [True] * n,
            "value": [100.0] * n,
            **flags,
        }
    )


def _credits(frame: pl.DataFrame, model: str, **params: object) -> list[float]:
    return [round(c, 12) for c in attribute(frame, model=model, **params).credits["credit"]]


def test_position_shapes_and_short_journeys() -> None:
    # 40/20/40 with 4 touches: middle 20 % split over 2 → 0.1 each
    assert _credits(_one_journey(4), "position_based") == [0.4, 0.1, 0.1, 0.4]
    # one touch takes everything; two touches split first:last = 0.4:0.4 → 0.5/0.5
    assert _credits(_one_journey(1), "position_based") == [1.0]
    assert _credits(_one_journey(2), "position_based") == [0.5, 0.5]
    # j_shaped 20/60 on two touches → 0.25/0.75; inverse_j 60/20 → 0.75/0.25
    assert _credits(_one_journey(2), "j_shaped") == [0.25, 0.75]
    assert _credits(_one_journey(2), "inverse_j") == [0.75, 0.25]
    # U shape 50/50 (Marketo Measure) with 3 touches leaves the middle nothing
    assert _credits(_one_journey(3), "position_based", first=0.5, last=0.5) == [0.5, 0.0, 0.5]


def test_time_decay_known_value() -> None:
    # touches 0, 7, 14 days after start; conversion at the last touch: ages 14, 7, 0 days
    # half-life 7 days → weights 1/4, 1/2, 1 → credits 1/7, 2/7, 4/7
    got = _credits(_one_journey(3), "time_decay", half_life="7d")
    assert got == pytest.approx([1 / 7, 2 / 7, 4 / 7], abs=1e-12)


def test_last_non_direct() -> None:
    j = _one_journey(3).with_columns(pl.Series("channel", ["Email", "Paid Search", "Direct"]))
    assert _credits(j, "last_non_direct") == [0.0, 1.0, 0.0]
    all_direct = j.with_columns(pl.lit("Direct").alias("channel"))
    assert _credits(all_direct, "last_non_direct") == [0.0, 0.0, 1.0]  # falls back to last


def test_w_shaped_and_full_path_known_values() -> None:
    j = _one_journey(
        6,
        is_lead_creation_touch=[False, False, True, False, False, False],
        is_opportunity_creation_touch=[False, False, False, False, True, False],
        is_closed_won_touch=[False, False, False, False, False, True],
    )
    # W: first (0), lead (2), opportunity (4) 0.3 each; rest 0.1 over touches 1, 3, 5
    w = _credits(j, "w_shaped")
    assert w == pytest.approx([0.3, 0.1 / 3, 0.3, 0.1 / 3, 0.3, 0.1 / 3], abs=1e-12)
    # full path: 0.225 × (first, lead, opp, won) + 0.1 over touches 1 and 3
    f = _credits(j, "full_path")
    assert f == pytest.approx([0.225, 0.05, 0.225, 0.05, 0.225, 0.225], abs=1e-12)


def test_milestones_sharing_a_touch_add_up() -> None:
    # two touches: the first is also the lead-creation touch, the second the opportunity
    # touch: raw weights 0.3 + 0.3 and 0.3, no rest touch → 0.6/0.9 and 0.3/0.9
    j = _one_journey(
        2, is_lead_creation_touch=[True, False], is_opportunity_creation_touch=[False, True]
    )
    assert _credits(j, "w_shaped") == pytest.approx([2 / 3, 1 / 3], abs=1e-12)
    custom = _credits(j, "custom", weights={"first": 1.0, "opportunity": 3.0})
    assert custom == pytest.approx([0.25, 0.75], abs=1e-12)


def test_errors_are_clear() -> None:
    j = _one_journey(2)
    with pytest.raises(ValueError, match="`model` must be one of"):
        attribute(j, model="lienar")
    with pytest.raises(ValueError, match="`custom` needs `weights`"):
        attribute(j, model="custom")
    with pytest.raises(Exception, match="is_lead_creation_touch"):
        attribute(j, model="w_shaped")
