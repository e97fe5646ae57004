"""Costs in corporate currency and their matching to campaigns and channels.

Two sources of cost: the ``spend`` table (daily ad and program spend) and
``campaigns.actual_cost`` (program cost recorded on the CRM campaign, not in ``spend``).
Each cost row is converted to the corporate currency with the rate valid on its date
(``spend.date``; a campaign's ``start_date``, else ``end_date``) unless it already has
``cost_corporate``; a row in a currency without a rate is *unconverted*: reported, never
summed. Every converted row is then placed by the first rule that applies:

1. ``campaign_id`` — the row names a CRM campaign;
2. ``campaign_name`` — its ``ad_campaign_name`` equals (case-insensitive, trimmed) a
   campaign's ``name`` or ``utm_campaign``, or a touchpoint ``campaign_name`` (the UTM
   campaign);
3. ``channel`` — only the channel is known;
4. ``unmatched`` — nothing is known; the cost stays in the totals and is reported.
"""

from __future__ import annotations

import polars as pl

from closedloop_kit._core.frames import collect
from closedloop_kit._core.names import norm_name

__all__ = ["COST_COLUMNS", "campaign_key_expr", "cost_rows", "name_lookup", "norm_name"]

COST_COLUMNS = {
    "source": pl.String,
    "date": pl.Date,
    "platform": pl.String,
    "spend_campaign_id": pl.String,
    "ad_campaign_name": pl.String,
    "channel": pl.String,
    "currency": pl.String,
    "cost": pl.Float64,
    "cost_corporate": pl.Float64,
}


def _col(frame: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype=dtype)


def _spend_rows(spend: pl.DataFrame) -> pl.DataFrame:
    return spend.select(
        pl.lit("spend").alias("source"),
        _col(spend, "date", pl.Date()).alias("date"),
        _col(spend, "platform", pl.String()).alias("platform"),
        _col(spend, "campaign_id", pl.String()).alias("spend_campaign_id"),
        _col(spend, "ad_campaign_name", pl.String()).alias("ad_campaign_name"),
        _col(spend, "channel", pl.String()).alias("channel"),
        _col(spend, "currency", pl.String()).alias("currency"),
        _col(spend, "cost", pl.Float64()).alias("cost"),
        _col(spend, "cost_corporate", pl.Float64()).alias("cost_corporate"),
    )


def _campaign_rows(campaigns: pl.DataFrame) -> pl.DataFrame:
    if "actual_cost" not in campaigns.columns:
        return pl.DataFrame(schema=COST_COLUMNS)
    date = pl.coalesce(
        _col(campaigns, "start_date", pl.Date()), _col(campaigns, "end_date", pl.Date())
    )
    return campaigns.filter(
        pl.col("actual_cost").is_not_null() & (pl.col("actual_cost") != 0)
    ).select(
        pl.lit("campaign_actual_cost").alias("source"),
        date.alias("date"),
        pl.lit("crm").alias("platform"),
        pl.col("campaign_id").cast(pl.String).alias("spend_campaign_id"),
        pl.lit(None, dtype=pl.String).alias("ad_campaign_name"),
        _col(campaigns, "channel", pl.String()).alias("channel"),
        _col(campaigns, "currency", pl.String()).alias("currency"),
        pl.col("actual_cost").cast(pl.Float64).alias("cost"),
        pl.lit(None, dtype=pl.Float64).alias("cost_corporate"),
    )


