"""Channel grouping rules: ordered, declarative, loadable from YAML.

A :class:`ChannelRules` is *data*: an ordered tuple of :class:`ChannelRule`, each a
channel name plus conditions on touchpoint fields. One generic engine
(:func:`closedloop_kit.channels.classify`) evaluates them top to bottom; the first rule
that matches a touch names its channel. The default, :meth:`ChannelRules.ga4_default`,
is Google Analytics 4's default channel group written as such rules (see
docs/channels.md for the table and the YAML format).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

from closedloop_kit.config._yaml import load_yaml

__all__ = ["ChannelRule", "ChannelRules", "Condition", "ConditionOp", "RuleField"]

ConditionOp = Literal[
    "equals", "in", "regex", "not_regex", "contains", "starts_with", "ends_with", "is_null"
]
RuleField = Literal[
    "source",
    "medium",
    "campaign",
    "source_category",
    "referrer",
    "click_id",
    "touch_type",
    "content",
    "term",
    "landing_page",
    "campaign_id",
]
_OPS: tuple[str, ...] = get_args(ConditionOp)
_FIELDS: tuple[str, ...] = get_args(RuleField)


@dataclass(frozen=True)
class Condition:
    """One test on one field of a touch.

    Text fields are compared trimmed and lower-cased (``source``, ``medium``,
    ``campaign``, ``touch_type``); ``regex`` is case-insensitive and searches (anchor it
    with ``^...$`` for a full match). ``is_null`` takes ``True`` or ``False``.

    Examples
    --------
    >>> Condition("medium", "in", ("cpc", "ppc")).value
    ('cpc', 'ppc')
    """

    field: str
    op: str
    value: Any = None

    def __post_init__(self) -> None:
        if self.field not in _FIELDS:
            msg = f"condition `field` must be one of {_FIELDS}, got {self.field!r}"
            raise ValueError(msg)
        if self.op not in _OPS:
            msg = f"condition `op` must be one of {_OPS}, got {self.op!r}"
            raise ValueError(msg)
        if self.op == "in":
            vals = (self.value,) if isinstance(self.value, str) else tuple(self.value or ())
            object.__setattr__(self, "value", tuple(str(v) for v in vals))
        elif self.op == "is_null":
            object.__setattr__(self, "value", bool(True if self.value is None else self.value))
        elif self.value is None:
            msg = f"condition {self.field!r} {self.op!r} needs a `value`"
            raise ValueError(msg)
        else:
            object.__setattr__(self, "value", str(self.value))

    def to_data(self) -> dict[str, Any]:
        """The condition as YAML-ready data (``{op: value}``)."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {self.op: value}


@dataclass(frozen=True)
class ChannelRule:
    """A channel and the conditions a touch must meet to get it.

    A touch matches when every condition in ``all`` holds and, if ``any`` is given, every
    condition of at least one of its groups holds.

    Parameters
    ----------
    channel
        Channel group name (e.g. ``"Paid Search"``).
    subchannel
        Literal subchannel, or ``"{field}"`` to copy a field (e.g. ``"{source}"``);
        ``None`` leaves it empty.
    all
        Conditions that must all hold.
    any
        Groups of conditions; at least one group must hold entirely.
    name
        Optional label for documentation and debugging.
    """

    channel: str
    subchannel: str | None = None
    all: tuple[Condition, ...] = ()
    any: tuple[tuple[Condition, ...], ...] = ()
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "all", tuple(self.all))
        object.__setattr__(self, "any", tuple(tuple(g) for g in self.any))

    @classmethod
    def from_data(cls, raw: Mapping[str, Any]) -> ChannelRule:
        """Build a rule from YAML data (see docs/channels.md for the format)."""
        known = {"channel", "subchannel", "when", "all", "any", "name"}
        unknown = sorted(set(raw) - known)
        if unknown:
            msg = f"unknown channel rule key(s) {unknown}; valid keys are {sorted(known)}"
            raise ValueError(msg)
        if "channel" not in raw:
            msg = f"a channel rule needs a `channel`, got {dict(raw)!r}"
            raise ValueError(msg)
        all_: list[Condition] = []
        for key in ("when", "all"):
            all_.extend(_conditions(raw.get(key) or {}))
        groups = tuple(tuple(_conditions(g)) for g in raw.get("any") or ())
        sub = raw.get("subchannel")
        return cls(
            channel=str(raw["channel"]),
            subchannel=None if sub is None else str(sub),
            all=tuple(all_),
            any=groups,
            name=None if raw.get("name") is None else str(raw["name"]),
        )

    def to_data(self) -> dict[str, Any]:
        """The rule as YAML-ready data that :meth:`from_data` reads back."""
        out: dict[str, Any] = {"channel": self.channel}
        if self.name is not None:
            out["name"] = self.name
        if self.subchannel is not None:
            out["subchannel"] = self.subchannel
        if self.all:
            out["all"] = _conditions_data(self.all)
        if self.any:
            out["any"] = [_conditions_data(g) for g in self.any]
        return out


