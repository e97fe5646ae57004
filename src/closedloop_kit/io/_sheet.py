"""Read Excel workbooks (``.xlsx``, old ``.xls``) as tables, like text exports.

HubSpot, Google Ads, Meta Ads Manager and Salesforce "formatted report" downloads come
as workbooks as often as CSV. :func:`read_sheet_table` reads one sheet with ``fastexcel``
(calamine) into the same :class:`~closedloop_kit.io._text.RawTable` the text reader
makes: every column a string, plus ``source_row``, the 1-based sheet row of each data
row. The header row is found with the text sniffer's heuristic (title and date-range
rows above it are the preamble), ``Total:`` / ``Grand Totals`` / confidentiality rows
and blank rows at the end are the footer, and blank columns without a header are
dropped.

Cells come out as the text a CSV export would hold: whole numbers without ``.0``
(HubSpot ``Record ID`` 1234 → ``"1234"``), other numbers with up to 9 decimals, date
cells as ISO text (``"2026-01-05"`` in a column of dates, ``"2026-01-05 14:03:22"`` when
the column holds times of day), booleans as ``"true"`` / ``"false"``; error cells
(``#N/A``) are empty. :func:`read_table` is the one entry point readers use: text files
go to :func:`~closedloop_kit.io._text.read_text_table`, workbooks here.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._text import (
    _FOOTER_RE,
    SOURCE_ROW,
    FileSniff,
    RawTable,
    _clean_name,
    _find_table,
    _unique_names,
    read_text_table,
)

if TYPE_CHECKING:
    import fastexcel

__all__ = ["TABLE_KINDS", "WORKBOOK_KINDS", "read_sheet_table", "read_table", "sniff_workbook"]

WORKBOOK_KINDS = ("xlsx", "xls")
"""File kinds (see :class:`~closedloop_kit.io._text.FileSniff`) read as workbooks."""

TABLE_KINDS = ("text", *WORKBOOK_KINDS)
"""File kinds :func:`read_table` reads: what tabular readers register as ``kinds``."""

_HEAD_ROWS = 60  # rows looked at to find the header (as _find_table does for text)
_SAMPLE_ROWS = 50  # rows put into FileSniff.sample
_TAIL_ROWS = 200  # rows looked at from the bottom for footer rows
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$"
_TIME_ONLY = r"^1899-12-31 (\d{2}:\d{2}:\d{2}(\.\d+)?)$"  # a time cell (Excel day 0)


# --------------------------------------------------------------------------- opening
def _fastexcel() -> Any:
    try:
        import fastexcel
    except ImportError as exc:  # pragma: no cover - fastexcel is a dependency
        from closedloop_kit.errors import MissingDependencyError

        msg = "reading Excel needs `fastexcel`: pip install 'closedloop-kit[excel]'"
        raise MissingDependencyError(msg) from exc
    return fastexcel


def _short(exc: BaseException) -> str:
    """First line of a calamine error, without the library prefix."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"^calamine error:\s*", "", text)


def _unreadable(path: Path, kind: str, exc: BaseException, sheet: str | None = None) -> Exception:
    where = f" (sheet {sheet!r})" if sheet is not None else ""
    if _is_encrypted(path) or "password" in str(exc).lower():
        msg = (
            f"{path.name}: the workbook is password-protected (encrypted){where}; expected "
            f"an unprotected .{kind} workbook: open it in Excel, remove the password (File > "
            "Info > Protect Workbook) and save it again, or export the sheet as CSV"
        )
    else:
        msg = (
            f"{path.name}: cannot read the Excel workbook{where}: {_short(exc)}; expected "
            f"an .{kind} workbook as Excel saves it (the file looks truncated, damaged or "
            "is not really a workbook): download it again, or open and re-save it in "
            "Excel, or export the sheet as CSV"
        )
    return SourceFormatError(msg, path=str(path), line=None)


