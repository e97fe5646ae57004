"""The headline numbers of a review: this period against the one before.

Shared by the dashboard (:class:`closedloop_kit.widgets.Explorer` with ``kpis=True``),
the operating review template and ``closedloop review`` (the index of past reviews).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from closedloop_kit.prepared import Prepared

__all__ = ["KPIS", "kpis", "previous_period"]

KPIS: tuple[tuple[str, str, str, str], ...] = (
    ("pipeline", "Pipeline created", "currency", "up"),
    ("sales_ready", "Sales-ready leads", "integer", "up"),
    ("cost_per_sales_ready", "Cost per sales-ready lead", "currency", "down"),
    ("won_revenue", "Won revenue", "currency", "up"),
    ("roi", "Marketing ROI", "percent", "up"),
)
"""``(kpi, label, kind, better)``: the headline numbers, in the order the tiles show them."""


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period just before ``[start, end]``.

    The previous calendar month(s) when the period is whole months, else the same
    number of days.

    Examples
    --------
    >>> import datetime as dt
    >>> from closedloop_kit.widgets import previous_period
    >>> previous_period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    >>> previous_period(dt.date(2026, 3, 2), dt.date(2026, 3, 8))
    (datetime.date(2026, 2, 23), datetime.date(2026, 3, 1))
    """
    next_day = end + dt.timedelta(days=1)
    if start.day == 1 and next_day.day == 1:
        months = (next_day.year - start.year) * 12 + next_day.month - start.month
        total = start.year * 12 + start.month - 1 - months
        return dt.date(total // 12, total % 12 + 1, 1), start - dt.timedelta(days=1)
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


def _in(column: str, start: dt.date, end: dt.date) -> pl.Expr:
    col = pl.col(column)
    day = col.dt.date() if column.endswith("_at") else col
    return day.is_between(start, end)


def _values(
    opps: pl.DataFrame,
    people: pl.DataFrame,
    accounts: pl.DataFrame,
    spend: pl.DataFrame,
    start: dt.date,
    end: dt.date,
) -> dict[str, float | None]:
    pipeline = float(opps.filter(_in("created_at", start, end))["amount_corporate"].sum())
    closed = pl.coalesce(pl.col("closed_at").dt.date(), pl.col("close_date"))
    won = opps.filter(pl.col("is_won").fill_null(False) & closed.is_between(start, end))
    sourced = accounts.filter((pl.col("sourced_by") == "marketing") & _in("won_at", start, end))[
        "won_amount_corporate"
    ].sum()
    n_ready = people.filter(_in("sales_ready_at", start, end)).height
    cost = float(spend.filter(_in("date", start, end))["cost_corporate"].sum())
    return {
        "pipeline": pipeline,
        "sales_ready": float(n_ready),
        "cost_per_sales_ready": cost / n_ready if n_ready else None,
        "won_revenue": float(won["amount_corporate"].sum()),
        "roi": (float(sourced) - cost) / cost if cost else None,
        "spend": cost,
    }


def kpis(
    prepared: Prepared,
    *,
    start: dt.date,
    end: dt.date,
    previous: tuple[dt.date, dt.date] | None = None,
    product_lines: Sequence[str] = (),
    divisions: Sequence[str] = (),
    channels: Sequence[str] = (),
) -> pl.DataFrame:
    """The headline numbers of ``[start, end]`` and of the period before.

    Amounts are in the corporate currency (``amount_corporate``, ``cost_corporate``):

    - pipeline = Σ amount of the opportunities created in the period;
    - sales-ready leads = people whose funnel reached sales-ready in the period;
    - cost per sales-ready lead = cost in the period / sales-ready leads;
    - won revenue = Σ amount of the opportunities won in the period (``closed_at``, else
      ``close_date``);
    - marketing ROI = (won revenue of marketing-sourced accounts won in the period −
      cost) / cost.

    Cost is the prepared model's cost of record (:meth:`closedloop_kit.Prepared.costs`:
    spend plus campaign actual cost, by date), the same cost
    :func:`closedloop_kit.roi.summary` and :func:`closedloop_kit.planning.cost_per_sales_ready`
    divide by. ``product_lines`` and ``divisions`` filter opportunities and funnel
    entities, ``channels`` filters the cost. Cost placed on a campaign of another product
    line or division is left out; cost with no campaign (most ad platform rows) cannot be
    split and stays in.

    Returns
    -------
    polars.DataFrame
        One row per KPI: ``kpi``, ``label``, ``kind`` (how it reads), ``better``
        (``"up"``/``"down"``), ``current``, ``previous``, ``change`` (relative change,
        null when the previous value is zero or missing; for ROI, a percentage, the
        difference in percentage points as a fraction: 0.05 = 5 points).
    """
    prev = previous or previous_period(start, end)
    data = prepared.data
    opps = data.frame("opportunities")
    people = prepared.funnel("person")
    accounts = prepared.funnel("account")
    spend, _ = prepared.costs()  # the cost of record: spend + campaign cost, placed
    for values, column in ((product_lines, "product_line"), (divisions, "sales_division")):
        if values:
            keep = pl.col(column).is_in(list(values))
            opps, people, accounts = opps.filter(keep), people.filter(keep), accounts.filter(keep)
            spend = spend.filter(keep | pl.col(column).is_null())
    if channels:
        spend = spend.filter(pl.col("channel").is_in(list(channels)))
    now = _values(opps, people, accounts, spend, start, end)
    before = _values(opps, people, accounts, spend, *prev)
    rows = []
    for key, label, kind, better in KPIS:
        cur, old = now[key], before[key]
        if kind == "percent":  # a rate moves in percentage points
            change = cur - old if cur is not None and old is not None else None
        else:
            change = (cur - old) / abs(old) if cur is not None and old else None
        rows.append((key, label, kind, better, cur, old, change))
    return pl.DataFrame(
        rows,
        schema={
            "kpi": pl.String,
            "label": pl.String,
            "kind": pl.String,
            "better": pl.String,
            "current": pl.Float64,
            "previous": pl.Float64,
            "change": pl.Float64,
        },
        orient="row",
    ).with_columns(
        pl.lit(start).alias("start"),
        pl.lit(end).alias("end"),
        pl.lit(prev[0]).alias("previous_start"),
        pl.lit(prev[1]).alias("previous_end"),
    )
