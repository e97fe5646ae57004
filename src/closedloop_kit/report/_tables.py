"""Read a rendered report the way a reader would: its tables' problems, its KPI tiles."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import polars as pl

from closedloop_kit.report._export import report_tables

__all__ = ["report_kpis", "table_problems"]

_ROW = re.compile(r"<tr\b.*?</tr>", re.DOTALL)
_CELL = re.compile(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_DTYPE = re.compile(
    r"(str|bool|date|time|null|cat|binary|object|[iuf](8|16|32|64|128)"
    r"|(datetime|duration|list|array|struct|enum|decimal)\[.*\])"
)
# attributes in any order: the HTML export sorts them
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')
_TILE = re.compile(
    r'<div (?P<attrs>[^>]*\bdata-kpi="[^"]*"[^>]*)>\s*'
    r'<div class="clk-kpi-label">(?P<label>.*?)</div>'
    r'<div class="clk-kpi-value">(?P<shown>.*?)</div>'
    r'<div class="clk-kpi-delta[^"]*">(?P<delta>.*?)</div></div>',
    re.DOTALL,
)


def _cells(row: str) -> list[str]:
    return [html.unescape(_TAG.sub("", c)).strip() for c in _CELL.findall(row)]


def table_problems(text: str, *, ids: Iterable[str] = ()) -> list[str]:
    """What a reader would object to in the tables of a report's HTML.

    - a dtype row (every cell a polars dtype such as ``str`` or ``i64``);
    - a truncated table (a row of ``…`` cells, polars' elision);
    - a raw id from ``ids`` (ids that have a name: the name should be shown instead).

    Returns one line per problem (empty when the tables read well).

    Examples
    --------
    >>> from closedloop_kit.report import table_problems
    >>> table_problems("<table><tr><th>a</th></tr><tr><td>str</td></tr></table>")
    ['table 1: a dtype row (str)']
    >>> table_problems("<table><tr><td>sf:701X</td></tr></table>", ids=["sf:701X"])
    ["table 1: raw id 'sf:701X' where a name exists"]
    """
    wanted = {i for i in ids if i}
    found: list[str] = []
    for n, table in enumerate(report_tables(text), start=1):
        for row in _ROW.findall(table):
            cells = _cells(row)
            if cells and all(_DTYPE.fullmatch(c) for c in cells):
                found.append(f"table {n}: a dtype row ({', '.join(cells[:6])})")
            elif len(cells) > 1 and all(c == "…" for c in cells):
                found.append(f"table {n}: rows hidden by '…'")
            for cell in cells:
                if cell.strip('"') in wanted:  # polars quotes strings
                    found.append(f"table {n}: raw id {cell.strip(chr(34))!r} where a name exists")
    return found


def _number(text: str) -> float | None:
    return float(text) if text else None


def report_kpis(text: str) -> pl.DataFrame:
    """The KPI tiles of a report's HTML, in the order shown, with their exact values.

    Reads the tiles :func:`closedloop_kit.viz.kpi_tiles` draws (the ``operating_review``
    template opens with them): ``kpi`` (its key, e.g. ``"pipeline"``), ``label``,
    ``current`` and ``previous`` (the unrounded numbers the tile was drawn from; null when
    missing), ``shown`` (the value as the reader sees it) and ``delta`` (the change text).
    A report without tiles gives an empty frame.

    Examples
    --------
    >>> import polars as pl
    >>> import closedloop_kit as clk
    >>> from closedloop_kit.report import report_kpis
    >>> frame = pl.DataFrame({"kpi": ["pipeline"], "label": ["Pipeline"], "kind": ["currency"],
    ...                       "current": [1234.567], "previous": [None], "change": [None]})
    >>> report_kpis(clk.viz.kpi_tiles(frame).html).select("kpi", "current", "shown").row(0)
    ('pipeline', 1234.567, '$1,235')
    """
    rows = []
    for m in _TILE.finditer(text):
        attrs = {k: html.unescape(v) for k, v in _ATTR.findall(m["attrs"])}
        rows.append(
            {
                "kpi": attrs["data-kpi"],
                "label": html.unescape(m["label"]),
                "current": _number(attrs.get("data-value", "")),
                "previous": _number(attrs.get("data-previous", "")),
                "shown": html.unescape(m["shown"]),
                "delta": html.unescape(m["delta"]),
            }
        )
    schema = {
        "kpi": pl.String,
        "label": pl.String,
        "current": pl.Float64,
        "previous": pl.Float64,
        "shown": pl.String,
        "delta": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)
