"""ChannelAttribution's simulation against the exact chain: its walk limit and its convergence.

Usage: ``python benchmarks/ca_simulation.py [--world] [--convergence]`` (benchmark venv:
needs ChannelAttribution 2.2.5).

ChannelAttribution's ``markov_model`` estimates the chain by simulating walks of at most
``max_step`` steps (default: from the longest path in the data); walks that have not
converted by then never do. The exact chain (``steps=None``, the default here) has no
limit. Part 1 fits the limit: on random paths over 4 channels (longest 4, 6 and 9; seeds
1–3), CA's removal effects at 5M simulations are compared with the chain counting only
conversions within ``h`` transitions, for ``h`` = 3…15, and the best ``h`` is printed
beside CA's own rule (the most states a path visits + 2, read from its C++ core; see
:func:`closedloop_kit.attribution._markov.walk_steps`). Part 2 (``--world``) asks
whether the limit explains the order-2/3 gap on the benchmark's 1M-journey world (5 CA
seeds, ``bench_attribution._ca_agreement``). Part 3 (``--convergence``) runs CA on that
world with more simulations (``nsim_start`` 1e5, its default, 3e6 and 1e7; seeds 0 and
1000) and prints its largest channel gap to the exact answer.

Recorded 2026-12-07: the best ``h`` equals that rule in all 9 cases, with a largest
removal-effect error of 0.0007–0.0020 against 0.0055–0.0326 for the unlimited chain; on
the 1M-journey world the limit changes |z| by ≤ 0.1. There CA converges to the exact
answer as it simulates more: at order 3 its gap is 0.19–0.53 % of conversions at 1e5
simulations, 0.06–0.10 % at 3e6 and 0.03–0.04 % at 1e7 (order 2: 0.29–0.30 % at 1e5,
0.07–0.10 % at 3e6).
CA reports a single one of its ``nfold`` runs (the one closest to their median, each of
``nsim_start / nfold`` walks), which is what its default noise and bias come from.
"""

from __future__ import annotations

import sys

import numpy as np
import polars as pl

sys.path.insert(0, "benchmarks")
import bench_attribution as b

from closedloop_kit.attribution import _markov as M
from closedloop_kit.attribution import paths
from closedloop_kit.attribution._paths import parse_paths
from closedloop_kit.datasets._worlds import make_attribution_world


def removal_effects(tc: M.TransitionCounts, steps: int | None) -> np.ndarray:
    """Removal effects (conversions) of the chain, optionally walk-limited."""
    return (
        M.fit_markov(tc, steps=steps).removal_effects.sort("channel")["removal_effect"].to_numpy()
    )


def fit_rule() -> None:
    """Part 1: the walk limit that makes the exact chain equal CA's simulation."""
    import ChannelAttribution as ca  # type: ignore[import-not-found]

    for longest_wanted, seed in ((6, 1), (4, 2), (9, 3)):
        rng = np.random.default_rng(seed)
        rows: dict[str, list[float]] = {}
        for _ in range(300):
            path = ">".join(rng.choice(list("ABCD"), int(rng.integers(1, longest_wanted + 1))))
            conv = rng.random() < 0.3
            got = rows.setdefault(path, [0, 0.0, 0])
            got[0] += conv
            got[1] += 10.0 * conv
            got[2] += not conv
        pf = pl.DataFrame(
            {
                "path": list(rows),
                "conversions": [v[0] for v in rows.values()],
                "value": [v[1] for v in rows.values()],
                "nulls": [v[2] for v in rows.values()],
            }
        )
        pt = parse_paths(
            pf, sep=">", path="path", conversions="conversions", value="value", nulls="nulls"
        )
        for order in (1, 2, 3):
            res = b.ca_markov(ca, pf, order, 0, out_more=True, nsim_start=5_000_000)
            ca_re = (
                pl.from_pandas(res["removal_effects"])
                .sort("channel_name")["removal_effects_conversion"]
                .to_numpy()
            )
            tc = M.path_transitions(pt, order=order)
            err = {h: float(np.abs(removal_effects(tc, h) - ca_re).max()) for h in range(3, 16)}
            best = min(err, key=err.__getitem__)
            unlimited = float(np.abs(removal_effects(tc, None) - ca_re).max())
            print(
                f"most states {tc.longest}, order {order}: best limit {best} "
                f"(CA's rule, states + 2 = {tc.longest + 2}), error {err[best]:.4f}; "
                f"unlimited chain error {unlimited:.4f}",
                flush=True,
            )


def world() -> None:
    """Part 2: the 1M-journey world of bench_attribution, orders 2 and 3."""
    j = make_attribution_world(
        2026, n_journeys=1_000_000, channels=10, kind="order", mean_touches=4.3
    ).journeys
    pf = paths(j)
    pt = parse_paths(
        pf, sep=">", path="path", conversions="conversions", value="value", nulls="nulls"
    )
    longest = int(pt.table["path"].list.len().max())
    print("longest path", longest)
    for order in (2, 3):
        tc = M.path_transitions(pt, order=order)
        runs = [b._channelattribution(pf, order, seed=s)[3] for s in b.CA_SEEDS]
        print(f"order {order}, untruncated:", b._ca_agreement(M.fit_markov(tc).channels, runs))
        for horizon in (longest, longest + 1):
            print(
                f"order {order}, {horizon} steps:",
                b._ca_agreement(M.fit_markov(tc, steps=horizon).channels, runs),
            )


def convergence() -> None:
    """Part 3: CA's largest channel gap to the exact answer as it simulates more."""
    import ChannelAttribution as ca  # type: ignore[import-not-found]

    j = make_attribution_world(
        2026, n_journeys=1_000_000, channels=10, kind="order", mean_touches=4.3
    ).journeys
    pf = paths(j)
    for order, sims in ((2, (100_000, 3_000_000)), (3, (100_000, 3_000_000, 10_000_000))):
        pt = parse_paths(
            pf, sep=">", path="path", conversions="conversions", value="value", nulls="nulls"
        )
        ours = M.fit_markov(M.path_transitions(pt, order=order)).channels
        for nsim in sims:
            for seed in (0, 1000):
                res = b.ca_markov(ca, pf, order, seed, nsim_start=nsim)
                got = pl.from_pandas(res).select(
                    pl.col("channel_name").alias("channel"), pl.col("total_conversions").alias("ca")
                )
                both = ours.join(got, on="channel")
                gap = float((both["conversions"] - both["ca"]).abs().max())
                share = 100 * gap / float(both["conversions"].sum())
                print(f"order {order}, {nsim:.0e} simulations, seed {seed}: gap {share:.3f} %")


def main() -> None:
    fit_rule()
    if "--world" in sys.argv[1:]:
        world()
    if "--convergence" in sys.argv[1:]:
        convergence()


if __name__ == "__main__":
    main()
