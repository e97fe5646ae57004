"""Exact Markov attribution against a dense brute force written independently here."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from closedloop_kit.attribution import attribute, attribute_paths


def _dense_markov(rows: list[tuple[list[str], float, float, float]], order: int) -> dict:
    """Removal effects by building the chain with dicts and solving it densely."""
    trans: dict[tuple, dict[tuple, float]] = {}
    conv_v: dict[tuple, float] = {}

    def add(a: tuple, b: tuple, w: float) -> None:
        trans.setdefault(a, {})
        trans[a][b] = trans[a].get(b, 0.0) + w

    for steps, conv, nulls, value in rows:
        collapsed = [s for i, s in enumerate(steps) if i == 0 or s != steps[i - 1]]
        states = [tuple(collapsed[max(0, i - order + 1) : i + 1]) for i in range(len(collapsed))]
        prev: tuple = ("(start)",)
        for s in states:
            add(prev, s, conv + nulls)
            prev = s
        add(prev, ("(conv)",), conv)
        add(prev, ("(null)",), nulls)
        conv_v[prev] = conv_v.get(prev, 0.0) + value
    transient = sorted(
        {s for s in trans} | {t for d in trans.values() for t in d} - {("(conv)",), ("(null)",)}
    )

    def p_conv(removed: str | None) -> tuple[float, float]:
        keep = [s for s in transient if removed is None or removed not in s]
        idx = {s: i for i, s in enumerate(keep)}
        n = len(keep)
        q = np.zeros((n, n))
        b = np.zeros(n)
        bv = np.zeros(n)
        for s in keep:
            out = trans.get(s, {})
            tot = sum(out.values())
            if tot == 0:
                continue
            for t, w in out.items():
                if t in idx:
                    q[idx[s], idx[t]] += w / tot
            b[idx[s]] = out.get(("(conv)",), 0.0) / tot
            bv[idx[s]] = conv_v.get(s, 0.0) / tot
        y = np.linalg.solve(np.eye(n) - q, np.column_stack([b, bv]))
        return float(y[idx[("(start)",)], 0]), float(y[idx[("(start)",)], 1])

    full = p_conv(None)
    channels = sorted({c for steps, *_ in rows for c in steps})
    return {c: [1 - p_conv(c)[k] / full[k] for k in range(2)] for c in channels}


def _random(seed: int) -> list[tuple[list[str], float, float, float]]:
    rng = np.random.default_rng(seed)
    names = list("ABCDE")
    rows = []
    for _ in range(150):
        steps = [names[int(i)] for i in rng.integers(0, 5, size=int(rng.integers(1, 7)))]
        conv = float(rng.integers(0, 4))
        rows.append((steps, conv, float(rng.integers(0, 6)), conv * float(rng.uniform(1, 50))))
    return rows


@pytest.mark.parametrize("order", [1, 2, 3])
def test_exact_markov_matches_dense_brute_force(order: int) -> None:
    rows = _random(order)
    frame = pl.DataFrame(
        {
            "path": [">".join(s) for s, *_ in rows],
            "conversions": [r[1] for r in rows],
            "nulls": [r[2] for r in rows],
            "value": [r[3] for r in rows],
        }
    )
    got = attribute_paths(frame, model="markov", order=order)
    re = _dense_markov(rows, order)
    total_conv = sum(r[1] for r in rows)
    total_value = sum(r[3] for r in rows)
    re_sum = sum(v[0] for v in re.values())
    rev_sum = sum(v[1] for v in re.values())
    for row in got.iter_rows(named=True):
        assert row["conversions"] == pytest.approx(
            total_conv * re[row["channel"]][0] / re_sum, abs=1e-9
        )
        assert row["value"] == pytest.approx(
            total_value * re[row["channel"]][1] / rev_sum, abs=1e-9
        )


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


def test_order_out_of_range() -> None:
    frame = pl.DataFrame({"path": ["A"], "conversions": [1], "nulls": [0]})
    with pytest.raises(ValueError, match="`order` must be 1, 2, 3 or 4"):
        attribute_paths(frame, model="markov", order=5)
