"""GA4 events as a flattened table: one row per event, event parameters as columns.

Connectors and dbt packages land GA4 this way instead of the BigQuery export's nested
``events_YYYYMMDD`` tables:

* Fivetran's *Google Analytics 4 Export* connector, table ``event`` (columns sync mode):
  ``name``, ``timestamp`` (a TIMESTAMP), ``date``, ``user_pseudo_id``, ``user_id``,
  one ``param_<key>`` column per event parameter (``param_ga_session_id``,
  ``param_source``, ``param_page_location``...), ``traffic_source_source / medium /
  name``, ``collected_traffic_source_manual_*``, ``_fivetran_id``, ``_fivetran_synced``;
* dbt-ga4's ``base_ga4__events`` / ``stg_ga4__events``: ``event_timestamp`` (µs),
  ``event_name``, ``session_id`` (the ``ga_session_id`` parameter), ``session_number``,
  ``page_location`` (``original_page_location`` in ``stg_ga4__events``, whose
  ``page_location`` may have lost query parameters), ``page_referrer``,
  ``event_source / event_medium / event_campaign / event_content / event_term``,
  ``user_source / user_medium / user_campaign`` (the export's ``traffic_source``),
  ``collected_traffic_source_*`` and ``session_traffic_source_last_click_manual_*``.

:func:`read_flat` turns such a table back into the export's event shape
(:data:`~closedloop_kit.io._ga4_events.EVENT_SCHEMA`; the parameters as the export's
JSON text), so ONE pipeline makes the sessions, form fills and identity links of both
shapes, and the same events give the same touchpoints. Struct columns of a typed
(Parquet) table are flattened first (``collected_traffic_source.manual_source`` →
``collected_traffic_source_manual_source``), so half-flattened tables read too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from closedloop_kit.io import _ga4_events as g
from closedloop_kit.io._parse import date_bounds, parse_datetime
from closedloop_kit.io._sheet import TABLE_KINDS, read_table
from closedloop_kit.io._text import sniff

__all__ = [
    "FLAT_SUFFIXES",
    "PARAM_COLUMNS",
    "STRUCT_COLUMNS",
    "TOP_COLUMNS",
    "FlatEvents",
    "is_flat",
    "is_flat_file",
    "read_flat",
]

FLAT_SUFFIXES: Final[tuple[str, ...]] = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".parquet")

TOP_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "event_timestamp": ("event_timestamp", "timestamp"),
    "event_name": ("event_name", "name"),
    "user_pseudo_id": ("user_pseudo_id",),
    "user_id": ("user_id",),
    "event_date": ("event_date", "event_date_dt", "date"),
}
"""Export field → flattened column names (lower-cased; the first non-empty wins)."""

PARAM_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "ga_session_id": ("ga_session_id", "param_ga_session_id", "session_id"),
    "ga_session_number": ("ga_session_number", "param_ga_session_number", "session_number"),
    "page_location": ("original_page_location", "page_location", "param_page_location"),
    "page_referrer": ("original_page_referrer", "page_referrer", "param_page_referrer"),
    "source": ("param_source", "event_source"),
    "medium": ("param_medium", "event_medium"),
    "campaign": ("param_campaign", "event_campaign"),
    "term": ("param_term", "event_term"),
    "content": ("param_content", "event_content"),
    **{k: (f"param_{k}", k) for k in g.IDENTITY_PARAMS},
}
"""Event parameter → columns holding it; every other ``param_<key>`` column is
parameter ``<key>``."""

_LAST_CLICK = "session_traffic_source_last_click_manual"

STRUCT_COLUMNS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "traffic_source": {
        "source": ("traffic_source_source", "user_source"),
        "medium": ("traffic_source_medium", "user_medium"),
        "name": ("traffic_source_name", "user_campaign"),
    },
    "collected_traffic_source": {
        **{
            f"manual_{f}": (f"collected_traffic_source_manual_{f}",)
            for f in ("source", "medium", "campaign_name", "term", "content")
        },
        "gclid": ("collected_traffic_source_gclid",),
        "dclid": ("collected_traffic_source_dclid",),
    },
    "session_traffic_source_last_click": {
        "source": (f"{_LAST_CLICK}_campaign_source", f"{_LAST_CLICK}_source"),
        "medium": (f"{_LAST_CLICK}_campaign_medium", f"{_LAST_CLICK}_medium"),
        "campaign_name": (f"{_LAST_CLICK}_campaign_campaign_name", f"{_LAST_CLICK}_campaign_name"),
        "term": (f"{_LAST_CLICK}_campaign_term", f"{_LAST_CLICK}_term"),
        "content": (f"{_LAST_CLICK}_campaign_content", f"{_LAST_CLICK}_content"),
    },
}
"""Export struct → its fields → flattened column names (dbt-ga4 and connector names)."""

_SESSION_KEYS = frozenset(PARAM_COLUMNS["ga_session_id"])
_INTEGRAL = r"^(-?\d+)\.0+$"  # 1698800000.0: an INT64 that went through a FLOAT column


@dataclass(frozen=True)
class FlatEvents:
    """A flattened table read back into the export's event shape.

    Attributes
    ----------
    raw
        :data:`~closedloop_kit.io._ga4_events.EVENT_SCHEMA` columns (``event_params`` as
        JSON text), ``__file``, ``__row`` (0-based) and ``__why`` (why the row cannot be
        read, or null).
    lines
        ``__file``, ``__k``, ``__line``: the line of each row of a text table (None for
        Parquet, whose rows are numbered from 1).
    format, encoding, delimiter, header_line, time_zone_assumed, notes
        For the load report.
    """

    raw: pl.LazyFrame
    lines: pl.DataFrame | None
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    header_line: int | None = None
    time_zone_assumed: str | None = None
    notes: tuple[str, ...] = ()


def is_flat(names: Iterable[str], *, nested_params: bool = False) -> bool:
    """Whether columns ``names`` are a flattened GA4 events table.

    It needs ``user_pseudo_id``, an event time (``event_timestamp`` / ``timestamp``) and
    an event name (``event_name`` / ``name``). A table whose ``event_params`` is still
    the export's nested list (``nested_params``) is the export itself unless it also
    has a session column (dbt-ga4's ``base_ga4__events`` keeps both).

    Examples
    --------
    >>> is_flat(["_fivetran_synced", "name", "timestamp", "user_pseudo_id"])
    True
    >>> is_flat(["event_name", "event_timestamp", "user_pseudo_id"], nested_params=True)
    False
    """
    lower = {n.lower() for n in names}
    if "user_pseudo_id" not in lower:
        return False
    if not (lower & set(TOP_COLUMNS["event_timestamp"])):
        return False
    if not (lower & set(TOP_COLUMNS["event_name"])):
        return False
    return not nested_params or bool(lower & _SESSION_KEYS)


def _parquet_is_flat(path: Path) -> bool:
    schema = pl.scan_parquet(path).collect_schema()
    nested = isinstance(schema.get("event_params"), pl.List)
    return is_flat(schema.names(), nested_params=nested)


def is_flat_file(path: Path) -> bool:
    """Whether ``path`` (CSV/TSV/Excel or Parquet) holds a flattened GA4 events table."""
    if path.suffix.lower() not in FLAT_SUFFIXES:
        return False
    try:
        if path.suffix.lower() == ".parquet":
            return _parquet_is_flat(path)
        fs = sniff(path)
    except Exception:  # unreadable: the reader that takes it says why
        return False
    return fs.kind in TABLE_KINDS and is_flat(fs.header)


def _unnest(frame: pl.DataFrame) -> pl.DataFrame:
    """Struct columns as ``<column>_<field>`` columns (two levels), lists dropped."""
    for _ in range(2):
        cols: list[pl.Expr] = []
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Struct):
                cols += [
                    pl.col(name).struct.field(f.name).alias(f"{name}_{f.name}")
                    for f in dtype.fields
                ]
            elif name != "event_params" and isinstance(dtype, (pl.List, pl.Array)):
                continue
            else:
                cols.append(pl.col(name))
        frame = frame.select(cols)
    return frame


def _text(col: str) -> pl.Expr:
    s = pl.col(col).cast(pl.String).str.strip_chars()
    return pl.when(s != "").then(s)


def _first(lower: Mapping[str, str], aliases: Iterable[str]) -> pl.Expr:
    cols = [lower[a] for a in aliases if a in lower]
    if not cols:
        return pl.lit(None, pl.String)
    return pl.coalesce([_text(c) for c in cols]) if len(cols) > 1 else _text(cols[0])


def _param_columns(lower: Mapping[str, str]) -> dict[str, list[str]]:
    """Event parameter → the columns holding it, named ones first."""
    out: dict[str, list[str]] = {}
    taken: set[str] = set()
    for key, aliases in PARAM_COLUMNS.items():
        cols = [lower[a] for a in aliases if a in lower]
        if cols:
            out[key] = cols
            taken.update(cols)
    for low, col in lower.items():
        if low.startswith("param_") and col not in taken and len(low) > 6:
            out.setdefault(low[6:], []).append(col)
    return out


def _params_json(params: Mapping[str, list[str]], nested: bool) -> pl.Expr:
    """The parameters as the export's JSON text (``[{"key", "value": {...}}]``).

    Each value is written as ``string_value`` (the text as the table holds it); a
    typed ``event_params`` list still in the table follows (the columns win).
    """
    items = []
    for key, cols in params.items():
        value = pl.coalesce([_text(c) for c in cols])
        if key in ("ga_session_id", "ga_session_number"):
            value = value.str.replace(_INTEGRAL, "${1}")
        items.append(
            pl.when(value.is_not_null()).then(
                pl.struct(
                    pl.lit(key).alias("key"), pl.struct(value.alias("string_value")).alias("value")
                )
            )
        )
    text = (
        pl.struct(
            pl.concat_list(items).list.drop_nulls().alias("event_params")
        ).struct.json_encode()
        if items
        else pl.lit('{"event_params":[]}')
    )
    if nested:
        text = text + pl.struct(pl.col("event_params")).struct.json_encode().fill_null("")
    return text


def _struct(lower: Mapping[str, str], name: str) -> pl.Expr:
    dtype = g.EVENT_SCHEMA[name]
    assert isinstance(dtype, pl.Struct)
    spec = STRUCT_COLUMNS[name]
    if name == "session_traffic_source_last_click":
        inner = dtype.fields[0].dtype
        assert isinstance(inner, pl.Struct)
        fields = [_first(lower, spec.get(f.name, ())).alias(f.name) for f in inner.fields]
        return pl.struct(pl.struct(fields).alias("manual_campaign"))
    return pl.struct([_first(lower, spec.get(f.name, ())).alias(f.name) for f in dtype.fields])


def _timestamps(
    s: pl.Series, column: str, path: Path
) -> tuple[pl.Series, pl.Series, str | None, list[str]]:
    """Event times as µs since the epoch (text), why a value is unreadable, zone assumed.

    Integers are GA4's microseconds; date-time text and TIMESTAMP columns are read as
    date-times (naive ones as UTC, the warehouse convention, reported as assumed).
    Values outside the plausible dates (1990-01-01 to today + 10 years: milliseconds
    or seconds read as µs land in 1970) are refused, never reinterpreted.
    """
    notes: list[str] = []
    zone: str | None = None
    n = s.len()
    problem = pl.Series("p", [None] * n, dtype=pl.String)
    if isinstance(s.dtype, pl.Datetime):
        zone = None if s.dtype.time_zone else "UTC"
        utc = s.dt.convert_time_zone("UTC") if s.dtype.time_zone else s.dt.replace_time_zone("UTC")
        us = utc.dt.epoch("us")
    elif s.dtype.is_integer():
        us = s.cast(pl.Int64)
    else:
        text = s.cast(pl.String).str.strip_chars()
        digits = text.str.contains(r"^\d+$").fill_null(False)
        frame = pl.DataFrame({"t": text, "d": digits})
        whole = frame.select(
            pl.when("d").then(pl.col("t").cast(pl.Int64, strict=False))
        ).to_series()
        other = frame.select(pl.when(~pl.col("d")).then(pl.col("t"))).to_series()
        us = whole
        if other.null_count() < n:
            parsed = parse_datetime(other, tz="UTC", column=column, path=path, epoch=False)
            zone = parsed.assumed_time_zone
            notes += list(parsed.notes)
            us = pl.select(pl.coalesce(whole, parsed.value.dt.epoch("us"))).to_series()
            problem = parsed.problem
    lo, hi = date_bounds()
    day = pl.select(pl.from_epoch(us, time_unit="us").dt.date()).to_series()
    outside = day.is_not_null() & ((day < lo) | (day > hi))
    if bool(outside.any()):
        why = pl.select(
            pl.when(outside).then(
                pl.format(
                    f"`{column}`: {{}} read as microseconds since the epoch is {{}}, outside "
                    f"the plausible dates {lo}..{hi} (milliseconds or seconds?)",
                    us.cast(pl.String),
                    day.cast(pl.String),
                )
            )
        ).to_series()
        problem = pl.select(pl.coalesce(problem, why)).to_series()
        us = pl.select(pl.when(~outside).then(us)).to_series()
    text_us = us.cast(pl.String)
    return text_us, problem, zone, notes


def _read_frame(path: Path) -> tuple[pl.DataFrame, dict[str, object]]:
    """The table as a frame (text tables all-text, Parquet typed) and its sniff facts."""
    if path.suffix.lower() == ".parquet":
        frame = pl.read_parquet(path)
        return frame, {"format": "ga4 flattened events table (parquet)"}
    raw = read_table(path)
    fs = raw.sniff
    info: dict[str, object] = {
        "format": f"ga4 flattened events table ({fs.kind if fs.kind != 'text' else 'csv'})",
        "encoding": fs.encoding,
        "delimiter": fs.delimiter,
        "header_line": fs.header_line,
        "notes": raw.layout_notes(),
    }
    return raw.frame, info


def read_flat(path: Path) -> FlatEvents:
    """Read a flattened GA4 events table into the export's event shape.

    Parameters
    ----------
    path
        A CSV/TSV/Excel or Parquet file (:func:`is_flat_file`).

    Returns
    -------
    FlatEvents
        The events, each row's line (text tables), and what the report should say: the
        columns read for each export field, the zone assumed for naive times.
    """
    frame, info = _read_frame(path)
    lines = None
    if "source_row" in frame.columns:
        lines = pl.DataFrame(
            {
                "__file": [str(path)] * frame.height,
                "__k": pl.int_range(frame.height, eager=True).cast(pl.Int64),
                "__line": frame["source_row"].cast(pl.Int64),
            },
            schema={"__file": pl.String, "__k": pl.Int64, "__line": pl.Int64},
        )
        frame = frame.drop("source_row")
    nested = isinstance(frame.schema.get("event_params"), pl.List)
    frame = _unnest(frame)
    lower: dict[str, str] = {}
    for c in frame.columns:
        lower.setdefault(c.lower(), c)
    ts_col = next(lower[a] for a in TOP_COLUMNS["event_timestamp"] if a in lower)
    us, why, zone, ts_notes = _timestamps(frame[ts_col], ts_col, path)
    params = _param_columns(lower)
    original_ts = _text(ts_col)
    raw = frame.with_columns(us.alias("__us"), why.alias("__why")).select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("__row"),
        pl.lit(str(path)).alias("__file"),
        _first(lower, TOP_COLUMNS["event_date"]).alias("event_date"),
        pl.coalesce(pl.col("__us"), original_ts).alias("event_timestamp"),
        _first(lower, TOP_COLUMNS["event_name"]).alias("event_name"),
        _params_json(params, nested).alias("event_params"),
        _first(lower, TOP_COLUMNS["user_id"]).alias("user_id"),
        _first(lower, TOP_COLUMNS["user_pseudo_id"]).alias("user_pseudo_id"),
        *[_struct(lower, s).alias(s) for s in STRUCT_COLUMNS],
        pl.col("__why"),
    )
    notes = [*info.get("notes", []), *ts_notes, _mapping_note(lower, ts_col, params)]  # type: ignore[misc]
    if zone is not None:
        notes.append(f"`{ts_col}` without a UTC offset read as UTC (warehouse timestamps are)")
    return FlatEvents(
        raw=raw.lazy(),
        lines=lines,
        format=str(info["format"]),
        encoding=info.get("encoding"),  # type: ignore[arg-type]
        delimiter=info.get("delimiter"),  # type: ignore[arg-type]
        header_line=info.get("header_line"),  # type: ignore[arg-type]
        time_zone_assumed=zone,
        notes=tuple(notes),
    )


def _mapping_note(lower: Mapping[str, str], ts_col: str, params: Mapping[str, list[str]]) -> str:
    """Which column was read for which export field (for the report)."""
    parts = [f"`{ts_col}` → event_timestamp"]
    for field in ("event_name", "user_pseudo_id"):
        col = next(lower[a] for a in TOP_COLUMNS[field] if a in lower)
        if col != field:
            parts.append(f"`{col}` → {field}")
    for key in ("ga_session_id", "page_location", "source"):
        if key in params:
            parts.append(f"`{params[key][0]}` → event parameter {key}")
    extra = len(params) - sum(k in params for k in ("ga_session_id", "page_location", "source"))
    if extra:
        parts.append(f"{extra} more event parameter column(s)")
    structs = [
        s
        for s, spec in STRUCT_COLUMNS.items()
        if any(a in lower for al in spec.values() for a in al)
    ]
    if structs:
        parts.append("traffic columns → " + ", ".join(structs))
    return "flattened GA4 events: " + ", ".join(parts)
