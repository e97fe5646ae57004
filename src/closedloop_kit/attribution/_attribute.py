"""``attribute`` and ``attribute_paths``: one entry point for every model."""

from __future__ import annotations

from typing import Any

import polars as pl

from closedloop_kit._core.frames import collect, column_names, like, require_columns, to_lazy
from closedloop_kit._core.types import AnyFrame
from closedloop_kit.attribution._logistic import fit_logistic
from closedloop_kit.attribution._markov import (
    fit_markov,
    markov_credits,
    markov_path_shares,
    path_transitions,
    touch_transitions,
    walk_steps,
)
from closedloop_kit.attribution._multistage import fit_multistage
from closedloop_kit.attribution._paths import PathTable, code_names, parse_paths, path_table
from closedloop_kit.attribution._results import AttributionResult, channel_totals, with_shares
from closedloop_kit.attribution._rules import RULE_MODELS, rule_credits
from closedloop_kit.attribution._shapley import fractribution_shares, shapley_shares

__all__ = ["DEFAULT_MODEL", "MODELS", "MODEL_LABELS", "attribute", "attribute_paths"]

PATH_MODELS = ("markov", "shapley", "ordered_shapley", "logistic", "fractribution")
STAGE_MODELS = ("multistage",)
MODELS = (*RULE_MODELS, *PATH_MODELS, *STAGE_MODELS)
DEFAULT_MODEL = "logistic"
"""The recommended model for revenue attribution (see docs/attribution.md)."""
MODEL_LABELS: dict[str, str] = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "last_non_direct": "Last non-direct touch",
    "linear": "Linear",
    "time_decay": "Time decay",
    "position_based": "Position-based (U)",
    "j_shaped": "J-shaped",
    "inverse_j": "Inverse J",
    "w_shaped": "W-shaped",
    "full_path": "Full path (Z)",
    "custom": "Custom weights",
    "markov": "Markov chain",
    "shapley": "Shapley value",
    "ordered_shapley": "Ordered Shapley",
    "logistic": "Logistic regression",
    "fractribution": "Fractribution",
    "multistage": "Multi-stage",
}
"""How each model of :data:`MODELS` reads in charts, titles and controls."""

_DEFAULT_TRANSFORM = {
    "markov": "none",  # ChannelAttribution's windows merge repeated states themselves
    "shapley": "none",
    "ordered_shapley": "none",
    "logistic": "none",
    "fractribution": "collapse",
}


def _check_model(model: str) -> None:
    if model not in MODELS:
        msg = f"`model` must be one of {MODELS}, got {model!r}"
        raise ValueError(msg)


_NO_SHARES = pl.DataFrame(schema={"path_id": pl.Int64, "channel": pl.String, "share": pl.Float64})
"""The shares of no path (nothing converted)."""


def _path_shares(
    pt: PathTable, model: str, params: dict[str, Any]
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame], pl.DataFrame | None, dict[str, Any]]:
    """Per path and channel: share of the path's conversions; extra tables; totals.

    With no conversion there is nothing to credit: no shares, and no model is fitted
    (``used["fitted"]`` is False).
    """
    used: dict[str, Any] = {}
    tables: dict[str, pl.DataFrame] = {}
    totals: pl.DataFrame | None = None
    allocation = str(params.get("allocation", "incremental"))
    if allocation not in ("incremental", "journey"):
        msg = f"`allocation` must be one of ('incremental', 'journey'), got {allocation!r}"
        raise ValueError(msg)
    if not pt.table["conversions"].sum():
        return _NO_SHARES, tables, None, {"fitted": False}
    if model == "markov":
        used["order"] = order = int(params.get("order", 1))
        used["steps"] = params.get("steps")
        tc = path_transitions(pt, order=order)
        fit = fit_markov(tc, steps=walk_steps(tc, used["steps"]))
        tables = {
            "removal_effects": fit.removal_effects,
            "transition_matrix": fit.transition_matrix,
        }
        shares = markov_path_shares(pt, fit.removal_effects)
        return shares, tables, fit.channels, used
    if model in ("shapley", "ordered_shapley"):
        return shapley_shares(pt, ordered=model == "ordered_shapley"), tables, None, used
    if model == "fractribution":
        return fractribution_shares(pt), tables, None, used
    features = str(params.get("features", "auto"))
    support = float(params.get("min_pair_support", 50.0))
    max_terms = params.get("max_terms")
    alpha = float(params.get("alpha", 0.05))
    lfit = fit_logistic(
        pt,
        features=features,
        min_pair_support=support,
        max_terms=None if max_terms is None else int(max_terms),
        alpha=alpha,
    )
    used.update(
        features=features,
        chosen_features=lfit.features,
        order_terms=lfit.terms,
        allocation=allocation,
        min_pair_support=support,
    )
    tables = {
        "coefficients": lfit.fit.coefficients,
        "incremental": lfit.incremental,
        "feature_selection": lfit.selection,
    }
    if allocation == "incremental":
        total_conv = float(pt.table["conversions"].sum())
        total_value = float(pt.table["value"].fill_null(0.0).sum())
        inc = lfit.incremental.with_columns(
            pl.col("incremental", "incremental_value").clip(lower_bound=0.0)
        )
        s_conv, s_val = float(inc["incremental"].sum()), float(inc["incremental_value"].sum())
        totals = with_shares(
            inc.select(
                "channel",
                (pl.col("incremental") / s_conv * total_conv if s_conv else pl.lit(0.0)).alias(
                    "conversions"
                ),
                (pl.col("incremental_value") / s_val * total_value if s_val else pl.lit(0.0)).alias(
                    "value"
                ),
            )
        )
    return lfit.shares, tables, totals, used


