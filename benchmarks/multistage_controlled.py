"""Multi-stage attribution on controlled two-transition worlds (docs/attribution.md).

``python benchmarks/multistage_controlled.py``: 20,000 simulated journeys (seed 5), four
channels with Poisson touch counts spread uniformly over 200 days; every journey enters
at a lead time, is decided for MQL at ``d1`` and, if it became an MQL, for won at ``d2``;
each decision is a logit of ``log(1 + touches before the decision)`` per channel. The
channel effects act on lead → MQL only (``only_t1``), on MQL → won only (``only_t2``) or
on both. The decision delays are fixed (20 and 30 days) or exponential with those means.
The true share of a channel is its incremental expected wins, ``Σ_J P(J) − P(J without
c)`` clipped at 0 and normalised. Prints the misallocated share of ``multistage`` (with
``pooling=0`` and the default pooling), ``logistic`` and ``first_touch`` per world.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from closedloop_kit.attribution import attribute
from closedloop_kit.datasets._truth import misallocation

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CHANNELS = ["A", "B", "C", "D"]
CASES = {
    "only_t1": (np.array([0.8, 0.0, 0.4, 0.0]), np.zeros(4)),
    "only_t2": (np.zeros(4), np.array([0.3, 0.6, 0.0, 0.5])),
    "both": (np.array([0.8, 0.0, 0.4, 0.0]), np.array([0.0, 0.6, 0.2, 0.5])),
}
STAGES = ["raw_lead_at", "mql_at", "won_at"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def world(
    seed: int, b1: np.ndarray, b2: np.ndarray, *, fixed: bool, n: int = 20_000
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Touch-level journeys with stage times, and the true channel shares."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(np.array([3.0, 2.0, 4.0, 1.5]), (n, 4))
    jid = np.repeat(np.arange(n), counts.sum(1))
    ch = np.concatenate([np.repeat(np.arange(4), c) for c in counts])
    t = rng.uniform(0, 200, jid.size)
    lead = rng.uniform(0, 20, n)
    d1 = lead + (20.0 if fixed else rng.exponential(20, n))
    d2 = d1 + (30.0 if fixed else rng.exponential(30, n))

    def exposure(limit: np.ndarray) -> np.ndarray:
        m = t <= limit[jid]
        c = np.bincount(jid[m] * 4 + ch[m], minlength=n * 4).reshape(n, 4)
        return np.log1p(c)

    x1, x2 = exposure(d1), exposure(d2)
    p1, p2 = _sigmoid(-0.5 + x1 @ b1), _sigmoid(-1.0 + x2 @ b2)
    mql = rng.random(n) < p1
    won = mql & (rng.random(n) < p2)
    lift = []
    for c in range(4):
        y1, y2 = x1.copy(), x2.copy()
        y1[:, c] = 0
        y2[:, c] = 0
        lift.append(float((p1 * p2 - _sigmoid(-0.5 + y1 @ b1) * _sigmoid(-1.0 + y2 @ b2)).sum()))
    shares = np.clip(lift, 0, None)
    truth = pl.DataFrame({"channel": CHANNELS, "share": shares / shares.sum()})

    def stamp(days: np.ndarray, ok: np.ndarray) -> pl.Series:
        values = [
            T0 + dt.timedelta(days=float(v)) if o else None for v, o in zip(days, ok, strict=True)
        ]
        return pl.Series(values, dtype=pl.Datetime("us", "UTC"))

    stages = pl.DataFrame(
        {
            "journey_id": np.arange(n),
            "raw_lead_at": stamp(lead, np.ones(n, bool)),
            "mql_at": stamp(d1, mql),
            "won_at": stamp(d2, won),
            "converted": won,
        }
    )
    touches = (
        pl.DataFrame({"journey_id": jid, "channel": np.array(CHANNELS)[ch], "t": t})
        .with_columns(
            (pl.lit(T0) + pl.duration(microseconds=(pl.col("t") * 86400e6).cast(pl.Int64))).alias(
                "occurred_at"
            )
        )
        .sort("journey_id", "occurred_at")
        .with_columns(pl.int_range(pl.len()).over("journey_id").alias("position"))
        .drop("t")
        .join(stages, on="journey_id")
        .with_columns(pl.when("converted").then(100.0).otherwise(0.0).alias("value"))
    )
    return touches, truth


def main() -> int:
    models: list[tuple[str, dict[str, object]]] = [
        ("multistage", {"stages": STAGES, "pooling": 0.0}),
        ("multistage", {"stages": STAGES}),
        ("logistic", {}),
        ("first_touch", {}),
    ]
    labels = ["multistage (pooling=0)", "multistage (default pooling)", "logistic", "first_touch"]
    rows = []
    for fixed in (True, False):
        for case, (b1, b2) in CASES.items():
            journeys, truth = world(5, b1, b2, fixed=fixed)
            row: dict[str, object] = {"world": f"{case}, {'fixed' if fixed else 'random'} delays"}
            for label, (model, params) in zip(labels, models, strict=True):
                res = attribute(journeys, model=model, **params)  # type: ignore[arg-type]
                row[label] = round(misallocation(res.shares(), truth), 3)
            rows.append(row)
    with pl.Config(tbl_formatting="MARKDOWN", tbl_hide_column_data_types=True,
                   tbl_hide_dataframe_shape=True, tbl_width_chars=400):  # fmt: skip
        print(pl.DataFrame(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
