"""Exact Markov attribution against ChannelAttribution's chain, built independently here.

The oracle below re-implements ChannelAttribution's ``markov_model`` state construction
from its C++ source (sliding k-windows over the path as given; consecutive identical
windows merged; a path shorter than k is one state, the whole path) with plain dicts, and
solves the absorbing chain densely with numpy. Removal is done differently from the
library (transitions into a removed state are redirected to ``(null)`` in the full
matrix), so the two share no code and no formulation detail.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from closedloop_kit.attribution import attribute, attribute_paths

Row = tuple[list[str], int, int, float]  # path, conversions, nulls, value

START, CONV, NULL = ("(start)",), ("(conversion)",), ("(null)",)


def _ca_states(path: list[str], k: int) -> list[tuple[str, ...]]:
    if len(path) < k:
        windows = [tuple(path)]
    else:
        windows = [tuple(path[i - k + 1 : i + 1]) for i in range(k - 1, len(path))]
    return [w for i, w in enumerate(windows) if i == 0 or w != windows[i - 1]]


def _oracle(rows: list[Row], k: int, steps: int | None = None) -> dict[str, tuple[float, float]]:
    """Removal effects (conversions, value) of ChannelAttribution's order-k chain.

    ``steps``: only what is absorbed within that many transitions from (start), by
    pushing the state distribution through the dense matrix step by step.
    """
    counts: dict[tuple, dict[tuple, float]] = {}
    value_at: dict[tuple, float] = {}
    for path, conv, nulls, value in rows:
        if conv + nulls == 0:
            continue
        prev = START
        for s in _ca_states(path, k):
            counts.setdefault(prev, {})
            counts[prev][s] = counts[prev].get(s, 0.0) + conv + nulls
            prev = s
        counts.setdefault(prev, {})
        counts[prev][CONV] = counts[prev].get(CONV, 0.0) + conv
        counts[prev][NULL] = counts[prev].get(NULL, 0.0) + nulls
        value_at[prev] = value_at.get(prev, 0.0) + value
    states = sorted(set(counts) | {t for d in counts.values() for t in d} - {CONV, NULL})
    idx = {s: i for i, s in enumerate(states)}
    n = len(states)
    # full transition matrix over transient states + (conversion) + (null)
    p = np.zeros((n + 2, n + 2))
    mean_value = np.zeros(n)
    for s, out in counts.items():
        total = sum(out.values())
        for t, w in out.items():
            j = n if t == CONV else n + 1 if t == NULL else idx[t]
            p[idx[s], j] += w / total
        if out.get(CONV, 0.0) > 0:
            mean_value[idx[s]] = value_at.get(s, 0.0) / out[CONV]
    p[n, n] = p[n + 1, n + 1] = 1.0

    def absorb(removed: str | None) -> tuple[float, float]:
        m = p.copy()
        if removed is not None:
            for s in states:
                if removed in s:
                    m[:, n + 1] += m[:, idx[s]]
                    m[:, idx[s]] = 0.0
        q = m[:n, :n]
        b = m[:n, n]
        if steps is not None:
            dist = np.zeros(n)
            dist[idx[START]] = 1.0
            got = np.zeros(2)
            for _ in range(steps):
                got += [dist @ b, dist @ (b * mean_value)]
                dist = dist @ q
            return float(got[0]), float(got[1])
        x = np.linalg.solve(np.eye(n) - q, np.column_stack([b, b * mean_value]))
        return float(x[idx[START], 0]), float(x[idx[START], 1])

    full = absorb(None)
    channels = sorted({c for path, *_ in rows for c in path})
    out_re = {}
    for c in channels:
        without = absorb(c)
        out_re[c] = (1 - without[0] / full[0], 1 - without[1] / full[1])
    return out_re


def _random_rows(seed: int) -> list[Row]:
    """Paths with many repeated channels and many paths shorter than 4."""
    rng = np.random.default_rng(seed)
    names = list("ABCD")
    rows: list[Row] = []
    for _ in range(120):
        length = int(rng.choice([1, 1, 2, 2, 3, 4, 5, 6, 8]))
        path = [names[int(rng.integers(0, 4))]]
        for _ in range(length - 1):
            repeat = rng.random() < 0.4
            path.append(path[-1] if repeat else names[int(rng.integers(0, 4))])
        conv = int(rng.integers(0, 4))
        rows.append((path, conv, int(rng.integers(0, 5)), conv * float(rng.uniform(1, 90))))
    rows.append((["A", "B"], 0, 0, 0.0))  # a path nobody followed changes nothing
    return rows


def _path_frame(rows: list[Row]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "path": [" > ".join(p) for p, *_ in rows],
            "conversions": [r[1] for r in rows],
            "value": [r[3] for r in rows],
            "nulls": [r[2] for r in rows],
        }
    )


def _touches(rows: list[Row], seed: int) -> pl.DataFrame:
    """One journey per conversion and per null, touches in shuffled row order."""
    out = []
    jid = 0
    for path, conv, nulls, value in rows:
        for converted in [True] * conv + [False] * nulls:
            v = value / conv if converted else 0.0
            out += [(jid, c, pos, converted, v) for pos, c in enumerate(path)]
            jid += 1
    frame = pl.DataFrame(
        out, schema=["journey_id", "channel", "position", "converted", "value"], orient="row"
    )
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)


def _expected(rows: list[Row], k: int, steps: int | None = None) -> dict[str, tuple[float, float]]:
    re = _oracle(rows, k, steps)
    total_conv = sum(r[1] for r in rows)
    total_value = sum(r[3] for r in rows)
    s_conv = sum(v[0] for v in re.values())
    s_val = sum(v[1] for v in re.values())
    return {c: (total_conv * v[0] / s_conv, total_value * v[1] / s_val) for c, v in re.items()}


@pytest.mark.parametrize("seed", [101, 202, 303])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_equals_channelattribution_chain_from_paths(
    order: int, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if seed == 303:  # large chains are solved iteratively (BiCGSTAB): same answer
        monkeypatch.setattr("closedloop_kit.attribution._markov._DIRECT_MAX", 0)
    rows = _random_rows(seed)
    want = _expected(rows, order)
    got = attribute_paths(_path_frame(rows), model="markov", order=order)
    assert sorted(got["channel"]) == sorted(want)
    for ch, conv, value in got.select("channel", "conversions", "value").iter_rows():
        assert conv == pytest.approx(want[ch][0], abs=1e-9)
        assert value == pytest.approx(want[ch][1], abs=1e-9)


@pytest.mark.parametrize("seed", [404, 505])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_equals_channelattribution_chain_from_touches(
    order: int, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # small journey-aligned slices, so transition counts are summed over many slices
    monkeypatch.setattr("closedloop_kit.attribution._markov._CHUNK", 37)
    rows = _random_rows(seed)
    re = _oracle(rows, order)
    want = _expected(rows, order)
    res = attribute(_touches(rows, seed).lazy(), model="markov", order=order)
    got_re = res.tables["removal_effects"]
    for ch, r_conv, r_value in got_re.iter_rows():
        assert r_conv == pytest.approx(re[ch][0], abs=1e-9)
        assert r_value == pytest.approx(re[ch][1], abs=1e-9)
    for ch, conv, value in res.channels.select("channel", "conversions", "value").iter_rows():
        assert conv == pytest.approx(want[ch][0], abs=1e-9)
        assert value == pytest.approx(want[ch][1], abs=1e-9)
    sums = res.credits.collect().group_by("journey_id").agg(pl.col("credit").sum())
    assert sums.height == sum(r[1] for r in rows)
    assert (sums["credit"] - 1.0).abs().max() < 1e-12


def test_repeated_state_by_hand() -> None:
    # ChannelAttribution order 2 on  B>A>A (1 conversion, value 40)  and  A>A (1 null):
    # windows B,A  A,A  and  A,A.  start→BA ½, start→AA ½, BA→AA 1; AA is left twice,
    # once to (conversion), once to (null): AA→conv ½.
    # P = ½·1·½ + ½·½ = ½.  Without B (no BA): ½·½ = ¼ → RE_B = 1 − ¼/½ = ½.
    # Without A: 0 → RE_A = 1.  Conversions: A 1·1/(3/2) = ⅔, B 1·½/(3/2) = ⅓;
    # value (all absorbed at AA, so RE^v = RE): A 40·⅔, B 40·⅓.
    frame = pl.DataFrame({"path": ["B>A>A", "A>A"], "conversions": [1, 0], "value": [40.0, 0.0]})
    frame = frame.with_columns(nulls=pl.Series([0, 1]))
    got = attribute_paths(frame, model="markov", order=2)
    assert got["channel"].to_list() == ["A", "B"]
    assert got["conversions"].to_list() == pytest.approx([2 / 3, 1 / 3], abs=1e-12)
    assert got["value"].to_list() == pytest.approx([80 / 3, 40 / 3], abs=1e-12)
    # collapsing repeats first (transform="collapse", the library's former default) gives
    # B>A and A: start→B ½ → BA → conv; start→A ½ → null. Removing either channel
    # removes the only converting route: RE_A = RE_B = 1, so ½ and ½.
    touches = pl.DataFrame(
        {
            "journey_id": [1, 1, 1, 2, 2],
            "channel": ["B", "A", "A", "A", "A"],
            "position": [0, 1, 2, 0, 1],
            "converted": [True, True, True, False, False],
            "value": [40.0, 40.0, 40.0, 0.0, 0.0],
        }
    )
    res = attribute(touches, model="markov", order=2)
    assert res.channels["conversions"].to_list() == pytest.approx([2 / 3, 1 / 3], abs=1e-12)
    tm = res.tables["transition_matrix"]
    p_aa = tm.filter((pl.col("from_state") == "A>A") & (pl.col("to_state") == "(conversion)"))
    assert p_aa["probability"].item() == pytest.approx(0.5)
    collapsed = attribute(touches, model="markov", order=2, transform="collapse")
    assert collapsed.channels["conversions"].to_list() == pytest.approx([0.5, 0.5], abs=1e-12)
    assert collapsed.params["transform"] == "collapse"


def test_tiny_chain_by_hand() -> None:
    # paths: A>B converts once; A fails once; B converts once and fails once.
    # start→A 2/4, start→B 2/4; A→B 1/2, A→null 1/2; B→conv 2/3, B→null 1/3.
    # P(conv) = ½·½·⅔ + ½·⅔ = ½.  Without A: ½·⅔ = ⅓ → RE_A = 1 − (⅓)/(½) = ⅓.
    # Without B: 0 → RE_B = 1.  Shares ⅓/(4/3) = ¼ and ¾ of the 2 conversions.
    frame = pl.DataFrame({"path": ["A>B", "A", "B"], "conversions": [1, 0, 1], "nulls": [0, 1, 1]})
    got = attribute_paths(frame, model="markov", value=None)
    assert got["conversions"].to_list() == pytest.approx([0.5, 1.5], abs=1e-12)
    journeys = pl.DataFrame(
        {
            "journey_id": [1, 1, 2, 3, 4],
            "channel": ["A", "B", "A", "B", "B"],
            "position": [0, 1, 0, 0, 0],
            "converted": [True, True, False, True, False],
        }
    )
    res = attribute(journeys, model="markov")
    re = dict(res.tables["removal_effects"].select("channel", "removal_effect").iter_rows())
    assert re["A"] == pytest.approx(1 / 3, abs=1e-12)
    assert re["B"] == pytest.approx(1.0, abs=1e-12)
    tm = res.tables["transition_matrix"]
    p_bc = tm.filter((pl.col("from_state") == "B") & (pl.col("to_state") == "(conversion)"))
    assert p_bc["probability"].item() == pytest.approx(2 / 3)
    # per journey: journey 1 has A and B → RE-weighted split ¼ / ¾
    assert res.credits.sort("journey_id", "channel")["credit"].to_list()[:2] == pytest.approx(
        [0.25, 0.75]
    )


def test_parquet_scan_streams_to_the_same_answer(tmp_path: object) -> None:
    from pathlib import Path

    rows = _random_rows(606)
    touches = _touches(rows, 606)
    file = Path(str(tmp_path)) / "touches.parquet"
    touches.write_parquet(file)
    lazy = attribute(pl.scan_parquet(file), model="markov", order=3)
    eager = attribute(touches, model="markov", order=3)
    assert isinstance(lazy.credits, pl.LazyFrame)
    assert_frame_equal(lazy.channels, eager.channels, abs_tol=1e-9)
    want = _expected(rows, 3)
    for ch, conv in lazy.channels.select("channel", "conversions").iter_rows():
        assert conv == pytest.approx(want[ch][0], abs=1e-9)


def test_null_channel_and_order_errors() -> None:
    frame = pl.DataFrame({"path": ["A"], "conversions": [1], "nulls": [0]})
    with pytest.raises(ValueError, match="`order` must be 1, 2, 3 or 4"):
        attribute_paths(frame, model="markov", order=5)
    touches = pl.DataFrame(
        {"journey_id": [1, 1], "channel": ["A", None], "position": [0, 1], "converted": True}
    )
    with pytest.raises(ValueError, match="`channel` has nulls"):
        attribute(touches, model="markov")


def test_journey_ids_and_time_order_do_not_change_counts() -> None:
    from closedloop_kit.attribution._markov import touch_transitions

    rows = _random_rows(707)
    touches = _touches(rows, 707)
    base = touch_transitions(touches.lazy(), order=3).table.sort("from_state", "to_state")
    t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    variants = [
        # string ids (coded densely before the sort)
        touches.with_columns(("j" + pl.col("journey_id").cast(pl.String)).alias("journey_id")),
        # ids whose span × position span overflows a packed key: two-key sort instead;
        # ordered by occurred_at when there is no position
        touches.with_columns(
            (pl.col("journey_id") * 2**40 - 2**61).alias("journey_id"),
            (pl.lit(t0) + pl.duration(days=pl.col("position"))).alias("occurred_at"),
        ).drop("position"),
    ]
    for frame in variants:
        got = touch_transitions(frame.lazy(), order=3).table.sort("from_state", "to_state")
        assert_frame_equal(got, base, abs_tol=1e-9)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_walk_limit_equals_a_step_by_step_oracle(order: int) -> None:
    """``steps``: conversions reached within a number of transitions, as CA simulates."""
    rows = _random_rows(606)
    # CA's C++ counter: a path's states plus the end, one more for a path no journey
    # followed; walks may make that many non-absorbing steps, i.e. one more transition
    max_npassi = max(len(_ca_states(p, order)) + (1 if c + n else 2) for p, c, n, _ in rows)
    for steps, limit in ((4, 4), ("channelattribution", max_npassi + 1)):
        want = _expected(rows, order, limit)
        got = attribute_paths(_path_frame(rows), model="markov", order=order, steps=steps)
        for ch, conv, value in got.select("channel", "conversions", "value").iter_rows():
            assert conv == pytest.approx(want[ch][0], abs=1e-9)
            assert value == pytest.approx(want[ch][1], abs=1e-9)
        # the same from touch-level journeys (the longest journey read while streaming)
        res = attribute(_touches(rows, 7).lazy(), model="markov", order=order, steps=steps)
        for ch, conv, _ in res.channels.select("channel", "conversions", "value").iter_rows():
            assert conv == pytest.approx(want[ch][0], abs=1e-9)
    # a long limit is the exact chain; a bad one is refused
    exact = attribute_paths(_path_frame(rows), model="markov", order=order)
    long = attribute_paths(_path_frame(rows), model="markov", order=order, steps=500)
    assert (exact["conversions"] - long["conversions"]).abs().max() < 1e-9
    with pytest.raises(ValueError, match="steps"):
        attribute_paths(_path_frame(rows), model="markov", order=order, steps=0)
