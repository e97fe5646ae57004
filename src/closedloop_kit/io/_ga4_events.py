"""GA4 BigQuery export: lazy event extraction and aggregation to sessions.

Everything here builds polars *lazy* plans so a multi-gigabyte export is streamed:
raw events are never materialised, only one row per session (and per identity link
and form event) is collected.

The export's columns used (Google's "BigQuery Export schema"):

* ``event_timestamp`` — microseconds since the epoch, UTC (an integer, or a string in
  BigQuery's JSON export, which writes INT64 as text);
* ``event_name``, ``user_pseudo_id`` (kept as text: ``"1234567890.1698765432"``),
  ``user_id``;
* ``event_params`` — a list of ``{key, value: {string_value, int_value, float_value,
  double_value}}``;
* ``collected_traffic_source`` — ``manual_source/medium/campaign_name/term/content``,
  ``gclid``, ``dclid``;
* ``session_traffic_source_last_click.manual_campaign`` — ``source/medium/
  campaign_name/term/content``;
* ``traffic_source`` — ``source/medium/name``: the *user's* first-touch source, used
  only for the user's first session.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

import polars as pl

from closedloop_kit.schema.keys import salesforce_id18_expr

__all__ = [
    "CLICK_CARRY",
    "EVENT_SCHEMA",
    "FORM_EVENTS",
    "IDENTITY_PARAMS",
    "ID_COLUMNS",
    "ID_TYPES",
    "PARQUET_COLUMNS",
    "PSEUDO_CAMPAIGNS",
    "SOURCE_CARRY",
    "SOURCE_FIELDS",
    "SOURCE_INPUTS",
    "click_id",
    "crm_key",
    "event_frame",
    "form_fills",
    "id_columns",
    "identity_links",
    "landing_page",
    "may_carry_id",
    "narrow",
    "sessions",
    "source_columns",
    "traffic_source",
]

_VALUE = pl.Struct(
    {
        "string_value": pl.String,
        "int_value": pl.String,
        "float_value": pl.Float64,
        "double_value": pl.Float64,
    }
)
_PARAMS = pl.List(pl.Struct({"key": pl.String, "value": _VALUE}))
_MANUAL = pl.Struct(
    {
        "manual_source": pl.String,
        "manual_medium": pl.String,
        "manual_campaign_name": pl.String,
        "manual_term": pl.String,
        "manual_content": pl.String,
        "gclid": pl.String,
        "dclid": pl.String,
    }
)
_LAST_CLICK = pl.Struct(
    {
        "manual_campaign": pl.Struct(
            {
                "campaign_name": pl.String,
                "source": pl.String,
                "medium": pl.String,
                "term": pl.String,
                "content": pl.String,
            }
        )
    }
)
_FIRST_TOUCH = pl.Struct({"name": pl.String, "medium": pl.String, "source": pl.String})

EVENT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "event_date": pl.String(),
    "event_timestamp": pl.String(),
    "event_name": pl.String(),
    "event_params": pl.String(),
    "user_id": pl.String(),
    "user_pseudo_id": pl.String(),
    "traffic_source": _FIRST_TOUCH,
    "collected_traffic_source": _MANUAL,
    "session_traffic_source_last_click": _LAST_CLICK,
}
"""The subset of the export read from NDJSON (every integer read as text).

