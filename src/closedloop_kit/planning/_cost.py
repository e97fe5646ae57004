"""``cost_per_sales_ready``: average cost per sales-ready lead by product line and division."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import polars as pl

from closedloop_kit._core.frames import collect, require_columns
from closedloop_kit.planning._results import CostPerSalesReadyResult
from closedloop_kit.roi._common import as_by, table_or_none
from closedloop_kit.roi._results import RoiResult
from closedloop_kit.roi._spend import cost_rows, match_costs, name_lookup
from closedloop_kit.store import ClosedLoopData

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


def cost_per_sales_ready(
    spend: pl.DataFrame | pl.LazyFrame | RoiResult | None,
    funnel: pl.DataFrame | pl.LazyFrame,
    *,
    by: str | Sequence[str] = ("product_line", "sales_division"),
    allocation: Allocation = "campaign",
    data: ClosedLoopData | None = None,
    campaigns: pl.DataFrame | pl.LazyFrame | None = None,
    fx_rates: pl.DataFrame | pl.LazyFrame | None = None,
    corporate_currency: str | None = None,
    include_campaign_cost: bool = True,
) -> CostPerSalesReadyResult:
    r"""Average cost per sales-ready lead (and per opportunity) per segment.

    Cost = spend + campaign actual cost in the corporate currency (dated rates; rows
    without a rate are reported in ``unallocated``, never summed; see
    :func:`closedloop_kit.roi.summary`). Allocation to segment :math:`g`:

    - ``"campaign"`` (default): cost whose campaign names every ``by`` value goes to
      that segment (``direct_cost``); the rest :math:`R` is spread pro rata to
      sales-ready leads, :math:`R \cdot n_g / \sum_h n_h` (``allocated_cost``);
    - ``"pro_rata_leads"``: all cost is spread pro rata to sales-ready leads.

    Then ``cost = direct_cost + allocated_cost``, ``cost_per_sales_ready = cost /
    sales_ready``, ``cost_per_opportunity = cost / opportunities``. Conversion figures
    for planning come from the same funnel: ``sales_ready_to_won_rate = won_from_sales_ready
    / sales_ready`` (entities that reached sales-ready and were won; still-open ones count
    as not won, so recent data understates it) and ``average_deal_size =
    bookings_from_sales_ready / won_from_sales_ready``. Total cost reconciles:
    :math:`\sum_g \text{cost}_g + \text{unallocated} = \text{total converted cost}`.

    Parameters
    ----------
    spend
        The canonical spend table, or a :class:`~closedloop_kit.roi.RoiResult` (its
        converted ``costs`` are reused). Default ``data.spend``.
    funnel
        A funnel frame (:func:`closedloop_kit.funnel.build`) with the ``by`` columns,
        ``sales_ready_at``, ``opportunity_at``, ``won_at`` and ``won_amount_corporate``
        (or ``amount_corporate``).
    by
        Segment columns (default product line × sales division).
    allocation
        ``"campaign"`` or ``"pro_rata_leads"``.
    data, campaigns, fx_rates, corporate_currency, include_campaign_cost
        As in :func:`closedloop_kit.roi.summary`.

    Returns
    -------
    CostPerSalesReadyResult

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    >>> funnel = pl.DataFrame({"product_line": ["A", "A", "B"], "sales_division": ["X"] * 3,
    ...     "sales_ready_at": [t, t, t], "opportunity_at": [t, None, t],
    ...     "won_at": [t, None, None], "amount_corporate": [1000.0, None, 500.0]})
    >>> spend = pl.DataFrame({"date": [dt.date(2026, 1, 1)] * 2, "currency": ["USD"] * 2,
    ...     "campaign_id": ["c1", None], "channel": ["Event", "Display"],
    ...     "cost": [300.0, 90.0]})
    >>> camps = pl.DataFrame({"campaign_id": ["c1"], "name": ["Expo"],
    ...     "product_line": ["A"], "sales_division": ["X"]})
    >>> r = cost_per_sales_ready(spend, funnel, campaigns=camps)
    >>> r.table.select("product_line", "cost", "sales_ready", "cost_per_sales_ready").rows()
    [('A', 360.0, 2, 180.0), ('B', 30.0, 1, 30.0)]
    """
    if allocation not in _ALLOCATIONS:
        msg = f"`allocation` must be one of {_ALLOCATIONS}, got {allocation!r}"
        raise ValueError(msg)
    by_list = as_by(by)
    fun = collect(funnel)
    require_columns(fun, [*by_list, "sales_ready_at"], func="cost_per_sales_ready")
    cur = corporate_currency or (data.corporate_currency if data is not None else "USD")
    camp = table_or_none(campaigns, data, "campaigns")
    if isinstance(spend, RoiResult):
        costs = spend.costs
        unconverted = spend.unconverted
        cur = str(spend.params.get("corporate_currency", cur))
    else:
        spend_f = table_or_none(spend, data, "spend")
        if spend_f is None:
            spend_f = pl.DataFrame(
                schema={"date": pl.Date, "currency": pl.String, "cost": pl.Float64}
            )
        fx = table_or_none(fx_rates, data, "fx_rates")
        costs, unconverted = cost_rows(
            spend_f, camp, fx, cur, include_campaign_cost=include_campaign_cost
        )
        costs = match_costs(costs, camp, name_lookup(camp, None))
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

    # funnel counts per segment
    sr = pl.col("sales_ready_at").is_not_null()
    won = sr & pl.col("won_at").is_not_null() if "won_at" in fun.columns else pl.lit(False)
    opp = (
        pl.col("opportunity_at").is_not_null() if "opportunity_at" in fun.columns else pl.lit(False)
    )
    if "won_amount_corporate" in fun.columns:
        booked = pl.col("won_amount_corporate").cast(pl.Float64)
        if "amount_corporate" in fun.columns:
            booked = pl.coalesce(booked, pl.col("amount_corporate").cast(pl.Float64))
    elif "amount_corporate" in fun.columns:
        booked = pl.col("amount_corporate").cast(pl.Float64)
    else:
        booked = pl.lit(0.0)
    aggs = [
        sr.sum().cast(pl.Int64).alias("sales_ready"),
        opp.sum().cast(pl.Int64).alias("opportunities"),
        won.sum().cast(pl.Int64).alias("won_from_sales_ready"),
        booked.fill_null(0.0).filter(won).sum().cast(pl.Float64).alias("bookings_from_sales_ready"),
    ]
    keyed = fun.with_columns(pl.col(k).cast(pl.String) for k in by_list).filter(
        pl.all_horizontal([pl.col(k).is_not_null() for k in by_list]) if by_list else pl.lit(True)
    )
    counts = keyed.group_by(by_list).agg(aggs) if by_list else keyed.select(aggs)
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
