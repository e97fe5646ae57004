"""``funding_schedule``: when each part of a budget must be available, from the sales cycle."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import polars as pl

from closedloop_kit._core.frames import collect, require_columns
from closedloop_kit.config import FiscalCalendar, parse_duration
from closedloop_kit.planning._results import BudgetPlan, FundingSchedule

__all__ = ["QUARTER_DAYS", "cycle_measured", "funding_schedule", "quarter_profile"]

QUARTER_DAYS = 365.25 / 4
"""Length of a quarter in days (91.3125), as in the funnel's timing distribution."""


def quarter_profile(time_to_close: Any) -> tuple[pl.DataFrame, str]:
    """``quarter_offset, share`` (shares sum to 1) from any accepted ``time_to_close``.

    - days (``int``/``float``/``timedelta``/``"180d"``): all at the nearest whole
      quarter, ``floor(days / 91.3125 + 0.5)``;
    - a frame ``quarter_offset, share`` (normalised);
    - a :class:`~closedloop_kit.funnel.TimeToCloseResult`: its ``distribution``
      (``share_of_won``, else ``share_closed``), each period ``[start_days, end_days)``
      mapped to the nearest whole quarter of its midpoint,
      ``floor(mid / 91.3125 + 0.5)`` (the same rounding as a fixed cycle; use
      ``period="month"`` buckets, quarter buckets are coarse); groups (``by``) are
      pooled by summing shares, so pass an ungrouped result for one profile.

    Examples
    --------
    >>> quarter_profile(182)[0].rows()
    [(2, 1.0)]
    """
    if isinstance(time_to_close, int | float | dt.timedelta | str):
        days = (
            float(time_to_close)
            if isinstance(time_to_close, int | float)
            else parse_duration(time_to_close).total_seconds() / 86400
        )
        k = math.floor(days / QUARTER_DAYS + 0.5)
        return (
            pl.DataFrame({"quarter_offset": [k], "share": [1.0]}),
            f"fixed cycle of {days:g} days = {k} quarter(s)",
        )
    if hasattr(time_to_close, "distribution"):
        dist = collect(time_to_close.distribution)
        col = "share_of_won" if "share_of_won" in dist.columns else "share_closed"
        if dist[col].drop_nulls().sum() <= 0:
            col = "share_closed"
        mid = (
            (pl.col("start_days") + pl.col("end_days")) / 2
            if "end_days" in dist.columns
            else pl.col("start_days")
        )
        frame = dist.select(
            (mid / QUARTER_DAYS + 0.5).floor().cast(pl.Int64).alias("quarter_offset"),
            pl.col(col).fill_null(0.0).alias("share"),
        )
        how = f"Kaplan-Meier timing distribution (`{col}`, {time_to_close.start} → close)"
        if float(frame["share"].sum()) <= 0:
            msg = (
                f"`time_to_close` timed no {time_to_close.start} to a close: none in it has "
                "closed, so the sales cycle cannot be measured; pass a fixed cycle instead "
                '(e.g. `182` or `"6mo"`)'
            )
            raise ValueError(msg)
    else:
        frame = collect(time_to_close)
        require_columns(frame, ["quarter_offset", "share"], func="funding_schedule")
        frame = frame.select(pl.col("quarter_offset").cast(pl.Int64), pl.col("share"))
        how = "user-supplied quarter offsets and shares"
    frame = frame.group_by("quarter_offset").agg(pl.col("share").sum().cast(pl.Float64))
    total = float(frame["share"].sum())
    if total <= 0 or frame.filter(pl.col("share") < 0).height:
        msg = "`time_to_close` must give non-negative shares with a positive total"
        raise ValueError(msg)
    frame = (
        frame.with_columns(pl.col("share") / total)
        .filter(pl.col("share") > 0)
        .sort("quarter_offset")
    )
    return frame, how


def cycle_measured(time_to_close: Any) -> bool:
    """Whether ``time_to_close`` gives a funding profile (:func:`quarter_profile`).

    False for a :class:`~closedloop_kit.funnel.TimeToCloseResult` in which nothing has
    closed yet (a CRM export of open deals only): its sales cycle cannot be measured, and
    a plan needs a fixed cycle instead.

    Examples
    --------
    >>> cycle_measured("6mo"), cycle_measured(0)
    (True, True)
    """
    try:
        quarter_profile(time_to_close)
    except ValueError:
        return False
    return True


