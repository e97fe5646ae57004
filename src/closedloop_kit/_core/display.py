"""Tables for people: one formatter for reports, notebooks and result objects.

Every table a person reads (a report, a notebook cell, a result's ``_repr_html_``) goes
through :func:`format_table`. It decides once, from the column name and dtype, how a
column reads, turns the values into text, and lays the table out with great_tables:

========== ======================================================= ==============
kind       columns                                                 shown as
========== ======================================================= ==============
currency   names with revenue, amount, cost, spend, pipeline,      ``$12,345``
           budget, bookings, cac (``cost_per_…`` too)
percent    ``rate``, ``share``, ``roi``, ``…_rate``, ``…_share``,   ``12.3%``
           ``…_pct``; ``ci_low``/``ci_high`` beside a rate
ratio      ``roas``, ``…_to_…``                                    ``3.20×``
integer    integer dtypes, and floats whose values are all whole   ``1,234``
number     other floats                                            ``1,234.57``
date       dates / datetimes                                       ``2026-03-01``
========== ======================================================= ==============

Headers are words with units (``Attributed revenue ($)``, ``Conversion rate (%)``); ids
are replaced by names where a mapping is given (``names={"campaign": {...}}``); nulls
read ``—``, except in a first text column, which labels the rows: there a null is the
group with no value (no channel, no campaign) and reads ``(none)``; a
``metric``/``value`` table is formatted row by row (a share reads as a percentage, a
count as an integer). Nothing is truncated up to ``max_rows`` rows; longer
tables say how many rows they hold. great_tables loads on first use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import polars as pl

__all__ = [
    "CURRENCY_SYMBOLS",
    "ColumnKind",
    "column_kinds",
    "column_label",
    "format_table",
    "format_value",
    "table_html",
]

ColumnKind = Literal["currency", "percent", "ratio", "integer", "number", "date", "text"]

CURRENCY_SYMBOLS: dict[str, str] = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "¥",
    "INR": "₹",
    "AUD": "A$",
    "CAD": "C$",
}
"""Symbols shown for common currency codes; other codes are shown as the code."""

_MONEY = re.compile(
    r"(revenue|amount|cost|spend|pipeline|budget|funding|bookings|deal_size|^cac$|_cac$|^cpl$)"
)
_PERCENT = re.compile(r"(^|_)(rate|share|roi|pct|percent)$|^(share|rate|roi)_")
_RATIO = re.compile(r"^roas$|_roas$|_to_")
_INTERVAL = ("ci_low", "ci_high")
_ACRONYMS = {
    "roi": "ROI",
    "roas": "ROAS",
    "cac": "CAC",
    "mql": "MQL",
    "mqls": "MQLs",
    "sql": "SQL",
    "ci": "CI",
    "id": "ID",
    "ids": "IDs",
    "fx": "FX",
    "utm": "UTM",
    "crm": "CRM",
    "kpi": "KPI",
    "pii": "PII",
}
_NUMERIC = (pl.Float32, pl.Float64)


def _symbol(currency: str) -> str:
    return CURRENCY_SYMBOLS.get(currency.upper(), f"{currency.upper()} ")


def _is_whole(series: pl.Series) -> bool:
    values = series.drop_nulls().drop_nans() if series.dtype in _NUMERIC else series.drop_nulls()
    if not values.len():
        return False
    finite = values.filter(values.is_finite())
    return bool(finite.len() == values.len() and (finite == finite.round(0)).all())


def column_kinds(
    frame: pl.DataFrame,
    *,
    currency_columns: Iterable[str] = (),
    percent_columns: Iterable[str] = (),
) -> dict[str, ColumnKind]:
    """How each column of ``frame`` reads (see the module docstring for the rules).

    Examples
    --------
    >>> import polars as pl
    >>> from closedloop_kit._core.display import column_kinds
    >>> kinds = column_kinds(pl.DataFrame({"channel": ["Email"], "cost": [1.5],
    ...                                    "share": [0.2], "leads": [3.0], "conversions": [0.5]}))
    >>> list(kinds.values())
    ['text', 'currency', 'percent', 'integer', 'number']
    """
    money, pct = set(currency_columns), set(percent_columns)
    has_rate = any(_PERCENT.search(c) for c in frame.columns) or bool(pct)
    out: dict[str, ColumnKind] = {}
    for name, dtype in frame.schema.items():
        lower = name.lower()
        if dtype.is_temporal():
            out[name] = "date"
        elif not dtype.is_numeric():
            out[name] = "text"
        elif name in money:
            out[name] = "currency"
        elif name in pct or (lower in _INTERVAL and has_rate) or _PERCENT.search(lower):
            out[name] = "percent"
        elif _RATIO.search(lower):
            out[name] = "ratio"
        elif _MONEY.search(lower):
            out[name] = "currency"
        elif dtype.is_integer() or _is_whole(frame[name]):
            out[name] = "integer"
        else:
            out[name] = "number"
    return out


def column_label(name: str, kind: ColumnKind, *, currency: str = "USD") -> str:
    """A header for people: words, acronyms in capitals, the unit in brackets.

    Examples
    --------
    >>> from closedloop_kit._core.display import column_label
    >>> column_label("cost_per_sales_ready", "currency", currency="EUR")
    'Cost per sales-ready (€)'
    >>> column_label("roi", "percent")
    'ROI (%)'
    >>> column_label("n_from", "integer")
    'From (n)'
    """
    parts = [w for w in name.strip("_").split("_") if w]
    if len(parts) > 1 and parts[0] == "n":
        parts = parts[1:]  # n_from: the unit says it is a count
    words = " ".join(_ACRONYMS.get(w, w) for w in parts).replace("sales ready", "sales-ready")
    words = words or name
    words = words[0].upper() + words[1:]
    unit = {
        "currency": _symbol(currency).strip(),
        "percent": "%",
        "ratio": "×",
        "integer": "n" if name.startswith("n_") else "",
    }.get(kind, "")
    return f"{words} ({unit})" if unit else words


def format_value(value: Any, kind: ColumnKind, *, currency: str = "USD") -> str:
    """One value as text for people (``—`` for a missing value).

    Examples
    --------
    >>> from closedloop_kit._core.display import format_value
    >>> format_value(235553.434752, "currency"), format_value(-1200, "currency", currency="EUR")
    ('$235,553', '-€1,200')
    >>> format_value(0.550226, "percent"), format_value(901.0, "integer")
    ('55.0%', '901')
    >>> format_value(3.2, "ratio"), format_value(None, "number")
    ('3.20×', '—')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}" if value.time() != dt.time() else f"{value:%Y-%m-%d}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v, "text") for v in value)
    if not isinstance(value, int | float) or kind in ("text", "date"):
        return str(value)
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if kind == "currency":
        sign = "-" if value < 0 else ""
        return f"{sign}{_symbol(currency)}{abs(value):,.0f}"
    if kind == "percent":
        return f"{value * 100:,.1f}%"
    if kind == "ratio":
        return f"{value:,.2f}×"
    if kind == "integer":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _metric_kind(metric: str, value: Any) -> ColumnKind:
    lower = metric.lower()
    if re.search(r"share|rate|ratio of|percent|%", lower):
        return "percent"
    if _MONEY.search(lower.replace(" ", "_")):
        return "currency"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    return "number"


