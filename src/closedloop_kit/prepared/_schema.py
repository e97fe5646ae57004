"""``FunnelSchema``: the Pandera model of a funnel frame, built for a :class:`Taxonomy`.

A funnel frame has one row per entity (person, account or opportunity) and, for each
stage ``s`` of the taxonomy, ``s_at`` (UTC timestamp the stage was reached, null if not
reached or reached without any timestamp in the data) and ``s_backfilled`` (the stage was
reached but its timestamp was imputed). :func:`funnel_schema` adds these columns and the
data-level checks (stage timestamps never go backwards, a won entity had an observed
opportunity) to the fixed columns declared on :class:`FunnelSchema`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.engines import polars_engine

from closedloop_kit.config import Taxonomy

__all__ = ["FunnelSchema", "funnel_schema"]

GRAINS = ["person", "account", "opportunity"]
SOURCES = ["marketing", "sales", "partner", "web_direct", "unknown"]
RULES = ["explicit", "lead_source", "owner_role", "touch_at_creation", "none"]
_UTC = {"time_zone": "UTC", "time_unit": "us"}


class FunnelSchema(pa.DataFrameModel):
    """Columns every funnel frame has, whatever its taxonomy (see :func:`funnel_schema`)."""

    entity_id: pl.String = pa.Field(
        nullable=False, str_length={"min_value": 1}, description="person, account or deal key"
    )
    grain: pl.String = pa.Field(isin=GRAINS, nullable=False, description="entity kind")
    account_id: pl.String = pa.Field(nullable=True, description="account of the entity")
    exit_stage: pl.String = pa.Field(nullable=True, description="exit reached, if any")
    exit_at: polars_engine.DateTime = pa.Field(
        nullable=True, dtype_kwargs=_UTC, description="when the exit happened (UTC)"
    )
    is_open: pl.Boolean = pa.Field(nullable=False, description="neither won nor exited")
    reached_stage: pl.String = pa.Field(nullable=True, description="furthest stage reached")
    cohort: pl.String = pa.Field(nullable=True, description="period label of the first stage")
    first_touch_channel: pl.String = pa.Field(
        nullable=True, description="channel of the first marketing touch"
    )
    first_touch_at: polars_engine.DateTime = pa.Field(
        nullable=True, dtype_kwargs=_UTC, description="when the first marketing touch happened"
    )
    first_touch_campaign_id: pl.String = pa.Field(
        nullable=True, description="campaign of the first marketing touch that has one"
    )
    lead_source: pl.String = pa.Field(nullable=True, description="lead source as recorded")
    sourced_by: pl.String = pa.Field(isin=SOURCES, nullable=False, description="who sourced it")
    sourced_by_rule: pl.String = pa.Field(
        isin=RULES, nullable=False, description="rule that decided `sourced_by`"
    )
    sourced_by_explicit: pl.String = pa.Field(
        nullable=True, description="explicit sourced-by field value, when the data has one"
    )
    creation_touch_channel: pl.String = pa.Field(
        nullable=True, description="channel of a marketing touch at lead creation (±1 day)"
    )
    owner_role: pl.String = pa.Field(
        nullable=True, description="role of the owner of the entity's earliest person record"
    )
    product_line: pl.String = pa.Field(nullable=True, description="product line")
    product_line_rule: pl.String = pa.Field(
        isin=["opportunity", "person", "campaign", "none"],
        nullable=False,
        description="evidence that decided `product_line`",
    )
    sales_division: pl.String = pa.Field(nullable=True, description="sales division")
    sales_division_rule: pl.String = pa.Field(
        isin=["opportunity", "person", "account", "owner", "campaign", "none"],
        nullable=False,
        description="evidence that decided `sales_division`",
    )
    region: pl.String = pa.Field(nullable=True, description="sales region")
    n_opportunities: pl.Int64 = pa.Field(ge=0, nullable=False, description="linked deals")
    amount: pl.Float64 = pa.Field(ge=0, nullable=True, description="deal amount in `currency`")
    currency: pl.String = pa.Field(
        nullable=True, str_matches=r"^[A-Z]{3}$", description="currency of `amount`"
    )
    amount_corporate: pl.Float64 = pa.Field(
        ge=0, nullable=True, description="pipeline: linked deal amounts, corporate currency"
    )
    won_amount_corporate: pl.Float64 = pa.Field(
        ge=0, nullable=True, description="bookings: won deal amounts, corporate currency"
    )
    observed_until: polars_engine.DateTime = pa.Field(
        nullable=True, dtype_kwargs=_UTC, description="latest timestamp in the data (censoring)"
    )

    class Config:
        """Stage columns are added per taxonomy; other extra columns are allowed."""

        strict = False
        coerce = False

    @pa.dataframe_check(error="an `amount` needs a `currency`")
    @classmethod
    def amount_has_currency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Money is an amount plus a currency."""
        return data.lazyframe.select(pl.col("amount").is_null() | pl.col("currency").is_not_null())


def stages_in_order_expr(stages: tuple[str, ...]) -> pl.Expr:
    """True where the non-null ``<stage>_at`` values never decrease along ``stages``."""
    ok = pl.lit(True)
    for i, a in enumerate(stages):
        later = [pl.col(f"{b}_at") for b in stages[i + 1 :]]
        if not later:
            continue
        nxt = pl.min_horizontal(later)
        ok = ok & (pl.col(f"{a}_at").is_null() | nxt.is_null() | (pl.col(f"{a}_at") <= nxt))
    return ok


@lru_cache(maxsize=32)
def _schema_for(stages: tuple[str, ...], opportunity: str, won: str) -> type[FunnelSchema]:
    annotations: dict[str, Any] = {}
    ns: dict[str, Any] = {"__module__": __name__, "__annotations__": annotations}
    for s in stages:
        annotations[f"{s}_at"] = polars_engine.DateTime
        ns[f"{s}_at"] = pa.Field(
            nullable=True, dtype_kwargs=_UTC, description=f"when `{s}` was reached (UTC)"
        )
    for s in stages:
        annotations[f"{s}_backfilled"] = pl.Boolean
        ns[f"{s}_backfilled"] = pa.Field(
            nullable=False, description=f"`{s}` reached but its timestamp imputed"
        )

    def in_order(cls: Any, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(stages_in_order_expr(stages))

    def won_has_opportunity(cls: Any, data: pa.PolarsData) -> pl.LazyFrame:
        won_reached = pl.col(f"{won}_at").is_not_null() | pl.col(f"{won}_backfilled")
        return data.lazyframe.select(
            won_reached.not_() | pl.col(f"{opportunity}_backfilled").not_()
        )

    ns["stages_in_order"] = pa.dataframe_check(error="stage timestamps never go backwards")(
        classmethod(in_order)
    )
    ns["won_has_opportunity"] = pa.dataframe_check(
        error="a won entity had an observed opportunity"
    )(classmethod(won_has_opportunity))
    name = "FunnelSchema_" + "_".join(stages)
    return type(name, (FunnelSchema,), ns)


def funnel_schema(taxonomy: Taxonomy | None = None) -> type[FunnelSchema]:
    """The :class:`FunnelSchema` subclass for ``taxonomy``'s stages.

    Examples
    --------
    >>> schema = funnel_schema()
    >>> [c for c in schema.to_schema().columns if c.endswith("_at")][-5:]
    ['raw_lead_at', 'mql_at', 'sales_ready_at', 'opportunity_at', 'won_at']
    """
    tax = taxonomy or Taxonomy.default()
    return _schema_for(tax.stages, tax.opportunity_stage, tax.won_stage)
