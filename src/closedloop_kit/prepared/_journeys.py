"""Journeys: the touches that preceded each conversion, one row per touch.

A *journey* is a person (``level="person"``: a de-duplicated human, the funnel's person
entity) or, for B2B, an opportunity's buying committee (``level="account"`` with a deal
conversion) or an account, and the marketing touches its people made inside the lookback
window ``[conversion_at − lookback, conversion_at]``. The conversion time is the
milestone of the prepared model — the same time the funnel shows — so a journey converts
to "sales_ready" exactly when the funnel says the person became sales-ready. People or
accounts that did not convert get non-converting journeys with the same window, ending at
the data's end, which Markov, Shapley and regression need.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

import polars as pl

from closedloop_kit.config import parse_duration
from closedloop_kit.prepared._period import PeriodLike, within

if TYPE_CHECKING:
    from closedloop_kit.prepared._model import Prepared

__all__ = ["CONVERSION_ALIASES", "conversions", "journeys", "transform_touches"]

_UTC = pl.Datetime("us", "UTC")

CONVERSION_ALIASES = {
    "lead_created": "created_stage",
    "sales_ready": "sales_ready_stage",
    "opportunity_created": "opportunity_stage",
    "opportunity": "opportunity_stage",
    "won": "won_stage",
}
"""Conversion names that mean a taxonomy role (any taxonomy stage name works too)."""

_TRANSFORMS = ("none", "collapse", "first", "unique")


def transform_touches(touches: pl.LazyFrame, transform: str) -> pl.LazyFrame:
    """Simplify each journey's touch sequence (sorted by ``journey_id``, time).

    ``"none"``; ``"collapse"`` drops a touch whose channel repeats the previous touch's;
    ``"first"`` keeps the first touch of each channel; ``"unique"`` keeps one touch per
    channel (the first).
    """
    if transform not in _TRANSFORMS:
        msg = f"`transform` must be one of {_TRANSFORMS}, got {transform!r}"
        raise ValueError(msg)
    if transform == "none":
        return touches
    if transform == "collapse":
        prev = pl.col("channel").shift(1).over("journey_id")
        return touches.filter(prev.is_null() | (pl.col("channel") != prev))
    return touches.filter(pl.col("channel").is_first_distinct().over("journey_id"))


def conversion_stage(prepared: Prepared, conversion: str) -> str:
    """The taxonomy stage a ``conversion`` name means (aliases or a stage name)."""
    tax = prepared.taxonomy
    if conversion in tax.stages:
        return conversion
    if conversion in CONVERSION_ALIASES:
        return str(getattr(tax, CONVERSION_ALIASES[conversion]))
    options = sorted({*CONVERSION_ALIASES, *tax.stages})
    msg = f"`conversion` must be one of {tuple(options)}, got {conversion!r}"
    raise ValueError(msg)


def _stage_cols(prepared: Prepared) -> list[str]:
    return [f"{s}_at" for s in prepared.taxonomy.stages]


def _person_keys(prepared: Prepared) -> pl.DataFrame:
    """``person_id`` (any record id, golden ids included) → the funnel's person key."""
    return prepared.evidence().people.select("person_id", pl.col("key").alias("person_key"))


