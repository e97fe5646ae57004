"""Check a rendered report's tables the way a reader would (used by the tests and by hand)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from closedloop_kit.report._export import report_tables

__all__ = ["table_problems"]

_ROW = re.compile(r"<tr\b.*?</tr>", re.DOTALL)
_CELL = re.compile(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_DTYPE = re.compile(
    r"(str|bool|date|time|null|cat|binary|object|[iuf](8|16|32|64|128)"
    r"|(datetime|duration|list|array|struct|enum|decimal)\[.*\])"
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