def funding_schedule(
    budget_plan: BudgetPlan | pl.DataFrame,
    time_to_close: Any,
    *,
    fiscal: FiscalCalendar | None = None,
) -> FundingSchedule:
    r"""The quarter in which each part of a budget must be available.

    Spend lands at lead creation; a lead created in quarter :math:`F` closes in
    :math:`F + k` with probability :math:`p_k` (the lead-to-close distribution,
    :math:`\sum_k p_k = 1`). For a budget :math:`B` targeting bookings in quarter
    :math:`T`:

    .. math::

        \text{funding}(T - k) = p_k\,B, \qquad
        \text{bookings landing}(q) = \sum_k p_k B_{\text{book}}
            \, p_{q - (T - k)}

    where :math:`B_{\text{book}}` is the plan's implied bookings. The first line is the
    *schedule* (``share = p_k``: the part of the target quarter's bookings that leads
    bought in :math:`T-k` deliver when every quarter is funded the same way — in a
    steady plan the bookings of :math:`T` are then exactly the target); the second is
    the *landing* of this budget alone (the schedule convolved with :math:`p`), which
    shows what spills into neighbouring quarters. A fixed six-month cycle (182 days →
    2 quarters) targeting 2027Q1 bookings needs its funding in 2026Q3.

    Parameters
    ----------
    budget_plan
        A :class:`BudgetPlan`, or a frame with ``quarter`` (target), ``budget`` and
        optionally ``implied_bookings`` and segment columns.
    time_to_close
        A :class:`~closedloop_kit.funnel.TimeToCloseResult` (lead-to-close, e.g.
        ``time_to_close(funnel, start="raw_lead", event="won")``), a number of days
        (``182``, ``"6mo"``) or a frame ``quarter_offset, share``.
    fiscal
        Fiscal calendar of the quarter labels (labels shift the same way in any
        calendar; kept for the record and the quarter start dates).

    Returns
    -------
    FundingSchedule

    Examples
    --------
    >>> import polars as pl
    >>> plan = pl.DataFrame({"quarter": ["2027Q1"], "budget": [100_000.0]})
    >>> s = funding_schedule(plan, 182)
    >>> s.by_quarter.rows()
    [('2026Q3', 100000.0)]
    """
    fiscal = fiscal or FiscalCalendar()
    plan = budget_plan.table if isinstance(budget_plan, BudgetPlan) else collect(budget_plan)
    require_columns(plan, ["quarter", "budget"], func="funding_schedule")
    seg = (
        list(budget_plan.params.get("by", ()))
        if isinstance(budget_plan, BudgetPlan)
        else [
            c
            for c in plan.columns
            if c not in ("quarter", "budget", "implied_bookings") and plan[c].dtype == pl.String
        ]
    )
    profile, how = quarter_profile(time_to_close)
    if "implied_bookings" not in plan.columns:
        plan = plan.with_columns(pl.lit(None, dtype=pl.Float64).alias("implied_bookings"))
    base = plan.select(
        *seg,
        pl.col("quarter").alias("target_quarter"),
        pl.col("budget").cast(pl.Float64),
        pl.col("implied_bookings").cast(pl.Float64),
    )
    rows = base.join(profile, how="cross")
    rows = rows.with_columns(
        pl.struct("target_quarter", "quarter_offset")
        .map_elements(
            lambda s: fiscal.shift_quarter(s["target_quarter"], -int(s["quarter_offset"])),
            return_dtype=pl.String,
        )
        .alias("funding_quarter")
    )
    schedule = rows.select(
        *seg,
        "target_quarter",
        "funding_quarter",
        pl.col("funding_quarter")
        .map_elements(fiscal.quarter_start, return_dtype=pl.Date)
        .alias("funding_quarter_start"),
        "quarter_offset",
        "share",
        (pl.col("budget") * pl.col("share")).alias("funding"),
        (pl.col("implied_bookings") * pl.col("share")).alias("expected_bookings"),
    ).sort([*seg, "target_quarter", "funding_quarter"])
    by_quarter = (
        schedule.group_by("funding_quarter", "funding_quarter_start")
        .agg(pl.col("funding").sum())
        .sort("funding_quarter_start")
        .select("funding_quarter", "funding")
    )
    # landing: the schedule convolved with the profile
    offs = profile["quarter_offset"].to_numpy()
    p = profile["share"].to_numpy()
    conv: dict[int, float] = {}
    for k, pk in zip(offs, p, strict=True):
        for j, pj in zip(offs, p, strict=True):
            d = int(j - k)  # landing quarter relative to the target
            conv[d] = conv.get(d, 0.0) + float(pk * pj)
    rel = pl.DataFrame(
        {"_rel": list(conv), "share": [conv[d] for d in conv]},
        schema={"_rel": pl.Int64, "share": pl.Float64},
    ).filter(pl.col("share") > 1e-15)
    landing = (
        base.join(rel, how="cross")
        .with_columns(
            pl.struct("target_quarter", "_rel")
            .map_elements(
                lambda s: fiscal.shift_quarter(s["target_quarter"], int(s["_rel"])),
                return_dtype=pl.String,
            )
            .alias("quarter"),
            (pl.col("implied_bookings") * pl.col("share")).alias("expected_bookings"),
        )
        .sort([*seg, "target_quarter", "_rel"])
        .select(*seg, "target_quarter", "quarter", "expected_bookings", "share")
    )
    params: dict[str, Any] = {
        "fiscal_start_month": fiscal.start_month,
        "profile": how,
        "mean_quarter_offset": float(np.dot(offs, p)) if len(p) else math.nan,
    }
    return FundingSchedule(
        schedule=schedule, by_quarter=by_quarter, landing=landing, profile=profile, params=params
    )
