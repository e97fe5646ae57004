"""Result objects of the ROI layer: frames plus the parameters that produced them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from closedloop_kit._core.result import Result, frames_html

__all__ = ["CompareResult", "RoiResult", "SourcedResult"]


@dataclass(frozen=True)
class RoiResult(Result):
    """Revenue-based ROI per group and period (see :func:`closedloop_kit.roi.summary`).

    Attributes
    ----------
    table
        One row per ``by`` group and period: ``cost``, stage counts, ``pipeline``,
        ``conversions``, ``attributed_revenue`` and the KPIs; ``view`` says which time
        alignment the revenue columns use.
    costs
        Every cost row (spend and campaign actual cost) in corporate currency with the
        ``match_level`` that placed it (``campaign_id``, ``campaign_name``, ``channel``,
        ``unmatched``).
    unallocated
        Cost and revenue that could not be placed in a ``by`` group (``kind``,
        ``reason``, ``cost``, ``attributed_revenue``): nothing is dropped.
    unconverted
        Cost rows in a currency without a rate on their date (original currency; never
        summed into corporate totals).
    reconciliation
        ``item``, ``amount``: total cost = allocated + unallocated, and the same for the
        attributed revenue.
    credits
        The credit frame with the keys used: ``campaign`` (resolved key), campaign
        dimensions and ``period`` (drill-down per touch).
    params
        The parameters used (``by``, ``period``, ``view``, ``corporate_currency``, ...).
    """

    table: pl.DataFrame
    costs: pl.DataFrame
    unallocated: pl.DataFrame
    unconverted: pl.DataFrame
    reconciliation: pl.DataFrame
    credits: pl.DataFrame = field(default_factory=pl.DataFrame)
    params: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> pl.DataFrame:
        """The ROI table summed over periods, highest attributed revenue first."""
        by = list(self.params.get("by", []))
        sums = [
            c
            for c in (
                "cost",
                "leads",
                "mqls",
                "sales_ready",
                "opportunities",
                "pipeline",
                "conversions",
                "attributed_revenue",
            )
            if c in self.table.columns
        ]
        aggs = [pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).alias(c) for c in sums]
        out = self.table.group_by(by).agg(aggs) if by else self.table.select(aggs)
        return add_kpis(out).sort("attributed_revenue", descending=True, nulls_last=True)

    def __repr__(self) -> str:
        return f"RoiResult({dict(self.params)!r})\n{self.summary()}"

    def _repr_html_(self) -> str:
        return frames_html(
            "RoiResult",
            self.params,
            {
                "summary": self.summary(),
                "table": self.table,
                "unallocated": self.unallocated,
                "reconciliation": self.reconciliation,
            },
        )


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den).otherwise(None).cast(pl.Float64)


def add_kpis(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the derived KPIs (null when the denominator is zero or missing).

    ``cost_per_lead = cost / leads``, ``cost_per_mql = cost / mqls``,
    ``cost_per_sales_ready = cost / sales_ready``, ``cost_per_opportunity = cost /
    opportunities``, ``cac = cost / conversions``, ``pipeline_to_spend = pipeline /
    cost``, ``roas = attributed_revenue / cost``, ``roi = (attributed_revenue − cost) /
    cost``.
    """
    cost = pl.col("cost")
    exprs = []
    for name, col in (
        ("cost_per_lead", "leads"),
        ("cost_per_mql", "mqls"),
        ("cost_per_sales_ready", "sales_ready"),
        ("cost_per_opportunity", "opportunities"),
        ("cac", "conversions"),
    ):
        if col in frame.columns:
            exprs.append(_ratio(cost, pl.col(col)).alias(name))
    if "pipeline" in frame.columns:
        exprs.append(_ratio(pl.col("pipeline"), cost).alias("pipeline_to_spend"))
    exprs.append(_ratio(pl.col("attributed_revenue"), cost).alias("roas"))
    exprs.append(_ratio(pl.col("attributed_revenue") - cost, cost).alias("roi"))
    return frame.with_columns(exprs)


@dataclass(frozen=True)
class SourcedResult(Result):
    """Marketing-sourced and marketing-influenced pipeline and revenue.

    Attributes
    ----------
    table
        Per ``by`` group: ``opportunities``, ``pipeline``, ``won_deals``, ``bookings``,
        then ``sourced_*`` and ``influenced_*`` amounts and their ``*_share``.
    entities
        Per funnel entity: ``sourced`` (the funnel's ``sourced_by == "marketing"``),
        ``sourced_by_rule`` (the rule that decided it) and ``influenced``.
    params
        ``by``, ``window`` and the rule descriptions.
    """

    table: pl.DataFrame
    entities: pl.DataFrame
    params: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> pl.DataFrame:
        """The table (shares next to amounts)."""
        return self.table

    def __repr__(self) -> str:
        return f"SourcedResult({dict(self.params)!r})\n{self.table}"

    def _repr_html_(self) -> str:
        return frames_html("SourcedResult", self.params, {"table": self.table})


@dataclass(frozen=True)
class CompareResult(Result):
    """ROI of the same spend under several attribution models, side by side.

    Attributes
    ----------
    table
        Long form: ``model``, ``<by>…``, ``cost``, ``conversions``, ``attributed_revenue``,
        ``roas``, ``roi`` and, with a bootstrap, ``attributed_revenue_lower/upper`` and
        ``roi_lower/upper`` (percentile intervals).
    wide
        ``<by>…`` and one ``roi_<model>`` column per model, plus ``roi_range``
        (max − min across models): how much the answer depends on the model.
    params
        ``models``, ``by``, ``bootstrap``, ``seed``, ``alpha``.
    """

    table: pl.DataFrame
    wide: pl.DataFrame
    params: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> pl.DataFrame:
        """The wide table, largest model dependence first."""
        return self.wide.sort("roi_range", descending=True, nulls_last=True)

    def __repr__(self) -> str:
        return f"CompareResult({dict(self.params)!r})\n{self.summary()}"

    def _repr_html_(self) -> str:
        return frames_html(
            "CompareResult", self.params, {"wide": self.summary(), "table": self.table}
        )