def _conditions(raw: Mapping[str, Any]) -> list[Condition]:
    out: list[Condition] = []
    for fld, spec in raw.items():
        if isinstance(spec, Mapping):
            for op, value in spec.items():
                out.append(Condition(str(fld), str(op), value))
        elif isinstance(spec, list | tuple):
            out.append(Condition(str(fld), "in", tuple(spec)))
        elif spec is None:
            out.append(Condition(str(fld), "is_null", True))
        else:
            out.append(Condition(str(fld), "equals", spec))
    return out


def _conditions_data(conds: Iterable[Condition]) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    for c in conds:
        out.setdefault(c.field, {}).update(c.to_data())
    return out


_PAID = r"^(.*cp.*|ppc|retargeting|paid.*)$"
_SHOP_CAMPAIGN = r"^(.*(([^a-df-z]|^)shop|shopping).*)$"

# Google's "[GA4] Default channel group" definitions, in their evaluation order.
GA4_DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {
        "channel": "Direct",
        "subchannel": "{source}",
        "all": {"source": {"equals": "(direct)"}, "medium": {"in": ["(not set)", "(none)"]}},
    },
    {
        "channel": "Cross-network",
        "subchannel": "{source}",
        "all": {"campaign": {"contains": "cross-network"}},
    },
    {
        "channel": "Paid Shopping",
        "subchannel": "{source}",
        "all": {"medium": {"regex": _PAID}},
        "any": [
            {"source_category": {"equals": "SOURCE_CATEGORY_SHOPPING"}},
            {"campaign": {"regex": _SHOP_CAMPAIGN}},
        ],
    },
    {
        "channel": "Paid Search",
        "subchannel": "{source}",
        "all": {
            "source_category": {"equals": "SOURCE_CATEGORY_SEARCH"},
            "medium": {"regex": _PAID},
        },
    },
    {
        "channel": "Paid Social",
        "subchannel": "{source}",
        "all": {
            "source_category": {"equals": "SOURCE_CATEGORY_SOCIAL"},
            "medium": {"regex": _PAID},
        },
    },
    {
        "channel": "Paid Video",
        "subchannel": "{source}",
        "all": {
            "source_category": {"equals": "SOURCE_CATEGORY_VIDEO"},
            "medium": {"regex": _PAID},
        },
    },
    {
        "channel": "Display",
        "subchannel": "{source}",
        "all": {"medium": {"in": ["display", "banner", "expandable", "interstitial", "cpm"]}},
    },
    {"channel": "Paid Other", "subchannel": "{source}", "all": {"medium": {"regex": _PAID}}},
    {
        "channel": "Organic Shopping",
        "subchannel": "{source}",
        "any": [
            {"source_category": {"equals": "SOURCE_CATEGORY_SHOPPING"}},
            {"campaign": {"regex": _SHOP_CAMPAIGN}},
        ],
    },
    {
        "channel": "Organic Social",
        "subchannel": "{source}",
        "any": [
            {"source_category": {"equals": "SOURCE_CATEGORY_SOCIAL"}},
            {
                "medium": {
                    "in": [
                        "social",
                        "social-network",
                        "social-media",
                        "sm",
                        "social network",
                        "social media",
                    ]
                }
            },
        ],
    },
    {
        "channel": "Organic Video",
        "subchannel": "{source}",
        "any": [
            {"source_category": {"equals": "SOURCE_CATEGORY_VIDEO"}},
            {"medium": {"regex": r"^(.*video.*)$"}},
        ],
    },
    {
        "channel": "Organic Search",
        "subchannel": "{source}",
        "any": [
            {"source_category": {"equals": "SOURCE_CATEGORY_SEARCH"}},
            {"medium": {"equals": "organic"}},
        ],
    },
    {
        "channel": "Referral",
        "subchannel": "{source}",
        "all": {"medium": {"in": ["referral", "app", "link"]}},
    },
    {
        "channel": "Email",
        "subchannel": "{source}",
        "any": [
            {"source": {"in": ["email", "e-mail", "e_mail", "e mail"]}},
            {"medium": {"in": ["email", "e-mail", "e_mail", "e mail"]}},
        ],
    },
    {"channel": "Affiliates", "subchannel": "{source}", "all": {"medium": {"equals": "affiliate"}}},
    {"channel": "Audio", "subchannel": "{source}", "all": {"medium": {"equals": "audio"}}},
    {
        "channel": "SMS",
        "subchannel": "{source}",
        "any": [{"source": {"equals": "sms"}}, {"medium": {"equals": "sms"}}],
    },
    {
        "channel": "Mobile Push Notifications",
        "subchannel": "{source}",
        "any": [
            {"medium": {"ends_with": "push"}},
            {"medium": {"contains": "mobile"}},
            {"medium": {"contains": "notification"}},
            {"source": {"equals": "firebase"}},
        ],
    },
    # Beyond GA4: touches that are emails by type but carry no UTM tags, and ad clicks
    # that carry only a click id (gclid, msclkid, fbclid, li_fat_id).
    {
        "channel": "Email",
        "name": "email touch without utm tags",
        "subchannel": "{touch_type}",
        "all": {"touch_type": {"in": ["email_click", "email_open", "email_send"]}},
    },
    {
        "channel": "Paid Other",
        "name": "click id without utm tags",
        "subchannel": "click id",
        "all": {"click_id": {"is_null": False}, "medium": {"is_null": True}},
    },
)

