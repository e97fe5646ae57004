"""``compare_models``: the same spend's ROI under several attribution models, side by side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from closedloop_kit._core.frames import collect
from closedloop_kit.prepared import PeriodLike, Prepared
from closedloop_kit.roi._common import as_by
from closedloop_kit.roi._results import CompareResult
from closedloop_kit.roi._summary import summary

__all__ = ["compare_models"]

DEFAULT_MODELS = ("first_touch", "last_touch", "linear")


def _resampled_revenue(
    credits: pl.DataFrame, table: pl.DataFrame, by: list[str], n: int, seed: int, alpha: float
) -> pl.DataFrame:
    """Percentile intervals of each group's attributed revenue, resampling journeys.

    Journeys are drawn with replacement (multinomial weights over converting journeys),
    each keeping the credit the model gave it on the full data.
    """
    per = (
        credits.filter(~pl.any_horizontal([pl.col(k).is_null() for k in by]))
        .group_by("journey_id", *by)
        .agg(pl.col("credited_value").fill_null(0.0).sum())
    )
    groups = table.select(by).unique(maintain_order=True).with_row_index("_g")
    ids = credits.select("journey_id").unique(maintain_order=True).with_row_index("_r")
    per = per.join(ids, on="journey_id").join(groups, on=by, nulls_equal=True)
    m = np.zeros((ids.height, groups.height))
    np.add.at(m, (per["_r"].to_numpy(), per["_g"].to_numpy()), per["credited_value"].to_numpy())
    rng = np.random.default_rng(seed)
    reps = np.zeros((n, groups.height))
    for b in range(n):
        w = rng.multinomial(ids.height, np.full(ids.height, 1.0 / ids.height))
        reps[b] = w @ m
    lo, hi = 100 * alpha / 2, 100 * (1 - alpha / 2)
    return groups.drop("_g").with_columns(
        pl.Series("attributed_revenue_lower", np.percentile(reps, lo, axis=0)),
        pl.Series("attributed_revenue_upper", np.percentile(reps, hi, axis=0)),
    )


def compare_models(
    journeys: pl.DataFrame | pl.LazyFrame,
    prepared: Prepared,
    *,
    models: Sequence[str] = DEFAULT_MODELS,
    by: str | Sequence[str] = ("channel",),
    period: PeriodLike = None,
    bootstrap: int = 0,
    seed: int = 0,
    alpha: float = 0.05,
    model_params: dict[str, dict[str, Any]] | None = None,
) -> CompareResult:
    r"""ROI of each group under several attribution models, with bootstrap intervals.

    For each model, credits come from :func:`closedloop_kit.attribution.attribute` and
    ROI from :func:`closedloop_kit.roi.summary` (totals over ``period``): ROAS =
    attributed revenue / cost, ROI = (attributed revenue − cost) / cost. The cost is
    the same for every model; only the revenue moves. ``roi_range`` = max − min ROI
    across models measures how much a group's ROI depends on the model.

    Intervals (``bootstrap=n > 0``): for ``by="channel"`` the attribution engine's
    :func:`closedloop_kit.attribution.bootstrap` (journeys resampled, data-driven
    models refitted) gives ``value_lower/upper`` per channel; for other keys the
    journeys are resampled with the credit each received on the full data (exact for
    rule models; it holds a data-driven model's fit fixed). ``roi_lower =
    (revenue_lower − cost) / cost`` and likewise the upper bound (cost is fixed).

    Parameters
    ----------
    journeys
        Touch-level journeys (:meth:`closedloop_kit.Prepared.journeys`).
    prepared
        The prepared model (spend, campaigns, FX, currency, calendar).
    models
        Attribution model names.
    by
        Group keys, as in :func:`closedloop_kit.roi.summary`.
    period
        Only this period, for every number (as in :func:`closedloop_kit.roi.summary`).
    bootstrap
        Number of bootstrap replicates (0: no intervals).
    seed, alpha
        Random seed; intervals cover ``1 − alpha``.
    model_params
        ``{model: {param: value}}`` passed to ``attribute``.

    Returns
    -------
    CompareResult

    Examples
    --------
    >>> import closedloop_kit as clk
    >>> p = clk.prepare(clk.datasets.load_sample())
    >>> r = compare_models(p.journeys(conversion="won"), p, models=["first_touch", "last_touch"])
    >>> r.wide.columns[:3]
    ['channel', 'roi_first_touch', 'roi_last_touch']
    """
    from closedloop_kit.attribution import attribute
    from closedloop_kit.attribution import bootstrap as engine_bootstrap

    by_list = as_by(by)
    jny = collect(journeys)
    params = model_params or {}
    rows = []
    for model in models:
        res = attribute(jny, model=model, **params.get(model, {}))
        roi = summary(res, prepared, by=by_list, every=None, period=period)
        t = roi.table.select(*by_list, "cost", "conversions", "attributed_revenue", "roas", "roi")
        if bootstrap:
            if by_list == ["channel"]:
                ci = engine_bootstrap(
                    jny, model=model, n=bootstrap, seed=seed, alpha=alpha, **params.get(model, {})
                ).select(
                    "channel",
                    pl.col("value_lower").alias("attributed_revenue_lower"),
                    pl.col("value_upper").alias("attributed_revenue_upper"),
                )
            else:
                cred = roi.credits
                ci = _resampled_revenue(cred, t, by_list, bootstrap, seed, alpha)
            t = t.join(ci, on=by_list, how="left", nulls_equal=True).with_columns(
                pl.col("attributed_revenue_lower", "attributed_revenue_upper").fill_null(0.0)
            )
            cost = pl.col("cost")
            t = t.with_columns(
                pl.when(cost > 0)
                .then((pl.col("attributed_revenue_lower") - cost) / cost)
                .alias("roi_lower"),
                pl.when(cost > 0)
                .then((pl.col("attributed_revenue_upper") - cost) / cost)
                .alias("roi_upper"),
            )
        rows.append(
            t.with_columns(pl.lit(model).alias("model")).select("model", pl.all().exclude("model"))
        )
    table = pl.concat(rows, how="diagonal")
    wide = table.pivot(on="model", index=by_list, values="roi")
    roi_cols = [f"roi_{m}" for m in models]
    wide = wide.select(  # an empty table (no cost, no credit) pivots to no model column
        *by_list,
        *[
            (pl.col(m) if m in wide.columns else pl.lit(None, pl.Float64)).alias(f"roi_{m}")
            for m in models
        ],
    )
    wide = wide.with_columns(
        (pl.max_horizontal(roi_cols) - pl.min_horizontal(roi_cols)).alias("roi_range")
    ).sort(by_list)
    return CompareResult(
        table=table,
        wide=wide,
        params={
            "models": tuple(models),
            "by": tuple(by_list),
            "period": period,
            "bootstrap": bootstrap,
            "seed": seed,
            "alpha": alpha,
        },
    )