def _stage_credits(
    lazy: pl.LazyFrame, params: dict[str, Any]
) -> tuple[pl.LazyFrame, dict[str, pl.DataFrame], pl.DataFrame | None, dict[str, Any]]:
    """Multi-stage model: per-journey shares joined back to the converting touches.

    No journey: no credit and nothing fitted (``used["fitted"]`` is False).
    """
    frame = collect(lazy)
    if frame.is_empty():
        return (
            frame.lazy().with_columns(credit=pl.lit(None, pl.Float64)),
            {},
            None,
            {"fitted": False},
        )
    stages = params.get("stages")
    pooling = float(params.get("pooling", 10.0))
    stalled = str(params.get("stalled", "median"))
    mfit = fit_multistage(
        frame, stages=None if stages is None else list(stages), pooling=pooling, stalled=stalled
    )
    conv = frame.filter(pl.col("converted"))
    total_conv = float(conv["journey_id"].n_unique())
    total_value = float(
        conv.group_by("journey_id").agg(pl.col("value").first().fill_null(0.0))["value"].sum()
    )
    inc = mfit.incremental.with_columns(pl.col("incremental").clip(lower_bound=0.0))
    s_inc = float(inc["incremental"].sum())
    totals = with_shares(
        inc.select(
            "channel",
            (pl.col("incremental") / s_inc * total_conv if s_inc else pl.lit(0.0)).alias(
                "conversions"
            ),
            (pl.col("incremental") / s_inc * total_value if s_inc else pl.lit(0.0)).alias("value"),
        )
    )
    plan = (
        conv.lazy()
        .join(mfit.shares.lazy(), on=["journey_id", "channel"], how="left")
        .with_columns(
            (
                pl.col("share").fill_null(0.0)
                / pl.len().over("journey_id", "channel").cast(pl.Float64)
            ).alias("credit")
        )
    )
    tables = {
        "coefficients": mfit.coefficients,
        "transitions": mfit.transitions,
        "incremental": mfit.incremental,
    }
    return plan, tables, totals, {"stages": mfit.stages, "pooling": pooling}