def _is_encrypted(path: Path) -> bool:
    """An OLE container holding an ``EncryptedPackage`` stream (a password-protected xlsx)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(64 * 1024 * 1024)
    except OSError:
        return False
    return data.startswith(b"\xd0\xcf\x11\xe0") and _ENCRYPTED in data


def _open(path: Path, kind: str) -> fastexcel.ExcelReader:
    fe = _fastexcel()
    try:
        reader: fastexcel.ExcelReader = fe.read_excel(path)
    except fe.FastExcelError as exc:
        raise _unreadable(path, kind, exc) from None
    return reader


@functools.lru_cache(maxsize=1)
def _cached_sheet(path: str, size: int, mtime_ns: int, index: int, kind: str) -> pl.DataFrame:
    """Every cell of one sheet as text; row ``i`` is sheet row ``i + 1``.

    The last sheet read is kept (keyed by size and modification time) so that sniffing
    a workbook and then reading it parses the sheet once.
    """
    reader = _open(Path(path), kind)
    sheet = reader.load_sheet(index, header_row=None, skip_rows=0, dtypes="string")
    frame: pl.DataFrame = sheet.to_polars()
    return frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})


def _sheet_frame(path: Path, index: int, kind: str, name: str) -> pl.DataFrame:
    st = path.stat()
    try:
        return _cached_sheet(str(path.resolve()), st.st_size, st.st_mtime_ns, index, kind)
    except SourceFormatError:
        raise
    except Exception as exc:  # calamine errors surface as several exception types
        if type(exc).__module__.split(".")[0] not in ("fastexcel", "_fastexcel"):
            raise
        raise _unreadable(path, kind, exc, sheet=name) from None


# --------------------------------------------------------------------------- structure
def _cells(row: tuple[Any, ...]) -> list[str]:
    return ["" if v is None else str(v) for v in row]


def _last_filled(cells: list[str]) -> int:
    """Index of the last non-blank cell, -1 for a blank row."""
    for i in range(len(cells) - 1, -1, -1):
        if cells[i].strip():
            return i
    return -1


def _csv_line(cells: list[str], delimiter: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="").writerow(cells)
    return buf.getvalue()


def _row_lines(rows: list[tuple[Any, ...]]) -> list[str]:
    """Sheet rows as tab-separated lines shaped like a CSV export of the sheet.

    A CSV export writes every row of the table with the table's number of fields,
    while titles above it have one. Here a row spans up to its last filled cell, or up
    to the widest row above it when that is wider (Excel rows end at their last value),
    so :func:`~closedloop_kit.io._text._find_table` sees the same shape as in text.
    """
    lines: list[str] = []
    width = 0
    for row in rows:
        cells = [c.replace("\t", " ").replace("\r", " ").replace("\n", " ") for c in _cells(row)]
        last = _last_filled(cells)
        if last < 0:
            lines.append("")
            continue
        width = max(width, last + 1)
        lines.append(_csv_line(cells[:width], "\t"))
    return lines


def _header_index(frame: pl.DataFrame) -> int | None:
    """0-based row of the header in the first rows of a sheet; None for an empty sheet."""
    rows = frame.head(_HEAD_ROWS).rows()
    lines = _row_lines(rows)
    if not any(lines):
        return None if frame.height <= _HEAD_ROWS else _first_filled(frame)
    _, idx = _find_table(lines, delimiters=("\t",))
    if lines[idx].count("\t") == 0:
        # no row with two or more cells: a one-column table starts at the first value
        return next(i for i, line in enumerate(lines) if line)
    return idx


def _first_filled(frame: pl.DataFrame) -> int | None:
    filled = frame.select(_filled_expr(frame.columns).arg_true().first()).item()
    return None if filled is None else int(filled)


def _filled_expr(columns: list[str]) -> pl.Expr:
    """True for rows with at least one non-blank cell."""
    if not columns:
        return pl.lit(value=False)
    return pl.any_horizontal(
        [pl.col(c).str.strip_chars().str.len_chars().fill_null(0) > 0 for c in columns]
    )


def _is_table(frame: pl.DataFrame, idx: int | None) -> bool:
    """Whether a sheet's header row has two or more cells (a table, not a note)."""
    if idx is None:
        return False
    return sum(bool(c.strip()) for c in _cells(frame.row(idx))) >= 2