``event_params`` is read as its JSON text and single parameters are pulled out with a
regular expression: ~5x faster and far leaner than parsing the nested list.
"""

PARAMS_DTYPE: Final[pl.DataType] = _PARAMS
"""``event_params`` as typed in the Parquet export."""

PARQUET_COLUMNS: Final[tuple[str, ...]] = tuple(EVENT_SCHEMA)
"""Top-level Parquet columns read (missing ones are added as nulls)."""

FORM_EVENTS: Final[tuple[str, ...]] = (
    "form_submit",
    "generate_lead",
    "sign_up",
    "login",
    "form_submission",
    "submit_form",
    "lead_form_submit",
)
"""Events that become ``form_fill`` touchpoints and identity evidence."""

IDENTITY_PARAMS: Final[dict[str, str]] = {
    "crm_id": "crm_id",
    "lead_id": "crm_id",
    "contact_id": "crm_id",
    "sfdc_id": "crm_id",
    "salesforce_id": "crm_id",
    "hubspot_contact_id": "hubspot_id",
    "hs_contact_id": "hubspot_id",
    "marketo_lead_id": "marketo_id",
    "email_sha256": "email_sha256",
    "hashed_email": "email_sha256",
    "sha256_email_address": "email_sha256",
    "user_email_hash": "email_sha256",
    "email": "email",
}
"""Event parameters carrying a person id → the ``linked_id_type`` they produce."""

ID_TYPES: Final[dict[str, tuple[str, ...]]] = {
    t: tuple(k for k, v in IDENTITY_PARAMS.items() if v == t)
    for t in dict.fromkeys(IDENTITY_PARAMS.values())
}
"""``linked_id_type`` → the event parameters read for it (the first present wins)."""

ID_KEYS: Final[list[str]] = list(IDENTITY_PARAMS)

ID_COLUMNS: Final[tuple[str, ...]] = tuple(f"__id_{t}" for t in ID_TYPES)
"""Per-event identifier columns made by :func:`event_frame`."""

PSEUDO_CAMPAIGNS: Final[tuple[str, ...]] = ("(direct)", "(organic)", "(referral)", "(none)")
"""GA4's placeholder campaign names (``traffic_source.name``): read as no campaign."""

SOURCE_FIELDS: Final[tuple[str, ...]] = ("source", "medium", "campaign_name", "term", "content")

_CLICK_IDS: Final[tuple[str, ...]] = (
    "gclid",
    "dclid",
    "wbraid",
    "gbraid",
    "msclkid",
    "fbclid",
    "li_fat_id",
)


# the first non-null value field of a parameter's value object; the object has no nested
# braces and quoted strings may hold any character. The pattern starts at the quoted key
# (``"key":`` before it is not matched): only a key is followed by ``, "value": {``, and
# a literal start lets the regex engine jump between occurrences of the key.
# Groups: 1 the key, 2 the value
_VALUE_RE = (
    r'"({key})",\s*"value":\s*\{{(?:[^{{}}"]|"(?:[^"\\]|\\.)*")*?'
    r'"(?:string|int|double|float)_value":\s*("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*)'
)
# the same without capturing groups: finding a match is much cheaper than resolving its
# groups, and the value is the text after the match's last ``_value":`` (a JSON string
# cannot hold that unescaped quote)
_VALUE_MATCH_RE = (
    r'"(?:{key})",\s*"value":\s*\{{(?:[^{{}}"]|"(?:[^"\\]|\\.)*")*?'
    r'"(?:string|int|double|float)_value":\s*(?:"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*)'
)


def _param(
    key: str | tuple[str, ...],
    *,
    as_text: bool,
    name: str | None = None,
    params: pl.Expr | None = None,
) -> pl.Expr:
    """The value of event parameter ``key`` as text (first of string/int/double/float).

    With several keys, the value of the first of them found in the event. ``params``:
    the parameters (default the ``event_params`` column). On JSON text this repeats the
    extraction in each branch of :func:`_unquote`; a plan over many events extracts
    :func:`_param_raw` into a column first (see :func:`event_frame`).
    """
    keys = (key,) if isinstance(key, str) else key
    name = name or keys[0]
    params = pl.col("event_params") if params is None else params
    if as_text:
        return _unquote(_param_raw(keys, params), params).alias(name)
    kinds = ("string_value", "int_value", "double_value", "float_value")
    value = (
        params.list.filter(pl.element().struct.field("key").is_in(list(keys)))
        .list.first()
        .struct.field("value")
    )
    return pl.coalesce(*[value.struct.field(k).cast(pl.String) for k in kinds]).alias(name)


def _param_raw(keys: tuple[str, ...], params: pl.Expr | None = None) -> pl.Expr:
    """The JSON value of the first of ``keys`` in the parameters' text, still quoted."""
    alternation = "(?:" + "|".join(re.escape(k) for k in keys) + ")"
    params = pl.col("event_params") if params is None else params
    match = params.str.extract_all(_VALUE_MATCH_RE.format(key=alternation)).list.first()
    return match.str.split('_value":').list.last().str.strip_chars_start()