def _with_names(frame: pl.DataFrame, names: Mapping[str, Mapping[str, str]]) -> pl.DataFrame:
    exprs = []
    for column, mapping in names.items():
        if column in frame.columns and mapping and frame.schema[column] == pl.String:
            mapped = pl.col(column).replace_strict(dict(mapping), default=pl.col(column))
            exprs.append(mapped.alias(column))
    return frame.with_columns(exprs) if exprs else frame


NO_GROUP = "(none)"
"""How a null row label reads (the group of the entities with no value for the key)."""


def _text_frame(
    frame: pl.DataFrame, kinds: Mapping[str, ColumnKind], currency: str
) -> pl.DataFrame:
    """Every column as text, formatted by its kind (a metric/value table row by row)."""
    columns: dict[str, list[str]] = {}
    metric_value = "metric" in kinds and "value" in kinds and kinds["metric"] == "text"
    # a first text column labels the rows
    row_label = frame.columns[0] if frame.columns and kinds[frame.columns[0]] == "text" else None
    for name in frame.columns:
        values = frame[name].to_list()
        if name == row_label:
            columns[name] = [
                NO_GROUP if v is None else format_value(v, "text", currency=currency)
                for v in values
            ]
        elif metric_value and name == "value":
            metrics = frame["metric"].cast(pl.String).to_list()
            columns[name] = [
                format_value(v, _metric_kind(str(m), v), currency=currency)
                for m, v in zip(metrics, values, strict=True)
            ]
        else:
            columns[name] = [format_value(v, kinds[name], currency=currency) for v in values]
    return pl.DataFrame(columns, schema=dict.fromkeys(frame.columns, pl.String))


