"""Shapley: brute-force coalition sums; Fractribution oracle (dbt-snowplow-fractribution)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from closedloop_kit.attribution import attribute, attribute_paths, paths


def _journeys(seed: int, n: int = 400, k: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for j in range(n):
        conv = bool(rng.random() < 0.35)
        for p in range(int(rng.integers(1, 6))):
            rows.append((j, f"c{int(rng.integers(0, k))}", p, conv, 5.0 * conv * (1 + j % 3)))
    return pl.DataFrame(
        rows, schema=["journey_id", "channel", "position", "converted", "value"], orient="row"
    )


def _brute_shapley(journeys: pl.DataFrame, *, ordered: bool) -> dict[str, float]:
    """Shapley by the permutation/subset definition, one combination at a time."""
    per = (
        journeys.sort("journey_id", "position")
        .group_by("journey_id", maintain_order=True)
        .agg(pl.col("channel"), pl.col("converted").first())
    )
    stats: dict[tuple, list[float]] = {}
    for _, chans, conv in per.iter_rows():
        first_seen = tuple(dict.fromkeys(chans))
        key = first_seen if ordered else tuple(sorted(first_seen))
        acc = stats.setdefault(key, [0.0, 0.0])
        acc[0] += conv
        acc[1] += 1

    def v(key: tuple) -> float:
        if not key:
            return 0.0
        c, n = stats.get(key, (0.0, 0.0))
        return c / n if n else 0.0

    out: dict[str, float] = {}
    for key, (conv, _) in stats.items():
        if conv == 0:
            continue
        m = len(key)
        phi = {}
        for i, ch in enumerate(key):
            others = [x for x in range(m) if x != i]
            total = 0.0
            for size in range(m):
                for sub in itertools.combinations(others, size):
                    w = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
                    with_c = tuple(key[x] for x in sorted((*sub, i)))
                    without = tuple(key[x] for x in sorted(sub))
                    if not ordered:
                        with_c, without = tuple(sorted(with_c)), tuple(sorted(without))
                    total += w * (v(with_c) - v(without))
            phi[ch] = total
        s = sum(phi.values())
        for ch, x in phi.items():
            out[ch] = out.get(ch, 0.0) + conv * x / s
    return out


@pytest.mark.parametrize("ordered", [False, True])
def test_shapley_matches_brute_force(ordered: bool) -> None:
    j = _journeys(7)
    model = "ordered_shapley" if ordered else "shapley"
    got = dict(attribute(j, model=model).channels.select("channel", "conversions").iter_rows())
    expected = _brute_shapley(j, ordered=ordered)
    for ch, x in expected.items():
        assert got[ch] == pytest.approx(x, abs=1e-9)
    # efficiency: total credit = total conversions
    conv = j.group_by("journey_id").agg(pl.col("converted").first())["converted"].sum()
    assert sum(got.values()) == pytest.approx(conv, abs=1e-9)


def test_shapley_two_channel_by_hand() -> None:
    # v({A}) = 1/2, v({B}) = 1/4, v({A,B}) = 1: φ_A = ½(½ − 0) + ½(1 − ¼) = 5/8,
    # φ_B = ½(¼) + ½(1 − ½) = 3/8; the A,B journey's 1 conversion splits 5/8 : 3/8.
    p = pl.DataFrame({"path": ["A>B", "A", "B"], "conversions": [1, 1, 1], "nulls": [0, 1, 3]})
    got = attribute_paths(p, model="shapley", value=None).sort("channel")
    # A: 1 (own path) + 5/8; B: 1 + 3/8
    assert got["conversions"].to_list() == pytest.approx([1.625, 1.375])


def test_more_than_20_channels_is_a_clear_error() -> None:
    p = pl.DataFrame(
        {"path": [">".join(f"c{i}" for i in range(21))], "conversions": [1], "nulls": [0]}
    )
    with pytest.raises(ValueError, match="more than the limit of 20"):
        attribute_paths(p, model="shapley")


def _fractribution(shared: Path) -> tuple[Path, pl.DataFrame]:
    base = shared / "dbt-snowplow-fractribution" / "integration_tests" / "data" / "expected"
    sessions = pl.read_csv(
        base / "snowplow_fractribution_sessions_by_customer_id_expected.csv", try_parse_dates=True
    )
    conv = pl.read_csv(
        base / "snowplow_fractribution_conversions_by_customer_id_expected.csv",
        try_parse_dates=True,
    )
    # fractribution's path rules: sessions at or before the conversion, 30-day lookback
    j = (
        sessions.join(conv, on="customer_id", how="left")
        .filter(
            pl.col("conversion_tstamp").is_null()
            | (
                (pl.col("visit_start_tstamp") <= pl.col("conversion_tstamp"))
                & (
                    pl.col("visit_start_tstamp")
                    >= pl.col("conversion_tstamp") - pl.duration(days=30)
                )
            )
        )
        .sort("customer_id", "visit_start_tstamp")
        .select(
            pl.col("customer_id").alias("journey_id"),
            "channel",
            pl.int_range(pl.len()).over("customer_id").alias("position"),
            pl.col("conversion_tstamp").is_not_null().alias("converted"),
            pl.col("revenue").fill_null(0.0).alias("value"),
        )
    )
    return base, j


def test_fractribution_oracle_paths(shared_fixtures: Path) -> None:
    base, j = _fractribution(shared_fixtures)
    expected = pl.read_csv(base / "snowplow_fractribution_path_summary_expected.csv")
    got = paths(j, sep=" > ", transform="collapse")
    both = expected.join(got, left_on="transformed_path", right_on="path", how="full")
    assert both.height == expected.height == got.height
    assert (both["conversions"] == both["conversions_right"]).all()
    assert (both["non_conversions"] == both["nulls"]).all()
    np.testing.assert_allclose(both["revenue"].fill_null(0.0), both["value"], atol=1e-9)


@pytest.mark.parametrize(
    ("kind", "model"), [("shapley", "fractribution"), ("last_touch", "last_touch")]
)
def test_fractribution_oracle_channels(shared_fixtures: Path, kind: str, model: str) -> None:
    base, j = _fractribution(shared_fixtures)
    expected = pl.read_csv(base / "snowplow_fractribution_channel_attribution_expected.csv").filter(
        pl.col("ATTRIBUTION_TYPE") == kind
    )
    got = attribute(j, model=model).channels
    m = expected.join(got, left_on="CHANNEL", right_on="channel", how="left").with_columns(
        pl.col("conversions", "value").fill_null(0.0)
    )
    np.testing.assert_allclose(m["conversions"], m["CONVERSIONS"], atol=1e-9)
    np.testing.assert_allclose(m["value"], m["REVENUE"], atol=1e-9)
    # the same numbers from the exported path summary through the path-level entry point
    summary = pl.read_csv(base / "snowplow_fractribution_path_summary_expected.csv")
    via_paths = attribute_paths(
        summary,
        model=model,
        sep=">",
        path="transformed_path",
        value="revenue",
        nulls="non_conversions",
    )
    m2 = expected.join(via_paths, left_on="CHANNEL", right_on="channel", how="left").with_columns(
        pl.col("conversions", "value").fill_null(0.0)
    )
    np.testing.assert_allclose(m2["conversions"], m2["CONVERSIONS"], atol=1e-9)
