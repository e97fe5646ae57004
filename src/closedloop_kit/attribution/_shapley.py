"""Shapley attribution over channel coalitions, exact, plus Fractribution's leave-one-out.

**Coalition Shapley** (the widely used formulation): a journey's coalition is its set of
channels ``S``; the worth of a set is ``v(T) = conversions(T) / journeys(T)``, the
conversion rate of journeys whose channel set is exactly ``T`` (0 when no journey has
exactly ``T``, and ``v(∅) = 0``). Within a converting combination ``S`` (``m = |S|``)
channel ``c`` gets

    φ_c(S) = Σ_{T ⊆ S∖{c}} |T|! (m − |T| − 1)! / m! · [v(T ∪ {c}) − v(T)]

and, since ``Σ_c φ_c(S) = v(S)``, credit ``conversions(S) · φ_c(S) / v(S)`` (value
likewise). Every subset is enumerated (no truncation); ``m ≤ 20``.

**Ordered Shapley**: the same sum where a coalition is the *ordered* subsequence of the
journey's first-occurrence channel order and ``v`` is the conversion rate of journeys
with exactly that ordered sequence.

**Fractribution** (Google's fractribution, dbt-snowplow-fractribution): per path, the
marginal contribution of the touch at position ``i`` is
``max(0, p(path) − p(path without touch i))`` with ``p`` the path's conversion rate (0
for unseen paths); contributions are normalised (last touch gets 1 when all are 0) and
summed per channel.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from closedloop_kit.attribution._paths import PathTable

__all__ = ["MAX_SHAPLEY_CHANNELS", "fractribution_shares", "shapley_shares"]

MAX_SHAPLEY_CHANNELS = 20


def _popcount(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x.astype(np.uint64)).astype(np.int64)


def _weights(m: int) -> np.ndarray:
    """``w[s] = s! (m − s − 1)! / m!`` for ``s = 0 … m−1``."""
    return np.array(
        [math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m) for s in range(m)]
    )


def _too_many(m: int) -> None:
    if m > MAX_SHAPLEY_CHANNELS:
        msg = (
            f"exact Shapley enumerates 2^m coalitions; a journey has {m} distinct channels, "
            f"more than the limit of {MAX_SHAPLEY_CHANNELS}. Group channels (e.g. "
            "campaign types into channel groups) or use `model='markov'` or 'logistic'"
        )
        raise ValueError(msg)


def _shapley_one(
    members: np.ndarray, keys_of: np.ndarray, lookup_keys: np.ndarray, lookup_rate: np.ndarray
) -> np.ndarray:
    """φ for one combination; ``keys_of[mask]`` is the global set of local subset ``mask``.

    ``lookup_keys`` must be sorted (observed channel sets as bit masks).
    """
    idx = np.searchsorted(lookup_keys, keys_of)
    idx = np.minimum(idx, lookup_keys.size - 1)
    v = np.where(lookup_keys[idx] == keys_of, lookup_rate[idx], 0.0)
    return _phi_from_v(v, members.size)


def shapley_shares(pt: PathTable, *, ordered: bool = False) -> pl.DataFrame:
    """Per converting path: each channel's Shapley share (``path_id``, ``channel``, ``share``)."""
    c = len(pt.channels)
    if c > 62:
        msg = f"coalition Shapley supports up to 62 distinct channels, got {c}"
        raise ValueError(msg)
    t = pt.table
    lengths = t["path"].list.len().to_numpy().astype(np.int64)
    codes = t["path"].explode().to_numpy().astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    path_mask = np.bitwise_or.reduceat(np.left_shift(np.int64(1), codes), offsets)
    keyed = pl.DataFrame(
        {
            "path_id": t["path_id"],
            "mask": path_mask,
            "conversions": t["conversions"],
            "journeys": t["conversions"] + t["nulls"],
        }
    )
    if ordered:
        keyed = keyed.with_columns(t["path"].list.unique(maintain_order=True).alias("key"))
    else:
        keyed = keyed.with_columns(pl.col("mask").alias("key"))
    combos = (
        keyed.group_by("key")
        .agg(
            pl.col("mask").first(),
            pl.col("conversions").sum(),
            pl.col("journeys").sum(),
        )
        .sort("mask")
        .with_row_index("combo")
    )
    masks = combos["mask"].to_numpy()
    rate = (combos["conversions"] / combos["journeys"]).to_numpy()
    conv = combos["conversions"].to_numpy()
    bits = np.arange(c, dtype=np.int64)
    if ordered:
        seqs = [np.asarray(x, dtype=np.int64) for x in combos["key"].to_list()]
        ranks = np.array([_lehmer_all(q)[-1] for q in seqs], dtype=np.int64)
        lookup = pl.DataFrame({"mask": masks, "rank": ranks, "v": rate})
    else:
        seqs = [bits[((int(mk) >> bits) & 1) == 1] for mk in masks]
    _too_many(max((q.size for q in seqs), default=0))
    out_combo: list[np.ndarray] = []
    out_code: list[np.ndarray] = []
    out_share: list[np.ndarray] = []
    for i in np.flatnonzero(conv > 0):
        q = seqs[i]
        m = q.size
        local = np.arange(1 << m, dtype=np.int64)
        gmask = np.zeros(local.size, dtype=np.int64)
        for j in range(m):
            gmask |= ((local >> j) & 1) << q[j]
        if ordered:
            sub = pl.DataFrame({"mask": gmask, "rank": _lehmer_all(q)})
            v = sub.join(lookup, on=["mask", "rank"], how="left", maintain_order="left")["v"]
            phi = _phi_from_v(v.fill_null(0.0).to_numpy(), m)
        else:
            phi = _shapley_one(q, gmask, masks, rate)
        total = phi.sum()
        out_combo.append(np.full(m, i, dtype=np.int64))
        out_code.append(q)
        out_share.append(phi / total if total != 0 else np.full(m, 1.0 / m))
    schema = {"path_id": pl.Int64, "channel": pl.String, "share": pl.Float64}
    if not out_combo:
        return pl.DataFrame(schema=schema)
    shares = pl.DataFrame(
        {
            "combo": np.concatenate(out_combo),
            "channel": np.asarray(pt.channels, dtype=object)[np.concatenate(out_code)].tolist(),
            "share": np.concatenate(out_share),
        }
    ).with_columns(pl.col("combo").cast(pl.UInt32))
    return (
        keyed.filter(pl.col("conversions") > 0)
        .select("path_id", "key")
        .join(combos.select("key", "combo"), on="key")
        .join(shares, on="combo")
        .select("path_id", "channel", "share")
        .cast(schema)  # type: ignore[arg-type]
    )


