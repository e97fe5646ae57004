"""Journeys and the model aggregates: the same numbers on polars, DuckDB and Spark.

Each test runs once per backend (``to_engine``); Spark runs only under the ``spark``
marker (``make test-engines``). Known values are worked by hand in comments; the random
world is checked against a plain-Python reimplementation (an independent computation),
and the sample company against :func:`closedloop_kit.attribution.paths`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from closedloop_kit import engine
from tests.engine.conftest import ToEngine

UTC = dt.UTC


def _d(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2025, 1, day, hour, tzinfo=UTC)


def _tiny() -> tuple[pl.DataFrame, pl.DataFrame]:
    touches = pl.DataFrame(
        {
            "touchpoint_id": ["a", "b", "c", "d", "e", "f", "g"],
            "person_id": ["p1", "p1", "p1", "p1", "p2", "p2", "p3"],
            "occurred_at": [_d(1), _d(3), _d(2), _d(20), _d(4), _d(5), _d(6)],
            "channel": ["Email", "Search", "Email", "Social", "Search", "Search", "Direct"],
        }
    )
    conversions = pl.DataFrame(
        {"person_id": ["p1", "p3"], "conversion_at": [_d(10), _d(6, 1)], "value": [100.0, 40.0]}
    )
    return touches, conversions


def test_known_values(to_engine: ToEngine) -> None:
    touches, conversions = _tiny()
    jt = engine.journey_touches(to_engine(touches), to_engine(conversions), lookback="30d")
    got = engine.collect_polars(engine.lazy(jt)).sort("journey_id", "position")
    # p1 converts on Jan 10: touches Jan 1 (Email), 2 (Email), 3 (Search); Jan 20 is after.
    # p2 never converts: its window ends at the last touch of all (Jan 20), keeps both.
    # p3 converts at Jan 6 01:00 after its Direct touch at 00:00.
    assert got.select("journey_id", "channel", "position", "converted", "value").rows() == [
        ("p1", "Email", 0, True, 100.0),
        ("p1", "Email", 1, True, 100.0),
        ("p1", "Search", 2, True, 100.0),
        ("p2", "Search", 0, False, 0.0),
        ("p2", "Search", 1, False, 0.0),
        ("p3", "Direct", 0, True, 40.0),
    ]
    per = engine.collect_polars(engine.lazy(engine.journeys(jt))).sort("journey_id")
    assert per.select("journey_id", "path", "n_touches").rows() == [
        ("p1", "Email>Email>Search", 3),
        ("p2", "Search>Search", 2),
        ("p3", "Direct", 1),
    ]
    paths = engine.path_counts(jt)
    # three distinct paths, one journey each; value only on converting journeys
    assert paths.rows() == [
        ("Direct", 1.0, 40.0, 0.0, 1),
        ("Search>Search", 0.0, 0.0, 1.0, 1),
        ("Email>Email>Search", 1.0, 100.0, 0.0, 1),
    ]
    t1 = engine.transition_counts(jt, order=1)
    # p1: start→Email, Email→Email, Email→Search, Search→conv; p2: start→Search,
    # Search→Search, Search→null; p3: start→Direct, Direct→conv
    assert t1.rows() == [
        ("(start)", "Direct", 1.0, 0.0),
        ("(start)", "Email", 1.0, 0.0),
        ("(start)", "Search", 1.0, 0.0),
        ("Direct", "(conversion)", 1.0, 40.0),
        ("Email", "Email", 1.0, 0.0),
        ("Email", "Search", 1.0, 0.0),
        ("Search", "(conversion)", 1.0, 100.0),
        ("Search", "(null)", 1.0, 0.0),
        ("Search", "Search", 1.0, 0.0),
    ]
    t2 = engine.transition_counts(jt, order=2)
    # order 2, full windows: p1 visits Email>Email, Email>Search; p2 Search>Search;
    # p3 (shorter than 2) visits its whole path "Direct"
    assert t2.rows() == [
        ("(start)", "Direct", 1.0, 0.0),
        ("(start)", "Email>Email", 1.0, 0.0),
        ("(start)", "Search>Search", 1.0, 0.0),
        ("Direct", "(conversion)", 1.0, 40.0),
        ("Email>Email", "Email>Search", 1.0, 0.0),
        ("Email>Search", "(conversion)", 1.0, 100.0),
        ("Search>Search", "(null)", 1.0, 0.0),
    ]
    exp = engine.exposure_counts(jt)
    assert exp.select("journey_id", "channel", "exposures").rows() == [
        ("p1", "Email", 2),
        ("p1", "Search", 1),
        ("p2", "Search", 2),
        ("p3", "Direct", 1),
    ]


def test_collapse_and_converting_only(to_engine: ToEngine) -> None:
    touches, conversions = _tiny()
    jt = engine.journey_touches(
        to_engine(touches),
        to_engine(conversions),
        lookback="30d",
        collapse_repeats=True,
        include_non_converting=False,
    )
    # p1 Email>Email>Search collapses to Email>Search; p2 is dropped (no conversion)
    assert engine.path_counts(jt).select("path", "conversions").rows() == [
        ("Direct", 1.0),
        ("Email>Search", 1.0),
    ]


def test_lookback_cuts_old_touches(to_engine: ToEngine) -> None:
    touches, conversions = _tiny()
    jt = engine.journey_touches(to_engine(touches), to_engine(conversions), lookback="8d")
    got = engine.collect_polars(engine.lazy(jt))
    # p1's window is [Jan 2, Jan 10]: the Jan 1 Email is out, Jan 2 (exactly 8 d) is in
    p1 = got.filter(pl.col("journey_id") == "p1").sort("position")
    assert p1["touchpoint_id"].to_list() == ["c", "b"]


def test_apply_identity(to_engine: ToEngine) -> None:
    touches = pl.DataFrame(
        {
            "touchpoint_id": ["t1", "t2", "t3", "t4"],
            "anonymous_id": ["v1", "v2", "v3", None],
            "person_id": [None, None, "p7", "p8"],
            "account_id": [None, "a0", None, None],
        },
        schema_overrides={"person_id": pl.String, "account_id": pl.String},
    )
    links = pl.DataFrame(
        {
            "anonymous_id": ["v1", "v1", "v2", "v3"],
            "person_id": ["p2", "p1", "p3", "p9"],
            "account_id": ["a2", "a1", "a3", "a9"],
        }
    )
    out = engine.collect_polars(
        engine.lazy(engine.apply_identity(to_engine(touches), to_engine(links)))
    ).sort("touchpoint_id")
    # v1 has two people: the smallest id wins; t2 keeps its own account; t3 keeps p7
    assert out.select("person_id", "account_id").rows() == [
        ("p1", "a1"),
        ("p3", "a0"),
        ("p7", "a9"),
        ("p8", None),
    ]


# ------------------------------------------------------------------ random world
def _random_world(seed: int, n_people: int = 300, n_touches: int = 2500):
    rng = np.random.default_rng(seed)
    base = dt.datetime(2025, 1, 1, tzinfo=UTC)
    # minutes apart so there are no ties in time within a person
    minutes = rng.choice(400 * 24 * 60, n_touches, replace=False)
    touches = pl.DataFrame(
        {
            "touchpoint_id": [f"t{i:05d}" for i in range(n_touches)],
            "person_id": [f"p{x:04d}" for x in rng.integers(0, n_people, n_touches)],
            "occurred_at": [base + dt.timedelta(minutes=int(m)) for m in minutes],
            "channel": rng.choice(["Email", "Search", "Social", "Direct", "Events"], n_touches),
        }
    )
    people = sorted(set(touches["person_id"]))
    conv_people = [p for p in people if rng.random() < 0.3]
    conversions = pl.DataFrame(
        {
            "person_id": conv_people,
            "conversion_at": [
                base + dt.timedelta(days=float(x)) for x in rng.uniform(30, 400, len(conv_people))
            ],
            "value": np.round(rng.lognormal(8, 1, len(conv_people)), 2),
        }
    )
    return touches, conversions


def _brute_force(touches: pl.DataFrame, conversions: pl.DataFrame, lookback: dt.timedelta):
    """Journeys, paths and order-k transitions in plain Python (the independent check)."""
    conv = {
        r["person_id"]: (r["conversion_at"], r["value"]) for r in conversions.iter_rows(named=True)
    }
    end_all = touches["occurred_at"].max()
    by_person: dict[str, list[tuple[dt.datetime, str, str]]] = defaultdict(list)
    for r in touches.iter_rows(named=True):
        by_person[r["person_id"]].append((r["occurred_at"], r["touchpoint_id"], r["channel"]))
    seqs: dict[str, tuple[list[str], bool, float]] = {}
    for p, rows in by_person.items():
        end, value = conv.get(p, (end_all, 0.0))
        kept = sorted(t for t in rows if end - lookback <= t[0] <= end)
        if kept:
            seqs[p] = ([c for _, _, c in kept], p in conv, value if p in conv else 0.0)
    return seqs


def _bf_paths(seqs) -> pl.DataFrame:
    acc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    for chans, converted, value in seqs.values():
        a = acc[">".join(chans)]
        a[0] += converted
        a[1] += value
        a[2] += not converted
        a[3] += 1
    return pl.DataFrame(
        [(k, *v) for k, v in acc.items()],
        schema=["path", "conversions", "value", "nulls", "journeys"],
        orient="row",
    ).sort(pl.col("path").str.len_chars(), "path")


def _bf_transitions(seqs, k: int) -> Counter:
    counts: Counter = Counter()
    for chans, converted, _ in seqs.values():
        n = len(chans)
        states = (
            [">".join(chans)]
            if n < k
            else [">".join(chans[i - k + 1 : i + 1]) for i in range(k - 1, n)]
        )
        chain = ["(start)", *states, "(conversion)" if converted else "(null)"]
        counts.update(itertools.pairwise(chain))
    return counts


@pytest.mark.parametrize("seed", [0, 1])
def test_random_world_matches_brute_force(to_engine: ToEngine, seed: int) -> None:
    touches, conversions = _random_world(seed)
    lookback = dt.timedelta(days=90)
    seqs = _brute_force(touches, conversions, lookback)
    jt = engine.journey_touches(to_engine(touches), to_engine(conversions), lookback="90d")
    want = _bf_paths(seqs)
    got = engine.path_counts(jt)
    assert_frame_equal(got, want, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-9)
    for k in (1, 2, 3):
        t = engine.transition_counts(jt, order=k)
        assert {(a, b): n for a, b, n, _ in t.iter_rows()} == dict(_bf_transitions(seqs, k))
    exp = engine.exposure_counts(jt)
    want_exp = sorted(
        (p, c, n) for p, (chans, _, _) in seqs.items() for c, n in Counter(chans).items()
    )
    assert exp.select("journey_id", "channel", "exposures").rows() == want_exp
    # the value on edges into (conversion) is the converted value, in total
    t1 = engine.transition_counts(jt, order=1)
    assert t1["value"].sum() == pytest.approx(sum(v for _, _, v in seqs.values()), rel=1e-12)


def test_path_counts_match_attribution_paths_on_sample_company(to_engine: ToEngine) -> None:
    """The engine reproduces the prepared model's journeys → paths on the sample company."""
    import warnings

    import closedloop_kit as clk
    from closedloop_kit.attribution import paths
    from closedloop_kit.datasets import load_sample

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clk.errors.DataQualityWarning)  # sample's dirt
        j = clk.prepare(load_sample()).journeys(level="person", lookback="3650d")
    touches = j.select(
        pl.col("touch_id").alias("touchpoint_id"), "person_id", "occurred_at", "channel"
    )
    conversions = (
        j.filter(pl.col("converted"))
        .group_by("person_id")
        .agg(pl.col("conversion_at").first(), pl.col("value").first())
    )
    jt = engine.journey_touches(to_engine(touches), to_engine(conversions), lookback="3650d")
    got_touches = engine.collect_polars(engine.lazy(jt)).sort("journey_id", "position")
    want_touches = j.sort("journey_id", "position")
    assert got_touches["touchpoint_id"].to_list() == want_touches["touch_id"].to_list()
    assert got_touches["position"].to_list() == want_touches["position"].to_list()
    assert got_touches["converted"].to_list() == want_touches["converted"].to_list()
    want = paths(j)
    got = engine.path_counts(jt).drop("journeys")
    assert_frame_equal(got, want, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-9)
