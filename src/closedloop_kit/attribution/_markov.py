"""Exact Markov-chain attribution: removal effects by solving the absorbing chain.

States are k-grams of channels (``k = order``) along each path with consecutive repeats
collapsed, as in ChannelAttribution: a path ``c_1 > … > c_n`` visits
``(start) → s_1 → … → s_n → (conversion) | (null)`` with ``s_i = (c_{i−k+1}, …, c_i)``
(shorter at the start of the path). Transition probabilities are the observed transition
counts, weighted by how many journeys followed each path, divided by each state's
out-flow.

With ``Q`` the transient-to-transient transition matrix and ``b`` the one-step
conversion probabilities, the probability to convert from ``(start)`` is
``P = e_start' (I − Q)⁻¹ b``. Removing channel ``c`` sends every transition into a state
containing ``c`` to ``(null)``: ``P_{−c}`` solves the same system restricted to the
states without ``c``. The **removal effect** is ``RE_c = 1 − P_{−c} / P`` and channel
``c`` receives ``conversions × RE_c / Σ_k RE_k``. Value uses the same system with
``b_v(s) = P(s → conversion) × mean value of conversions from s`` (value-weighted
absorption), giving ``RE^v_c`` and ``value × RE^v_c / Σ_k RE^v_k``. No simulation: the
answer is exact to floating-point precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from closedloop_kit.attribution._paths import PathTable
from closedloop_kit.attribution._results import with_shares

__all__ = ["MarkovFit", "fit_markov"]


@dataclass(frozen=True)
class MarkovFit:
    """Removal effects, channel totals and the labelled transition matrix."""

    removal_effects: pl.DataFrame
    channels: pl.DataFrame
    transition_matrix: pl.DataFrame


def _states(pt: PathTable, order: int) -> tuple[np.ndarray, ...]:
    table = pt.table
    lengths = table["path"].list.len().to_numpy().astype(np.int64)
    codes = table["path"].explode().to_numpy().astype(np.int64)
    pid = np.repeat(np.arange(table.height, dtype=np.int64), lengths)
    keep = np.ones(codes.size, dtype=bool)
    keep[1:] = (pid[1:] != pid[:-1]) | (codes[1:] != codes[:-1])
    codes, pid = codes[keep], pid[keep]
    lengths = np.bincount(pid, minlength=table.height)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    step = np.arange(codes.size) - starts[pid]
    base = len(pt.channels) + 1
    state = np.zeros(codes.size, dtype=np.int64)
    for j in range(order):
        prev = np.zeros(codes.size, dtype=np.int64)
        if j == 0:
            prev = codes + 1
        else:
            ok = step >= j
            idx = np.nonzero(ok)[0]
            prev[idx] = codes[idx - j] + 1
        state += prev * base**j
    return state, pid, step, lengths, starts


def fit_markov(pt: PathTable, *, order: int = 1) -> MarkovFit:
    """Exact Markov removal effects of order ``order`` on a path table."""
    if order not in (1, 2, 3, 4):
        msg = f"`order` must be 1, 2, 3 or 4, got {order!r}"
        raise ValueError(msg)
    table = pt.table
    conv = table["conversions"].to_numpy().astype(np.float64)
    nulls = table["nulls"].to_numpy().astype(np.float64)
    value = table["value"].fill_null(0.0).to_numpy().astype(np.float64)
    weight = conv + nulls
    state, pid, step, lengths, starts = _states(pt, order)
    base = len(pt.channels) + 1
    if base**order <= 20_000_000:  # dense lookup: much faster than sorting
        seen = np.zeros(base**order, dtype=bool)
        seen[state] = True
        uniq = np.flatnonzero(seen)
        lookup = np.zeros(base**order, dtype=np.int64)
        lookup[uniq] = np.arange(uniq.size)
        sidx = lookup[state]
    else:
        uniq, sidx = np.unique(state, return_inverse=True)
    n_states = uniq.size
    start = n_states  # index of (start)
    n = n_states + 1
    prev = np.where(step > 0, np.roll(sidx, 1), start)
    q_counts = sp.csr_matrix((weight[pid], (prev, sidx)), shape=(n, n))
    last = sidx[starts + lengths - 1]
    conv_counts = np.bincount(last, weights=conv, minlength=n)
    null_counts = np.bincount(last, weights=nulls, minlength=n)
    value_counts = np.bincount(last, weights=value, minlength=n)
    out = np.asarray(q_counts.sum(axis=1)).ravel() + conv_counts + null_counts
    inv = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    q = sp.diags(inv) @ q_counts
    rhs = np.column_stack([conv_counts * inv, value_counts * inv])
    eye = sp.identity(n, format="csc")
    a = (eye - q).tocsc()

    def solve(mask: np.ndarray) -> np.ndarray:
        idx = np.nonzero(mask)[0]
        sub = a[idx][:, idx].tocsc()
        y = spla.splu(sub).solve(rhs[idx])
        pos = int(np.searchsorted(idx, start))
        return np.asarray(y[pos], dtype=np.float64)

    full = solve(np.ones(n, dtype=bool))
    comps = np.stack([(uniq // base**j) % base - 1 for j in range(order)], axis=1)
    rows = []
    for c, name in enumerate(pt.channels):
        contains = np.concatenate([(comps == c).any(axis=1), [False]])
        without = solve(~contains)
        re = [1.0 - without[i] / full[i] if full[i] > 0 else 0.0 for i in range(2)]
        rows.append({"channel": name, "removal_effect": re[0], "removal_effect_value": re[1]})
    re_frame = pl.DataFrame(
        rows,
        schema={
            "channel": pl.String,
            "removal_effect": pl.Float64,
            "removal_effect_value": pl.Float64,
        },
    )
    total_conv, total_value = float(conv.sum()), float(value.sum())
    re_sum = re_frame["removal_effect"].sum()
    rev_sum = re_frame["removal_effect_value"].sum()
    channels = with_shares(
        re_frame.select(
            "channel",
            (pl.col("removal_effect") / re_sum * total_conv if re_sum else pl.lit(0.0)).alias(
                "conversions"
            ),
            (
                pl.col("removal_effect_value") / rev_sum * total_value if rev_sum else pl.lit(0.0)
            ).alias("value"),
        )
    )
    labels = [
        ">".join(pt.channels[int(comps[i, j])] for j in reversed(range(order)) if comps[i, j] >= 0)
        for i in range(n_states)
    ] + ["(start)"]
    coo = q.tocoo()
    absorb_conv = conv_counts * inv
    absorb_null = null_counts * inv
    src = np.concatenate([coo.row, np.arange(n), np.arange(n)])
    dst_lab = [labels[i] for i in coo.col] + ["(conversion)"] * n + ["(null)"] * n
    prob = np.concatenate([coo.data, absorb_conv, absorb_null])
    tm = (
        pl.DataFrame(
            {
                "from_state": [labels[i] for i in src],
                "to_state": dst_lab,
                "probability": prob,
            }
        )
        .filter(pl.col("probability") > 0)
        .sort("from_state", "to_state")
    )
    return MarkovFit(re_frame, channels, tm)