def cost_rows(
    spend: pl.DataFrame | pl.LazyFrame,
    campaigns: pl.DataFrame | pl.LazyFrame | None,
    fx_rates: pl.DataFrame | pl.LazyFrame | None,
    corporate_currency: str,
    *,
    include_campaign_cost: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Spend and campaign actual cost in corporate currency, plus the unconverted rows.

    Returns ``(converted, unconverted)``; ``unconverted`` has a ``reason`` column.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> spend = pl.DataFrame({"date": [dt.date(2026, 1, 5), dt.date(2026, 1, 6)],
    ...     "currency": ["EUR", "GBP"], "cost": [100.0, 10.0], "channel": ["Display"] * 2})
    >>> fx = pl.DataFrame({"currency": ["EUR"], "valid_from": [dt.date(2026, 1, 1)],
    ...     "valid_to": [None], "rate_to_corporate": [1.5]})
    >>> ok, bad = cost_rows(spend, None, fx, "USD")
    >>> ok["cost_corporate"].to_list(), bad["reason"].to_list()
    ([150.0], ['no fx rate GBP→USD on 2026-01-06'])
    """
    parts = [_spend_rows(collect(spend))]
    if include_campaign_cost and campaigns is not None:
        parts.append(_campaign_rows(collect(campaigns)))
    rows = pl.concat([p.cast(COST_COLUMNS) for p in parts])  # type: ignore[arg-type]
    rows = rows.with_columns(
        pl.when(pl.col("cost_corporate").is_null() & (pl.col("currency") == corporate_currency))
        .then(pl.col("cost"))
        .otherwise(pl.col("cost_corporate"))
        .alias("cost_corporate")
    )
    todo = rows.filter(pl.col("cost_corporate").is_null() & pl.col("cost").is_not_null())
    done = rows.filter(pl.col("cost_corporate").is_not_null())
    if todo.height == 0:
        return done, rows.clear().with_columns(pl.lit(None, dtype=pl.String).alias("reason"))
    from closedloop_kit._core.money import convert_to_corporate

    fx = (
        collect(fx_rates)
        if fx_rates is not None
        else pl.DataFrame(
            schema={
                "currency": pl.String,
                "valid_from": pl.Date,
                "valid_to": pl.Date,
                "rate_to_corporate": pl.Float64,
            }
        )
    )
    converted, problem = convert_to_corporate(
        todo.drop("cost_corporate"),
        fx,
        amount="cost",
        out="cost_corporate",
        date=pl.col("date"),
        corporate_currency=corporate_currency,
    )
    converted = converted.with_columns(problem.alias("reason"))
    good = converted.filter(pl.col("reason").is_null()).drop("reason").select(list(COST_COLUMNS))
    bad = converted.filter(pl.col("reason").is_not_null()).select(
        *[c for c in COST_COLUMNS if c != "cost_corporate"], "reason"
    )
    return pl.concat([done, good]), bad.with_columns(
        pl.lit(None, dtype=pl.Float64).alias("cost_corporate")
    ).select(*COST_COLUMNS, "reason")


def name_lookup(campaigns: pl.DataFrame | None, touch_names: pl.DataFrame | None) -> pl.DataFrame:
    """``name_norm`` → ``campaign`` key: CRM names and UTM campaigns first, then touches.

    A touch ``campaign_name`` without a CRM campaign is its own key (the name as written;
    spellings that normalise alike, :func:`norm_name`, are one campaign).
    A name or UTM campaign shared by several CRM campaigns names none of them (as in
    :func:`~closedloop_kit.prepared._touches.prepare_touchpoints`): the rows fall back to
    what the touches carry, never to a guessed campaign.
    """
    parts: list[pl.DataFrame] = []
    if campaigns is not None and "campaign_id" in campaigns.columns:
        crm = [
            campaigns.select(
                norm_name(pl.col(col)).alias("name_norm"),
                pl.col("campaign_id").cast(pl.String).alias("campaign"),
                pl.lit(0).alias("_rank"),
            )
            for col in ("name", "utm_campaign")
            if col in campaigns.columns
        ]
        if crm:
            parts.append(
                pl.concat(crm)
                .drop_nulls(["name_norm", "campaign"])
                .filter(pl.col("name_norm") != "")
                .unique()
                .filter(pl.len().over("name_norm") == 1)
            )
    if touch_names is not None and touch_names.height:
        parts.append(
            touch_names.select(
                norm_name(pl.col("campaign_name").cast(pl.String)).alias("name_norm"),
                # a name no CRM campaign carries is its own campaign, under the name
                # as written (the first spelling, of those that normalise alike)
                pl.coalesce(
                    pl.col("campaign_id").cast(pl.String),
                    pl.col("campaign_name").cast(pl.String).str.strip_chars(),
                ).alias("campaign"),
                pl.when(pl.col("campaign_id").is_null()).then(2).otherwise(1).alias("_rank"),
            )
        )
    if not parts:
        return pl.DataFrame(schema={"name_norm": pl.String, "campaign": pl.String})
    return (
        pl.concat(parts)
        .drop_nulls(["name_norm", "campaign"])
        .sort("name_norm", "_rank", "campaign")
        .unique("name_norm", keep="first", maintain_order=True)
        .select("name_norm", "campaign")
    )


def campaign_key_expr(id_col: str, name_col: str) -> pl.Expr:
    """``coalesce(id, looked-up key of the name)``: needs a ``_lookup_campaign`` column."""
    return pl.coalesce(pl.col(id_col).cast(pl.String), pl.col("_lookup_campaign"))


def with_lookup(frame: pl.DataFrame, name_col: str, lookup: pl.DataFrame) -> pl.DataFrame:
    """Join the name lookup onto ``frame`` as ``_lookup_campaign``."""
    return (
        frame.with_columns(norm_name(pl.col(name_col).cast(pl.String)).alias("_nn"))
        .join(
            lookup.rename({"name_norm": "_nn", "campaign": "_lookup_campaign"}),
            on="_nn",
            how="left",
        )
        .drop("_nn")
    )


def match_costs(
    costs: pl.DataFrame, campaigns: pl.DataFrame | None, lookup: pl.DataFrame
) -> pl.DataFrame:
    """Add ``campaign``, ``match_level`` and the campaign's dimensions to cost rows."""
    out = with_lookup(costs, "ad_campaign_name", lookup)
    out = out.with_columns(
        pl.coalesce(pl.col("spend_campaign_id"), pl.col("_lookup_campaign")).alias("campaign"),
        pl.when(pl.col("spend_campaign_id").is_not_null())
        .then(pl.lit("campaign_id"))
        .when(pl.col("_lookup_campaign").is_not_null())
        .then(pl.lit("campaign_name"))
        .when(pl.col("channel").is_not_null())
        .then(pl.lit("channel"))
        .otherwise(pl.lit("unmatched"))
        .alias("match_level"),
    ).drop("_lookup_campaign")
    return join_campaign_dims(out, campaigns)


def join_campaign_dims(frame: pl.DataFrame, campaigns: pl.DataFrame | None) -> pl.DataFrame:
    """Fill campaign dimensions from the campaigns table by ``campaign`` key.

    ``campaign_name``, ``channel``, ``product_line``, ``sales_division``, ...: a frame's
    own non-null values win.
    """
    if campaigns is None or "campaign_id" not in campaigns.columns:
        return frame
    skip = {
        "campaign_id",
        "actual_cost",
        "budgeted_cost",
        "currency",
        "start_date",
        "end_date",
        "status",
        "parent_campaign_id",
    }
    dims = [
        c
        for c in campaigns.columns
        if c not in skip and not c.startswith("source_") and campaigns[c].dtype == pl.String
    ]
    right = campaigns.select(
        pl.col("campaign_id").cast(pl.String).alias("campaign"),
        *[pl.col(c).alias(f"_c_{c}") for c in dims],
    ).unique("campaign", keep="first", maintain_order=True)
    out = frame.join(right, on="campaign", how="left")
    fills = []
    for c in dims:
        target = "campaign_name" if c == "name" else c
        if target in out.columns:
            fills.append(pl.coalesce(pl.col(target), pl.col(f"_c_{c}")).alias(target))
        else:
            fills.append(pl.col(f"_c_{c}").alias(target))
    return out.with_columns(fills).drop([f"_c_{c}" for c in dims])


def total_by_currency(rows: pl.DataFrame) -> list[tuple[str | None, float]]:
    """``(currency, Σ cost)`` pairs, for messages and reconciliation."""
    if rows.height == 0:
        return []
    g = rows.group_by("currency").agg(pl.col("cost").sum()).sort("currency")
    return [(r[0], float(r[1])) for r in g.iter_rows()]
