"""The generic rule engine: conditions and rules → polars expressions.

Nothing here knows any channel: :class:`~closedloop_kit.config.ChannelRules` is data and
these functions turn it into one ``when/then`` chain evaluated in a single pass.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import polars as pl

from closedloop_kit.config import ChannelRule, ChannelRules, Condition

__all__ = ["channel_exprs", "condition_expr", "load_source_categories", "rule_expr"]

FIELD_PREFIX = "__ch_"
"""Prefix of the normalised helper columns :func:`classify` evaluates rules on."""

_TEMPLATE = re.compile(r"^\{([a-z_]+)\}$")


@lru_cache(maxsize=1)
def _shipped_categories() -> tuple[tuple[str, str], ...]:
    path = resources.files("closedloop_kit").joinpath("channels/data/ga4_source_categories.csv")
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    pairs = (line.rsplit(",", 1) for line in lines if line.strip())
    return tuple((s.strip().lower(), c.strip()) for s, c in pairs)


def load_source_categories(rules: ChannelRules | None = None) -> pl.DataFrame:
    """Source → GA4 source category table used by the ``source_category`` field.

    Returns ``rules.source_categories`` when set, else the table shipped with the
    package (Google's published list, via Velir/dbt-ga4; see data/PROVENANCE.md).

    Examples
    --------
    >>> cats = load_source_categories()
    >>> cats.height, cats.filter(pl.col("source") == "google")["source_category"].item()
    (819, 'SOURCE_CATEGORY_SEARCH')
    """
    if rules is not None and rules.source_categories is not None:
        items = list(rules.source_categories.items())
    else:
        items = list(_shipped_categories())
    frame = pl.DataFrame(
        {"source": [s for s, _ in items], "source_category": [c for _, c in items]},
        schema={"source": pl.String, "source_category": pl.String},
    )
    return frame.unique("source", keep="first", maintain_order=True)


def condition_expr(cond: Condition) -> pl.Expr:
    """A boolean expression (never null) for one condition on the helper columns."""
    col = pl.col(f"{FIELD_PREFIX}{cond.field}")
    op, value = cond.op, cond.value
    if op == "is_null":
        return col.is_null() if value else col.is_not_null()
    if op == "equals":
        expr = col == pl.lit(_norm(cond.field, value))
    elif op == "in":
        expr = col.is_in([_norm(cond.field, v) for v in value])
    elif op == "regex":
        expr = col.str.contains(f"(?i){value}")
    elif op == "not_regex":
        expr = col.str.contains(f"(?i){value}").not_()
    elif op == "contains":
        expr = col.str.contains(_norm(cond.field, value), literal=True)
    elif op == "starts_with":
        expr = col.str.starts_with(_norm(cond.field, value))
    else:  # ends_with
        expr = col.str.ends_with(_norm(cond.field, value))
    return expr.fill_null(False)


def _norm(field: str, value: str) -> str:
    if field in _UPPER_FIELDS:
        return value.strip()
    return value.strip().lower()


_UPPER_FIELDS = frozenset({"source_category", "click_id", "campaign_id", "landing_page"})


def rule_expr(rule: ChannelRule) -> pl.Expr:
    """``all`` conditions AND (any ``any`` group) as one boolean expression."""
    expr = pl.lit(True)
    for cond in rule.all:
        expr = expr & condition_expr(cond)
    if rule.any:
        groups = pl.lit(False)
        for group in rule.any:
            g = pl.lit(True)
            for cond in group:
                g = g & condition_expr(cond)
            groups = groups | g
        expr = expr & groups
    return expr


def _subchannel_expr(rule: ChannelRule) -> pl.Expr:
    if rule.subchannel is None:
        return pl.lit(None, dtype=pl.String)
    m = _TEMPLATE.match(rule.subchannel)
    if m:
        return pl.col(f"{FIELD_PREFIX}{m.group(1)}")
    return pl.lit(rule.subchannel)


def channel_exprs(rules: ChannelRules) -> tuple[pl.Expr, pl.Expr]:
    """``(channel, subchannel)`` expressions: the first matching rule wins."""
    if not rules.rules:
        return pl.lit(rules.default_channel), pl.lit(None, dtype=pl.String)
    first, *rest = rules.rules
    cond = rule_expr(first)
    ch: Any = pl.when(cond).then(pl.lit(first.channel))
    sub: Any = pl.when(cond).then(_subchannel_expr(first))
    for rule in rest:
        cond = rule_expr(rule)
        ch = ch.when(cond).then(pl.lit(rule.channel))
        sub = sub.when(cond).then(_subchannel_expr(rule))
    channel: pl.Expr = ch.otherwise(pl.lit(rules.default_channel))
    subchannel: pl.Expr = sub.otherwise(pl.lit(None, dtype=pl.String))
    return channel, subchannel
