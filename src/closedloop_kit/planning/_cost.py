"""``cost_per_sales_ready``: average cost per sales-ready lead by product line and division."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

import polars as pl

from closedloop_kit._core.frames import require_columns
from closedloop_kit.planning._results import CostPerSalesReadyResult
from closedloop_kit.prepared import PeriodLike, Prepared, within

__all__ = ["Allocation", "cost_per_sales_ready"]

Allocation = Literal["campaign", "pro_rata_leads"]
_ALLOCATIONS = ("campaign", "pro_rata_leads")
RULES = {
    "campaign": (
        "cost whose campaign carries every `by` value (product_line, sales_division, ...) "
        "is allocated directly to that segment; all other cost (no campaign, or a campaign "
        "without those values) is allocated pro rata to each segment's sales-ready leads"
    ),
    "pro_rata_leads": "all cost is allocated pro rata to each segment's sales-ready leads",
}


def _ratio(num: str, den: str) -> pl.Expr:
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(None)


def _as_by(by: str | Sequence[str]) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def _reached(stage: str, span: tuple[dt.datetime, dt.datetime] | None) -> pl.Expr:
    if span is not None:
        return within(pl.col(f"{stage}_at"), span)
    return pl.col(f"{stage}_at").is_not_null() | pl.col(f"{stage}_backfilled")


def _segment_counts(
    prepared: Prepared,
    fun: pl.DataFrame,
    opp: pl.DataFrame,
    by: list[str],
    span: tuple[dt.datetime, dt.datetime] | None,
) -> pl.DataFrame:
    """Sales-ready humans (with their won deals) and deals per segment.

    ``sales_ready``: people whose sales-ready milestone was reached (in the period);
    ``won_from_sales_ready`` / ``bookings_from_sales_ready``: those of them whose own
    deal was won and its corporate amount; ``opportunities``: deals created (in the
    period) by the deal's own segment. A null segment value is kept as null (shown as
    its own row), so the counts add up to the model's totals.
    """
    tax = prepared.taxonomy
    sr = _reached(tax.sales_ready_stage, None if span is None else span)
    won = sr & _reached(tax.won_stage, None)
    booked = pl.col("won_amount_corporate").cast(pl.Float64).fill_null(0.0)
    keys = [pl.col(k).cast(pl.String) for k in by]
    people = fun.filter(sr).select(
        *keys,
        pl.lit(1, dtype=pl.Int64).alias("sales_ready"),
        won.cast(pl.Int64).alias("won_from_sales_ready"),
        pl.when(won).then(booked).otherwise(0.0).alias("bookings_from_sales_ready"),
    )
    deals = opp.filter(_reached(tax.opportunity_stage, span)).select(
        *[(pl.col(k) if k in opp.columns else pl.lit(None)).cast(pl.String).alias(k) for k in by],
        pl.lit(1, dtype=pl.Int64).alias("opportunities"),
    )
    if not by:
        return pl.concat([people.sum(), deals.sum()], how="horizontal").select(
            "sales_ready", "opportunities", "won_from_sales_ready", "bookings_from_sales_ready"
        )
    a = people.group_by(by).agg(pl.all().sum())
    b = deals.group_by(by).agg(pl.all().sum())
    return a.join(b, on=by, how="full", coalesce=True, nulls_equal=True).with_columns(
        pl.col("sales_ready", "opportunities", "won_from_sales_ready").fill_null(0).cast(pl.Int64),
        pl.col("bookings_from_sales_ready").fill_null(0.0),
    )


def cost_per_sales_ready(
    prepared: Prepared,
    *,
    by: str | Sequence[str] = ("product_line", "sales_division"),
    allocation: Allocation = "campaign",
    period: PeriodLike = None,
    include_campaign_cost: bool = True,
) -> CostPerSalesReadyResult:
    r"""Average cost per sales-ready lead (and per opportunity) per segment.

    Cost = spend + campaign actual cost in the corporate currency, as the prepared model
    placed it (dated rates; rows without a rate are reported in ``unallocated``, never
    summed). Allocation to segment :math:`g`:

    - ``"campaign"`` (default): cost whose campaign names every ``by`` value goes to
      that segment (``direct_cost``); the rest :math:`R` is spread pro rata to
      sales-ready leads, :math:`R \cdot n_g / \sum_h n_h` (``allocated_cost``);
    - ``"pro_rata_leads"``: all cost is spread pro rata to sales-ready leads.

    Then ``cost = direct_cost + allocated_cost``, ``cost_per_sales_ready = cost /
    sales_ready``, ``cost_per_opportunity = cost / opportunities``. ``sales_ready``
    counts every de-duplicated human the model decided reached the sales-ready stage,
    in the segment the model attributed to them (their own fields, their deal, their
    account or owner, else the campaign that sourced them; ``product_line_rule`` /
    ``sales_division_rule`` of the funnel say which); humans the model could not place
    are the ``(none)`` segment, never dropped. ``opportunities`` counts deals by the
    deal's own segment. Conversion figures for planning come from the same people:
    ``sales_ready_to_won_rate = won_from_sales_ready / sales_ready`` (sales-ready people
    whose own deal was won; still-open ones count as not won, so recent data understates
    it) and ``average_deal_size = bookings_from_sales_ready / won_from_sales_ready``.
    Total cost reconciles:
    :math:`\sum_g \text{cost}_g + \text{unallocated} = \text{total converted cost}`.

    Parameters
    ----------
    prepared
        The prepared model (:func:`closedloop_kit.prepare`).
    by
        Segment columns of the funnel (default product line × sales division).
    allocation
        ``"campaign"`` or ``"pro_rata_leads"``.
    period
        Only cost dated in the period and sales-ready leads and deals reached in it
        (``"2025Q3"``, ``"2025"``, ``"2025-07"`` or a date range).
    include_campaign_cost
        Add ``campaigns.actual_cost`` to the spend.

    Returns
    -------
    CostPerSalesReadyResult

    Examples
    --------
    >>> import closedloop_kit as clk
    >>> p = clk.prepare(clk.datasets.load_sample())
    >>> r = cost_per_sales_ready(p)
    >>> int(r.table["sales_ready"].sum()) == p.stage_counts().row(2)[1]
    True
    """
    if allocation not in _ALLOCATIONS:
        msg = f"`allocation` must be one of {_ALLOCATIONS}, got {allocation!r}"
        raise ValueError(msg)
    by_list = _as_by(by)
    fun = prepared.funnel("person")
    opp = prepared.funnel("opportunity")
    require_columns(fun, [*by_list, "sales_ready_at"], func="cost_per_sales_ready")
    cur = prepared.currency
    span = prepared.bounds(period)
    costs, unconverted = prepared.costs(include_campaign_cost=include_campaign_cost)
    if span is not None:
        day = pl.col("date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        costs = costs.filter(within(day, span))
    for k in by_list:
        if k not in costs.columns:
            costs = costs.with_columns(pl.lit(None, dtype=pl.String).alias(k))
    direct = (
        pl.all_horizontal([pl.col(k).is_not_null() for k in by_list])
        if allocation == "campaign" and by_list
        else pl.lit(False)
    )
    costs = costs.with_columns(
        pl.when(direct).then(pl.lit("direct")).otherwise(pl.lit("pro_rata")).alias("allocation")
    )
    counts = _segment_counts(prepared, fun, opp, by_list, span)
    total_sr = int(counts["sales_ready"].sum())

    dir_cost = (
        costs.filter(pl.col("allocation") == "direct")
        .group_by(by_list)
        .agg(pl.col("cost_corporate").sum().alias("direct_cost"))
        if by_list
        else pl.DataFrame(schema={"direct_cost": pl.Float64})
    )
    rest = float(costs.filter(pl.col("allocation") == "pro_rata")["cost_corporate"].sum())
    table = counts
    if by_list:
        table = table.cast({k: pl.String for k in by_list}).join(  # type: ignore[arg-type]
            dir_cost.cast({k: pl.String for k in by_list}),  # type: ignore[arg-type]
            on=by_list,
            how="full",
            coalesce=True,
        )
    else:
        table = table.with_columns(pl.lit(0.0).alias("direct_cost"))
    table = table.with_columns(
        pl.col("sales_ready", "opportunities", "won_from_sales_ready").fill_null(0),
        pl.col("bookings_from_sales_ready", "direct_cost").fill_null(0.0),
    )
    share = pl.col("sales_ready") / total_sr if total_sr > 0 else pl.lit(0.0)
    table = (
        table.with_columns((share * rest).cast(pl.Float64).alias("allocated_cost"))
        .with_columns((pl.col("direct_cost") + pl.col("allocated_cost")).alias("cost"))
        .with_columns(
            _ratio("cost", "sales_ready").alias("cost_per_sales_ready"),
            _ratio("cost", "opportunities").alias("cost_per_opportunity"),
            _ratio("won_from_sales_ready", "sales_ready").alias("sales_ready_to_won_rate"),
            _ratio("bookings_from_sales_ready", "won_from_sales_ready").alias("average_deal_size"),
        )
        .select(
            *by_list,
            "direct_cost",
            "allocated_cost",
            "cost",
            "sales_ready",
            "cost_per_sales_ready",
            "opportunities",
            "cost_per_opportunity",
            "won_from_sales_ready",
            "sales_ready_to_won_rate",
            "bookings_from_sales_ready",
            "average_deal_size",
        )
    )
    if by_list:
        table = table.sort(by_list)
    un_parts = [
        unconverted.select(
            pl.lit("no fx rate").alias("kind"),
            "source",
            "date",
            "currency",
            "cost",
            pl.lit(None, dtype=pl.Float64).alias("cost_corporate"),
            pl.col("reason"),
        )
    ]
    if total_sr == 0 and rest:
        un_parts.append(
            pl.DataFrame(
                {
                    "kind": ["no sales-ready leads"],
                    "source": ["pro_rata"],
                    "date": [None],
                    "currency": [cur],
                    "cost": [rest],
                    "cost_corporate": [rest],
                    "reason": ["no sales-ready leads to allocate pro rata cost to"],
                },
                schema={
                    "kind": pl.String,
                    "source": pl.String,
                    "date": pl.Date,
                    "currency": pl.String,
                    "cost": pl.Float64,
                    "cost_corporate": pl.Float64,
                    "reason": pl.String,
                },
            )
        )
    params: dict[str, Any] = {
        "by": tuple(by_list),
        "allocation": allocation,
        "corporate_currency": cur,
    }
    return CostPerSalesReadyResult(
        table=table,
        costs=costs,
        unallocated=pl.concat(un_parts, how="vertical_relaxed"),
        rule=RULES[allocation],
        params=params,
    )
