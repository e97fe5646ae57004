"""``summary``: revenue-based ROI, cost per stage and ROAS per campaign, channel or segment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import polars as pl

from closedloop_kit._core.frames import collect, require_columns
from closedloop_kit.config import FiscalCalendar
from closedloop_kit.roi._common import as_by, credits_frame, funnel_column, table_or_none
from closedloop_kit.roi._results import RoiResult, add_kpis
from closedloop_kit.roi._spend import (
    cost_rows,
    join_campaign_dims,
    match_costs,
    name_lookup,
    with_lookup,
)
from closedloop_kit.store import ClosedLoopData

__all__ = ["View", "summary"]

View = Literal["cohort", "bookings"]
STAGE_COUNTS = {
    "raw_lead": "leads",
    "mql": "mqls",
    "sales_ready": "sales_ready",
    "opportunity": "opportunities",
}
_VIEWS = ("cohort", "bookings")


def _credit_times(
    credits: pl.DataFrame, journeys: pl.DataFrame | None, view: str, *, needed: bool
) -> pl.DataFrame:
    col = "occurred_at" if view == "cohort" else "conversion_at"
    if col in credits.columns or not needed:
        return credits
    if journeys is None:
        msg = (
            f"`summary` with `view={view!r}` needs `{col}` per credited touch: pass "
            "`journeys=` (the frame the credits were computed from) or credits with "
            f"`{col}`, or `period=None`"
        )
        raise ValueError(msg)
    if view == "cohort":
        require_columns(journeys, ["journey_id", "touch_id", "occurred_at"], func="summary")
        require_columns(credits, ["touch_id"], func="summary")
        right = journeys.select("journey_id", "touch_id", "occurred_at").unique(
            ["journey_id", "touch_id"], keep="first"
        )
        return credits.join(right, on=["journey_id", "touch_id"], how="left")
    require_columns(journeys, ["journey_id", "conversion_at"], func="summary")
    right = journeys.group_by("journey_id").agg(pl.col("conversion_at").max())
    return credits.join(right, on="journey_id", how="left")


def _with_first_touch_campaign(
    fun: pl.DataFrame, data: ClosedLoopData | None, lookup: pl.DataFrame
) -> pl.DataFrame:
    """Add ``first_touch_campaign_id``: the campaign of a person's first marketing touch.

    Only for person-grain funnels with ``data.touchpoints``; the campaign key is the
    touch's ``campaign_id``, else its ``campaign_name`` resolved as for credits.
    """
    if data is None or "grain" not in fun.columns or fun.height == 0:
        return fun
    if fun["grain"][0] != "person":
        return fun
    tp = data.frame("touchpoints")
    if tp.height == 0 or not {"person_id", "occurred_at"} <= set(tp.columns):
        return fun
    for c in ("campaign_id", "campaign_name"):
        if c not in tp.columns:
            tp = tp.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    mkt = pl.col("is_marketing").fill_null(True) if "is_marketing" in tp.columns else pl.lit(True)
    first = (
        with_lookup(tp.filter(mkt & pl.col("person_id").is_not_null()), "campaign_name", lookup)
        .with_columns(
            pl.coalesce(pl.col("campaign_id").cast(pl.String), pl.col("_lookup_campaign")).alias(
                "first_touch_campaign_id"
            )
        )
        .filter(pl.col("first_touch_campaign_id").is_not_null())
        .sort("person_id", "occurred_at", "first_touch_campaign_id")
        .group_by("person_id", maintain_order=True)
        .agg(pl.col("first_touch_campaign_id").first())
    )
    return fun.join(first.rename({"person_id": "entity_id"}), on="entity_id", how="left")


def _key_exprs(by: list[str]) -> list[pl.Expr]:
    return [pl.col(k) for k in by]


def _null_key(by: list[str]) -> pl.Expr:
    if not by:
        return pl.lit(False)
    return pl.any_horizontal([pl.col(k).is_null() for k in by])


def summary(
    credits: Any,
    spend: pl.DataFrame | pl.LazyFrame | None = None,
    *,
    journeys: pl.DataFrame | pl.LazyFrame | None = None,
    data: ClosedLoopData | None = None,
    funnel: pl.DataFrame | pl.LazyFrame | None = None,
    campaigns: pl.DataFrame | pl.LazyFrame | None = None,
    fx_rates: pl.DataFrame | pl.LazyFrame | None = None,
    by: str | Sequence[str] = ("campaign",),
    period: str | None = "quarter",
    fiscal: FiscalCalendar | None = None,
    view: View = "cohort",
    corporate_currency: str | None = None,
    include_campaign_cost: bool = True,
) -> RoiResult:
    r"""Revenue-based ROI per ``by`` group and fiscal period.

    **Cost** = spend + campaign actual cost, each row converted to the corporate
    currency at the rate valid on its date (``cost_corporate`` is used when the row
    already has it); rows in a currency without a rate are reported in
    ``unconverted``, never summed. Cost rows are placed by campaign id, then ad campaign
    name ↔ campaign/UTM name (case-insensitive), then channel (see
    :mod:`closedloop_kit.roi._spend`); what cannot be placed in a ``by`` group is in
    ``unallocated``, so

    .. math:: \sum \text{table.cost} + \sum \text{unallocated.cost} = \text{total cost}.

    **Revenue** from the credit frame (any attribution model):
    ``conversions`` = :math:`\sum` credit (attributed deals; won deals when the journeys
    converted on ``"won"``), ``attributed_revenue`` = :math:`\sum` credited_value
    (credit × journey value, corporate currency). Credits reconcile the same way.
    **Stage counts** from the funnel (entities reaching ``raw_lead``/``mql``/
    ``sales_ready``/``opportunity``: ``leads``, ``mqls``, ``sales_ready``,
    ``opportunities``) and ``pipeline`` = :math:`\sum` ``amount_corporate`` of entities
    that reached ``opportunity``, each counted in the period the stage was reached, by
    the funnel's own dimension (``channel`` → ``first_touch_channel``; ``campaign`` →
    ``first_touch_campaign_id``, derived for a person-grain funnel from ``data``'s
    touchpoints as the campaign of the person's first marketing touch that has one;
    null when the funnel has no column for a ``by`` key).

    KPIs (null when the denominator is 0): cost per lead = cost / leads; cost per MQL =
    cost / mqls; cost per sales-ready lead = cost / sales_ready; cost per opportunity =
    cost / opportunities; CAC = cost / conversions; pipeline-to-spend = pipeline / cost;
    ROAS = attributed revenue / cost; ROI = (attributed revenue − cost) / cost.

    Time alignment (``view``): cost is always in the period of its date. ``"cohort"``
    credits revenue back to the period of the credited *touch* (judge the spend that
    generated it); ``"bookings"`` puts it in the period the journey *converted*
    (closed). The ``view`` column of the table says which.

    Parameters
    ----------
    credits
        An :class:`~closedloop_kit.attribution.AttributionResult` or its ``credits``
        frame (``journey_id``, ``channel``, ``credit``, ``credited_value``; ``touch_id``,
        ``campaign_id``, ``campaign_name`` when present).
    spend
        The canonical ``spend`` table (default: ``data.spend``).
    journeys
        The journeys the credits came from: supplies ``occurred_at``/``conversion_at``
        when the credit frame lacks them (needed unless ``period=None``).
    data
        Canonical tables: defaults for ``spend``, ``campaigns``, ``fx_rates`` and the
        corporate currency.
    funnel
        A funnel frame (:func:`closedloop_kit.funnel.build`) for stage counts and pipeline.
    campaigns, fx_rates
        Override ``data``'s tables.
    by
        Group keys: ``"campaign"`` (campaign id, or the normalised UTM name when a
        touch has no CRM campaign), ``"channel"``, ``"product_line"``,
        ``"sales_division"`` or any column of the credits/campaigns tables.
    period
        ``"quarter"`` (fiscal), ``"month"``, ``"year"``, ... or ``None`` for totals.
    fiscal
        Fiscal calendar for quarter/year labels (default calendar quarters).
    view
        ``"cohort"`` or ``"bookings"``.
    corporate_currency
        Default ``data.corporate_currency``, else ``"USD"``.
    include_campaign_cost
        Add ``campaigns.actual_cost`` to the spend.

    Returns
    -------
    RoiResult

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> credits = pl.DataFrame({"journey_id": ["j1", "j1", "j2"], "touch_id": ["t1", "t2", "t3"],
    ...     "channel": ["Paid Search", "Email", "Paid Search"],
    ...     "campaign_id": ["c1", None, "c1"], "campaign_name": [None, None, None],
    ...     "credit": [0.5, 0.5, 1.0], "credited_value": [500.0, 500.0, 300.0]})
    >>> spend = pl.DataFrame({"date": [dt.date(2026, 1, 5)], "campaign_id": ["c1"],
    ...     "channel": ["Paid Search"], "currency": ["USD"], "cost": [400.0]})
    >>> r = summary(credits, spend, by="channel", period=None)
    >>> r.table.select("channel", "cost", "attributed_revenue", "roi").rows()
    [('Email', 0.0, 500.0, None), ('Paid Search', 400.0, 800.0, 1.0)]
    """
    by_list = as_by(by)
    if view not in _VIEWS:
        msg = f"`view` must be one of {_VIEWS}, got {view!r}"
        raise ValueError(msg)
    fiscal = fiscal or FiscalCalendar()
    cur = corporate_currency or (data.corporate_currency if data is not None else "USD")
    cred, model = credits_frame(credits, func="summary")
    jny = collect(journeys) if journeys is not None else None
    spend_f = table_or_none(spend, data, "spend")
    camp = table_or_none(campaigns, data, "campaigns")
    fx = table_or_none(fx_rates, data, "fx_rates")

    # -- revenue -----------------------------------------------------------------------
    for c in ("campaign_id", "campaign_name"):
        if c not in cred.columns:
            cred = cred.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    cred = _credit_times(cred, jny, view, needed=period is not None)
    touch_names = cred.select("campaign_id", "campaign_name").filter(
        pl.col("campaign_name").is_not_null()
    )
    if jny is not None and {"campaign_id", "campaign_name"} <= set(jny.columns):
        touch_names = pl.concat(
            [
                touch_names.cast(pl.String),
                jny.select("campaign_id", "campaign_name")
                .filter(pl.col("campaign_name").is_not_null())
                .cast(pl.String),
            ]
        ).unique()
    lookup = name_lookup(camp, touch_names.cast(pl.String))
    cred = (
        with_lookup(cred, "campaign_name", lookup)
        .with_columns(
            pl.coalesce(pl.col("campaign_id").cast(pl.String), pl.col("_lookup_campaign")).alias(
                "campaign"
            )
        )
        .drop("_lookup_campaign")
    )
    cred = join_campaign_dims(cred, camp)
    period_cols: list[str] = []
    if period is not None:
        tcol = "occurred_at" if view == "cohort" else "conversion_at"
        cred = cred.with_columns(fiscal.period_expr(pl.col(tcol), period).alias("period"))
        period_cols = ["period"]
    missing = [k for k in by_list if k not in cred.columns]
    if missing:
        msg = (
            f"`by` key(s) {missing} are neither credit columns nor campaign columns; "
            f"valid keys include {sorted(set(cred.columns) - {'credit', 'credited_value'})}"
        )
        raise ValueError(msg)
    keys = by_list + period_cols
    rev_ok = cred.filter(~_null_key(by_list))
    rev_bad = cred.filter(_null_key(by_list))
    rev = (
        rev_ok.group_by(keys).agg(
            pl.col("credit").sum().cast(pl.Float64).alias("conversions"),
            pl.col("credited_value")
            .sum()
            .fill_null(0.0)
            .cast(pl.Float64)
            .alias("attributed_revenue"),
        )
        if keys
        else rev_ok.select(
            pl.col("credit").sum().cast(pl.Float64).alias("conversions"),
            pl.col("credited_value")
            .sum()
            .fill_null(0.0)
            .cast(pl.Float64)
            .alias("attributed_revenue"),
        )
    )

    # -- cost --------------------------------------------------------------------------
    if spend_f is None:
        spend_f = pl.DataFrame(schema={"date": pl.Date, "currency": pl.String, "cost": pl.Float64})
    costs, unconverted = cost_rows(
        spend_f, camp, fx, cur, include_campaign_cost=include_campaign_cost
    )
    costs = match_costs(costs, camp, lookup)
    if period is not None:
        costs = costs.with_columns(fiscal.period_expr(pl.col("date"), period).alias("period"))
    for k in by_list:
        if k not in costs.columns:
            costs = costs.with_columns(pl.lit(None, dtype=pl.String).alias(k))
    cost_ok = costs.filter(~_null_key(by_list))
    cost_bad = costs.filter(_null_key(by_list))
    cost = (
        cost_ok.group_by(keys).agg(pl.col("cost_corporate").sum().cast(pl.Float64).alias("cost"))
        if keys
        else cost_ok.select(pl.col("cost_corporate").sum().cast(pl.Float64).alias("cost"))
    )

    # -- funnel ------------------------------------------------------------------------
    funnel_parts: list[pl.DataFrame] = []
    funnel_ok = False
    if funnel is not None:
        fun = collect(funnel)
        if "campaign" in by_list and funnel_column(fun.columns, "campaign") is None:
            fun = _with_first_touch_campaign(fun, data, lookup)
        fcols = {k: funnel_column(fun.columns, k) for k in by_list}
        funnel_ok = all(v is not None for v in fcols.values())
        if funnel_ok:
            sel = [pl.col(str(v)).cast(pl.String).alias(k) for k, v in fcols.items()]
            for stage, name in STAGE_COUNTS.items():
                col = f"{stage}_at"
                if col not in fun.columns:
                    continue
                part = fun.filter(pl.col(col).is_not_null()).select(
                    *sel,
                    *([fiscal.period_expr(pl.col(col), period).alias("period")] if period else []),
                    pl.lit(1, dtype=pl.Int64).alias(name),
                    *(
                        [pl.col("amount_corporate").fill_null(0.0).alias("pipeline")]
                        if stage == "opportunity" and "amount_corporate" in fun.columns
                        else []
                    ),
                )
                aggs = [pl.col(name).sum()]
                if "pipeline" in part.columns:
                    aggs.append(pl.col("pipeline").sum().cast(pl.Float64))
                part = part.filter(~_null_key(by_list))
                funnel_parts.append(part.group_by(keys).agg(aggs) if keys else part.select(aggs))

    # -- combine -----------------------------------------------------------------------
    frames = [cost, rev, *funnel_parts]
    if keys:
        schema_keys = {k: pl.String for k in keys}
        frames = [f.cast(schema_keys) for f in frames]  # type: ignore[arg-type]
        table = frames[0]
        for f in frames[1:]:
            table = table.join(f, on=keys, how="full", coalesce=True, nulls_equal=True)
    else:
        table = pl.concat(frames, how="horizontal")
    fill = {c: 0.0 for c in ("cost", "conversions", "attributed_revenue")}
    if funnel_ok:
        fill.update({n: 0 for n in STAGE_COUNTS.values()})
        fill["pipeline"] = 0.0
    for c, v in fill.items():
        if c not in table.columns:
            table = table.with_columns(pl.lit(v).alias(c))
        table = table.with_columns(pl.col(c).fill_null(v))
    if not funnel_ok:
        table = table.with_columns(
            *[pl.lit(None, dtype=pl.Int64).alias(n) for n in STAGE_COUNTS.values()],
            pl.lit(None, dtype=pl.Float64).alias("pipeline"),
        )
    table = table.select(
        *keys,
        pl.lit(view).alias("view"),
        "cost",
        *STAGE_COUNTS.values(),
        "pipeline",
        "conversions",
        "attributed_revenue",
    )
    table = add_kpis(table).sort(keys) if keys else add_kpis(table)

    # -- unallocated and reconciliation -------------------------------------------------
    un_cost = cost_bad.select(
        pl.lit("cost").alias("kind"),
        pl.format(
            "cost matched at `{}` level: no value for {}",
            pl.col("match_level"),
            pl.lit(str(by_list)),
        ).alias("reason"),
        "source",
        "date",
        "channel",
        "campaign",
        "ad_campaign_name",
        pl.col("cost_corporate").alias("cost"),
        pl.lit(0.0).alias("attributed_revenue"),
    )
    un_rev = rev_bad.select(
        pl.lit("revenue").alias("kind"),
        pl.lit(f"credited touch without a value for {by_list}").alias("reason"),
        pl.lit("credits").alias("source"),
        pl.lit(None, dtype=pl.Date).alias("date"),
        pl.col("channel").cast(pl.String),
        pl.col("campaign").cast(pl.String),
        pl.lit(None, dtype=pl.String).alias("ad_campaign_name"),
        pl.lit(0.0).alias("cost"),
        pl.col("credited_value").fill_null(0.0).cast(pl.Float64).alias("attributed_revenue"),
    )
    unallocated = pl.concat([un_cost, un_rev])
    total_cost = float(costs["cost_corporate"].sum())
    total_rev = float(cred["credited_value"].fill_null(0.0).sum())
    items = [
        ("total_cost", total_cost),
        ("allocated_cost", float(table["cost"].sum())),
        ("unallocated_cost", float(un_cost["cost"].sum())),
    ]
    for level in ("campaign_id", "campaign_name", "channel", "unmatched"):
        items.append(
            (
                f"cost_matched_by_{level}",
                float(costs.filter(pl.col("match_level") == level)["cost_corporate"].sum()),
            )
        )
    items += [
        ("unconverted_cost_rows", float(unconverted.height)),
        ("total_attributed_revenue", total_rev),
        ("allocated_attributed_revenue", float(table["attributed_revenue"].sum())),
        ("unallocated_attributed_revenue", float(un_rev["attributed_revenue"].sum())),
        ("total_conversions", float(cred["credit"].sum())),
    ]
    reconciliation = pl.DataFrame(
        items, schema={"item": pl.String, "amount": pl.Float64}, orient="row"
    )
    params: dict[str, Any] = {
        "model": model,
        "by": tuple(by_list),
        "period": period,
        "fiscal_start_month": fiscal.start_month,
        "view": view,
        "corporate_currency": cur,
        "include_campaign_cost": include_campaign_cost,
    }
    return RoiResult(
        table=table,
        costs=costs,
        unallocated=unallocated,
        unconverted=unconverted,
        reconciliation=reconciliation,
        credits=cred,
        params=params,
    )