def _sheet_names(reader: fastexcel.ExcelReader) -> list[str]:
    return [str(n) for n in reader.sheet_names]


def _hidden_sheets(reader: fastexcel.ExcelReader, n: int) -> set[int]:
    """Indexes of hidden and very hidden sheets (none when visibility is unknown)."""
    out: set[int] = set()
    for index in range(n):
        try:
            state = reader.load_sheet(index, n_rows=1, header_row=None).visible
        except Exception:  # visibility is only a hint; reading the sheet reports errors
            return set()
        if str(state).lower() != "visible":
            out.add(index)
    return out


def _pick_sheet(
    path: Path, kind: str, sheet: str | int | None
) -> tuple[int, str, pl.DataFrame, int | None]:
    """(index, name, cells, header index) of the sheet to read."""
    reader = _open(path, kind)
    names = _sheet_names(reader)
    if sheet is not None:
        in_range = isinstance(sheet, int) and -len(names) <= sheet < len(names)
        if isinstance(sheet, int) and in_range and not isinstance(sheet, bool):
            index = sheet % len(names)
        elif isinstance(sheet, str) and sheet in names:
            index = names.index(sheet)
        else:
            msg = (
                f"{path.name}: `sheet` must be one of {names} (or an index 0..{len(names) - 1}), "
                f"got {sheet!r}"
            )
            raise SourceFormatError(msg, path=str(path))
        frame = _sheet_frame(path, index, kind, names[index])
        return index, names[index], frame, _header_index(frame)
    fallback: tuple[int, str, pl.DataFrame, int | None] | None = None
    hidden = _hidden_sheets(reader, len(names))
    # visible sheets first: a hidden sheet (lookup lists, pivot caches) is read only when
    # no visible sheet holds a table
    for index, name in sorted(enumerate(names), key=lambda item: item[0] in hidden):
        frame = _sheet_frame(path, index, kind, name)
        idx = _header_index(frame)
        if _is_table(frame, idx):
            return index, name, frame, idx
        if idx is not None and fallback is None:
            fallback = (index, name, frame, idx)
    if fallback is not None:
        return fallback
    msg = (
        f"{path.name}: the workbook holds no table (sheets {names} are empty); expected a "
        "sheet with a header row followed by data rows"
    )
    raise SourceFormatError(msg, path=str(path), line=1)


def _text_rows(rows: list[tuple[Any, ...]]) -> tuple[str, ...]:
    """Rows as CSV-ish text lines (trailing empty cells cut), for preamble and footer."""
    out = []
    for row in rows:
        cells = _cells(row)
        out.append(_csv_line(cells[: _last_filled(cells) + 1], ","))
    return tuple(out)


def _footer_start(data: pl.DataFrame, columns: list[str]) -> int:
    """Index of the first trailing row that is blank or a footer (total, notice)."""
    tail_from = max(0, data.height - _TAIL_ROWS)
    first = (
        data.slice(tail_from)
        .select(
            pl.coalesce(
                [
                    pl.when(pl.col(c).str.strip_chars().str.len_chars() > 0).then(pl.col(c))
                    for c in columns
                ]
            )
            if columns
            else pl.lit(None, pl.String)
        )
        .to_series()
        .to_list()
    )
    cut = data.height
    for value in reversed(first):
        if value is None or _FOOTER_RE.match(value.strip().strip('"')):
            cut -= 1
        else:
            break
    return cut