def attribute(
    journeys: AnyFrame, *, model: str = DEFAULT_MODEL, **params: Any
) -> AttributionResult:
    """Give each converting journey's credit to its touches with one attribution model.

    Parameters
    ----------
    journeys
        Touch-level journeys from :meth:`closedloop_kit.Prepared.journeys` (or any frame
        with ``journey_id``, ``channel``, ``position``, ``converted``; ``touch_id``,
        ``value``, ``occurred_at``/``conversion_at`` and milestone flags when the model
        needs them). Lazy input gives lazy ``credits``; rule models stream.
    model
        One of ``first_touch``, ``last_touch``, ``last_non_direct``, ``linear``,
        ``time_decay``, ``position_based``, ``j_shaped``, ``inverse_j``, ``w_shaped``,
        ``full_path``, ``custom``, ``markov``, ``shapley``, ``ordered_shapley``,
        ``logistic`` (the default), ``fractribution`` or ``multistage`` (journeys with
        per-journey stage times). Formulas: docs/attribution.md
        and the module docstrings.
    **params
        Model parameters: ``half_life`` (time_decay, ``"7d"``); ``first``/``last``
        (position_based 0.4/0.4, j_shaped 0.2/0.6, inverse_j 0.6/0.2); milestone
        weights ``first``/``lead``/``opportunity``/``won``/``rest`` (w_shaped, full_path;
        ``weights={...}`` for custom); ``direct`` (last_non_direct, ``"Direct"``);
        ``order`` (markov, 1–4) and ``steps`` (markov: ``None``, the exact chain, walks
        of any length; ``"channelattribution"``, ChannelAttribution's simulation limit
        of the most states a path visits + 2 transitions, to reproduce its numbers; or a
        number of transitions); ``features``, ``min_pair_support``, ``max_terms``,
        ``alpha``, ``allocation`` (logistic); ``stages``, ``pooling``, ``stalled``
        (multistage); ``transform`` (path simplification for the path models).

    Returns
    -------
    AttributionResult
        ``credits`` per touch (credits sum to 1 per converting journey), ``channels``
        totals and shares, model-specific ``tables``, and the parameters used.

    Examples
    --------
    >>> import polars as pl
    >>> j = pl.DataFrame({"journey_id": [1, 1, 1, 2], "touch_id": [1, 2, 3, 4],
    ...                   "channel": ["Email", "Paid Search", "Direct", "Email"],
    ...                   "position": [0, 1, 2, 0], "converted": [True] * 4,
    ...                   "value": [100.0, 100.0, 100.0, 50.0]})
    >>> r = attribute(j, model="position_based")  # 40/20/40 over 3 touches; 1 touch → 1
    >>> [round(c, 12) for c in r.credits["credit"]]
    [0.4, 0.2, 0.4, 1.0]
    >>> r.channels.select("channel", pl.col("conversions", "value").round(9)).rows()
    [('Direct', 0.4, 40.0), ('Email', 1.4, 90.0), ('Paid Search', 0.2, 20.0)]
    """
    _check_model(model)
    cols = column_names(journeys)
    require_columns(
        to_lazy(journeys), ["journey_id", "channel", "position", "converted"], func="attribute"
    )
    keep = [
        c
        for c in (
            "journey_id",
            "touch_id",
            "channel",
            "campaign_id",
            "campaign_name",
            # touch and conversion times travel with the credit, so ROI can place
            # revenue in the period of the touch (cohort) or of the close (bookings)
            "occurred_at",
            "conversion_at",
            "value",
        )
        if c in cols
    ]
    lazy = to_lazy(journeys)
    if "value" not in cols:
        lazy = lazy.with_columns(pl.lit(None, pl.Float64).alias("value"))
        keep.append("value")
    if "touch_id" not in cols:
        lazy = lazy.with_columns(pl.col("position").alias("touch_id"))
        keep.insert(1, "touch_id")
    tables: dict[str, pl.DataFrame] = {}
    totals: pl.DataFrame | None = None
    if model in RULE_MODELS:
        plan, used = rule_credits(lazy, model, params)
    elif model in STAGE_MODELS:
        plan, tables, totals, used = _stage_credits(lazy, params)
    elif model == "markov":  # one streaming pass to transition counts, no path lists
        transform = str(params.get("transform", _DEFAULT_TRANSFORM[model]))
        used = {
            "order": int(params.get("order", 1)),
            "transform": transform,
            "steps": params.get("steps"),
        }
        tc = touch_transitions(
            lazy,
            order=used["order"],
            transform=transform,
            count_states=used["steps"] == "channelattribution",
        )
        fit = fit_markov(tc, steps=walk_steps(tc, used["steps"]))
        tables = {
            "removal_effects": fit.removal_effects,
            "transition_matrix": fit.transition_matrix,
        }
        totals = fit.channels
        plan = markov_credits(lazy, fit.removal_effects)
    else:
        transform = str(params.get("transform", _DEFAULT_TRANSFORM[model]))
        pt = path_table(lazy, transform=transform, func="attribute")
        shares, tables, totals, used = _path_shares(pt, model, dict(params))
        used["transform"] = transform
        assert pt.journey_paths is not None
        conv = lazy.filter(pl.col("converted"))
        plan = (
            conv.join(pt.journey_paths.lazy(), on="journey_id", how="left")
            .join(shares.lazy(), on=["path_id", "channel"], how="left")
            .with_columns(
                (
                    pl.col("share").fill_null(0.0)
                    / pl.len().over("journey_id", "channel").cast(pl.Float64)
                ).alias("credit")
            )
        )
    credits = (
        plan.with_columns((pl.col("credit") * pl.col("value")).alias("credited_value"))
        .select(*keep, "position", "credit", "credited_value")
        .drop("value")
    )
    channels = channel_totals(credits) if totals is None else totals
    out = like(journeys, credits.sort("journey_id", "position").drop("position"))
    return AttributionResult(model, used, out, channels, tables)


