"""Misallocation an estimator with the truth's own form reaches at a company's size.

Usage: ``python benchmarks/noise_floor.py [--draws 12]``

For each realistic company of benchmarks/misallocation.py (``make_b2b(seed)``, seeds
21–23) the simulation's own journeys (``truth.journeys``: the exact touches the truth
scored, no identity resolution, no funnel) get their outcomes redrawn from the truth
(``ConversionTruth.sample``, seeds 1000 + draw), and ``logistic(features="main")`` — the
truth's functional form, ``logit p = b0 + Σ_c β_c log(1 + n_c)`` — is scored against the
true shares. What remains is sampling noise at ~300 conversions: no model fitted on data
of this size can be expected to do better on average.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import polars as pl

COMPANIES = [21, 22, 23]


def floor(seed: int, draws: int) -> dict[str, object]:
    """Misallocation of the truth-shaped logistic on ``draws`` redrawn outcomes."""
    from closedloop_kit.attribution import attribute
    from closedloop_kit.datasets import make_b2b
    from closedloop_kit.datasets._truth import misallocation

    truth = make_b2b(seed).truth
    true = truth.true_shares()
    j = truth.journeys.drop("converted").with_columns(pl.lit(1.0).alias("value"))
    touches = j.select("journey_id", "channel", "position")
    scores = []
    for d in range(draws):
        drawn = truth.conversion.sample(touches, seed=1000 + d).select("journey_id", "converted")
        res = attribute(j.join(drawn, on="journey_id"), model="logistic", features="main")
        scores.append(misallocation(res.shares(), true))
    a = np.array(scores)
    return {
        "company": seed,
        "mean": round(float(a.mean()), 3),
        "min": round(float(a.min()), 3),
        "max": round(float(a.max()), 3),
        "at_most_0.10": int((a <= 0.10).sum()),
        "draws": draws,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=12)
    args = parser.parse_args()
    for seed in COMPANIES:
        print(json.dumps(floor(seed, args.draws)), flush=True)


if __name__ == "__main__":
    main()