def _phi_from_v(v: np.ndarray, m: int) -> np.ndarray:
    v = v.copy()
    v[0] = 0.0
    local = np.arange(1 << m, dtype=np.int64)
    size = _popcount(local)
    w = _weights(m)
    phi = np.empty(m)
    for j in range(m):
        without = local[((local >> j) & 1) == 0]
        phi[j] = float(np.sum(w[size[without]] * (v[without | (1 << j)] - v[without])))
    return phi


def _lehmer_all(seq: np.ndarray) -> np.ndarray:
    """Lehmer rank of the subsequence of ``seq`` chosen by every local mask (exact, int64).

    ``rank = Σ_p [p ∈ mask] · #{q > p in mask : seq_q < seq_p} · (#{q > p in mask})!``.
    """
    m = seq.size
    local = np.arange(1 << m, dtype=np.int64)
    fact = np.array([math.factorial(i) for i in range(m + 1)], dtype=np.int64)
    rank = np.zeros(local.size, dtype=np.int64)
    for p in range(m):
        after = sum(1 << q for q in range(p + 1, m))
        smaller = sum(1 << q for q in range(p + 1, m) if seq[q] < seq[p])
        inc = (local >> p) & 1
        inv = _popcount(local & smaller)
        n_after = _popcount(local & after)
        rank += inc * inv * fact[n_after]
    return rank


def fractribution_shares(pt: PathTable) -> pl.DataFrame:
    """Fractribution's path-level leave-one-out shares (``path_id``, ``channel``, ``share``)."""
    t = pt.table
    seqs = [tuple(x) for x in t["path"].to_list()]
    conv = t["conversions"].to_numpy()
    tot = conv + t["nulls"].to_numpy()
    acc: dict[tuple[int, ...], list[float]] = {}
    for i, s in enumerate(seqs):
        a = acc.setdefault(s, [0.0, 0.0])
        a[0] += conv[i]
        a[1] += tot[i]
    rate = {s: (c / n if n > 0 else 0.0) for s, (c, n) in acc.items()}
    pid_out: list[int] = []
    ch_out: list[str] = []
    share_out: list[float] = []
    pids = t["path_id"].to_list()
    for i, s in enumerate(seqs):
        if conv[i] <= 0 or not s:
            continue
        p = rate[s]  # the path's pooled rate (duplicate rows share it)
        contrib = [max(p - rate.get(s[:k] + s[k + 1 :], 0.0), 0.0) for k in range(len(s))]
        total = sum(contrib)
        if total > 0:
            contrib = [x / total for x in contrib]
        else:
            contrib = [0.0] * (len(s) - 1) + [1.0]
        per: dict[int, float] = {}
        for code, x in zip(s, contrib, strict=True):
            per[code] = per.get(code, 0.0) + x
        for code, x in per.items():
            pid_out.append(pids[i])
            ch_out.append(pt.channels[code])
            share_out.append(x)
    return pl.DataFrame(
        {"path_id": pid_out, "channel": ch_out, "share": share_out},
        schema={"path_id": pl.Int64, "channel": pl.String, "share": pl.Float64},
    )