def attribute_paths(
    paths: AnyFrame,
    *,
    model: str = "markov",
    sep: str = ">",
    order: int = 1,
    path: str = "path",
    conversions: str = "conversions",
    value: str | None = "value",
    nulls: str | None = "nulls",
    **params: Any,
) -> pl.DataFrame:
    """Attribute ChannelAttribution-style aggregated paths to channels.

    Parameters
    ----------
    paths
        One row per path: a path string (channels joined by ``sep``), its number of
        conversions, total conversion value and number of non-converting journeys.
    model
        Any model of :func:`attribute` that needs no timestamps or CRM milestones:
        ``first_touch``, ``last_touch``, ``last_non_direct``, ``linear``,
        ``position_based``, ``j_shaped``, ``inverse_j``, ``markov``, ``shapley``,
        ``ordered_shapley``, ``logistic``, ``fractribution``.
    sep
        Channel separator in the path string (surrounding spaces are stripped).
    order
        Markov order (1–4).
    path, conversions, value, nulls
        Column names in ``paths``.
    **params
        Other model parameters, as in :func:`attribute`.

    Returns
    -------
    pl.DataFrame
        ``channel``, ``conversions``, ``value``, ``share``: ChannelAttribution's
        ``total_conversions`` / ``total_conversion_value`` per channel.

    Examples
    --------
    >>> import polars as pl
    >>> p = pl.DataFrame({"path": ["A > B", "B", "A"], "conversions": [2, 1, 0],
    ...                   "value": [20.0, 5.0, 0.0], "nulls": [0, 1, 1]})
    >>> attribute_paths(p, model="linear").rows()  # A: 2 × 1/2; B: 2 × 1/2 + 1
    [('A', 1.0, 10.0, 0.3333333333333333), ('B', 2.0, 15.0, 0.6666666666666666)]
    """
    _check_model(model)
    pt = parse_paths(paths, sep=sep, path=path, conversions=conversions, value=value, nulls=nulls)
    if model in RULE_MODELS:
        touches = (
            pt.table.filter(pl.col("conversions") > 0)
            .select(
                pl.col("path_id").alias("journey_id"),
                "conversions",
                "value",
                pl.col("path").alias("code"),
                pl.lit(True).alias("converted"),
            )
            .explode("code")
            .with_columns(
                pl.int_range(pl.len()).over("journey_id").alias("position"),
            )
            .join(code_names(pt), on="code", how="left")
        )
        plan, _ = rule_credits(touches.lazy(), model, params)
        per = plan.select(
            "channel",
            (pl.col("credit") * pl.col("conversions")).alias("conversions"),
            (pl.col("credit") * pl.col("value")).alias("value"),
        ).collect()
    else:
        mp = dict(params)
        if model == "markov":
            mp["order"] = order
        if "transform" in mp and mp["transform"] != "none":
            msg = "`transform` is not available for aggregated paths; transform before"
            raise ValueError(msg)
        shares, _, totals, _ = _path_shares(pt, model, mp)
        if totals is not None:
            return totals
        per = shares.join(pt.table, on="path_id").select(
            "channel",
            (pl.col("share") * pl.col("conversions")).alias("conversions"),
            (pl.col("share") * pl.col("value")).alias("value"),
        )
    out = per.group_by("channel").agg(pl.col("conversions").sum(), pl.col("value").sum())
    return with_shares(out)
