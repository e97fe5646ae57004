"""Rule-based attribution: position, time and CRM-milestone weights, as polars lazy plans.

Every rule gives each touch ``t`` of a converting journey ``J`` a raw weight ``w_t`` and
normalises: ``credit_t = w_t / Σ_{t'∈J} w_t'``. Plans use only joins and group-bys, so a
lazy input streams (100M touches run in bounded memory).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from closedloop_kit._core.frames import column_names, require_columns
from closedloop_kit.config import parse_duration

__all__ = ["MILESTONES", "RULE_MODELS", "rule_credits"]

RULE_MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "j_shaped",
    "inverse_j",
    "w_shaped",
    "full_path",
    "custom",
)

MILESTONES = {
    "first": "is_first_touch",
    "lead": "is_lead_creation_touch",
    "opportunity": "is_opportunity_creation_touch",
    "won": "is_closed_won_touch",
}
"""Milestone name → flag column written by :meth:`closedloop_kit.Prepared.journeys`."""

_SHAPE_DEFAULTS = {
    "position_based": (0.4, 0.4),
    "j_shaped": (0.2, 0.6),
    "inverse_j": (0.6, 0.2),
}
_MILESTONE_DEFAULTS: dict[str, dict[str, float]] = {
    "w_shaped": {"first": 0.3, "lead": 0.3, "opportunity": 0.3, "rest": 0.1},
    "full_path": {"first": 0.225, "lead": 0.225, "opportunity": 0.225, "won": 0.225, "rest": 0.1},
}


def _shape_weights(first: float, last: float) -> pl.Expr:
    """U/J shapes: ``first`` to the first touch, ``last`` to the last, rest evenly."""
    is_first = pl.col("position") == pl.col("_pmin")
    is_last = pl.col("position") == pl.col("_pmax")
    middle = (1.0 - first - last) / (pl.col("_n") - 2).clip(lower_bound=1).cast(pl.Float64)
    return (
        is_first.cast(pl.Float64) * first
        + is_last.cast(pl.Float64) * last
        + (~is_first & ~is_last).cast(pl.Float64) * middle
    )


def rule_credits(
    journeys: pl.LazyFrame, model: str, params: Mapping[str, Any]
) -> tuple[pl.LazyFrame, dict[str, Any]]:
    """Credit plan for a rule model; returns the plan and the parameters used."""
    cols = column_names(journeys)
    conv = journeys.filter(pl.col("converted"))
    used: dict[str, Any] = {}
    stats = [
        pl.len().alias("_n"),
        pl.col("position").min().alias("_pmin"),
        pl.col("position").max().alias("_pmax"),
    ]
    direct = str(params.get("direct", "Direct"))
    if model == "last_non_direct":
        stats.append(pl.col("position").filter(pl.col("channel") != direct).max().alias("_pnd"))
        used["direct"] = direct
    weights: dict[str, float] = {}
    if model in ("w_shaped", "full_path", "custom"):
        if model == "custom":
            given = params.get("weights")
            if not isinstance(given, Mapping) or not given:
                msg = (
                    "`custom` needs `weights`, a mapping of milestone → weight with keys "
                    f"from {(*MILESTONES, 'last', 'rest')}, got {given!r}"
                )
                raise ValueError(msg)
            weights = {str(k): float(v) for k, v in given.items()}
        else:
            weights = dict(_MILESTONE_DEFAULTS[model])
            weights.update({k: float(v) for k, v in params.items() if k in weights})
        bad = [k for k in weights if k not in (*MILESTONES, "last", "rest")]
        if bad:
            msg = f"milestone weights must use keys {(*MILESTONES, 'last', 'rest')}, got {bad}"
            raise ValueError(msg)
        flags = [MILESTONES[k] for k in weights if k in MILESTONES and k != "first"]
        require_columns(journeys, ["position", *flags], func=f"attribute(model={model!r})")
        used["weights"] = weights

    j = conv.join(conv.group_by("journey_id").agg(stats), on="journey_id", how="left")
    if model == "first_touch":
        raw = (pl.col("position") == pl.col("_pmin")).cast(pl.Float64)
    elif model == "last_touch":
        raw = (pl.col("position") == pl.col("_pmax")).cast(pl.Float64)
    elif model == "last_non_direct":
        target = pl.coalesce(pl.col("_pnd"), pl.col("_pmax"))
        raw = (pl.col("position") == target).cast(pl.Float64)
    elif model == "linear":
        raw = pl.lit(1.0)
    elif model == "time_decay":
        half_life = parse_duration(params.get("half_life", "7d"))
        days = half_life.total_seconds() / 86400.0
        used["half_life"] = params.get("half_life", "7d")
        if "days_to_conversion" in cols:
            age = pl.col("days_to_conversion").cast(pl.Float64)
        else:
            require_columns(journeys, ["occurred_at"], func="attribute(model='time_decay')")
            end = (
                pl.coalesce(pl.col("conversion_at"), pl.col("_tmax"))
                if "conversion_at" in cols
                else pl.col("_tmax")
            )
            j = j.join(
                conv.group_by("journey_id").agg(pl.col("occurred_at").max().alias("_tmax")),
                on="journey_id",
                how="left",
            )
            age = (end - pl.col("occurred_at")).dt.total_microseconds().cast(pl.Float64) / 86_400e6
        raw = pl.lit(0.5).pow(age.clip(lower_bound=0.0) / days)
    elif model in _SHAPE_DEFAULTS:
        first, last = _SHAPE_DEFAULTS[model]
        first = float(params.get("first", first))
        last = float(params.get("last", last))
        if min(first, last) < 0 or first + last > 1 + 1e-12:
            msg = f"`first` and `last` must be ≥ 0 and sum to ≤ 1, got {first!r} and {last!r}"
            raise ValueError(msg)
        used.update(first=first, last=last, middle=1.0 - first - last)
        raw = _shape_weights(first, last)
    elif model in ("w_shaped", "full_path", "custom"):
        flag_exprs: dict[str, pl.Expr] = {
            "first": pl.col("position") == pl.col("_pmin"),
            "last": pl.col("position") == pl.col("_pmax"),
        }
        for k, c in MILESTONES.items():
            if k != "first" and k in weights:
                flag_exprs[k] = pl.col(c).fill_null(False)
        any_flag = pl.lit(False)
        raw = pl.lit(0.0)
        for k, w in weights.items():
            if k == "rest":
                continue
            raw = raw + flag_exprs[k].cast(pl.Float64) * w
            any_flag = any_flag | flag_exprs[k]
        j = j.with_columns(any_flag.alias("_is_ms"))
        j = j.join(
            j.group_by("journey_id").agg((~pl.col("_is_ms")).sum().alias("_nrest")),
            on="journey_id",
            how="left",
        )
        rest = weights.get("rest", 0.0)
        raw = raw + (~pl.col("_is_ms")).cast(pl.Float64) * rest / pl.col("_nrest").clip(
            lower_bound=1
        ).cast(pl.Float64)
    else:
        msg = f"`model` must be one of {RULE_MODELS}, got {model!r}"
        raise ValueError(msg)

    j = j.with_columns(raw.alias("_w"))
    totals = j.group_by("journey_id").agg(pl.col("_w").sum().alias("_wsum"))
    j = j.join(totals, on="journey_id", how="left").with_columns(
        # a journey whose touches all weigh 0 (e.g. only unflagged milestones) → linear
        pl.when(pl.col("_wsum") > 0)
        .then(pl.col("_w") / pl.col("_wsum"))
        .otherwise(1.0 / pl.col("_n").cast(pl.Float64))
        .alias("credit")
    )
    return j, used