_JSON_TEXT: Final[str] = '{"event_params":'
"""How parameters written by ``struct.json_encode`` start (Parquet and flattened tables)."""

_POLARS_ESCAPES: Final[dict[str, str]] = {r"\"": '"', r"\n": "\n", r"\r": "\r"}
"""The escapes polars writes when it reads a nested JSON value into text (see :func:`_unquote`)."""


def _unquote(raw: pl.Expr, params: pl.Expr) -> pl.Expr:
    r"""A parameter's value as text: a quoted string decoded, a number as written.

    ``params`` is the text the value was found in, which comes in two encodings:

    * written by ``struct.json_encode`` (Parquet exports, flattened tables; it starts
      with ``{"event_params":``): JSON, decoded as JSON (every escape);
    * an NDJSON export's ``event_params`` as polars reads a nested value into text: the
      value's characters as they are, except a double quote, a line feed and a carriage
      return, written ``\"``, ``\n`` and ``\r`` (a backslash is written as itself; a
      ``\u00e9`` escape arrives already decoded). Decoded by undoing exactly those
      three: a value holding a backslash followed by ``n`` or ``r`` cannot be told from
      one holding a line break there, and reads as the line break.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({
    ...     "raw": [r'"a\"b\nc\u00e9"', r'"a\"b\nc\u00e9"', "1.50", None],
    ...     "params": ['{"event_params":[...]}', "[...]", "[...]", "[...]"]})
    >>> df.select(_unquote(pl.col("raw"), pl.col("params"))).to_series().to_list()
    ['a"b\ncé', 'a"b\nc\\u00e9', '1.50', None]
    """
    quoted = raw.str.starts_with('"')
    is_json = params.str.starts_with(_JSON_TEXT)
    decoded = pl.when(quoted & is_json).then(raw).str.json_decode(pl.String)
    # one pass for the three escapes (each starts with a backslash, none is produced by a
    # replacement, so this equals undoing them one after the other)
    polars_text = (
        raw.str.strip_prefix('"')
        .str.strip_suffix('"')
        .str.replace_many(_POLARS_ESCAPES, leftmost=True)
    )
    return pl.when(~quoted).then(raw).when(is_json).then(decoded).otherwise(polars_text)


def _param_key(
    keys: tuple[str, ...], *, as_text: bool, name: str, params: pl.Expr | None = None
) -> pl.Expr:
    """Which of ``keys`` the event carries (the first found), for the link's rule."""
    params = pl.col("event_params") if params is None else params
    if as_text:
        alternation = "(?:" + "|".join(re.escape(k) for k in keys) + ")"
        return params.str.extract(_VALUE_RE.format(key=alternation), 1).alias(name)
    return (
        params.list.filter(pl.element().struct.field("key").is_in(list(keys)))
        .list.first()
        .struct.field("key")
        .alias(name)
    )


def _url_param(url: pl.Expr, name: str) -> pl.Expr:
    return _url_param_clean(_url_param_raw(url, name))


def _url_param_raw(url: pl.Expr, name: str) -> pl.Expr:
    """The first ``name=`` value of a URL's query (or fragment), not decoded.

    Found without a capturing group (cheaper): the match is ``?name=value``.
    """
    match = url.str.extract_all(rf"[?&#]{re.escape(name)}=[^&#]*").list.first()
    return match.str.slice(len(name) + 2)


def _url_param_clean(raw: pl.Expr) -> pl.Expr:
    decoded = raw.str.replace_all(r"\+", " ").str.replace_all("%20", " ", literal=True)
    return pl.when(decoded.str.len_chars() > 0).then(decoded).otherwise(None)


_URL_CLICK_RE: Final[str] = rf"[?&#]({'|'.join(_CLICK_IDS)})=([^&#]+)"


def _url_click(url: pl.Expr) -> pl.Expr:
    """The first click id in a page URL: struct of the parameter (``1``) and value (``2``)."""
    return url.str.extract_groups(_URL_CLICK_RE)