def _facts_person(prepared: Prepared, stage: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    tax = prepared.taxonomy
    f = prepared.funnel("person")
    value = (
        pl.col("won_amount_corporate")
        if stage == tax.won_stage
        else pl.col("amount_corporate")
        if stage == tax.opportunity_stage
        else pl.lit(None, pl.Float64)
    )
    facts = f.select(
        pl.col("entity_id").alias("journey_id"),
        pl.col(f"{stage}_at").alias("conversion_at"),
        value.cast(pl.Float64).alias("value"),
        *_stage_cols(prepared),
    )
    members = f.select("entity_id", pl.col("entity_id").alias("person_key")).rename(
        {"entity_id": "journey_id"}
    )
    return facts, members


def _facts_deals(
    prepared: Prepared, stage: str, contacts: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One journey per opportunity (its buying committee), plus accounts without deals."""
    keys = _person_keys(prepared)
    opp = prepared.funnel("opportunity")
    people = prepared.funnel("person")
    if contacts == "roles":
        roles = prepared.data.frame("opportunity_contacts").select("opportunity_id", "person_id")
        conv = prepared.data.frame("people").filter(
            pl.col("converted_opportunity_id").is_not_null()
        )
        members = pl.concat(
            [
                roles,
                conv.select(
                    pl.col("converted_opportunity_id").alias("opportunity_id"), "person_id"
                ),
            ]
        ).join(keys, on="person_id", how="inner")
        members = members.select(pl.col("opportunity_id").alias("journey_id"), "person_key")
    else:
        members = opp.select(pl.col("entity_id").alias("journey_id"), "account_id").join(
            people.select(pl.col("entity_id").alias("person_key"), "account_id"),
            on="account_id",
            how="inner",
        )
        members = members.select("journey_id", "person_key")
    members = members.unique()
    value = (
        pl.col("won_amount_corporate")
        if stage == prepared.taxonomy.won_stage
        else pl.col("amount_corporate")
    )
    tax = prepared.taxonomy
    before = list(tax.stages[: tax.stage_index(tax.opportunity_stage)])
    facts = opp.select(
        pl.col("entity_id").alias("journey_id"),
        pl.col(f"{stage}_at").alias("conversion_at"),
        value.cast(pl.Float64).alias("value"),
        *[f"{s}_at" for s in tax.stages if s not in before],
        *[f"{s}_at" for s in before],
    )
    # accounts without any deal: non-converting account journeys of their people
    with_deal = opp["account_id"].drop_nulls().unique()
    rest = people.filter(
        pl.col("account_id").is_not_null() & ~pl.col("account_id").is_in(with_deal.implode())
    )
    extra_members = rest.select(
        pl.col("account_id").alias("journey_id"), pl.col("entity_id").alias("person_key")
    )
    extra = (
        rest.group_by("account_id")
        .agg([pl.col(f"{s}_at").min() for s in before])
        .select(
            pl.col("account_id").alias("journey_id"),
            pl.lit(None, _UTC).alias("conversion_at"),
            pl.lit(None, pl.Float64).alias("value"),
            *[pl.lit(None, _UTC).alias(f"{s}_at") for s in tax.stages if s not in before],
            *[f"{s}_at" for s in before],
        )
    )
    return (
        pl.concat([facts, extra], how="vertical_relaxed").select(
            "journey_id", "conversion_at", "value", *_stage_cols(prepared)
        ),
        pl.concat([members, extra_members]),
    )


def _facts_accounts(prepared: Prepared, stage: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    acc = prepared.funnel("account")
    facts = acc.select(
        pl.col("entity_id").alias("journey_id"),
        pl.col(f"{stage}_at").alias("conversion_at"),
        pl.lit(None, pl.Float64).alias("value"),
        *_stage_cols(prepared),
    )
    people = prepared.funnel("person").filter(pl.col("account_id").is_not_null())
    members = people.select(
        pl.col("account_id").alias("journey_id"), pl.col("entity_id").alias("person_key")
    )
    return facts, members


def _facts(
    prepared: Prepared, conversion: str, level: str, contacts: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    if level not in ("person", "account"):
        msg = f"`level` must be one of ('person', 'account'), got {level!r}"
        raise ValueError(msg)
    if contacts not in ("roles", "account"):
        msg = f"`contacts` must be one of ('roles', 'account'), got {contacts!r}"
        raise ValueError(msg)
    stage = conversion_stage(prepared, conversion)
    tax = prepared.taxonomy
    if level == "person":
        return _facts_person(prepared, stage)
    if tax.stage_index(stage) >= tax.stage_index(tax.opportunity_stage):
        return _facts_deals(prepared, stage, contacts)
    return _facts_accounts(prepared, stage)


def conversions(
    prepared: Prepared,
    *,
    conversion: str = "opportunity",
    level: Literal["person", "account"] = "person",
    contacts: Literal["roles", "account"] = "roles",
    period: PeriodLike = None,
) -> pl.DataFrame:
    """One row per journey (touched or not): ``journey_id, converted, conversion_at, value``.

    The journeys :func:`journeys` builds, before touches are attached: every person (or
    deal, or account) with its conversion time from the prepared milestones, so the count
    of converted rows is the stage count whether or not marketing touched them.
    ``value`` is the corporate pipeline (opportunity stage) or bookings (won), else 0.
    """
    facts, _ = _facts(prepared, conversion, level, contacts)
    out = facts.select(
        pl.col("journey_id").cast(pl.String),
        pl.col("conversion_at").is_not_null().alias("converted"),
        "conversion_at",
        pl.when(pl.col("conversion_at").is_not_null())
        .then(pl.col("value").fill_null(0.0))
        .otherwise(0.0)
        .alias("value"),
    )
    span = prepared.bounds(period)
    if span is not None:
        out = out.filter(within(pl.col("conversion_at"), span))
    return out.sort("journey_id")


def journeys(
    prepared: Prepared,
    *,
    conversion: str = "opportunity",
    level: Literal["person", "account"] = "person",
    lookback: str | int | dt.timedelta = "180d",
    touch_filter: pl.Expr | None = None,
    include_non_converting: bool = True,
    contacts: Literal["roles", "account"] = "roles",
    transform: str = "none",
    period: PeriodLike = None,
) -> pl.DataFrame:
    """Build touch-level journeys to a conversion from the prepared model.

    Parameters
    ----------
    prepared
        The prepared model (:func:`closedloop_kit.prepare`).
    conversion
        A taxonomy stage (``"raw_lead"``, ``"mql"``, ``"sales_ready"``, ``"opportunity"``,
        ``"won"`` in the default taxonomy) or an alias: ``"lead_created"``,
        ``"sales_ready"``, ``"opportunity_created"``, ``"won"`` (the taxonomy's created,
        sales-ready, opportunity and won stages). The conversion time is the stage's
        milestone in the prepared funnel.
    level
        ``"person"``: one journey per de-duplicated person. ``"account"``: one journey
        per opportunity for the opportunity stage and later (the buying committee's
        touches; accounts without a deal give non-converting journeys), else one per
        account.
    lookback
        Window before the conversion (``"180d"``, ``"6mo"``, days as int).
    touch_filter
        Polars predicate on the touchpoints (default: marketing touches,
        ``is_marketing``).
    include_non_converting
        Add journeys that did not convert (window ending at the data's end).
    contacts
        Deal journeys: ``"roles"`` (contact roles and the converted lead) or
        ``"account"`` (every person of the account).
    transform
        Path simplification: ``"none"``, ``"collapse"``, ``"first"`` or ``"unique"``.
    period
        Keep only journeys whose conversion falls in the period (non-converting
        journeys are kept when their window overlaps it).

    Returns
    -------
    pl.DataFrame
        One row per touch: ``journey_id``, ``touch_id``, ``person_id`` (the person key),
        ``position`` (0-based, by time), ``occurred_at``, ``days_to_conversion``,
        ``channel``, ``campaign_id``, ``campaign_name``, ``is_marketing``,
        ``converted``, ``conversion_at``, ``value`` (corporate pipeline for the
        opportunity stage, bookings for won, else 0), ``is_first_touch``,
        ``is_lead_creation_touch``, ``is_opportunity_creation_touch``,
        ``is_closed_won_touch`` (the last touch at or before each milestone), and the
        journey's milestone times ``<stage>_at`` for every taxonomy stage.

    Examples
    --------
    >>> import closedloop_kit as clk
    >>> p = clk.prepare(clk.datasets.load_sample())
    >>> j = p.journeys(conversion="won", level="account")
    >>> bool(j.filter("converted")["journey_id"].n_unique() <= p.stage_counts()["count"][-1])
    True
    """
    tax = prepared.taxonomy
    window = parse_duration(lookback)
    facts, members = _facts(prepared, conversion, level, contacts)

    keys = _person_keys(prepared)
    tp = prepared.touchpoints.filter(pl.col("person_id").is_not_null())
    tp = tp.filter(
        touch_filter if touch_filter is not None else pl.col("is_marketing").fill_null(False)
    )
    tp = tp.join(keys, on="person_id", how="inner").select(
        "touchpoint_id",
        "person_key",
        "occurred_at",
        "channel",
        "campaign_id",
        "campaign_name",
        "is_marketing",
    )
    camp = prepared.data.frame("campaigns")
    if camp.height:
        tp = (
            tp.join(
                camp.select("campaign_id", pl.col("name").alias("_cname")),
                on="campaign_id",
                how="left",
            )
            .with_columns(pl.coalesce("_cname", "campaign_name").alias("campaign_name"))
            .drop("_cname")
        )
    data_end = tp["occurred_at"].max()
    opp_end = prepared.funnel("opportunity")[f"{tax.opportunity_stage}_at"].max()
    ends = [e for e in (data_end, opp_end) if isinstance(e, dt.datetime)]
    end_at = max(ends) if ends else None

    facts = facts.with_columns(
        pl.col("conversion_at").is_not_null().alias("converted"),
        pl.coalesce("conversion_at", pl.lit(end_at, _UTC)).alias("_end"),
    )
    if not include_non_converting:
        facts = facts.filter(pl.col("converted"))
    span = prepared.bounds(period)
    if span is not None:
        facts = facts.filter(
            within(pl.col("conversion_at"), span)
            | (pl.col("converted").not_() & (pl.col("_end") >= pl.lit(span[0])))
        )
    j = (
        members.join(facts, on="journey_id", how="inner")
        .join(tp, on="person_key", how="inner")
        .filter(
            (pl.col("occurred_at") <= pl.col("_end"))
            & (pl.col("occurred_at") >= pl.col("_end") - pl.lit(window))
        )
        .unique(["journey_id", "touchpoint_id"])
        .sort("journey_id", "occurred_at", "touchpoint_id")
    )
    j = transform_touches(j.lazy(), transform).collect()
    created = f"{tax.created_stage}_at"
    last_at = {
        "is_lead_creation_touch": created,
        "is_opportunity_creation_touch": f"{tax.opportunity_stage}_at",
        "is_closed_won_touch": f"{tax.won_stage}_at",
    }
    j = j.with_columns(pl.int_range(pl.len()).over("journey_id").alias("position"))
    flags = []
    for flag, col in last_at.items():
        before = pl.col("occurred_at") <= pl.col(col)
        last_before = pl.col("position").filter(before).max().over("journey_id")
        flags.append((before & (pl.col("position") == last_before)).fill_null(False).alias(flag))
    j = j.with_columns(
        *flags,
        (pl.col("position") == 0).alias("is_first_touch"),
        (
            (pl.col("_end") - pl.col("occurred_at")).dt.total_microseconds().cast(pl.Float64)
            / 86_400e6
        ).alias("days_to_conversion"),
        pl.when(pl.col("converted"))
        .then(pl.col("value").fill_null(0.0))
        .otherwise(0.0)
        .alias("value"),
    )
    return j.select(
        pl.col("journey_id").cast(pl.String),
        pl.col("touchpoint_id").alias("touch_id"),
        pl.col("person_key").alias("person_id"),
        pl.col("position").cast(pl.Int64),
        "occurred_at",
        "days_to_conversion",
        "channel",
        "campaign_id",
        "campaign_name",
        "is_marketing",
        "converted",
        "conversion_at",
        "value",
        "is_first_touch",
        *last_at,
        *_stage_cols(prepared),
    )
