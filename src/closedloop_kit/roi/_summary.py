"""``summary``: revenue-based ROI, cost per stage and ROAS per campaign, channel or segment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

import polars as pl

from closedloop_kit.config import Taxonomy
from closedloop_kit.prepared import (
    PeriodLike,
    Prepared,
    join_campaign_dims,
    name_lookup,
    with_lookup,
    within,
)
from closedloop_kit.roi._common import as_by, credits_frame, funnel_column
from closedloop_kit.roi._results import RoiResult, add_kpis

__all__ = ["View", "stage_count_columns", "stage_counts_by", "summary"]

View = Literal["cohort", "bookings"]
_VIEWS = ("cohort", "bookings")


def stage_count_columns(tax: Taxonomy) -> dict[str, str]:
    """Funnel stage → ROI count column (``leads``, ``mqls``, ``sales_ready``, ...).

    The created, sales-ready, opportunity and won stages of the taxonomy are ``leads``,
    ``sales_ready``, ``opportunities`` and ``won`` whatever the company calls them; any
    other stage ``s`` is ``<s>s``.
    """
    roles = {
        tax.created_stage: "leads",
        tax.sales_ready_stage: "sales_ready",
        tax.opportunity_stage: "opportunities",
        tax.won_stage: "won",
    }
    return {s: roles.get(s, f"{s}s") for s in tax.stages}


def _credit_times(credits: pl.DataFrame, view: str, *, needed: bool) -> pl.DataFrame:
    col = "occurred_at" if view == "cohort" else "conversion_at"
    if col in credits.columns or not needed:
        return credits
    msg = (
        f"`summary` with `view={view!r}` needs `{col}` per credited touch: use credits "
        "from `clk.attribution.attribute` (they carry both times), or `every=None` and "
        "`period=None`"
    )
    raise ValueError(msg)


def _key_exprs(by: list[str]) -> list[pl.Expr]:
    return [pl.col(k) for k in by]


def _null_key(by: list[str]) -> pl.Expr:
    if not by:
        return pl.lit(False)
    return pl.any_horizontal([pl.col(k).is_null() for k in by])


def _dimension(frame: pl.DataFrame, key: str) -> pl.Expr:
    col = funnel_column(frame.columns, key)
    return (pl.col(col) if col else pl.lit(None)).cast(pl.String).alias(key)


def stage_counts_by(
    prepared: Prepared,
    by: list[str],
    *,
    every: str | None,
    span: tuple[dt.datetime, dt.datetime] | None,
) -> list[pl.DataFrame]:
    """Stage counts, pipeline and bookings per ``by`` group (and period) from the milestones.

    Lead stages count de-duplicated humans (person funnel), deal stages count deals
    (opportunity funnel); a stage counts in the period its milestone falls in. Groups
    the entity has no value for are kept under a null key (the totals stay whole).
    """
    tax = prepared.taxonomy
    names = stage_count_columns(tax)
    opp_idx = tax.stage_index(tax.opportunity_stage)
    parts: list[pl.DataFrame] = []
    for i, stage in enumerate(tax.stages):
        fun = prepared.funnel("person" if i < opp_idx else "opportunity")
        col = f"{stage}_at"
        reached = pl.col(col).is_not_null() | pl.col(f"{stage}_backfilled")
        if span is not None:
            reached = within(pl.col(col), span)
        extra = []
        if stage == tax.opportunity_stage:
            extra.append(pl.col("amount_corporate").fill_null(0.0).alias("pipeline"))
        if stage == tax.won_stage:
            extra.append(pl.col("won_amount_corporate").fill_null(0.0).alias("bookings"))
        part = fun.filter(reached).select(
            *[_dimension(fun, k) for k in by],
            *([prepared.fiscal.period_expr(pl.col(col), every).alias("period")] if every else []),
            pl.lit(1, dtype=pl.Int64).alias(names[stage]),
            *extra,
        )
        keys = [*by, *(["period"] if every else [])]
        aggs = [pl.col(c).sum() for c in part.columns if c not in keys]
        parts.append(part.group_by(keys).agg(aggs) if keys else part.select(aggs))
    return parts


def summary(
    credits: Any,
    prepared: Prepared,
    *,
    by: str | Sequence[str] = ("campaign",),
    every: str | None = "quarter",
    period: PeriodLike = None,
    view: View = "cohort",
    include_campaign_cost: bool = True,
) -> RoiResult:
    r"""Revenue-based ROI per ``by`` group and fiscal period.

    **Cost** = spend + campaign actual cost, each row converted to the corporate
    currency at the rate valid on its date (``cost_corporate`` is used when the row
    already has it); rows in a currency without a rate are reported in
    ``unconverted``, never summed. Cost rows are placed by campaign id, then ad campaign
    name ↔ campaign/UTM name (case-insensitive), then channel (see
    :mod:`closedloop_kit.prepared._costs`); what cannot be placed in a ``by`` group is in
    ``unallocated``, so

    .. math:: \sum \text{table.cost} + \sum \text{unallocated.cost} = \text{total cost}.

    **Revenue** from the credit frame (any attribution model):
    ``conversions`` = :math:`\sum` credit (attributed deals; won deals when the journeys
    converted on ``"won"``), ``attributed_revenue`` = :math:`\sum` credited_value
    (credit × journey value, corporate currency). Credits reconcile the same way.
    **Stage counts** from the prepared model's milestones, the same ones every analysis
    reads: ``leads``, ``mqls``, ``sales_ready`` (de-duplicated humans reaching the
    taxonomy's stages), ``opportunities`` and ``won`` (deals), ``pipeline`` =
    :math:`\sum` ``amount_corporate`` of deals created and ``bookings`` = :math:`\sum`
    won amounts, each counted in the period the stage was reached, by the entity's own
    dimension (``channel`` → first marketing touch's channel; ``campaign`` → its first
    touch's campaign; ``product_line`` and ``sales_division`` as the model decided them).

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
        frame (``journey_id``, ``channel``, ``credit``, ``credited_value``, and the
        ``occurred_at``/``conversion_at`` times; ``touch_id``, ``campaign_id``,
        ``campaign_name`` when present).
    prepared
        The prepared model (:func:`closedloop_kit.prepare`): spend, campaigns, FX rates,
        corporate currency, fiscal calendar and the stage milestones.
    by
        Group keys: ``"campaign"`` (campaign id, or the normalised UTM name when a
        touch has no CRM campaign), ``"channel"``, ``"product_line"``,
        ``"sales_division"`` or any column of the credits/campaigns tables.
    every
        Period rows: ``"quarter"`` (fiscal), ``"month"``, ``"year"``, ... or ``None``
        for totals.
    period
        Only this period (``"2025Q3"``, ``"2025"``, ``"2025-07"`` or a date range) for
        every number: cost by its date, revenue by the credited touch (``"cohort"``) or
        the conversion (``"bookings"``), stage counts by the milestone's time.
    view
        ``"cohort"`` or ``"bookings"``.
    include_campaign_cost
        Add ``campaigns.actual_cost`` to the spend.

    Returns
    -------
    RoiResult

    Examples
    --------
    >>> import closedloop_kit as clk
    >>> p = clk.prepare(clk.datasets.load_sample())
    >>> credits = clk.attribution.attribute(p.journeys(conversion="won"), model="linear")
    >>> r = summary(credits, p, by="channel", every=None)
    >>> int(r.table["won"].sum()) == int(p.stage_counts()["count"][-1])
    True
    """
    by_list = as_by(by)
    if view not in _VIEWS:
        msg = f"`view` must be one of {_VIEWS}, got {view!r}"
        raise ValueError(msg)
    fiscal = prepared.fiscal
    cur = prepared.currency
    span = prepared.bounds(period)
    cred, model = credits_frame(credits, func="summary")
    cred, keys, by_list = _credits_by_key(prepared, cred, by_list, view, every, span)
    rev_ok = cred.filter(~_null_key(by_list))
    rev_bad = cred.filter(_null_key(by_list))
    rev = _sum_by(
        rev_ok,
        keys,
        pl.col("credit").sum().cast(pl.Float64).alias("conversions"),
        pl.col("credited_value").sum().fill_null(0.0).cast(pl.Float64).alias("attributed_revenue"),
    )
    costs, unconverted = _costs_by_key(prepared, by_list, every, span, include_campaign_cost)
    cost_ok = costs.filter(~_null_key(by_list))
    cost_bad = costs.filter(_null_key(by_list))
    cost = _sum_by(cost_ok, keys, pl.col("cost_corporate").sum().cast(pl.Float64).alias("cost"))
    funnel_parts = stage_counts_by(prepared, by_list, every=every, span=span)
    counts = list(stage_count_columns(prepared.taxonomy).values())
    table = _combine([cost, rev, *funnel_parts], keys, counts, view)
    unallocated, reconciliation = _unallocated(
        cost_bad, rev_bad, costs, cred, table, unconverted, by_list
    )
    params: dict[str, Any] = {
        "model": model,
        "by": tuple(by_list),
        "every": every,
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


def _sum_by(frame: pl.DataFrame, keys: list[str], *aggs: pl.Expr) -> pl.DataFrame:
    """``aggs`` per ``keys`` (one row of totals without keys)."""
    return frame.group_by(keys).agg(*aggs) if keys else frame.select(*aggs)


def _credits_by_key(
    prepared: Prepared,
    cred: pl.DataFrame,
    by_list: list[str],
    view: str,
    every: str | None,
    span: Any,
) -> tuple[pl.DataFrame, list[str], list[str]]:
    """Credits in the period with their campaign key, dimensions and fiscal period.

    Returns ``(credits, keys, by_list)``; ``keys`` is ``by_list`` plus ``period`` when
    ``every`` is set.
    """
    for c in ("campaign_id", "campaign_name"):
        if c not in cred.columns:
            cred = cred.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    tcol = "occurred_at" if view == "cohort" else "conversion_at"
    cred = _credit_times(cred, view, needed=every is not None or span is not None)
    if span is not None:
        cred = cred.filter(within(pl.col(tcol), span))
    touch_names = cred.select("campaign_id", "campaign_name").filter(
        pl.col("campaign_name").is_not_null()
    )
    # the prepared model's lookup (the one the costs were placed with), plus the names
    # of credited touches it does not know (hand-made journeys)
    known = prepared.campaign_lookup()
    own = name_lookup(None, touch_names.cast(pl.String))
    lookup = pl.concat([known, own.join(known, on="name_norm", how="anti")])
    cred = (
        with_lookup(cred, "campaign_name", lookup)
        .with_columns(
            pl.coalesce(pl.col("campaign_id").cast(pl.String), pl.col("_lookup_campaign")).alias(
                "campaign"
            )
        )
        .drop("_lookup_campaign")
    )
    cred = join_campaign_dims(cred, prepared.data.frame("campaigns"))
    period_cols: list[str] = []
    if every is not None:
        cred = cred.with_columns(prepared.fiscal.period_expr(pl.col(tcol), every).alias("period"))
        period_cols = ["period"]
    missing = [k for k in by_list if k not in cred.columns]
    if missing:
        msg = (
            f"`by` key(s) {missing} are neither credit columns nor campaign columns; "
            f"valid keys include {sorted(set(cred.columns) - {'credit', 'credited_value'})}"
        )
        raise ValueError(msg)
    return cred, by_list + period_cols, by_list


def _costs_by_key(
    prepared: Prepared,
    by_list: list[str],
    every: str | None,
    span: Any,
    include_campaign_cost: bool,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The prepared model's cost rows in the period, with ``period`` and every ``by`` key."""
    costs, unconverted = prepared.costs(include_campaign_cost=include_campaign_cost)
    if span is not None:
        day = pl.col("date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        costs = costs.filter(within(day, span))
    if every is not None:
        costs = costs.with_columns(
            prepared.fiscal.period_expr(pl.col("date"), every).alias("period")
        )
    for k in by_list:
        if k not in costs.columns:
            costs = costs.with_columns(pl.lit(None, dtype=pl.String).alias(k))
    return costs, unconverted


def _combine(
    frames: list[pl.DataFrame], keys: list[str], counts: list[str], view: str
) -> pl.DataFrame:
    """Cost, revenue and funnel counts joined on ``keys``, zero-filled, with the KPIs."""
    if keys:
        schema_keys = {k: pl.String for k in keys}
        frames = [f.cast(schema_keys) for f in frames]  # type: ignore[arg-type]
        table = frames[0]
        for f in frames[1:]:
            table = table.join(f, on=keys, how="full", coalesce=True, nulls_equal=True)
    else:
        table = pl.concat(frames, how="horizontal")
    fill: dict[str, float | int] = {
        c: 0.0 for c in ("cost", "conversions", "attributed_revenue", "pipeline", "bookings")
    }
    fill.update({n: 0 for n in counts})
    for c, v in fill.items():
        if c not in table.columns:
            table = table.with_columns(pl.lit(v).alias(c))
        table = table.with_columns(pl.col(c).fill_null(v))
    table = table.select(
        *keys,
        pl.lit(view).alias("view"),
        "cost",
        *[pl.col(c).cast(pl.Int64) for c in counts],
        "pipeline",
        "bookings",
        "conversions",
        "attributed_revenue",
    )
    return add_kpis(table).sort(keys) if keys else add_kpis(table)


def _unallocated(
    cost_bad: pl.DataFrame,
    rev_bad: pl.DataFrame,
    costs: pl.DataFrame,
    cred: pl.DataFrame,
    table: pl.DataFrame,
    unconverted: pl.DataFrame,
    by_list: list[str],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cost and revenue without a value for a ``by`` key, and the reconciliation table."""
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
    return unallocated, reconciliation