def landing_page(url: pl.Expr) -> pl.Expr:
    """A page URL without its query string and fragment (as GA4's *Landing page*)."""
    return url.str.replace(r"[?#].*$", "")


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    s = expr.str.strip_chars()
    return pl.when(s.is_in(["", "(not set)"]).not_()).then(s).otherwise(None)


_EVENT_KEYS: Final[tuple[str, ...]] = (
    "ga_session_id",
    "ga_session_number",
    "page_location",
    "page_referrer",
    "source",
    "medium",
)
"""Event parameters read from every event. The rarer ``campaign``, ``term`` and
``content`` are read only from the one event per session (and from the identifier
events) whose traffic source is used: see :func:`traffic_source`."""

_SOURCE_PARTS: Final[dict[str, tuple[str, str, str, str | None]]] = {
    # field: collected manual field, event parameter, URL parameter, first-touch field
    "source": ("manual_source", "source", "utm_source", "source"),
    "medium": ("manual_medium", "medium", "utm_medium", "medium"),
    "campaign_name": ("manual_campaign_name", "campaign", "utm_campaign", "name"),
    "term": ("manual_term", "term", "utm_term", None),
    "content": ("manual_content", "content", "utm_content", None),
}
_EVERY_EVENT: Final[tuple[str, ...]] = ("source", "medium")
"""Source fields built on every event (they say whether an event has a source)."""
_DEFERRED: Final[tuple[str, ...]] = ("campaign_name", "term", "content")

SOURCE_CARRY: Final[tuple[str, ...]] = (
    *[f"src_{f}" for f in _EVERY_EVENT],
    *[f"__{side}_{f}" for f in _DEFERRED for side in ("pre", "post")],
    "page_location",
    "__params",
)
"""The event columns :func:`traffic_source` builds a traffic source from (``__params``:
the parameters as JSON text)."""

CLICK_CARRY: Final[tuple[str, ...]] = ("__click_pre", "page_location")
"""The event columns :func:`click_id` builds a click id from."""

SOURCE_INPUTS: Final[tuple[str, ...]] = tuple(dict.fromkeys([*SOURCE_CARRY, *CLICK_CARRY]))
"""Both: what an event keeps so its traffic source and click id can be built later."""


def _source_ends(field: str) -> tuple[pl.Expr, pl.Expr]:
    """The parts of a source field known without parsing parameters or the URL.

    ``(manual, fallback)``: GA4's collected manual value; the session's last
    non-direct click, else on the user's first session the user's first touch. Blank
    values (empty, ``(not set)``) are null.
    """
    manual, _key, _url, first_field = _SOURCE_PARTS[field]
    last = pl.col("session_traffic_source_last_click").struct.field("manual_campaign")
    first_touch = (
        pl.col("traffic_source").struct.field(first_field)
        if first_field is not None
        else pl.lit(None, pl.String)
    )
    fallback = pl.coalesce(
        _blank_to_null(last.struct.field(field)),
        pl.when(pl.col("ga_session_number") == "1").then(_blank_to_null(first_touch)),
    )
    manual_value = _blank_to_null(pl.col("collected_traffic_source").struct.field(manual))
    return manual_value, fallback


def traffic_source(col: Callable[[str], pl.Expr]) -> dict[str, pl.Expr]:
    """An event's traffic source: ``src_<field>`` → expression, one per source field.

    Each field is the first non-blank (not empty, not ``(not set)``) of: the manual
    source GA4 collected on the event (``collected_traffic_source.manual_*``), the
    event parameter (``source``, ``medium``, ``campaign``, ``term``, ``content``), the
    page URL's ``utm_*`` parameter, the session's last non-direct click
    (``session_traffic_source_last_click.manual_campaign``) and, on the user's first
    session only, the user's first-touch source (``traffic_source``).

    ``col(name)`` gives the event's :data:`SOURCE_CARRY` columns (made by
    :func:`event_frame`; after an aggregation, those the session kept of its source
    event): source and medium are already built there; the other fields are finished
    here from their known parts and the parameters' text and page URL.
    """
    out = {f"src_{f}": col(f"src_{f}") for f in _EVERY_EVENT}
    for field in _DEFERRED:
        _manual, key, url_key, _first = _SOURCE_PARTS[field]
        out[f"src_{field}"] = pl.coalesce(
            col(f"__pre_{field}"),
            _blank_to_null(_param(key, as_text=True, params=col("__params"))),
            _blank_to_null(_url_param(col("page_location"), url_key)),
            col(f"__post_{field}"),
        )
    return out


