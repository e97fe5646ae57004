"""L4 analyse: cost per sales-ready lead, budget from commitments, funding schedule.

:func:`cost_per_sales_ready` prices a sales-ready lead per product line × division;
:func:`budget` turns commitments into a budget and the bookings it implies;
:func:`funding_schedule` moves the budget earlier by the observed sales cycle.
Formulas and a worked example: docs/planning.md.
"""

from closedloop_kit.planning._budget import budget
from closedloop_kit.planning._cost import Allocation, cost_per_sales_ready
from closedloop_kit.planning._funding import cycle_measured, funding_schedule, quarter_profile
from closedloop_kit.planning._results import BudgetPlan, CostPerSalesReadyResult, FundingSchedule

__all__ = [
    "Allocation",
    "BudgetPlan",
    "CostPerSalesReadyResult",
    "FundingSchedule",
    "budget",
    "cost_per_sales_ready",
    "cycle_measured",
    "funding_schedule",
    "quarter_profile",
]
