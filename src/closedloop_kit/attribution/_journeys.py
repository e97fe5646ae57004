"""Journeys: the touches that preceded each conversion, one row per touch.

A *journey* is a person (``level="person"``) or, for B2B, an opportunity's buying
committee (``level="account"``) and the touches its people made inside the lookback
window ``[conversion_at − lookback, conversion_at]``. People or accounts that did not
convert get non-converting journeys built with the same window, ending at the data's end
(the latest touch or opportunity date), which Markov, Shapley and regression need.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

import polars as pl

from closedloop_kit._core.frames import collect
from closedloop_kit.attribution._paths import transform_touches
from closedloop_kit.config import parse_duration

if TYPE_CHECKING:
    from closedloop_kit.store import ClosedLoopData

__all__ = ["Conversion", "journeys"]

Conversion = Literal["opportunity_created", "won", "lead_created", "sales_ready"]

_SALES_READY = (
    "sales ready",
    "sales_ready",
    "sql",
    "salesqualifiedlead",
    "sales qualified lead",
    "meeting set",
)
_UTC = pl.Datetime("us", "UTC")


def _norm(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase().str.replace_all(r"[\s_\-]+", " ").str.strip_chars()


def _classified(data: ClosedLoopData, touches: pl.DataFrame) -> pl.DataFrame:
    """Fill null channels with :func:`closedloop_kit.channels.classify` (GA4 rules).

    Touches that already have a channel keep it. When the touches lack the columns the
    rules read (``source``, ``medium``), a null channel takes the CRM campaign's type,
    then ``"Unassigned"``.
    """
    if touches["channel"].null_count() == 0:
        return touches
    if {"source", "medium"} <= set(touches.columns):
        from closedloop_kit.channels import classify

        touches = classify(touches, campaigns=data.frame("campaigns"))
    camp = data.frame("campaigns")
    if camp.height:
        touches = (
            touches.join(
                camp.select("campaign_id", pl.col("type").alias("_ctype")),
                on="campaign_id",
                how="left",
            )
            .with_columns(pl.coalesce("channel", "_ctype").alias("channel"))
            .drop("_ctype")
        )
    return touches.with_columns(pl.col("channel").fill_null("Unassigned"))


def _person_map(people: pl.DataFrame) -> pl.DataFrame:
    """``person_id`` → ``person_key`` (golden id when identity resolution added it)."""
    key = (
        pl.coalesce("golden_person_id", "person_id")
        if "golden_person_id" in people.columns
        else pl.col("person_id")
    )
    return people.select("person_id", key.alias("person_key"))


def _won_at(opps: pl.DataFrame) -> pl.Expr:
    close = pl.col("close_date").cast(_UTC)
    if "closed_at" in opps.columns:
        return pl.coalesce(pl.col("closed_at"), close)
    return close


def journeys(
    data: ClosedLoopData,
    *,
    conversion: str = "opportunity_created",
    level: Literal["person", "account"] = "person",
    lookback: str | int | dt.timedelta = "180d",
    touch_filter: pl.Expr | None = None,
    include_non_converting: bool = True,
    contacts: Literal["roles", "account"] = "roles",
    transform: str = "none",
) -> pl.DataFrame:
    """Build touch-level journeys to a conversion from the canonical tables.

    Parameters
    ----------
    data
        The company's canonical tables.
    conversion
        ``"opportunity_created"``, ``"won"``, ``"lead_created"``, ``"sales_ready"``
        (person stage history reaching Sales Ready / SQL / Meeting Set) or any stage
        value recorded in ``stage_history.new_value`` (person or opportunity).
    level
        ``"person"``: one journey per person (``golden_person_id`` when present).
        ``"account"``: one journey per opportunity for opportunity conversions (the
        buying committee's touches; non-converting: lost/open opportunities and accounts
        without one), else one per account.
    lookback
        Window before the conversion (``"180d"``, ``"6mo"``, days as int).
    touch_filter
        Polars predicate on ``touchpoints`` (e.g. ``pl.col("is_marketing")``).
    include_non_converting
        Add journeys that did not convert (window ending at the data's end).
    contacts
        Account level: ``"roles"`` uses the opportunity's contact roles, ``"account"``
        every person of the account.
    transform
        Path simplification applied to the touches: ``"none"`` (default), ``"collapse"``
        (consecutive repeats), ``"first"`` (first occurrence of each channel) or
        ``"unique"``.

    Returns
    -------
    pl.DataFrame
        One row per touch: ``journey_id``, ``touch_id``, ``person_id``, ``position``
        (0-based, by time), ``occurred_at``, ``days_to_conversion``, ``channel``,
        ``campaign_id``, ``campaign_name``, ``is_marketing``, ``converted``,
        ``conversion_at``, ``value`` (opportunity ``amount_corporate`` for revenue
        conversions), and milestone flags ``is_first_touch``, ``is_lead_creation_touch``,
        ``is_opportunity_creation_touch``, ``is_closed_won_touch`` (the last touch at or
        before each CRM milestone; one touch may hold several).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> from closedloop_kit.store import ClosedLoopData
    >>> t = lambda d: dt.datetime(2025, 1, d, tzinfo=dt.UTC)
    >>> tp = pl.DataFrame({"touchpoint_id": ["t1", "t2", "t3"], "person_id": ["p1", "p1", "p2"],
    ...     "occurred_at": [t(1), t(3), t(2)], "channel": ["Email", "Webinar", "Direct"],
    ...     "touch_type": ["email_click", "webinar", "web_session"],
    ...     "campaign_id": [None, None, None], "campaign_name": [None, None, None],
    ...     "is_marketing": [True, True, True]})
    >>> people = pl.DataFrame({"person_id": ["p1", "p2"], "account_id": ["a1", "a2"],
    ...     "created_at": [t(2), t(2)]})
    >>> opps = pl.DataFrame({"opportunity_id": ["o1"], "account_id": ["a1"],
    ...     "created_at": [t(4)], "is_won": [False], "amount_corporate": [1000.0],
    ...     "close_date": [dt.date(2025, 3, 1)]})
    >>> roles = pl.DataFrame({"opportunity_id": ["o1"], "person_id": ["p1"]})
    >>> data = ClosedLoopData({"touchpoints": tp, "people": people, "opportunities": opps,
    ...                        "opportunity_contacts": roles})
    >>> j = journeys(data, level="account")
    >>> j.select("journey_id", "channel", "position", "converted", "value").rows()
    ... # doctest: +NORMALIZE_WHITESPACE
    [('a2', 'Direct', 0, False, 0.0), ('o1', 'Email', 0, True, 1000.0),
     ('o1', 'Webinar', 1, True, 1000.0)]
    >>> j["is_lead_creation_touch"].to_list()  # p2 was created on the day of its touch
    [True, True, False]
    """
    levels = ("person", "account")
    if level not in levels:
        msg = f"`level` must be one of {levels}, got {level!r}"
        raise ValueError(msg)
    if contacts not in ("roles", "account"):
        msg = f"`contacts` must be one of ('roles', 'account'), got {contacts!r}"
        raise ValueError(msg)
    window = parse_duration(lookback)
    touches = data.lazy("touchpoints")
    if touch_filter is not None:
        touches = touches.filter(touch_filter)
    people = data.frame("people")
    opps = data.frame("opportunities")
    roles = data.frame("opportunity_contacts")
    pmap = _person_map(people)
    tp = _classified(data, collect(touches.filter(pl.col("person_id").is_not_null()))).select(
        "touchpoint_id",
        "person_id",
        "occurred_at",
        "channel",
        "campaign_id",
        "campaign_name",
        "is_marketing",
    )
    camp = data.frame("campaigns")
    if camp.height:
        tp = (
            tp.join(
                camp.select("campaign_id", pl.col("name").alias("_cname")),
                on="campaign_id",
                how="left",
            )
            .with_columns(pl.coalesce("campaign_name", "_cname").alias("campaign_name"))
            .drop("_cname")
        )
    tp = tp.join(pmap, on="person_id", how="left").with_columns(
        pl.coalesce("person_key", "person_id").alias("person_key")
    )
    end_candidates = [tp["occurred_at"].max()]
    if opps.height:
        end_candidates.append(opps["created_at"].max())
    data_end = max((e for e in end_candidates if e is not None), default=None)

    pk = people.join(pmap, on="person_id", how="left").with_columns(
        pl.coalesce("person_key", "person_id").alias("person_key")
    )
    person_created = pk.group_by("person_key").agg(pl.col("created_at").min().alias("lead_at"))
    opp_cols = opps.columns
    value_expr = (
        pl.col("amount_corporate").cast(pl.Float64)
        if "amount_corporate" in opp_cols
        else pl.lit(None, pl.Float64)
    )
    opp = (
        opps.select(
            "opportunity_id",
            "account_id",
            pl.col("created_at").alias("opp_at"),
            pl.when(pl.col("is_won")).then(_won_at(opps)).alias("won_at"),
            pl.col("is_won").fill_null(False),
            value_expr.alias("value"),
        )
        if opps.height
        else pl.DataFrame(
            schema={
                "opportunity_id": pl.String,
                "account_id": pl.String,
                "opp_at": _UTC,
                "won_at": _UTC,
                "is_won": pl.Boolean,
                "value": pl.Float64,
            }
        )
    )
    stage_at = _stage_times(data, conversion)

    # members: journey_id → person_key, plus journey-level facts
    if (level == "account" and conversion in ("opportunity_created", "won")) or (
        level == "account" and stage_at is not None and stage_at[0] == "opportunity"
    ):
        if contacts == "roles":
            members = roles.select("opportunity_id", "person_id").join(
                pmap, on="person_id", how="left"
            )
            members = members.select(
                "opportunity_id", pl.coalesce("person_key", "person_id").alias("person_key")
            )
        else:
            members = opp.select("opportunity_id", "account_id").join(
                pk.select("account_id", "person_key"), on="account_id", how="inner"
            )
            members = members.select("opportunity_id", "person_key")
        facts = opp.rename({"opportunity_id": "journey_id"})
        if conversion == "opportunity_created":
            facts = facts.with_columns(pl.col("opp_at").alias("conversion_at"))
        elif conversion == "won":
            facts = facts.with_columns(pl.col("won_at").alias("conversion_at"))
        else:
            assert stage_at is not None
            facts = facts.join(
                stage_at[1].rename({"entity_id": "journey_id"}), on="journey_id", how="left"
            ).rename({"stage_at": "conversion_at"})
        members = members.rename({"opportunity_id": "journey_id"}).unique()
        lead = members.join(person_created, on="person_key", how="left")
        facts = facts.join(
            lead.group_by("journey_id").agg(pl.col("lead_at").min()), on="journey_id", how="left"
        )
        # accounts without any opportunity: non-converting account journeys
        with_opp = opp["account_id"].drop_nulls().unique().to_list()
        rest = pk.filter(pl.col("account_id").is_not_null() & ~pl.col("account_id").is_in(with_opp))
        extra_members = rest.select(pl.col("account_id").alias("journey_id"), "person_key")
        members = pl.concat([members, extra_members], how="vertical")
        extra = rest.group_by("account_id").agg(pl.col("created_at").min().alias("lead_at"))
        facts = pl.concat(
            [
                facts.select("journey_id", "conversion_at", "lead_at", "opp_at", "won_at", "value"),
                extra.select(
                    pl.col("account_id").alias("journey_id"),
                    pl.lit(None, _UTC).alias("conversion_at"),
                    pl.col("lead_at"),
                    pl.lit(None, _UTC).alias("opp_at"),
                    pl.lit(None, _UTC).alias("won_at"),
                    pl.lit(None, pl.Float64).alias("value"),
                ),
            ],
            how="vertical_relaxed",
        )
    else:
        # person-level (or account-level person conversions grouped by account)
        first_opp = (
            roles.select("opportunity_id", "person_id")
            .join(pmap, on="person_id", how="left")
            .select("opportunity_id", pl.coalesce("person_key", "person_id").alias("person_key"))
            .join(opp, on="opportunity_id", how="inner")
        )
        per = person_created
        if conversion == "opportunity_created":
            pick = first_opp.sort("opp_at").group_by("person_key").first()
            conv = pick.select("person_key", pl.col("opp_at").alias("conversion_at"), "value")
        elif conversion == "won":
            pick = first_opp.filter(pl.col("is_won")).sort("won_at").group_by("person_key").first()
            conv = pick.select("person_key", pl.col("won_at").alias("conversion_at"), "value")
        elif conversion == "lead_created":
            conv = person_created.select(
                "person_key",
                pl.col("lead_at").alias("conversion_at"),
                pl.lit(None, pl.Float64).alias("value"),
            )
        else:
            if stage_at is None:
                msg = (
                    f"`conversion` {conversion!r} was not found: use 'opportunity_created', "
                    "'won', 'lead_created', 'sales_ready' or a stage recorded in stage_history"
                )
                raise ValueError(msg)
            st = stage_at[1].rename({"entity_id": "person_id"})
            if stage_at[0] == "opportunity":
                st = (
                    roles.select("opportunity_id", "person_id")
                    .join(stage_at[1].rename({"entity_id": "opportunity_id"}), on="opportunity_id")
                    .select("person_id", "stage_at")
                )
            conv = (
                st.join(pmap, on="person_id", how="left")
                .select(pl.coalesce("person_key", "person_id").alias("person_key"), "stage_at")
                .group_by("person_key")
                .agg(pl.col("stage_at").min().alias("conversion_at"))
                .with_columns(pl.lit(None, pl.Float64).alias("value"))
            )
        opp_first = first_opp.group_by("person_key").agg(
            pl.col("opp_at").min(), pl.col("won_at").min()
        )
        keys = pl.concat(
            [pk.select("person_key"), tp.select("person_key")], how="vertical"
        ).unique()
        facts = (
            keys.join(per, on="person_key", how="left")
            .join(conv, on="person_key", how="left")
            .join(opp_first, on="person_key", how="left")
        )
        if level == "account":
            acct = pk.select("person_key", "account_id").unique("person_key")
            facts = (
                facts.join(acct, on="person_key", how="left")
                .filter(pl.col("account_id").is_not_null())
                .group_by("account_id")
                .agg(
                    pl.col("conversion_at").min(),
                    pl.col("lead_at").min(),
                    pl.col("opp_at").min(),
                    pl.col("won_at").min(),
                    pl.col("value").sort_by("conversion_at").first(),
                )
                .rename({"account_id": "journey_id"})
            )
            members = acct.rename({"account_id": "journey_id"}).filter(
                pl.col("journey_id").is_not_null()
            )
        else:
            facts = facts.rename({"person_key": "journey_id"})
            members = facts.select("journey_id", pl.col("journey_id").alias("person_key"))

    facts = facts.with_columns(
        pl.col("conversion_at").is_not_null().alias("converted"),
        pl.coalesce("conversion_at", pl.lit(data_end, _UTC)).alias("_end"),
    )
    if not include_non_converting:
        facts = facts.filter(pl.col("converted"))
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
    j = collect(transform_touches(j.lazy(), transform))
    last_at = {
        "is_lead_creation_touch": "lead_at",
        "is_opportunity_creation_touch": "opp_at",
        "is_closed_won_touch": "won_at",
    }
    flags = []
    for flag, col in last_at.items():
        before = pl.col("occurred_at") <= pl.col(col)
        last_before = pl.col("occurred_at").filter(before).max().over("journey_id")
        flags.append((before & (pl.col("occurred_at") == last_before)).fill_null(False).alias(flag))
    j = j.with_columns(pl.int_range(pl.len()).over("journey_id").alias("position"))
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
    # ties at the same timestamp: only the latest-ordered touch holds a milestone
    for flag in last_at:
        j = j.with_columns(
            (
                pl.col(flag)
                & (
                    pl.col("position")
                    == pl.col("position").filter(pl.col(flag)).max().over("journey_id")
                )
            ).alias(flag)
        )
    out = j.select(
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
    )
    return out


def _stage_times(data: ClosedLoopData, conversion: str) -> tuple[str, pl.DataFrame] | None:
    """First time each entity reached ``conversion`` in stage history, if it is a stage."""
    if conversion in ("opportunity_created", "won", "lead_created"):
        return None
    sh = data.frame("stage_history")
    if not sh.height:
        return None
    targets = _SALES_READY if conversion == "sales_ready" else (conversion.lower(),)
    norm_targets = [t.replace("_", " ").replace("-", " ") for t in targets]
    hits = sh.filter(_norm(pl.col("new_value")).is_in(norm_targets))
    for entity in ("person", "opportunity"):
        e = hits.filter(pl.col("entity_type") == entity)
        if e.height:
            return entity, e.group_by("entity_id").agg(pl.col("changed_at").min().alias("stage_at"))
    return None