def click_id(col: Callable[[str], pl.Expr]) -> pl.Expr:
    """An event's ad click id, ``"<kind>:<id>"``, from its :data:`CLICK_CARRY` columns.

    GA4's collected ``gclid`` or ``dclid`` (``__click_pre``, made by
    :func:`event_frame`), else the first click id parameter of the page URL
    (``gclid``, ``fbclid``, ``msclkid``...).
    """
    url_click = _url_click(col("page_location"))
    return pl.coalesce(
        col("__click_pre"),
        pl.concat_str(url_click.struct.field("1"), pl.lit(":"), url_click.struct.field("2")),
    )


def event_frame(events: pl.LazyFrame, *, params_as_text: bool) -> pl.LazyFrame:
    """One row per event with the fields sessions and identity links need.

    ``events`` has the :data:`EVENT_SCHEMA` columns plus ``__file`` and ``__row``;
    ``event_params`` is JSON text (NDJSON) or the typed list (Parquet, ``params_as_text``
    false).
    Adds ``ts`` (µs UTC datetime), ``ga_session_id``, ``ga_session_number``,
    ``page_location``, ``page_referrer``, ``__params`` (the parameters as JSON text),
    the :data:`SOURCE_CARRY` and :data:`CLICK_CARRY` columns, ``__has_source`` (the
    event has a traffic source or medium) and ``__has_click`` (it has a click id).

    Only what every event needs is parsed per event: the rest of the traffic source
    (:func:`traffic_source`) and the click id (:func:`click_id`) are finished on the
    one event a session takes them from, and on identifier events. The identifier
    parameters are added by :func:`id_columns`, only on the events that may carry one
    (:func:`may_carry_id`).
    """
    ts_us = pl.col("event_timestamp").str.strip_chars().cast(pl.Int64, strict=False)
    utm_keys = [_SOURCE_PARTS[f][2] for f in _EVERY_EVENT]
    if params_as_text:
        # each regular expression runs once per event: the raw matches become columns
        # first (an expression used in several branches is otherwise evaluated per use)
        base = (
            events.with_columns(
                ts_us.alias("__ts_us"), *[_param_raw((k,)).alias(k) for k in _EVENT_KEYS]
            )
            .with_columns(
                *[_unquote(pl.col(k), pl.col("event_params")).alias(k) for k in _EVENT_KEYS]
            )
            .with_columns(
                *[_url_param_raw(pl.col("page_location"), n).alias(f"__{n}") for n in utm_keys],
                pl.col("event_params").alias("__params"),
            )
            .with_columns(*[_url_param_clean(pl.col(f"__{n}")).alias(f"__{n}") for n in utm_keys])
        )
    else:
        base = events.with_columns(
            ts_us.alias("__ts_us"),
            *[_param(k, as_text=False) for k in _EVENT_KEYS],
            pl.struct(pl.col("event_params")).struct.json_encode().alias("__params"),
        ).with_columns(*[_url_param(pl.col("page_location"), n).alias(f"__{n}") for n in utm_keys])
    ends = {f: _source_ends(f) for f in _SOURCE_PARTS}
    every = {
        f"src_{f}": pl.coalesce(
            ends[f][0],
            _blank_to_null(pl.col(_SOURCE_PARTS[f][1])),
            _blank_to_null(pl.col(f"__{_SOURCE_PARTS[f][2]}")),
            ends[f][1],
        )
        for f in _EVERY_EVENT
    }
    parts = {
        f"__{side}_{f}": ends[f][i] for f in _DEFERRED for i, side in enumerate(("pre", "post"))
    }
    collected = pl.col("collected_traffic_source")
    click_pre = pl.coalesce(
        pl.lit("gclid:") + _blank_to_null(collected.struct.field("gclid")),
        pl.lit("dclid:") + _blank_to_null(collected.struct.field("dclid")),
    )
    return (
        base.with_columns(
            pl.from_epoch(pl.col("__ts_us"), time_unit="us")
            .dt.replace_time_zone("UTC")
            .alias("ts"),
            **every,
            **parts,
            __click_pre=click_pre,
            user_pseudo_id=_blank_to_null(pl.col("user_pseudo_id")),
            user_id=_blank_to_null(pl.col("user_id")),
        )
        .with_columns(
            (pl.col("src_source").is_not_null() | pl.col("src_medium").is_not_null()).alias(
                "__has_source"
            ),
            (
                pl.col("__click_pre").is_not_null()
                | pl.col("page_location").str.contains(_URL_CLICK_RE).fill_null(False)
            ).alias("__has_click"),
        )
        .drop(*[f"__{n}" for n in utm_keys], *_EVERY_EVENT)
    )