_OFFLINE_CHANNELS: dict[str, str] = {
    "event": "Event",
    "webinar": "Webinar",
    "trade_show": "Trade Show",
    "call": "Call",
    "campaign_response": "Campaign",
    "content_syndication": "Content Syndication",
    "partner": "Partner",
    "sales_activity": "Sales Activity",
}


@dataclass(frozen=True)
class ChannelRules:
    """Ordered channel rules plus the settings of the classification engine.

    Parameters
    ----------
    rules
        Evaluated top to bottom; the first matching rule names the channel.
    default_channel
        Channel of a touch no rule matches (GA4: ``"Unassigned"``).
    source_categories
        Source → category (``SOURCE_CATEGORY_SEARCH``, ``..._SOCIAL``, ``..._SHOPPING``,
        ``..._VIDEO``) used by the derived field ``source_category``; ``None`` uses the
        table shipped with the package (Google's list, via Velir/dbt-ga4).
    offline_channels
        Touch type → channel for offline touches (events, webinars, trade shows, calls,
        campaign responses); the CRM campaign's type wins when campaigns are given.
    direct_when_missing
        Treat a web touch with no source, medium, referrer or click id as
        ``(direct) / (none)``, as GA4 does.
    source_from_referrer
        When ``source`` is empty, use the referrer's host (without ``www.``) as source
        and ``referral`` as medium.

    Examples
    --------
    >>> rules = ChannelRules.ga4_default()
    >>> rules.rules[0].channel, rules.rules[3].channel, len(rules.rules) > 15
    ('Direct', 'Paid Search', True)
    >>> extra = ChannelRules.from_yaml('''
    ... rules:
    ...   - channel: Partner
    ...     when: {medium: partner}
    ... ''')
    >>> [r.channel for r in extra.rules]
    ['Partner']
    >>> rules.extend(extra).rules[0].channel
    'Partner'
    """

    rules: tuple[ChannelRule, ...] = ()
    default_channel: str = "Unassigned"
    source_categories: Mapping[str, str] | None = None
    offline_channels: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(dict(_OFFLINE_CHANNELS))
    )
    direct_when_missing: bool = True
    source_from_referrer: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "offline_channels", MappingProxyType(dict(self.offline_channels)))
        if self.source_categories is not None:
            cats = {str(k).strip().lower(): str(v) for k, v in self.source_categories.items()}
            object.__setattr__(self, "source_categories", MappingProxyType(cats))
        bad = [r for r in self.rules if not isinstance(r, ChannelRule)]
        if bad:
            msg = f"`rules` must hold ChannelRule objects, got {bad[:3]!r}"
            raise TypeError(msg)

    @classmethod
    def ga4_default(cls) -> ChannelRules:
        """Google Analytics 4's default channel group (see docs/channels.md)."""
        return cls(rules=tuple(ChannelRule.from_data(r) for r in GA4_DEFAULT_RULES))

    @classmethod
    def from_yaml(cls, source: str | Path) -> ChannelRules:
        """Read rules from a YAML file or YAML text.

        The document is a mapping with ``rules`` (a list of rules, see
        docs/channels.md) and optionally ``extends: ga4_default`` (put these rules in
        front of the GA4 defaults), ``default_channel``, ``offline_channels``,
        ``source_categories``, ``direct_when_missing`` and ``source_from_referrer``.
        """
        raw = load_yaml(source, what="channel rules") or {}
        if isinstance(raw, list):
            raw = {"rules": raw}
        if not isinstance(raw, dict):
            msg = f"channel rules YAML must be a mapping with `rules`, got {type(raw).__name__}"
            raise ValueError(msg)
        known = {
            "rules",
            "extends",
            "default_channel",
            "offline_channels",
            "source_categories",
            "direct_when_missing",
            "source_from_referrer",
        }
        unknown = sorted(set(raw) - known)
        if unknown:
            msg = f"unknown channel rules key(s) {unknown}; valid keys are {sorted(known)}"
            raise ValueError(msg)
        rules = tuple(ChannelRule.from_data(r) for r in raw.get("rules") or ())
        extends = raw.get("extends")
        if extends not in (None, "ga4_default"):
            msg = f"`extends` must be 'ga4_default' or absent, got {extends!r}"
            raise ValueError(msg)
        base = cls.ga4_default() if extends == "ga4_default" else cls()
        kwargs: dict[str, Any] = {"rules": rules + base.rules}
        for key in (
            "default_channel",
            "offline_channels",
            "source_categories",
            "direct_when_missing",
            "source_from_referrer",
        ):
            if key in raw:
                kwargs[key] = raw[key]
        return replace(base, **kwargs)

    def to_yaml(self) -> str:
        """The rules as YAML text that :meth:`from_yaml` reads back."""
        import yaml

        out: dict[str, Any] = {
            "default_channel": self.default_channel,
            "direct_when_missing": self.direct_when_missing,
            "source_from_referrer": self.source_from_referrer,
            "offline_channels": dict(self.offline_channels),
            "rules": [r.to_data() for r in self.rules],
        }
        if self.source_categories is not None:
            out["source_categories"] = dict(self.source_categories)
        return str(yaml.safe_dump(out, sort_keys=False, allow_unicode=True))

    def extend(
        self,
        rules: ChannelRules | Sequence[ChannelRule],
        *,
        position: Literal["first", "last"] = "first",
    ) -> ChannelRules:
        """A copy with more rules, by default evaluated before the existing ones.

        ``position="last"`` appends them instead (they then only see touches no
        existing rule matched — with the GA4 defaults, none reach them).
        """
        new = tuple(rules.rules if isinstance(rules, ChannelRules) else rules)
        if position not in ("first", "last"):
            msg = f"`position` must be one of ('first', 'last'), got {position!r}"
            raise ValueError(msg)
        combined = new + self.rules if position == "first" else self.rules + new
        return replace(self, rules=combined)
