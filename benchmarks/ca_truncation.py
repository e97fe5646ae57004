"""Is ChannelAttribution's walk truncation why its order-2/3 Markov differs from the exact chain?

Usage: ``python benchmarks/ca_truncation.py [ORDER ...]`` (benchmark venv: needs
ChannelAttribution 2.2.5; default orders 2 3).

ChannelAttribution's ``markov_model`` simulates walks of at most ``max_step`` steps
(default: the longest path in the data). This script solves the same chain as
:func:`closedloop_kit.attribution._markov.fit_markov`, but counts only conversions reached
within ``L`` transitions from ``(start)`` (``L`` = the longest path, and one more), and
compares both with CA's mean over the seeds of ``bench_attribution.CA_SEEDS`` on the
benchmark's 1M-journey world. Recorded 2026-12-07: truncation changes nothing visible
(|z| 9.9 → 9.9 at order 3, 4.0 → 4.1 at order 2), so it does not explain the difference.
"""

from __future__ import annotations

import sys

import numpy as np
import polars as pl
import scipy.sparse as sp

sys.path.insert(0, "benchmarks")
import bench_attribution as b

from closedloop_kit.attribution import _markov as M
from closedloop_kit.attribution import paths
from closedloop_kit.attribution._paths import parse_paths
from closedloop_kit.datasets._worlds import make_attribution_world


def truncated(tc: M.TransitionCounts, horizon: int) -> pl.DataFrame:
    """Channel totals of the chain counting conversions within ``horizon`` transitions."""
    t = tc.table
    src = t["from_state"].to_numpy().astype(np.uint64)
    dst = t["to_state"].to_numpy().astype(np.uint64)
    states, inv = np.unique(np.concatenate([[0], src, dst]).astype(np.uint64), return_inverse=True)
    n = states.size
    si, di = inv[1 : src.size + 1], inv[src.size + 1 :]
    conv = np.bincount(di, weights=t["conversions"].to_numpy(), minlength=n)
    null = np.bincount(di, weights=t["nulls"].to_numpy(), minlength=n)
    val = np.bincount(di, weights=t["value"].to_numpy(), minlength=n)
    qc = sp.csr_matrix((t["n"].to_numpy().astype(float), (si, di)), shape=(n, n))
    out = np.asarray(qc.sum(axis=1)).ravel() + conv + null
    inv_out = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    q = (sp.diags(inv_out) @ qc).tocsr()
    rhs = np.column_stack([conv * inv_out, val * inv_out])
    comps = M._components(states, tc.order)
    comps[0] = -1

    def absorbed(keep: np.ndarray) -> np.ndarray:
        k = keep.astype(float)
        qm, r = sp.diags(k) @ q @ sp.diags(k), rhs * k[:, None]
        cur, acc = np.eye(1, n, 0).ravel(), np.zeros(2)
        for _ in range(horizon):
            acc += cur @ r
            cur = qm.T @ cur
        return acc

    full = absorbed(np.ones(n, dtype=bool))
    rows = []
    for c, name in enumerate(tc.channels):
        without = absorbed(~(comps == c).any(axis=1))
        rows.append((name, 1 - without[0] / full[0], 1 - without[1] / full[1]))
    re = pl.DataFrame(rows, schema=["channel", "re", "rev"], orient="row")
    return re.select(
        "channel",
        (pl.col("re") / pl.col("re").sum() * float(conv.sum())).alias("conversions"),
        (pl.col("rev") / pl.col("rev").sum() * float(val.sum())).alias("value"),
    )


def main() -> None:
    j = make_attribution_world(
        2026, n_journeys=1_000_000, channels=10, kind="order", mean_touches=4.3
    ).journeys
    pf = paths(j)
    pt = parse_paths(
        pf, sep=">", path="path", conversions="conversions", value="value", nulls="nulls"
    )
    longest = int(pt.table["path"].list.len().max())
    print("longest path", longest)
    for order in [int(a) for a in sys.argv[1:]] or [2, 3]:
        tc = M.path_transitions(pt, order=order)
        runs = [b._channelattribution(pf, order, seed=s)[3] for s in b.CA_SEEDS]
        print(f"order {order}, untruncated:", b._ca_agreement(M.fit_markov(tc).channels, runs))
        for horizon in (longest, longest + 1):
            print(f"order {order}, {horizon} steps:", b._ca_agreement(truncated(tc, horizon), runs))


if __name__ == "__main__":
    main()