def _iso_dates(columns: list[str]) -> list[pl.Expr]:
    """Date cells as ISO dates: drop ``00:00:00`` in columns without a time of day."""
    out = []
    for c in columns:
        col = pl.col(c)
        timed = (col.str.contains(_TIMESTAMP) & ~col.str.contains(_MIDNIGHT)).any()
        out.append(
            pl.when(timed)
            .then(col)
            .otherwise(col.str.replace(_MIDNIGHT, "${1}"))
            .str.replace(_TIME_ONLY, "${1}")
            .alias(c)
        )
    return out


# --------------------------------------------------------------------------- public
def _columns(cells: pl.DataFrame, idx: int, data: pl.DataFrame) -> tuple[list[str], list[str]]:
    """Sheet columns to keep and their names: named ones, and unnamed ones holding values."""
    cols = cells.columns
    names = [_clean_name(h) for h in _cells(cells.row(idx))]
    if data.height:
        filled = data.select([_filled_expr([c]).any().alias(c) for c in cols]).row(0)
    else:
        filled = (False,) * len(cols)
    keep = [c for c, n, f in zip(cols, names, filled, strict=True) if n or f]
    kept = _unique_names([n for c, n, f in zip(cols, names, filled, strict=True) if n or f])
    return keep, kept


def _describe(
    fs: FileSniff, name: str, cells: pl.DataFrame, idx: int, keep: list[str], names: list[str]
) -> FileSniff:
    """The sniff of a sheet: header, its sheet row, preamble rows and a text sample."""
    sample_rows = cells.slice(idx, _SAMPLE_ROWS).select(keep).with_columns(_iso_dates(keep))
    return FileSniff(
        path=fs.path,
        kind=fs.kind,
        header_line=idx + 1,
        header=tuple(names),
        preamble=_text_rows(cells.head(idx).rows()),
        sample="\n".join(_text_rows(sample_rows.rows())),
        size=fs.size,
        sheet=name,
    )


def _table(
    fs: FileSniff, name: str, cells: pl.DataFrame, idx: int, *, drop_footer: bool
) -> RawTable:
    cols = cells.columns
    data = cells.slice(idx + 1).with_row_index(SOURCE_ROW, offset=idx + 2)
    footer: tuple[str, ...] = ()
    if drop_footer:
        cut = _footer_start(data, cols)
        footer = tuple(
            line for line in _text_rows(data.slice(cut).select(cols).rows()) if line.strip()
        )
        data = data.head(cut)
    data = data.filter(_filled_expr(cols))
    keep, names = _columns(cells, idx, data)
    frame = (
        data.select([*keep, SOURCE_ROW])
        .with_columns(_iso_dates(keep))
        .rename(dict(zip(keep, names, strict=True)))
        .cast({SOURCE_ROW: pl.Int64})
    )
    sniffed = _describe(fs, name, cells, idx, keep, names)
    return RawTable(
        frame=frame, header=tuple(names), sniff=sniffed, preamble=sniffed.preamble, footer=footer
    )


