"""Fill ``channel`` and ``subchannel`` on touchpoints from ordered rules."""

from __future__ import annotations

import re

import polars as pl

from closedloop_kit._core.frames import column_names, like, require_columns, to_lazy
from closedloop_kit._core.names import norm_name
from closedloop_kit._core.types import FrameT
from closedloop_kit.channels._rules import FIELD_PREFIX, channel_exprs, load_source_categories
from closedloop_kit.config import ChannelRules

__all__ = ["classify"]

_FIELD_COLUMNS: dict[str, str] = {
    "source": "source",
    "medium": "medium",
    "campaign": "campaign_name",
    "referrer": "referrer",
    "click_id": "click_id",
    "touch_type": "touch_type",
    "content": "content",
    "term": "term",
    "landing_page": "landing_page",
    "campaign_id": "campaign_id",
}
_LOWERED = ("source", "medium", "campaign", "touch_type", "content", "term")
_WEB_TYPES = ("web_session", "page_view", "form_fill")
_HOST = r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?([^/:?#]+)"


def _clean(expr: pl.Expr) -> pl.Expr:
    s = expr.cast(pl.String).str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def _brand(host: pl.Expr) -> pl.Expr:
    """``news.google.co.uk`` → ``google``: the label before the public suffix."""
    parts = host.str.split(".")
    n = parts.list.len()
    second = parts.list.get(-2, null_on_oob=True)
    third = parts.list.get(-3, null_on_oob=True)
    short_sld = second.is_in(["co", "com", "org", "net", "ac", "gov", "edu"]) & (n >= 3)
    return pl.when(short_sld).then(third).otherwise(second)


def _fields_used(rules: ChannelRules) -> tuple[set[str], set[str]]:
    """Fields the rules read, and those read only through ``is_null``."""
    ops: dict[str, set[str]] = {"source": {"equals"}}
    for rule in rules.rules:
        conds = [*rule.all, *(c for group in rule.any for c in group)]
        for c in conds:
            fld = "source" if c.field == "source_category" else c.field
            ops.setdefault(fld, set()).add(c.op)
        m = re.match(r"^\{([a-z_]+)\}$", rule.subchannel or "")
        if m:
            fld = "source" if m.group(1) == "source_category" else m.group(1)
            ops.setdefault(fld, set()).add("template")
    null_only = {f for f, o in ops.items() if o == {"is_null"}}
    return set(ops), null_only


def classify(
    touchpoints: FrameT,
    *,
    rules: ChannelRules | None = None,
    campaigns: pl.DataFrame | pl.LazyFrame | None = None,
    overwrite: bool = False,
) -> FrameT:
    """Fill ``channel`` and ``subchannel`` from source, medium, campaign and more.

    Each touch is normalised (trimmed, lower-cased; an empty source takes the
    referrer's host with medium ``referral``; a web touch with no source, medium,
    referrer or click id becomes ``(direct) / (none)``), its source is looked up in the
    GA4 source categories (exactly, else by its brand label, ``google.co.uk`` →
    ``google``), then ``rules`` are evaluated in order and the first match names the
    channel; no match gives ``rules.default_channel``.

    Offline touches (``touch_type`` in ``rules.offline_channels``: event, webinar,
    trade_show, call, campaign_response, ...) keep their CRM campaign's type as channel
    when ``campaigns`` is given and the campaign is found, else the touch type's channel
    name (``trade_show`` → ``"Trade Show"``); their subchannel is the campaign name.

    Parameters
    ----------
    touchpoints
        Touchpoints with at least ``source`` and ``medium``; the other rule fields
        (``campaign_name``, ``referrer``, ``click_id``, ``touch_type``, ...) are used
        when present.
    rules
        Ordered rules; ``None`` means :meth:`ChannelRules.ga4_default`.
    campaigns
        Canonical campaigns (``campaign_id``, ``type``) for offline touches.
    overwrite
        Replace channels already set; by default only empty channels are filled.

    Returns
    -------
    The touchpoints (same kind, eager or lazy) with ``channel`` and ``subchannel``.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({
    ...     "source": ["google", "facebook", "(direct)", "newsletter", None],
    ...     "medium": ["cpc", "paid_social", "(none)", "email", None],
    ...     "referrer": [None, None, None, None, "https://www.bing.com/search?q=x"],
    ... })
    >>> classify(t)["channel"].to_list()
    ['Paid Search', 'Paid Social', 'Direct', 'Email', 'Organic Search']
    """
    rules = ChannelRules.ga4_default() if rules is None else rules
    require_columns(touchpoints, ["source", "medium"], func="classify")
    names: list[str] = column_names(touchpoints)
    lf = to_lazy(touchpoints)
    helpers: list[pl.Expr] = []
    for fld, col in _FIELD_COLUMNS.items():
        base = _clean(pl.col(col)) if col in names else pl.lit(None, dtype=pl.String)
        if fld in _LOWERED:
            base = base.str.to_lowercase()
        helpers.append(base.alias(f"{FIELD_PREFIX}{fld}"))
    lf = lf.with_columns(helpers)
    src, med = pl.col(f"{FIELD_PREFIX}source"), pl.col(f"{FIELD_PREFIX}medium")
    ref, click = pl.col(f"{FIELD_PREFIX}referrer"), pl.col(f"{FIELD_PREFIX}click_id")
    ttype = pl.col(f"{FIELD_PREFIX}touch_type")
    if rules.source_from_referrer:
        host = ref.str.to_lowercase().str.extract(_HOST, 1)
        use_ref = src.is_null() & host.is_not_null()
        lf = lf.with_columns(
            pl.when(use_ref).then(host).otherwise(src).alias(f"{FIELD_PREFIX}source"),
            pl.when(use_ref & med.is_null())
            .then(pl.lit("referral"))
            .otherwise(med)
            .alias(f"{FIELD_PREFIX}medium"),
        )
    if rules.direct_when_missing:
        web = ttype.is_null() | ttype.is_in(list(_WEB_TYPES))
        missing = src.is_null() & med.is_null() & ref.is_null() & click.is_null() & web
        lf = lf.with_columns(
            pl.when(missing).then(pl.lit("(direct)")).otherwise(src).alias(f"{FIELD_PREFIX}source"),
            pl.when(missing | ((src == "(direct)") & med.is_null()))
            .then(pl.lit("(none)"))
            .otherwise(med)
            .alias(f"{FIELD_PREFIX}medium"),
        )
    # rules are evaluated once per distinct combination of the fields they read, then
    # joined back: 10M sessions have a few thousand distinct (source, medium, ...) keys
    used, null_only = _fields_used(rules)
    key_cols: list[str] = []
    key_exprs: list[pl.Expr] = []
    for fld in sorted(used):
        if fld in null_only:
            name = f"__chk_{fld}"
            key_exprs.append(pl.col(f"{FIELD_PREFIX}{fld}").is_not_null().alias(name))
        else:
            name = f"{FIELD_PREFIX}{fld}"
        key_cols.append(name)
    lf = lf.with_columns(key_exprs)
    keys = (
        lf.select(key_cols)
        .unique()
        .with_columns(
            pl.when(pl.col(f"__chk_{fld}")).then(pl.lit("x")).alias(f"{FIELD_PREFIX}{fld}")
            for fld in sorted(null_only)
        )
    )
    cats = load_source_categories(rules).lazy()
    brand = cats.rename({"source": f"{FIELD_PREFIX}brand", "source_category": "__ch_cat2"})
    keys = (
        keys.with_columns(_brand(pl.col(f"{FIELD_PREFIX}source")).alias(f"{FIELD_PREFIX}brand"))
        .join(
            cats.rename({"source": f"{FIELD_PREFIX}source", "source_category": "__ch_cat1"}),
            on=f"{FIELD_PREFIX}source",
            how="left",
        )
        .join(brand, on=f"{FIELD_PREFIX}brand", how="left")
        .with_columns(pl.coalesce("__ch_cat1", "__ch_cat2").alias(f"{FIELD_PREFIX}source_category"))
    )
    rule_channel, rule_sub = channel_exprs(rules)
    keys = keys.select(
        *key_cols, rule_channel.alias("__ch_rule_channel"), rule_sub.alias("__ch_rule_sub")
    )
    lf = lf.join(keys, on=key_cols, how="left", nulls_equal=True, maintain_order="left")
    channel, subchannel = pl.col("__ch_rule_channel"), pl.col("__ch_rule_sub")
    offline = ttype.is_in(list(rules.offline_channels))
    offline_name = ttype.replace_strict(
        dict(rules.offline_channels), default=None, return_dtype=pl.String
    )
    campaign_type = pl.lit(None, dtype=pl.String)
    campaign_sub = pl.col(f"{FIELD_PREFIX}campaign")
    if campaigns is not None:
        require_columns(to_lazy(campaigns), ["campaign_id", "type"], func="classify")
        camp_cols = column_names(campaigns)
        camp = to_lazy(campaigns).select(
            pl.col("campaign_id").alias(f"{FIELD_PREFIX}campaign_id"),
            _clean(pl.col("type")).alias("__ch_ctype"),
            (_clean(pl.col("name")) if "name" in camp_cols else pl.lit(None, pl.String)).alias(
                "__ch_cname"
            ),
        )
        by_id = camp.unique(f"{FIELD_PREFIX}campaign_id", keep="first", maintain_order=True)
        lf = lf.join(
            by_id,
            on=f"{FIELD_PREFIX}campaign_id",
            how="left",
            nulls_equal=False,
            maintain_order="left",
        )
        campaign_type = pl.col("__ch_ctype")
        campaign_sub = pl.coalesce(pl.col("__ch_cname"), _clean(pl.col("campaign_name")))
        if "name" in camp_cols:
            # touches that carry only the campaign's name (no id) find it by name
            # (norm_name; a name whose campaigns differ in type gives none of them)
            by_name = (
                camp.filter(pl.col("__ch_cname").is_not_null())
                .select(
                    norm_name(pl.col("__ch_cname")).alias("__ch_ckey"),
                    pl.col("__ch_ctype").alias("__ch_ctype_n"),
                )
                .unique()
                .filter(pl.len().over("__ch_ckey") == 1)
            )
            lf = lf.with_columns(
                norm_name(pl.col(f"{FIELD_PREFIX}campaign")).alias("__ch_ckey")
            ).join(
                by_name,
                on="__ch_ckey",
                how="left",
                nulls_equal=False,
                maintain_order="left",
            )
            campaign_type = pl.coalesce(pl.col("__ch_ctype"), pl.col("__ch_ctype_n"))
    elif "campaign_name" in names:
        campaign_sub = _clean(pl.col("campaign_name"))
    new_channel = pl.when(offline).then(pl.coalesce(campaign_type, offline_name)).otherwise(channel)
    new_sub = pl.when(offline).then(campaign_sub).otherwise(subchannel)
    if not overwrite and "channel" in names:
        keep = _clean(pl.col("channel")).is_not_null()
        old_sub = pl.col("subchannel") if "subchannel" in names else pl.lit(None, pl.String)
        new_channel = pl.when(keep).then(pl.col("channel")).otherwise(new_channel)
        new_sub = pl.when(keep).then(old_sub).otherwise(new_sub)
    out_cols: list[str] = [c for c in names if c not in ("channel", "subchannel")]
    result = lf.with_columns(
        new_channel.cast(pl.String).alias("channel"), new_sub.cast(pl.String).alias("subchannel")
    ).select([*out_cols, "channel", "subchannel"])
    if "channel" in names:
        order = [*names] if "subchannel" in names else [*names, "subchannel"]
        result = result.select(order)
    return like(touchpoints, result)
