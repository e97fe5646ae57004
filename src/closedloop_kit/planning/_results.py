"""Result objects of the planning layer: cost per stage, budget plan, funding schedule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from closedloop_kit._core.result import Result, frames_html

__all__ = ["BudgetPlan", "CostPerSalesReadyResult", "FundingSchedule"]


@dataclass(frozen=True)
class CostPerSalesReadyResult(Result):
    """Average cost per sales-ready lead (and opportunity) per segment.

    Attributes
    ----------
    table
        ``<by>…, direct_cost, allocated_cost, cost, sales_ready, cost_per_sales_ready,
        opportunities, cost_per_opportunity, won_from_sales_ready,
        sales_ready_to_won_rate, bookings_from_sales_ready, average_deal_size``.
    costs
        Every cost row (corporate currency) with ``allocation``: ``"direct"`` (its
        campaign names the segment) or ``"pro_rata"``.
    unallocated
        Cost that could not be allocated (no sales-ready leads to spread it over) and
        unconverted cost rows: reported, not dropped.
    rule
        The spend-allocation rule, in words.
    params
        ``by``, ``allocation``, ``corporate_currency``.
    """

    table: pl.DataFrame
    costs: pl.DataFrame
    unallocated: pl.DataFrame
    rule: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> pl.DataFrame:
        """Segment, cost, sales-ready leads and cost per sales-ready lead."""
        by = list(self.params.get("by", ()))
        return self.table.select(*by, "cost", "sales_ready", "cost_per_sales_ready")

    def __repr__(self) -> str:
        return f"CostPerSalesReadyResult(rule={self.rule!r})\n{self.summary()}"

    def _repr_html_(self) -> str:
        return frames_html(
            "CostPerSalesReadyResult",
            {**self.params, "rule": self.rule},
            {"table": self.table, "unallocated": self.unallocated},
        )


@dataclass(frozen=True)
class FundingSchedule(Result):
    """When each part of a budget must be available to land bookings in the target quarter.

    Attributes
    ----------
    schedule
        ``<by>…, target_quarter, funding_quarter, quarter_offset, share, funding,
        expected_bookings``: the part ``share`` of the budget (``funding``) to spend in
        ``funding_quarter`` = ``target_quarter − quarter_offset``.
    by_quarter
        ``funding_quarter, funding``: the total to have available each quarter.
    landing
        ``<by>…, target_quarter, quarter, expected_bookings, share``: when the
        bookings bought by this schedule land (convolution of the schedule with the
        close-time distribution).
    profile
        ``quarter_offset, share``: the lead-to-close distribution used.
    params
        ``fiscal_start_month`` and how the profile was obtained.
    """

    schedule: pl.DataFrame
    by_quarter: pl.DataFrame
    landing: pl.DataFrame
    profile: pl.DataFrame
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> pl.DataFrame:  # type: ignore[override]
        """The main frame: the funding schedule."""
        return self.schedule

    def summary(self) -> pl.DataFrame:
        """Funding needed per quarter."""
        return self.by_quarter

    def __repr__(self) -> str:
        return f"FundingSchedule({dict(self.params)!r})\n{self.by_quarter}"

    def _repr_html_(self) -> str:
        return frames_html(
            "FundingSchedule",
            self.params,
            {"by_quarter": self.by_quarter, "schedule": self.schedule, "landing": self.landing},
        )


@dataclass(frozen=True)
class BudgetPlan(Result):
    """Budget required by marketing commitments, and the bookings it implies.

    Attributes
    ----------
    table
        ``<by>…, quarter, committed_sales_ready, cost_per_sales_ready, budget,
        sales_ready_to_won_rate, average_deal_size, implied_won_deals,
        implied_bookings`` (and ``bookings_target``/``sourced_share`` when the
        commitments were stated in bookings).
    missing
        Commitment rows without a cost per sales-ready lead or conversion figures
        (budget or implied bookings null), so gaps are visible.
    commitments, costs
        The inputs (costs: ``<by>…, cost_per_sales_ready`` plus conversion columns).
    params
        ``by``, the what-if scales applied.
    """

    table: pl.DataFrame
    missing: pl.DataFrame
    commitments: pl.DataFrame
    costs: pl.DataFrame
    params: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> pl.DataFrame:
        """Budget and implied bookings per quarter."""
        return (
            self.table.group_by("quarter")
            .agg(
                pl.col("committed_sales_ready").sum(),
                pl.col("budget").sum(),
                pl.col("implied_bookings").sum(),
            )
            .sort("quarter")
        )

    def what_if(
        self,
        *,
        commitment_scale: float = 1.0,
        cost_scale: float = 1.0,
        won_rate_scale: float = 1.0,
        deal_size_scale: float = 1.0,
    ) -> BudgetPlan:
        """The plan with commitments, costs or conversion changed by a factor.

        ``committed_sales_ready × commitment_scale``, ``cost_per_sales_ready ×
        cost_scale``, rate and deal size scaled likewise; budget and implied bookings
        recomputed with the same formulas. Scales compound with earlier what-ifs.

        Examples
        --------
        >>> import polars as pl
        >>> from closedloop_kit.planning import budget
        >>> c = pl.DataFrame({"quarter": ["2027Q1"], "sales_ready": [100]})
        >>> k = pl.DataFrame({"cost_per_sales_ready": [200.0], "sales_ready_to_won_rate": [0.2],
        ...                   "average_deal_size": [10_000.0]})
        >>> plan = budget(c, k, by=[])
        >>> plan.what_if(cost_scale=1.1).table["budget"].round(6).to_list()
        [22000.0]
        """
        from closedloop_kit.planning._budget import compute_plan

        p = dict(self.params)
        scales = {
            "commitment_scale": float(p.get("commitment_scale", 1.0)) * commitment_scale,
            "cost_scale": float(p.get("cost_scale", 1.0)) * cost_scale,
            "won_rate_scale": float(p.get("won_rate_scale", 1.0)) * won_rate_scale,
            "deal_size_scale": float(p.get("deal_size_scale", 1.0)) * deal_size_scale,
        }
        return compute_plan(self.commitments, self.costs, by=list(p["by"]), **scales)

    def __repr__(self) -> str:
        return f"BudgetPlan({dict(self.params)!r})\n{self.summary()}"

    def _repr_html_(self) -> str:
        return frames_html(
            "BudgetPlan",
            self.params,
            {"summary": self.summary(), "table": self.table, "missing": self.missing},
        )