def read_sheet_table(
    path: str | Path,
    *,
    sniff: FileSniff | None = None,
    sheet: str | int | None = None,
    drop_footer: bool = True,
) -> RawTable:
    """Read one sheet of an Excel workbook into all-text columns plus ``source_row``.

    Parameters
    ----------
    path
        An ``.xlsx`` or ``.xls`` workbook (the content decides, not the name).
    sniff
        A :class:`~closedloop_kit.io._text.FileSniff` already made for ``path``.
    sheet
        Sheet name or 0-based index; default the first sheet that holds a table (a
        header row of two or more cells), else the first sheet with any value.
    drop_footer
        Drop trailing blank rows and rows whose first value is a total or a notice
        (``Total: Account``, ``Grand Totals (3 records)``, ``Confidential``,
        ``Copyright``); blank rows inside the table are always skipped.

    Returns
    -------
    RawTable
        ``frame``: the header's column names (blank columns without a header dropped)
        as ``String`` plus ``source_row`` (Int64), the 1-based sheet row; ``sniff``
        describes the sheet read (``sheet``, ``header_line`` = the header's sheet row,
        ``header``, ``preamble``); ``preamble`` and ``footer`` the rows dropped, as
        comma-separated text.

    Raises
    ------
    SourceFormatError
        The file is not a workbook, is truncated or damaged, password-protected, holds
        no table, or ``sheet`` names no sheet of it.

    Examples
    --------
    >>> import datetime as dt, tempfile, pathlib, openpyxl
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "contacts.xlsx"
    >>> wb = openpyxl.Workbook()
    >>> ws = wb.active
    >>> ws.append(["Record ID", "Email", "Create Date"])
    >>> ws.append([1234, "ann@x.com", dt.date(2026, 1, 5)])
    >>> wb.save(p)
    >>> t = read_sheet_table(p)
    >>> t.frame.rows()
    [('1234', 'ann@x.com', '2026-01-05', 2)]
    >>> t.sniff.sheet, t.sniff.header_line
    ('Sheet', 1)
    """
    from closedloop_kit.io._text import sniff as sniff_file

    fs = sniff if sniff is not None else sniff_file(path)
    p = fs.path
    if fs.kind not in WORKBOOK_KINDS:
        msg = f"{p.name}: expected an Excel workbook (.xlsx or .xls) but the file is {fs.kind}"
        raise SourceFormatError(msg, path=str(p), line=1)
    chosen = sheet if sheet is not None else fs.sheet
    _, name, cells, idx = _pick_sheet(p, fs.kind, chosen)
    if idx is None:
        msg = f"{p.name}: sheet {name!r} is empty; expected a header row followed by data rows"
        raise SourceFormatError(msg, path=str(p), line=1)
    return _table(fs, name, cells, idx, drop_footer=drop_footer)


def sniff_workbook(fs: FileSniff) -> FileSniff:
    """Fill header, header line, preamble, sample and sheet of a sniffed workbook.

    Looks at the sheet :func:`read_sheet_table` reads by default. Never raises: a
    workbook that cannot be opened comes back as it was given (no header).
    """
    try:
        _, name, cells, idx = _pick_sheet(fs.path, fs.kind, None)
        if idx is None:
            return fs
        keep, names = _columns(cells, idx, cells.slice(idx + 1, _SAMPLE_ROWS))
        return _describe(fs, name, cells, idx, keep, names)
    except Exception:  # never raise: a reader refuses the file with the full message
        return fs


def read_table(
    path: str | Path,
    *,
    sniff: FileSniff | None = None,
    sheet: str | int | None = None,
    **text_options: Any,
) -> RawTable:
    r"""Read a table export, delimited text or an Excel workbook, as all-text columns.

    The one entry point of the tabular readers: text files go to
    :func:`~closedloop_kit.io._text.read_text_table` (with ``text_options``), ``.xlsx``
    and ``.xls`` workbooks to :func:`read_sheet_table` (``sheet``; ``drop_footer`` is
    honoured, other text options do not apply). Anything else raises the
    :class:`~closedloop_kit.errors.SourceFormatError` of ``read_text_table``.

    Parameters
    ----------
    path
        The file.
    sniff
        A :class:`~closedloop_kit.io._text.FileSniff` already made for ``path``.
    sheet
        Sheet name or index of a workbook (ignored for text files).
    **text_options
        Options of :func:`~closedloop_kit.io._text.read_text_table`.

    Returns
    -------
    RawTable

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "leads.csv"
    >>> _ = p.write_text("Id,Email\n00Q1,a@x.com\n")
    >>> read_table(p).frame.rows()
    [('00Q1', 'a@x.com', 2)]
    """
    from closedloop_kit.io._text import sniff as sniff_file

    fs = sniff if sniff is not None else sniff_file(path)
    if fs.kind in WORKBOOK_KINDS:
        return read_sheet_table(
            fs.path, sniff=fs, sheet=sheet, drop_footer=text_options.get("drop_footer", True)
        )
    return read_text_table(fs.path, sniff=fs, **text_options)