def source_columns(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``src_<field>`` and ``click_id`` to events from :func:`event_frame`.

    See :func:`traffic_source` and :func:`click_id`.
    """
    return frame.with_columns(**traffic_source(pl.col), click_id=click_id(pl.col))


def may_carry_id(*, params_as_text: bool) -> pl.Expr:
    """Whether an event's parameters name an identity parameter (a cheap pre-filter).

    On JSON text a literal search for the quoted key (a value equal to a key name is a
    false positive that :func:`id_columns` then finds empty); on the typed list the keys.
    """
    if params_as_text:
        return pl.col("event_params").str.contains_any([f'"{k}"' for k in IDENTITY_PARAMS])
    keys = pl.col("event_params").list.eval(pl.element().struct.field("key").is_in(ID_KEYS))
    return keys.list.any().fill_null(False)


def id_columns(
    events: pl.LazyFrame, *, params_as_text: bool, params: pl.Expr | None = None
) -> pl.LazyFrame:
    """Add one ``__id_<type>`` value and ``__idk_<type>`` key column per :data:`ID_TYPES`.

    ``params``: the parameters (default the ``event_params`` column).
    """
    return events.with_columns(
        *[
            _param(keys, as_text=params_as_text, name=f"__id_{id_type}", params=params)
            for id_type, keys in ID_TYPES.items()
        ],
        *[
            _param_key(keys, as_text=params_as_text, name=f"__idk_{id_type}", params=params)
            for id_type, keys in ID_TYPES.items()
        ],
    )


def problem_expr() -> pl.Expr:
    """Why an event cannot be placed in a session (null when it can)."""
    return (
        pl.when(pl.col("user_pseudo_id").is_null())
        .then(pl.lit("no `user_pseudo_id` (consent-mode cookieless ping?)"))
        .when(pl.col("__ts_us").is_null())
        .then(pl.lit("`event_timestamp` is not microseconds since the epoch"))
        .when(pl.col("ga_session_id").is_null())
        .then(pl.lit("no `ga_session_id` event parameter: the event has no session"))
        .otherwise(None)
    )


def narrow(events: pl.LazyFrame, *, extra: tuple[str, ...] = ()) -> pl.LazyFrame:
    """Keep only the per-event columns the aggregations read (drops the nested ones).

    ``extra`` names further columns to keep (the identifier columns of
    :func:`id_columns`, ``event_params`` to extract them later, ...).
    """
    return events.select(
        *extra,
        "__file",
        "__row",
        "__ts_us",
        "ts",
        "event_name",
        "user_pseudo_id",
        "user_id",
        "ga_session_id",
        "page_referrer",
        *SOURCE_INPUTS,
        "__has_source",
        "__has_click",
    )


def sessions(
    events: pl.LazyFrame,
    *,
    by: Sequence[pl.Expr] = (),
    carry: Sequence[pl.Expr] = (),
) -> pl.LazyFrame:
    """Aggregate usable events (from :func:`event_frame`) to one row per session.

    The landing page, traffic source, click id and user id are those of the session's
    earliest event that has them, the referrer that of its first event (events ordered
    by ``event_timestamp``); no ``session_start`` event is needed. A session with no
    source, medium, referrer or click id is ``(direct)`` / ``(none)``. Aggregations use
    ``min_by`` so the plan streams.

    ``by`` adds group keys (the reader keys each unusable event apart, so the one
    aggregation also returns the rejected events) and ``carry`` adds aggregations.
    """
    ts = pl.col("__ts_us")

    def first(col: str | pl.Expr, when: pl.Expr) -> pl.Expr:
        expr = pl.col(col) if isinstance(col, str) else col
        return expr.min_by(pl.when(when).then(ts))

    # the source event's parameters are kept only when they may name a source parameter
    # read there (most events carry none: their text is then not held per session)
    deferred = pl.col("__params").str.contains_any([f'"{_SOURCE_PARTS[f][1]}"' for f in _DEFERRED])
    source = [
        first(
            pl.when(deferred).then(pl.col(c)) if c == "__params" else pl.col(c),
            pl.col("__has_source"),
        ).alias(f"__s{c}")
        for c in SOURCE_CARRY
    ]
    click = [first(c, pl.col("__has_click")).alias(f"__c{c}") for c in CLICK_CARRY]
    direct = pl.all_horizontal(
        [pl.col(c).is_null() for c in ("source", "medium", "referrer", "click_id")]
    )
    grouped = events.group_by("user_pseudo_id", "ga_session_id", *by).agg(
        *carry,
        ts.min().alias("__first_us"),
        pl.col("__file").min_by(ts).alias("source_file"),
        pl.col("__row").min_by(ts).alias("source_row"),
        # the URL is cut to its landing page per session, not per event (same row)
        first("page_location", pl.col("page_location").is_not_null()).alias("landing_page"),
        pl.col("page_referrer").min_by(ts).alias("referrer"),
        *source,
        *click,
        first("user_id", pl.col("user_id").is_not_null()).alias("user_id"),
        pl.len().alias("__events"),
    )
    return (
        grouped.with_columns(
            **traffic_source(lambda c: pl.col(f"__s{c}")),
            click_id=click_id(lambda c: pl.col(f"__c{c}")),
        )
        .drop(*[f"__s{c}" for c in SOURCE_CARRY], *[f"__c{c}" for c in CLICK_CARRY])
        .rename({f"src_{n}": n for n in SOURCE_FIELDS})
        .with_columns(
            landing_page(pl.col("landing_page")),
            pl.from_epoch("__first_us", time_unit="us")
            .dt.replace_time_zone("UTC")
            .alias("occurred_at"),
            pl.concat_str(pl.lit("ga4:"), "user_pseudo_id").alias("anonymous_id"),
            pl.concat_str(pl.lit("ga4:"), "user_pseudo_id", pl.lit(":"), "ga_session_id").alias(
                "session_id"
            ),
            pl.concat_str("user_pseudo_id", pl.lit(":"), "ga_session_id").alias("source_id"),
        )
        .with_columns(
            # nothing tells where the visit came from: GA4 calls that (direct) / (none)
            pl.when(direct).then(pl.lit("(direct)")).otherwise("source").alias("source"),
            pl.when(direct).then(pl.lit("(none)")).otherwise("medium").alias("medium"),
            pl.when(pl.col("campaign_name").is_in(list(PSEUDO_CAMPAIGNS)))
            .then(None)
            .otherwise(pl.col("campaign_name"))
            .alias("campaign_name"),
            pl.col("session_id").alias("touchpoint_id"),
            pl.lit("web_session").alias("touch_type"),
            pl.lit(True).alias("is_marketing"),
            pl.lit("ga4").alias("source_system"),
        )
        .drop("__first_us")
    )


def crm_key(value: pl.Expr) -> pl.Expr:
    """A CRM id as its canonical key: ``"sf:<18-char id>"`` for a Salesforce id, else as is."""
    sf = salesforce_id18_expr(value)
    return pl.when(sf.is_not_null()).then(pl.concat_str(pl.lit("sf:"), sf)).otherwise(value)


def _id_links(events: pl.LazyFrame, form_events: list[str]) -> pl.LazyFrame:
    """Long frame: one row per (event, identifier it carries)."""
    is_form = pl.col("event_name").is_in(form_events)
    pieces = [
        events.filter(pl.col("user_id").is_not_null()).select(
            "user_pseudo_id",
            "ts",
            "__file",
            "__row",
            pl.lit("user_id").alias("linked_id_type"),
            pl.col("user_id").alias("linked_id_value"),
            pl.when(is_form)
            .then(pl.concat_str(pl.lit("ga4_"), "event_name"))
            .otherwise(pl.lit("ga4_user_id"))
            .alias("rule"),
        )
    ]
    for id_type in ID_TYPES:
        col = f"__id_{id_type}"
        value = pl.col(col).str.strip_chars()
        if id_type in ("email_sha256", "email"):
            value = value.str.to_lowercase()
        elif id_type == "crm_id":
            value = crm_key(value)
        pieces.append(
            events.filter(pl.col(col).is_not_null() & (pl.col(col).str.strip_chars() != "")).select(
                "user_pseudo_id",
                "ts",
                "__file",
                "__row",
                pl.lit(id_type).alias("linked_id_type"),
                value.alias("linked_id_value"),
                pl.concat_str(pl.lit("ga4_"), "event_name", pl.lit(":"), f"__idk_{id_type}").alias(
                    "rule"
                ),
            )
        )
    return pl.concat(pieces, how="vertical")


def identity_links(events: pl.LazyFrame, form_events: list[str]) -> pl.LazyFrame:
    """Identity evidence: a GA4 visitor seen with a user id, CRM id or hashed email.

    One row per (visitor, identifier, rule) with the first and last time it was seen;
    ``source_file``/``source_row`` are those of the first sighting.
    """
    return (
        _id_links(events, form_events)
        .group_by("user_pseudo_id", "linked_id_type", "linked_id_value", "rule")
        .agg(
            pl.col("ts").min().alias("first_seen_at"),
            pl.col("ts").max().alias("last_seen_at"),
            pl.col("__file").min_by("ts").alias("source_file"),
            pl.col("__row").min_by("ts").alias("source_row"),
        )
        .select(
            pl.lit(None, pl.String).alias("person_id"),
            pl.lit("anonymous_id").alias("id_type"),
            pl.concat_str(pl.lit("ga4:"), "user_pseudo_id").alias("id_value"),
            "linked_id_type",
            "linked_id_value",
            "rule",
            pl.lit(1.0).alias("confidence"),
            "first_seen_at",
            "last_seen_at",
            pl.lit("ga4").alias("source_system"),
            pl.col("user_pseudo_id").alias("source_id"),
            "source_file",
            pl.col("source_row").cast(pl.Int64),
        )
    )


def form_fills(events: pl.LazyFrame, form_events: list[str]) -> pl.LazyFrame:
    """One ``form_fill`` touchpoint per form / lead / sign-up event."""
    forms = events.filter(pl.col("event_name").is_in(form_events))
    return forms.select(
        pl.concat_str(
            pl.lit("ga4:"),
            "user_pseudo_id",
            pl.lit(":"),
            "ga_session_id",
            pl.lit(":"),
            "event_name",
            pl.lit(":"),
            pl.col("__ts_us").cast(pl.String),
        ).alias("touchpoint_id"),
        pl.concat_str(pl.lit("ga4:"), "user_pseudo_id").alias("anonymous_id"),
        pl.col("ts").alias("occurred_at"),
        pl.lit("form_fill").alias("touch_type"),
        pl.lit(True).alias("is_marketing"),
        pl.col("src_source").alias("source"),
        pl.col("src_medium").alias("medium"),
        pl.col("src_campaign_name").alias("campaign_name"),
        pl.col("src_content").alias("content"),
        pl.col("src_term").alias("term"),
        pl.col("page_referrer").alias("referrer"),
        "click_id",
        pl.concat_str(pl.lit("ga4:"), "user_pseudo_id", pl.lit(":"), "ga_session_id").alias(
            "session_id"
        ),
        landing_page(pl.col("page_location")).alias("landing_page"),
        "user_id",
        pl.lit("ga4").alias("source_system"),
        pl.concat_str(
            "user_pseudo_id", pl.lit(":"), "ga_session_id", pl.lit(":"), "event_name"
        ).alias("source_id"),
        pl.col("__file").alias("source_file"),
        pl.col("__row").cast(pl.Int64).alias("source_row"),
    )
