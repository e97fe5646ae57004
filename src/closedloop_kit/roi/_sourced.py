"""``sourced_vs_influenced``: marketing-sourced vs marketing-influenced pipeline and bookings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from closedloop_kit._core.frames import collect, require_columns
from closedloop_kit.config import parse_duration
from closedloop_kit.roi._common import as_by
from closedloop_kit.roi._results import SourcedResult

__all__ = ["sourced_vs_influenced"]

_UTC = pl.Datetime("us", "UTC")


def _ratio(num: str, den: str) -> pl.Expr:
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(None)


def sourced_vs_influenced(
    funnel: pl.DataFrame | pl.LazyFrame,
    journeys: pl.DataFrame | pl.LazyFrame,
    *,
    by: str | Sequence[str] | None = None,
    window: str | int | dt.timedelta = "180d",
    link: str = "journey_id",
) -> SourcedResult:
    r"""Marketing-sourced and marketing-influenced pipeline and bookings, amounts and shares.

    **Sourced**: the funnel entity's ``sourced_by == "marketing"``. The sourcing rule is
    the funnel's (explicit sourced-by field → lead-source map → marketing touch at lead
    creation, :meth:`closedloop_kit.Prepared.funnel`); it is not re-derived here, and
    ``entities.sourced_by_rule`` records which rule decided each entity.
    **Influenced**: the entity's journey has at least one marketing touch
    (``is_marketing``; every touch when the column is absent) with
    ``close − window ≤ occurred_at ≤ close``, where ``close`` is ``won_at``, else
    ``exit_at``, else ``observed_until`` for still-open entities. Sourced entities
    usually are influenced too; the two are not exclusive.

    Per group: ``pipeline`` = :math:`\sum` ``amount_corporate`` of entities that
    reached ``opportunity``; ``bookings`` = :math:`\sum` ``won_amount_corporate`` (else
    ``amount_corporate``) of won entities; ``sourced_pipeline``,
    ``influenced_pipeline``, ``sourced_bookings``, ``influenced_bookings`` restrict the
    sums to those entities, and each ``*_share = amount / total`` (null when the total
    is 0). Counts: ``opportunities``, ``won_deals`` and their sourced/influenced parts.

    Parameters
    ----------
    funnel
        A funnel frame (:meth:`closedloop_kit.Prepared.funnel`) with ``entity_id``,
        ``sourced_by``, ``opportunity_at``, ``won_at``, ``amount_corporate``.
    journeys
        Touches (:meth:`closedloop_kit.Prepared.journeys`) at the funnel's grain:
        ``link`` matches ``entity_id`` (account-level opportunity journeys ↔
        ``grain="opportunity"``; person journeys ↔ ``grain="person"``). Build them with
        ``conversion="won"`` and a lookback at least ``window`` so the touches before
        close are present.
    by
        Funnel columns to group by (e.g. ``["product_line", "sales_division"]``).
    window
        How far before close a marketing touch counts as influence (``"180d"``).
    link
        Journey column holding the funnel ``entity_id`` (``"journey_id"`` or
        ``"person_id"``).

    Returns
    -------
    SourcedResult

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = lambda m: dt.datetime(2026, m, 1, tzinfo=dt.UTC)
    >>> funnel = pl.DataFrame({"entity_id": ["o1", "o2", "o3"],
    ...     "sourced_by": ["marketing", "sales", "sales"],
    ...     "sourced_by_rule": ["explicit", "explicit", "lead_source"],
    ...     "opportunity_at": [t(1), t(1), t(2)], "won_at": [t(3), t(4), None],
    ...     "amount_corporate": [100.0, 300.0, 600.0]})
    >>> j = pl.DataFrame({"journey_id": ["o1", "o2"], "occurred_at": [t(2), t(2)],
    ...     "is_marketing": [True, True]})
    >>> r = sourced_vs_influenced(funnel, j, window="180d")
    >>> r.table.select("pipeline", "sourced_pipeline_share", "influenced_bookings_share").row(0)
    (1000.0, 0.1, 1.0)
    """
    fun = collect(funnel)
    require_columns(
        fun, ["entity_id", "sourced_by", "opportunity_at", "won_at"], func=("sourced_vs_influenced")
    )
    jny = collect(journeys)
    require_columns(jny, [link, "occurred_at"], func="sourced_vs_influenced")
    by_list = as_by(by)
    require_columns(fun, by_list, func="sourced_vs_influenced")
    span = parse_duration(window)
    amount = (
        pl.col("amount_corporate").cast(pl.Float64)
        if "amount_corporate" in fun.columns
        else pl.lit(0.0)
    )
    won_amount = (
        pl.coalesce(pl.col("won_amount_corporate").cast(pl.Float64), amount)
        if "won_amount_corporate" in fun.columns
        else amount
    )
    close = pl.coalesce(
        *[pl.col(c).cast(_UTC) for c in ("won_at", "exit_at", "observed_until") if c in fun.columns]
    )
    rule = pl.col("sourced_by_rule") if "sourced_by_rule" in fun.columns else pl.lit(None)
    ent = fun.select(
        "entity_id",
        *by_list,
        pl.col("opportunity_at").is_not_null().alias("is_opportunity"),
        pl.col("won_at").is_not_null().alias("is_won"),
        amount.fill_null(0.0).alias("_pipeline"),
        won_amount.fill_null(0.0).alias("_bookings"),
        (pl.col("sourced_by") == "marketing").fill_null(False).alias("sourced"),
        pl.col("sourced_by"),
        rule.cast(pl.String).alias("sourced_by_rule"),
        close.alias("_close"),
    )
    mkt = pl.col("is_marketing").fill_null(False) if "is_marketing" in jny.columns else pl.lit(True)
    touches = jny.filter(mkt).select(
        pl.col(link).cast(pl.String).alias("entity_id"), pl.col("occurred_at").cast(_UTC)
    )
    hit = (
        touches.join(ent.select(pl.col("entity_id").cast(pl.String), "_close"), on="entity_id")
        .filter(
            (pl.col("occurred_at") <= pl.col("_close"))
            & (pl.col("occurred_at") >= pl.col("_close") - pl.lit(span))
        )
        .select("entity_id")
        .unique()
        .with_columns(pl.lit(True).alias("influenced"))
    )
    ent = (
        ent.with_columns(pl.col("entity_id").cast(pl.String))
        .join(hit, on="entity_id", how="left")
        .with_columns(pl.col("influenced").fill_null(False))
    )
    opp, won = pl.col("is_opportunity"), pl.col("is_won")
    s, i = pl.col("sourced"), pl.col("influenced")
    aggs = [
        opp.sum().cast(pl.Int64).alias("opportunities"),
        pl.col("_pipeline").filter(opp).sum().alias("pipeline"),
        won.sum().cast(pl.Int64).alias("won_deals"),
        pl.col("_bookings").filter(won).sum().alias("bookings"),
        (opp & s).sum().cast(pl.Int64).alias("sourced_opportunities"),
        pl.col("_pipeline").filter(opp & s).sum().alias("sourced_pipeline"),
        (won & s).sum().cast(pl.Int64).alias("sourced_won_deals"),
        pl.col("_bookings").filter(won & s).sum().alias("sourced_bookings"),
        (opp & i).sum().cast(pl.Int64).alias("influenced_opportunities"),
        pl.col("_pipeline").filter(opp & i).sum().alias("influenced_pipeline"),
        (won & i).sum().cast(pl.Int64).alias("influenced_won_deals"),
        pl.col("_bookings").filter(won & i).sum().alias("influenced_bookings"),
    ]
    table = ent.group_by(by_list).agg(aggs).sort(by_list) if by_list else ent.select(aggs)
    table = table.with_columns(
        pl.col(c).cast(pl.Float64)
        for c in (
            "pipeline",
            "bookings",
            "sourced_pipeline",
            "sourced_bookings",
            "influenced_pipeline",
            "influenced_bookings",
        )
    ).with_columns(
        _ratio("sourced_pipeline", "pipeline").alias("sourced_pipeline_share"),
        _ratio("influenced_pipeline", "pipeline").alias("influenced_pipeline_share"),
        _ratio("sourced_bookings", "bookings").alias("sourced_bookings_share"),
        _ratio("influenced_bookings", "bookings").alias("influenced_bookings_share"),
    )
    entities = ent.select(
        "entity_id", *by_list, "sourced_by", "sourced_by_rule", "sourced", "influenced"
    )
    params = {
        "by": tuple(by_list),
        "window": str(window),
        "link": link,
        "sourced_rule": "funnel sourced_by == 'marketing' (rule per entity in sourced_by_rule)",
        "influenced_rule": "any marketing touch in [close - window, close]",
    }
    return SourcedResult(table=table, entities=entities, params=params)
