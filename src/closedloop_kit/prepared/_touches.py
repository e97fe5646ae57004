"""Touchpoints as every analysis reads them: one channel and one campaign per touch.

The channel of a touch is decided here, once, by the company's
:class:`~closedloop_kit.config.ChannelRules` (GA4's default grouping unless given); a touch
whose fields the rules cannot read takes its CRM campaign's type, then ``"Unassigned"``.
The campaign of a touch is its own ``campaign_id``, else the CRM campaign its ad campaign
was booked to in the spend table (a click on a paid ad carries the ad campaign's name in
its UTM), else the CRM campaign of the same name or UTM campaign (``campaigns.utm_campaign``);
``campaign_match`` says which.
"""

from __future__ import annotations

import polars as pl

from closedloop_kit._core.names import norm_name
from closedloop_kit.channels import classify
from closedloop_kit.config import ChannelRules

__all__ = ["CAMPAIGN_MATCHES", "prepare_touchpoints"]

CAMPAIGN_MATCHES = ("campaign_id", "ad_campaign", "campaign_name", "none")
"""How a touch's campaign was found, best evidence first (``campaign_match``)."""


def _classified(
    touches: pl.DataFrame, campaigns: pl.DataFrame, rules: ChannelRules
) -> pl.DataFrame:
    if {"source", "medium"} <= set(touches.columns) and touches["channel"].null_count():
        touches = classify(touches, rules=rules, campaigns=campaigns)
    if campaigns.height and touches["channel"].null_count():
        touches = (
            touches.join(
                campaigns.select("campaign_id", pl.col("type").alias("_ctype")),
                on="campaign_id",
                how="left",
            )
            .with_columns(pl.coalesce("channel", "_ctype").alias("channel"))
            .drop("_ctype")
        )
    return touches.with_columns(pl.col("channel").fill_null(rules.default_channel))


def _ad_campaign_lookup(spend: pl.DataFrame) -> pl.DataFrame:
    """Normalised ad campaign name or id → the CRM campaign its spend is booked to."""
    schema = {"_key": pl.String, "_ad_campaign_id": pl.String}
    if spend.height == 0 or "campaign_id" not in spend.columns:
        return pl.DataFrame(schema=schema)
    booked = spend.filter(pl.col("campaign_id").is_not_null())
    parts = [
        booked.select(
            norm_name(pl.col(c)).alias("_key"), pl.col("campaign_id").alias("_ad_campaign_id")
        )
        for c in ("ad_campaign_name", "ad_campaign_id")
        if c in booked.columns
    ]
    if not parts:
        return pl.DataFrame(schema=schema)
    # an ad campaign booked to several CRM campaigns is ambiguous: left unmatched
    return pl.concat(parts).drop_nulls().unique().filter(pl.len().over("_key") == 1)


def _campaign_name_lookup(campaigns: pl.DataFrame) -> pl.DataFrame:
    """Normalised CRM campaign name or UTM campaign → the campaign (unique keys only)."""
    cols = [c for c in ("name", "utm_campaign") if c in campaigns.columns]
    if not campaigns.height or not cols:
        return pl.DataFrame(schema={"_key": pl.String, "_named": pl.String})
    return (
        pl.concat(
            [
                campaigns.select(
                    norm_name(pl.col(c)).alias("_key"), pl.col("campaign_id").alias("_named")
                )
                for c in cols
            ]
        )
        .drop_nulls()
        .filter(pl.col("_key") != "")
        .unique()
        # a name or UTM shared by several CRM campaigns is ambiguous: left unmatched
        .filter(pl.len().over("_key") == 1)
    )


def prepare_touchpoints(
    touches: pl.DataFrame,
    *,
    campaigns: pl.DataFrame,
    spend: pl.DataFrame,
    rules: ChannelRules,
) -> pl.DataFrame:
    """Classify channels and resolve the campaign of every touch (see the module doc).

    Returns the touches with ``channel`` filled, ``campaign_id`` resolved where evidence
    allows, and ``campaign_match`` (one of :data:`CAMPAIGN_MATCHES`).

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"touchpoint_id": ["t1", "t2"], "source": ["google", "x"],
    ...     "medium": ["cpc", "email"], "campaign_name": ["gads_brand", None],
    ...     "campaign_id": [None, None], "channel": [None, None],
    ...     "touch_type": ["web_session", "web_session"]})
    >>> spend = pl.DataFrame({"ad_campaign_name": ["gads_brand"], "campaign_id": ["sf:701"]})
    >>> camps = pl.DataFrame({"campaign_id": ["sf:701"], "name": ["Brand"],
    ...     "type": ["Paid Search"]})
    >>> out = prepare_touchpoints(t, campaigns=camps, spend=spend, rules=ChannelRules.ga4_default())
    >>> out.select("channel", "campaign_id", "campaign_match").rows()
    [('Paid Search', 'sf:701', 'ad_campaign'), ('Email', None, 'none')]
    """
    out = _classified(touches, campaigns, rules)
    if "campaign_name" not in out.columns:
        out = out.with_columns(pl.lit(None, dtype=pl.String).alias("campaign_name"))
    ads = _ad_campaign_lookup(spend)
    names = _campaign_name_lookup(campaigns)
    out = (
        out.with_columns(norm_name(pl.col("campaign_name")).alias("_key"))
        .join(ads, on="_key", how="left")
        .join(names, on="_key", how="left")
    )
    match = (
        pl.when(pl.col("campaign_id").is_not_null())
        .then(pl.lit("campaign_id"))
        .when(pl.col("_ad_campaign_id").is_not_null())
        .then(pl.lit("ad_campaign"))
        .when(pl.col("_named").is_not_null())
        .then(pl.lit("campaign_name"))
        .otherwise(pl.lit("none"))
    )
    return out.with_columns(
        pl.coalesce("campaign_id", "_ad_campaign_id", "_named").alias("campaign_id"),
        match.alias("campaign_match"),
    ).drop("_key", "_ad_campaign_id", "_named")