def _frame_currency(frame: pl.DataFrame, currency: str | None) -> tuple[pl.DataFrame, str]:
    """The currency to show, and the frame without a single-valued ``currency`` column."""
    if "currency" in frame.columns and frame.schema["currency"] == pl.String:
        codes = frame["currency"].drop_nulls().unique().to_list()
        if len(codes) == 1 and (currency is None or codes[0] == currency):
            return frame.drop("currency"), str(codes[0])
    return frame, currency or "USD"


def _table_id(frame: pl.DataFrame, title: str | None) -> str:
    """A stable element id (re-running a report gives identical HTML).

    Hashes the formatted cells, so float noise below the shown precision (sums taken in
    another order by a parallel group-by) cannot change the page.
    """
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(repr((title, frame.columns, frame.dtypes)).encode())
    digest.update(str(frame.head(50).rows()).encode())
    return f"clk-{digest.hexdigest()[:10]}"


def format_table(
    frame: pl.DataFrame,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    source: str | None = None,
    names: Mapping[str, Mapping[str, str]] | None = None,
    labels: Mapping[str, str] | None = None,
    currency: str | None = None,
    currency_columns: Sequence[str] = (),
    percent_columns: Sequence[str] = (),
    max_rows: int = 100,
    table_id: str | None = None,
) -> Any:
    """A great_tables ``GT`` of ``frame`` formatted for people.

    Parameters
    ----------
    frame
        The table (eager; a LazyFrame is collected).
    title, subtitle
        Shown above the table.
    source
        Source note shown below (e.g. ``"Salesforce opportunities, 2026Q2"``).
    names
        ``column -> {id: name}``: ids replaced by names (ids without a name stay).
    labels
        Headers chosen by the caller (``column -> header``); others from :func:`column_label`.
    currency
        Currency code of the money columns; default the frame's single ``currency``
        value (the column is then dropped) or ``"USD"``.
    currency_columns, percent_columns
        Columns forced to that kind (others follow :func:`column_kinds`).
    max_rows
        Rows shown; a longer table shows the first ``max_rows`` and says how many it has.
    table_id
        HTML id; default a hash of the content (identical on a re-run).

    Returns
    -------
    great_tables.GT
        ``.as_raw_html()`` gives the HTML; notebooks display it directly.
    """
    from great_tables import GT

    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    frame, code = _frame_currency(frame, currency)
    if names:
        frame = _with_names(frame, names)
    kinds = column_kinds(frame, currency_columns=currency_columns, percent_columns=percent_columns)
    shown = frame.head(max_rows)
    text = _text_frame(shown, kinds, code)
    gt = GT(text, id=table_id or _table_id(text, title))
    header: dict[str, Any] = {
        c: (labels or {}).get(c) or column_label(c, kinds[c], currency=code) for c in kinds
    }
    gt = gt.cols_label(cases=dict(header))
    right = [c for c, k in kinds.items() if k not in ("text", "date")]
    if right:
        gt = gt.cols_align("right", columns=right)
    if title:
        gt = gt.tab_header(title=title, subtitle=subtitle)
    notes = [source] if source else []
    if frame.height > max_rows:
        notes.append(f"Showing the first {max_rows:,} of {frame.height:,} rows.")
    for note in notes:
        gt = gt.tab_source_note(note)
    return gt.tab_options(table_font_size="13px", container_width="auto")


def table_html(frame: pl.DataFrame, **kwargs: Any) -> str:
    """The HTML of :func:`format_table` (same keywords)."""
    return str(format_table(frame, **kwargs).as_raw_html())
