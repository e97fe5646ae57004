"""``budget``: marketing commitments × cost per sales-ready lead → required budget."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from closedloop_kit._core.frames import collect, require_columns
from closedloop_kit.planning._results import BudgetPlan, CostPerSalesReadyResult

__all__ = ["budget", "compute_plan"]

_CONV = ("sales_ready_to_won_rate", "average_deal_size")
_ALIASES = {
    "committed_sales_ready": "sales_ready",
    "bookings_target": "bookings",
    "target_quarter": "quarter",
}


def _costs_frame(
    costs: CostPerSalesReadyResult | pl.DataFrame | pl.LazyFrame | float,
    conversion: pl.DataFrame | pl.LazyFrame | Mapping[str, float] | None,
    by: list[str],
) -> pl.DataFrame:
    if isinstance(costs, CostPerSalesReadyResult):
        frame = costs.table
    elif isinstance(costs, int | float):
        frame = pl.DataFrame({"cost_per_sales_ready": [float(costs)]})
    else:
        frame = collect(costs)
    require_columns(frame, ["cost_per_sales_ready"], func="budget")
    keys = [k for k in by if k in frame.columns]
    frame = frame.select(
        *keys, *[c for c in ("cost_per_sales_ready", *_CONV) if c in frame.columns]
    )
    if isinstance(conversion, Mapping):
        frame = frame.drop([c for c in _CONV if c in frame.columns]).with_columns(
            pl.lit(float(conversion["sales_ready_to_won_rate"])).alias("sales_ready_to_won_rate"),
            pl.lit(float(conversion["average_deal_size"])).alias("average_deal_size"),
        )
    elif conversion is not None:
        conv = collect(conversion)
        require_columns(conv, list(_CONV), func="budget")
        ckeys = [k for k in by if k in conv.columns]
        frame = frame.drop([c for c in _CONV if c in frame.columns])
        conv = conv.select(*ckeys, *_CONV)
        frame = frame.join(conv, on=ckeys, how="left") if ckeys else frame.join(conv, how="cross")
    for c in _CONV:
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(c))
    return frame.cast({c: pl.Float64 for c in ("cost_per_sales_ready", *_CONV)})  # type: ignore[arg-type]


def compute_plan(
    commitments: pl.DataFrame,
    costs: pl.DataFrame,
    *,
    by: list[str],
    commitment_scale: float = 1.0,
    cost_scale: float = 1.0,
    won_rate_scale: float = 1.0,
    deal_size_scale: float = 1.0,
) -> BudgetPlan:
    """Apply the budget formulas (see :func:`budget`) with what-if scales."""
    keys = [k for k in by if k in costs.columns]
    cost_keyed = costs.cast({k: pl.String for k in keys})  # type: ignore[arg-type]
    com = commitments.cast({k: pl.String for k in keys})  # type: ignore[arg-type]
    t = com.join(cost_keyed, on=keys, how="left") if keys else com.join(cost_keyed, how="cross")
    rate = pl.col("sales_ready_to_won_rate") * won_rate_scale
    size = pl.col("average_deal_size") * deal_size_scale
    if "sales_ready" in t.columns:
        required = pl.col("sales_ready").cast(pl.Float64)
    else:
        share = pl.col("sourced_share") if "sourced_share" in t.columns else pl.lit(1.0)
        required = pl.when(rate * size > 0).then(
            pl.col("bookings").cast(pl.Float64) * share / (rate * size)
        )
    t = (
        t.with_columns(
            (required * commitment_scale).alias("committed_sales_ready"),
            (pl.col("cost_per_sales_ready") * cost_scale).alias("cost_per_sales_ready"),
            rate.alias("sales_ready_to_won_rate"),
            size.alias("average_deal_size"),
        )
        .with_columns(
            (pl.col("committed_sales_ready") * pl.col("cost_per_sales_ready")).alias("budget"),
            (pl.col("committed_sales_ready") * pl.col("sales_ready_to_won_rate")).alias(
                "implied_won_deals"
            ),
        )
        .with_columns(
            (pl.col("implied_won_deals") * pl.col("average_deal_size")).alias("implied_bookings")
        )
    )
    extra = [c for c in ("bookings", "sourced_share") if c in t.columns]
    table = t.select(
        *by,
        "quarter",
        *extra,
        "committed_sales_ready",
        "cost_per_sales_ready",
        "budget",
        "sales_ready_to_won_rate",
        "average_deal_size",
        "implied_won_deals",
        "implied_bookings",
    ).sort(["quarter", *by])
    missing = table.filter(
        pl.col("budget").is_null() | pl.col("implied_bookings").is_null()
    ).with_columns(
        pl.when(pl.col("cost_per_sales_ready").is_null())
        .then(pl.lit("no cost per sales-ready lead for this segment"))
        .otherwise(pl.lit("no sales-ready → won rate or deal size for this segment"))
        .alias("reason")
    )
    params: dict[str, Any] = {
        "by": tuple(by),
        "commitment_scale": commitment_scale,
        "cost_scale": cost_scale,
        "won_rate_scale": won_rate_scale,
        "deal_size_scale": deal_size_scale,
    }
    return BudgetPlan(
        table=table, missing=missing, commitments=commitments, costs=costs, params=params
    )


def budget(
    commitments: pl.DataFrame | pl.LazyFrame,
    costs: CostPerSalesReadyResult | pl.DataFrame | pl.LazyFrame | float,
    *,
    conversion: pl.DataFrame | pl.LazyFrame | Mapping[str, float] | None = None,
    by: str | Sequence[str] = ("product_line", "sales_division"),
) -> BudgetPlan:
    r"""Budget required by marketing commitments, and the bookings it implies.

    A commitment row (per ``by`` segment and ``quarter``) states either ``sales_ready``
    (sales-ready leads marketing commits to supply) or ``bookings`` with
    ``sourced_share`` (default 1): "marketing supplies the sales-ready leads that
    source 50 % of bookings" is ``sourced_share = 0.5``. With :math:`r` the
    sales-ready → won rate and :math:`\bar a` the average deal size (corporate
    currency):

    .. math::

        n &= \text{sales\_ready}
            \quad\text{or}\quad n = \frac{\text{bookings} \cdot \text{sourced\_share}}
            {r\,\bar a} \\
        \text{budget} &= n \cdot \text{cost per sales-ready lead} \\
        \text{implied won deals} &= n\,r, \qquad
        \text{implied bookings} = n\,r\,\bar a .

    ``quarter`` is the quarter the bookings are targeted at (:func:`funding_schedule`
    moves the budget earlier by the sales cycle). :meth:`BudgetPlan.what_if` rescales
    commitments, costs, rate or deal size.

    Parameters
    ----------
    commitments
        ``<by>…, quarter`` and ``sales_ready`` or ``bookings`` (+ ``sourced_share``);
        ``committed_sales_ready``, ``bookings_target`` and ``target_quarter`` are
        accepted as aliases.
    costs
        A :class:`CostPerSalesReadyResult` (its table carries the conversion figures
        observed in the funnel), a frame ``<by>…, cost_per_sales_ready`` (+
        ``sales_ready_to_won_rate``, ``average_deal_size``) or one number for all.
    conversion
        Overrides the conversion figures: a frame ``<by>…, sales_ready_to_won_rate,
        average_deal_size`` or a mapping with those two keys.
    by
        Segment columns shared by commitments and costs.

    Returns
    -------
    BudgetPlan

    Examples
    --------
    >>> import polars as pl
    >>> c = pl.DataFrame({"product_line": ["A"], "quarter": ["2027Q1"],
    ...     "bookings": [1_000_000.0], "sourced_share": [0.5]})
    >>> k = pl.DataFrame({"product_line": ["A"], "cost_per_sales_ready": [400.0],
    ...     "sales_ready_to_won_rate": [0.25], "average_deal_size": [20_000.0]})
    >>> plan = budget(c, k, by="product_line")  # n = 500000 / (0.25 * 20000) = 100
    >>> plan.table.select("committed_sales_ready", "budget", "implied_bookings").row(0)
    (100.0, 40000.0, 500000.0)
    """
    by_list = [by] if isinstance(by, str) else list(by)
    com = collect(commitments)
    com = com.rename(
        {a: c for a, c in _ALIASES.items() if a in com.columns and c not in com.columns}
    )
    require_columns(com, ["quarter", *by_list], func="budget")
    if "sales_ready" not in com.columns and "bookings" not in com.columns:
        msg = (
            "`commitments` needs a `sales_ready` column (committed sales-ready leads) or a "
            f"`bookings` column (+ optional `sourced_share`); it has {com.columns}"
        )
        raise ValueError(msg)
    cost_f = _costs_frame(costs, conversion, by_list)
    return compute_plan(com, cost_f, by=by_list)
