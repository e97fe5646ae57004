"""Bootstrap intervals for any model's channel credit: **sampling uncertainty** only.

The intervals say how much a model's answer would move with another sample of the same
size. They do not include the model's bias: for a model that misattributes, they
concentrate around the wrong answer (on simulated worlds they cover the true share 0 %
of the time for biased models). Put them beside the model-disagreement band of
:func:`closedloop_kit.attribution.compare` and read both.

Journeys are resampled with replacement (``n`` replicates, fixed ``seed``), the model is
re-run and each channel's credited conversions, value and share are collected; intervals
are percentile intervals ``[q_{α/2}, q_{1−α/2}]``.

Resampling is vectorised: a resample of ``N`` journeys is a multinomial draw of how many
times each journey is taken. For rule models (credit of a journey does not depend on
other journeys) totals are ``w' C`` with ``C`` the journeys × channels credit matrix, so
no model is re-run. Data-driven models (markov, shapley, logistic, ...) are re-fitted on
the path table with multinomially resampled (path, outcome) counts; a path's value per
conversion is kept at its observed mean. ``multistage`` (stage times per journey)
resamples whole journeys and refits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from closedloop_kit._core.frames import collect, to_lazy
from closedloop_kit._core.types import AnyFrame
from closedloop_kit.attribution._attribute import (
    _DEFAULT_TRANSFORM,
    STAGE_MODELS,
    _check_model,
    _path_shares,
    attribute,
)
from closedloop_kit.attribution._paths import PathTable, path_table
from closedloop_kit.attribution._rules import RULE_MODELS

__all__ = ["bootstrap"]


def _totals_from_shares(
    pt: PathTable, shares: pl.DataFrame, totals: pl.DataFrame | None
) -> pl.DataFrame:
    if totals is not None:
        return totals.select("channel", "conversions", "value")
    return (
        shares.join(pt.table.select("path_id", "conversions", "value"), on="path_id")
        .group_by("channel")
        .agg(
            (pl.col("share") * pl.col("conversions")).sum().alias("conversions"),
            (pl.col("share") * pl.col("value").fill_null(0.0)).sum().alias("value"),
        )
    )


def bootstrap(
    journeys: AnyFrame,
    *,
    model: str = "logistic",
    n: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
    **params: Any,
) -> pl.DataFrame:
    """Percentile bootstrap intervals of each channel's credit under ``model``.

    Parameters
    ----------
    journeys
        Touch-level journeys (see :func:`attribute`).
    model
        Any model of :func:`attribute`.
    n
        Number of bootstrap replicates.
    seed
        Random seed (same seed, same intervals).
    alpha
        Intervals cover ``1 − alpha``.
    **params
        Model parameters, as for :func:`attribute`.

    Returns
    -------
    pl.DataFrame
        ``channel``, ``conversions``, ``conversions_lower``, ``conversions_upper``,
        ``value``, ``value_lower``, ``value_upper``, ``share``, ``share_lower``,
        ``share_upper``, ``std_error`` (of conversions); point estimates on the full data.

    Examples
    --------
    >>> import polars as pl
    >>> j = pl.DataFrame({"journey_id": [1, 1, 2, 3], "channel": ["A", "B", "B", "A"],
    ...                   "position": [0, 1, 0, 0], "converted": [True, True, True, False]})
    >>> ci = bootstrap(j, model="linear", n=50, seed=1)
    >>> ci.select("channel", "conversions").rows()
    [('A', 0.5), ('B', 1.5)]
    >>> bool((ci["conversions_lower"] <= ci["conversions"]).all())
    True
    """
    _check_model(model)
    if n < 2:
        msg = f"`n` must be at least 2, got {n!r}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    point = attribute(journeys, model=model, **params)
    channels = point.channels["channel"].to_list()
    k = len(channels)
    conv_reps = np.zeros((n, k))
    value_reps = np.zeros((n, k))
    index = pl.DataFrame({"channel": channels}, schema={"channel": pl.String}).with_row_index("_c")
    if not k:
        pass  # no channel has credit (nothing converted): nothing to resample
    elif model in RULE_MODELS:
        cred = collect(point.credits)
        ids = collect(to_lazy(journeys).select("journey_id").unique())
        n_all = ids.height
        per = cred.group_by("journey_id", "channel").agg(
            pl.col("credit").sum(), pl.col("credited_value").sum().fill_null(0.0)
        )
        conv_ids = per.select("journey_id").unique().sort("journey_id").with_row_index("_r")
        per = per.join(conv_ids, on="journey_id").join(index, on="channel")
        rows = per["_r"].to_numpy()
        cols = per["_c"].to_numpy()
        m_conv = sp.csr_matrix((per["credit"].to_numpy(), (rows, cols)), shape=(conv_ids.height, k))
        m_val = sp.csr_matrix(
            (per["credited_value"].to_numpy(), (rows, cols)), shape=(conv_ids.height, k)
        )
        n_conv = conv_ids.height
        for b in range(n):
            taken = rng.binomial(n_all, n_conv / n_all) if n_all else 0
            w = rng.multinomial(taken, np.full(n_conv, 1.0 / n_conv)) if n_conv else np.zeros(0)
            conv_reps[b] = m_conv.T @ w
            value_reps[b] = m_val.T @ w
    elif model in STAGE_MODELS:
        # stage times live on the journeys: resample whole journeys and refit
        frame = collect(to_lazy(journeys))
        all_ids = frame.select("journey_id").unique().sort("journey_id").to_series()
        for b in range(n):
            drawn = rng.integers(0, all_ids.len(), all_ids.len())
            picks = pl.DataFrame({"journey_id": all_ids.gather(drawn.tolist())})
            sample = frame.join(picks.with_row_index("_copy"), on="journey_id").with_columns(
                pl.col("_copy").alias("journey_id")
            )
            tot = attribute(sample.drop("_copy"), model=model, **params).channels.join(
                index, on="channel"
            )
            idx = tot["_c"].to_numpy()
            conv_reps[b, idx] = tot["conversions"].to_numpy()
            value_reps[b, idx] = tot["value"].fill_null(0.0).to_numpy()
    else:
        transform = str(params.get("transform", _DEFAULT_TRANSFORM[model]))
        pt = path_table(journeys, transform=transform, func="bootstrap")
        conv = pt.table["conversions"].to_numpy()
        nulls = pt.table["nulls"].to_numpy()
        mean_value = np.divide(
            pt.table["value"].fill_null(0.0).to_numpy(),
            conv,
            out=np.zeros(conv.size),
            where=conv > 0,
        )
        cells = np.concatenate([conv, nulls])
        total = round(float(cells.sum()))
        probs = cells / cells.sum()
        for b in range(n):
            draw = rng.multinomial(total, probs).astype(np.float64)
            c_new, n_new = draw[: conv.size], draw[conv.size :]
            table = pt.table.with_columns(
                pl.Series("conversions", c_new),
                pl.Series("nulls", n_new),
                pl.Series("value", c_new * mean_value),
            ).filter((pl.col("conversions") + pl.col("nulls")) > 0)
            rep = PathTable(pt.channels, table, None)
            shares, _, totals, _ = _path_shares(rep, model, dict(params))
            tot = _totals_from_shares(rep, shares, totals).join(index, on="channel")
            idx = tot["_c"].to_numpy()
            conv_reps[b, idx] = tot["conversions"].to_numpy()
            value_reps[b, idx] = tot["value"].fill_null(0.0).to_numpy()
    sums = conv_reps.sum(axis=1, keepdims=True)
    share_reps = np.divide(conv_reps, sums, out=np.zeros_like(conv_reps), where=sums > 0)
    lo, hi = 100 * alpha / 2, 100 * (1 - alpha / 2)
    return (
        point.channels.select("channel", "conversions", "value", "share")
        .with_columns(
            pl.Series("conversions_lower", np.percentile(conv_reps, lo, axis=0)),
            pl.Series("conversions_upper", np.percentile(conv_reps, hi, axis=0)),
            pl.Series("value_lower", np.percentile(value_reps, lo, axis=0)),
            pl.Series("value_upper", np.percentile(value_reps, hi, axis=0)),
            pl.Series("share_lower", np.percentile(share_reps, lo, axis=0)),
            pl.Series("share_upper", np.percentile(share_reps, hi, axis=0)),
            pl.Series("std_error", conv_reps.std(axis=0, ddof=1)),
        )
        .select(
            "channel",
            "conversions",
            "conversions_lower",
            "conversions_upper",
            "value",
            "value_lower",
            "value_upper",
            "share",
            "share_lower",
            "share_upper",
            "std_error",
        )
    )
