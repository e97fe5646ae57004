"""Sniff and read delimited text exports: encoding, delimiter, preamble, header, footer.

:func:`sniff` looks at the first and last bytes of a file and says what it is (text,
JSON, NDJSON, Parquet, an Excel workbook, a ZIP, binary), how it is encoded, which
delimiter separates its fields, on which line the header is and which lines before and
after the table are not data (report titles, date ranges, ``Grand Totals``, copyright
and confidentiality notes). :func:`read_text_table` then reads the table with polars'
CSV reader (no row-by-row Python) into all-text columns plus ``source_row``, the real
1-based line number of each row in the file.

Truncated files and rows with more fields than the header raise
:class:`~closedloop_kit.errors.SourceFormatError` naming the line: such a file was cut
or mis-quoted and reading on would shift values into the wrong columns. Rows with fewer
fields than the header are read with the missing fields empty (Excel writes such rows).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._memo import memoized

__all__ = ["FileSniff", "RawTable", "read_text_table", "sniff", "split_report_groups"]

FileKind = Literal["text", "json", "ndjson", "parquet", "xlsx", "xls", "zip", "binary", "empty"]

SOURCE_ROW = "source_row"
"""Name of the line-number column added to every raw table."""

_SAMPLE = 64 * 1024
_DELIMITERS = (",", ";", "\t", "|")
_FOOTER_RE = re.compile(
    r"^\s*(grand\s+totals?|totals?\s*:|totals?\b|subtotal|copyright|©|\(c\)|"
    r"confidential|generated\s+by|report\s+generated|all\s+rights\s+reserved|"
    r"filtered\s+by|report\s+total|--\s*end)",
    re.IGNORECASE,
)
_SUMMARY_RE = (
    r"(?i)^\s*(sub-?\s*totals?|totals?|grand\s+totals?|record\s+count|count|sum|"
    r"average|avg|min|max|median)\b"
)
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)


@dataclass(frozen=True)
class FileSniff:
    """What :func:`sniff` learnt about a file without reading all of it.

    Attributes
    ----------
    path
        The file.
    kind
        ``text``, ``json``, ``ndjson``, ``parquet``, ``xlsx``, ``xls``, ``zip``,
        ``binary`` or ``empty``.
    encoding
        Name reported to the user: ``utf-8``, ``utf-8-sig`` (UTF-8 with BOM),
        ``utf-16-le``/``utf-16-be`` (with BOM), ``windows-1252`` or ``iso-8859-1``.
    delimiter
        Field separator of a text table (``,`` ``;`` tab or ``|``), else None.
    header_line
        1-based line number of the header row (0 when unknown).
    header
        Cleaned column names of the header row (stripped, BOM and quotes removed).
    preamble
        Lines before the header (titles, date ranges, blank lines).
    sample
        The first ~64 KB decoded, for reader detection.
    size
        File size in bytes.
    sheet
        For a workbook: the sheet described (the one read by default).
    """

    path: Path
    kind: FileKind
    encoding: str | None = None
    delimiter: str | None = None
    header_line: int = 0
    header: tuple[str, ...] = ()
    preamble: tuple[str, ...] = ()
    sample: str = ""
    size: int = 0
    sheet: str | None = None
    _codec: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The file name."""
        return self.path.name

    @property
    def header_lower(self) -> frozenset[str]:
        """Header names lower-cased, for detection by column names."""
        return frozenset(h.lower() for h in self.header)


@dataclass(frozen=True)
class RawTable:
    """A text table read as exported: every column a string, plus ``source_row``.

    Attributes
    ----------
    frame
        One row per data row; columns are the cleaned header names (all ``String``
        unless ``columns_as_text=False``) and ``source_row`` (Int64, the 1-based line
        number of the row's first line in the file).
    header
        The cleaned header names.
    sniff
        The :class:`FileSniff` the table was read with.
    preamble, footer
        Lines dropped before the header and after the last data row.
    blank_lines
        Lines inside the table that hold no value (empty, or only delimiters): not
        records, so not rows of ``frame``.
    fallback_lines
        Lines of a mostly UTF-8 file that were not valid UTF-8 and were decoded as
        Windows-1252 (ISO-8859-1 when bytes undefined in Windows-1252 occur).
    repeated_headers
        Lines that repeat the header (two exports concatenated): skipped, not records.
    duplicate_columns
        Header names that occur more than once (``LastName,LastName``).
    """

    frame: pl.DataFrame
    header: tuple[str, ...]
    sniff: FileSniff
    preamble: tuple[str, ...] = ()
    footer: tuple[str, ...] = ()
    blank_lines: tuple[int, ...] = ()
    fallback_lines: tuple[int, ...] = ()
    repeated_headers: tuple[int, ...] = ()
    duplicate_columns: tuple[str, ...] = ()

    def layout_notes(self) -> list[str]:
        """Report notes on how the file was read.

        Lines that were not records (footer, blank lines, repeated header lines), lines
        decoded as Windows-1252 in a UTF-8 file, columns named twice.
        """
        notes = []
        if self.fallback_lines:
            notes.append(
                f"mixed encodings: {len(self.fallback_lines)} line(s) not valid UTF-8 decoded "
                f"as Windows-1252 (line(s) {format_lines(self.fallback_lines)}); the other "
                f"lines as UTF-8"
            )
        if self.duplicate_columns:
            notes.append(
                "column(s) named twice in the header: "
                + ", ".join(repr(c) for c in self.duplicate_columns)
                + " (the later one read as <name>_1, ...; the first is the one mapped)"
            )
        if self.repeated_headers:
            notes.append(
                f"skipped {len(self.repeated_headers)} repeated header line(s) at line(s) "
                f"{format_lines(self.repeated_headers)} (exports concatenated)"
            )
        if self.footer:
            notes.append(f"dropped {len(self.footer)} footer line(s): {self.footer[0][:40]!r}")
        if self.blank_lines:
            notes.append(
                f"skipped {len(self.blank_lines)} blank line(s) at line(s) "
                f"{format_lines(self.blank_lines)}"
            )
        return notes

    @property
    def path(self) -> Path:
        """The file read."""
        return self.sniff.path

    @property
    def height(self) -> int:
        """Number of data rows read."""
        return self.frame.height


def format_lines(lines: tuple[int, ...], shown: int = 5) -> str:
    """Line numbers for a report note: the first ``shown``, then ``...``.

    Examples
    --------
    >>> format_lines((4, 6, 7)), format_lines((1, 2, 3, 4, 5, 6))
    ('4, 6, 7', '1, 2, 3, 4, 5...')
    """
    return ", ".join(map(str, lines[:shown])) + ("..." if len(lines) > shown else "")


def _signature_kind(head: bytes, path: Path) -> FileKind | None:
    if not head:
        return "empty"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        if b"[Content_Types].xml" in head or b"xl/" in head:
            return "xlsx"
        return "zip"
    if head.startswith((b"\x1f\x8b", b"%PDF", b"\x89PNG", b"BZh", b"\xfd7zXZ")):
        return "binary"
    return None


def _decode_sample(head: bytes) -> tuple[str, str, str]:
    """Decode a sample; return (text, reported encoding, python codec)."""
    for bom, codec, reported in _BOMS:
        if head.startswith(bom):
            raw = head[len(bom) :]
            if codec.startswith("utf-16") and len(raw) % 2:
                raw = raw[:-1]
            return raw.decode(codec, errors="ignore"), reported, codec
    # UTF-16 without BOM: every other byte NUL in ASCII text
    if len(head) >= 4 and head[1:200:2].count(0) > 0.8 * len(head[1:200:2]):
        return head.decode("utf-16-le", errors="ignore"), "utf-16-le", "utf-16-le"
    if len(head) >= 4 and head[0:200:2].count(0) > 0.8 * len(head[0:200:2]):
        return head.decode("utf-16-be", errors="ignore"), "utf-16-be", "utf-16-be"
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(head), "utf-8", "utf-8"
    except UnicodeDecodeError:
        pass
    # not all UTF-8: line by line (UTF-8 lines stay UTF-8, the others Windows-1252)
    text, reported, _ = _legacy_bytes(head)
    codec = "iso-8859-1" if "iso-8859-1" in reported else "cp1252"
    return text.decode("utf-8", errors="ignore"), reported, codec


def _field_count(line: str, delimiter: str) -> int:
    if delimiter not in line:
        return 1 if line.strip() else 0
    try:
        return len(next(csv.reader([line], delimiter=delimiter)))
    except (csv.Error, StopIteration):
        return line.count(delimiter) + 1


def _clean_name(name: str) -> str:
    return name.replace("\ufeff", "").strip().strip('"').strip()


def _record_counts(lines: list[str], delimiter: str, n: int = 6) -> list[int]:
    """Field counts of the first ``n`` records (quoted newlines kept inside a record)."""
    reader = csv.reader(io.StringIO("\n".join(lines[:40])), delimiter=delimiter)
    return _shape_counts(map(_shape, reader), n)


def _shape(row: list[str]) -> tuple[int, bool]:
    """(fields, whether any field holds text) of a parsed row."""
    return len(row), any(v.strip() for v in row)


def _shape_counts(shapes: Iterable[tuple[int, bool]], n: int = 6) -> list[int]:
    """Field counts of the first ``n`` non-blank rows, up to a blank row after them."""
    out: list[int] = []
    try:
        for width, filled in shapes:
            if filled:
                out.append(width)
            elif out:
                break  # a blank line ends the table
            if len(out) >= n:
                break
    except csv.Error:
        pass
    return out


def _line_shapes(lines: list[str], delimiter: str) -> list[tuple[int, bool]] | None:
    """Each line's :func:`_shape`, or None when a record may span lines.

    Parsed strictly one line at a time: a quote left open at a line's end, or any other
    quoting the lenient reader would read past, raises, and the caller parses the text
    as a stream instead. Otherwise every record is one line, as the stream reads it.
    """
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    shapes: list[tuple[int, bool]] = []
    try:
        for row in reader:
            if reader.line_num != len(shapes) + 1:
                return None  # this record went on to the next line
            shapes.append(_shape(row))
    except csv.Error:
        return None
    return shapes


def _find_table(lines: list[str], delimiters: tuple[str, ...] = _DELIMITERS) -> tuple[str, int]:
    """Best (delimiter, header index) in the first lines of a text sample."""
    best: tuple[int, int] = (0, 0)
    choice = (",", 0)
    limit = min(len(lines), 60)
    for delim in delimiters:
        # each line parsed once, unless a record may span lines (then from each start)
        shapes = _line_shapes(lines[: limit + 40], delim)
        for i in range(limit):
            if delim not in lines[i] or _field_count(lines[i], delim) < 2:
                continue
            counts = (
                _record_counts(lines[i:], delim)
                if shapes is None
                else _shape_counts(shapes[i : i + 40])
            )
            if not counts:
                continue  # only empty cells from here on (",,,"): no table starts here
            n = counts[0]
            body = counts[1:]
            if body and body[-1] != n and len(body) < 5:
                body = body[:-1]  # last record of a short sample may be cut
            same = sum(c == n for c in body)
            if body and same * 2 <= len(body):
                continue  # most rows disagree with this header
            score = (min(same + 1, 6), n)
            if score > best:
                best, choice = score, (delim, i)
    return choice


def sniff(path: str | Path) -> FileSniff:
    r"""Look at a file and say what it is and how to read it.

    Reads at most the first 64 KB of a text file. Never raises for odd content: binary
    files come back with ``kind`` ``"binary"``, ``"zip"``, ``"parquet"``... so readers
    can refuse them with a helpful message. An Excel workbook (``"xlsx"``, ``"xls"``) is
    opened and its first sheet holding a table described (``sheet``, ``header_line``,
    ``header``, ``preamble`` and the first rows as comma-separated text in ``sample``);
    one that cannot be opened comes back with an empty header.

    Parameters
    ----------
    path
        The file to look at.

    Returns
    -------
    FileSniff

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "report.csv"
    >>> _ = p.write_bytes("Lead Report\n\nLead ID;Name\n00Q1;Ann\n00Q2;Bo\n".encode())
    >>> s = sniff(p)
    >>> s.kind, s.encoding, s.delimiter, s.header_line, s.header
    ('text', 'utf-8', ';', 3, ('Lead ID', 'Name'))
    """
    p = Path(path)
    if not p.is_file():
        msg = f"`path` {str(p)!r} is not a file"
        raise FileNotFoundError(msg)
    stat = p.stat()
    # within one load() the loader's sniff is the reader's sniff (see io/_memo.py)
    return memoized(("sniff", str(p), stat.st_size, stat.st_mtime_ns), lambda: _sniff(p))


def _sniff(p: Path) -> FileSniff:
    size = p.stat().st_size
    with p.open("rb") as fh:
        head = fh.read(_SAMPLE)
    kind = _signature_kind(head, p)
    if kind in ("xlsx", "xls"):
        from closedloop_kit.io._sheet import sniff_workbook

        return sniff_workbook(FileSniff(path=p, kind=kind, size=size))
    if kind is not None:
        return FileSniff(path=p, kind=kind, size=size)
    text, reported, codec = _decode_sample(head)
    if "\x00" in text or sum(ch < " " and ch not in "\t\r\n\f" for ch in text[:4096]) > 40:
        return FileSniff(path=p, kind="binary", size=size)
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[")):
        first, _, rest = stripped.partition("\n")
        jkind: FileKind = (
            "ndjson" if first.rstrip().endswith("}") and rest.lstrip().startswith("{") else "json"
        )
        return FileSniff(
            path=p, kind=jkind, encoding=reported, sample=text, size=size, _codec=codec
        )
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(head) == _SAMPLE and len(lines) > 1:
        lines = lines[:-1]  # possibly cut mid-line
    delim, idx = _find_table(lines)
    header_text = lines[idx] if idx < len(lines) else ""
    try:
        names = next(csv.reader([header_text], delimiter=delim))
    except (csv.Error, StopIteration):
        names = header_text.split(delim)
    header = tuple(_clean_name(n) for n in names)
    return FileSniff(
        path=p,
        kind="text",
        encoding=reported,
        delimiter=delim,
        header_line=idx + 1,
        header=header,
        preamble=tuple(lines[:idx]),
        sample=text,
        size=size,
        _codec=codec,
    )


def _utf8_bytes(data: bytes, fs: FileSniff) -> tuple[bytes, str, tuple[int, ...]]:
    """The file as UTF-8 bytes without BOM, the encoding to report, fallback lines.

    Fallback lines needed Windows-1252 in a mostly UTF-8 file (see :func:`_legacy_bytes`).
    """
    codec = fs._codec or "utf-8"
    if codec == "utf-8":
        # validated by polars while parsing; see _legacy_bytes for the fallback
        return data, "utf-8", ()
    if codec == "utf-8-sig":
        return data[len(codecs.BOM_UTF8) :], "utf-8-sig", ()
    if codec in ("cp1252", "iso-8859-1"):
        return _legacy_bytes(data)
    for bom, c, _ in _BOMS:
        if c == codec and data.startswith(bom):
            data = data[len(bom) :]
            break
    reported = fs.encoding or codec
    return data.decode(codec, errors="replace").encode("utf-8"), reported, ()


def _legacy_bytes(data: bytes) -> tuple[bytes, str, tuple[int, ...]]:
    """Re-encode a file that is not all valid UTF-8, line by line.

    Lines that are valid UTF-8 stay as they are; the others are decoded as
    Windows-1252 (ISO-8859-1 when bytes undefined in Windows-1252 occur). A file with
    no valid non-ASCII UTF-8 line is simply a Windows-1252 file (no lines listed); one
    with both kinds is mixed (two exports or edits appended to each other) and its
    fallback lines (1-based file lines) are returned to be noted.
    """
    bad = any(b in data for b in (0x81, 0x8D, 0x8F, 0x90, 0x9D))
    codec = "iso-8859-1" if bad else "cp1252"
    legacy = "iso-8859-1" if bad else "windows-1252"
    out: list[bytes] = []
    fallback: list[int] = []
    utf8_lines = 0
    for i, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            out.append(line)
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            out.append(line.decode(codec).encode("utf-8"))
            fallback.append(i)
        else:
            out.append(line)
            utf8_lines += 1
    if not utf8_lines:
        return b"\n".join(out), legacy, ()
    return b"\n".join(out), f"utf-8 (mixed with {legacy})", tuple(fallback)


def _line_starts(data: bytes, n: int) -> list[int]:
    """Byte offsets of the first ``n`` line starts."""
    starts = [0]
    pos = 0
    while len(starts) < n:
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        pos = nl + 1
        starts.append(pos)
    return starts


def _split_footer(body: bytes, delimiter: str, ncols: int) -> tuple[bytes, tuple[str, ...]]:
    """Drop trailing blank, footer-pattern and single-field lines from the table body."""
    tail_start = max(0, len(body) - 16 * 1024)
    tail = body[tail_start:]
    lines = tail.split(b"\n")
    footer: list[str] = []
    cut = len(body)
    # the text after the last newline is the last line (possibly empty)
    for i in range(len(lines) - 1, 0, -1):
        raw = lines[i]
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        stripped = line.strip().strip('"').strip()
        first = stripped.split(delimiter, 1)[0].strip().strip('"')
        single = ncols >= 3 and _field_count(line, delimiter) <= 1
        if line.count('"') % 2:
            break  # the end of a quoted field spanning lines: data, not a footer
        if not stripped or all(ch in delimiter + '" ' for ch in line):
            footer.append(line)
        elif _FOOTER_RE.match(first) or single:
            footer.append(line)
        else:
            break
        cut -= len(raw) + 1
    cut = max(cut, 0)
    meaningful = tuple(f for f in reversed(footer) if f.strip())
    return body[: cut + 1] if cut < len(body) else body, meaningful


def _locate_bad_line(text: bytes, delimiter: str, ncols: int, first_line: int) -> tuple[int, str]:
    """Find the first line whose field count exceeds the header, or an open quote."""
    reader = csv.reader(
        io.StringIO(text.decode("utf-8", errors="replace"), newline=""), delimiter=delimiter
    )
    try:
        for row in reader:
            if len(row) > ncols:
                return first_line + reader.line_num - 1, (
                    f"{len(row)} fields where the header has {ncols}"
                )
    except csv.Error as exc:
        return first_line + reader.line_num - 1, str(exc)
    return first_line + reader.line_num - 1, "an unterminated quoted field"


def read_text_table(
    path: str | Path,
    *,
    sniff: FileSniff | None = None,
    columns_as_text: bool = True,
    has_header: bool = True,
    columns: list[str] | None = None,
    quote_char: str | None = '"',
    delimiter: str | None = None,
    drop_footer: bool = True,
) -> RawTable:
    r"""Read a delimited text export into all-text columns plus ``source_row``.

    Parameters
    ----------
    path
        The file.
    sniff
        A :class:`FileSniff` already made for ``path`` (saves a second look).
    columns_as_text
        Keep every column a string (default): ids, zip codes and localized numbers
        survive untouched and are parsed by :mod:`closedloop_kit.io._parse`. Empty
        cells (``,,`` and ``,"",``) are then null.
    has_header, columns
        For headerless files (Adobe ``hit_data.tsv``): ``has_header=False`` and the
        column names in ``columns``.
    quote_char
        Quote character, or None for files without quoting.
    delimiter
        Override the sniffed delimiter.
    drop_footer
        Drop trailing lines that are not data (``Grand Totals``, ``Total:``,
        copyright and confidentiality notes, blank lines).

    Returns
    -------
    RawTable

    Raises
    ------
    SourceFormatError
        The file is binary, an Excel workbook, JSON, empty, truncated, or has a row with
        more fields than the header.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "leads.csv"
    >>> _ = p.write_text('Id,Email\n00Q1,"a@x.com"\n00Q2,b@x.com\n\n"Grand Totals (2 records)"\n')
    >>> t = read_text_table(p)
    >>> t.frame.rows()
    [('00Q1', 'a@x.com', 2), ('00Q2', 'b@x.com', 3)]
    >>> t.footer
    ('"Grand Totals (2 records)"',)
    """
    fs = sniff if sniff is not None else globals()["sniff"](path)
    p = fs.path
    if fs.kind != "text":
        _refuse(fs)
    if (
        has_header
        and columns_as_text
        and fs.encoding == "utf-8"
        and fs.header_line == 1
        and delimiter in (None, fs.delimiter)
    ):
        fast = _read_plain(fs, quote_char=quote_char, drop_footer=drop_footer)
        if fast is not None:
            return fast
    data, encoding, fallback = _utf8_bytes(p.read_bytes(), fs)
    if encoding == "utf-8" and not _valid_utf8_head_tail(data):
        data, encoding, fallback = _legacy_bytes(data)
    if encoding != fs.encoding:
        fs = FileSniff(**{**fs.__dict__, "encoding": encoding})
    delim = delimiter or fs.delimiter or ","
    skip = fs.header_line - 1 if has_header else 0
    starts = _line_starts(data, skip + 1)
    if skip >= len(starts):
        msg = f"{p.name}: no table found (expected a header on line {fs.header_line})"
        raise SourceFormatError(msg, path=str(p), line=fs.header_line)
    body = data[starts[skip] :]
    names = list(fs.header) if has_header else list(columns or [])
    if not has_header and not names:
        msg = "`columns` must name the columns of a headerless file"
        raise ValueError(msg)
    ncols = len(names)
    footer: tuple[str, ...] = ()
    if drop_footer:
        body, footer = _split_footer(body, delim, ncols)
    first_data_line = skip + (2 if has_header else 1)
    try:
        frame = pl.read_csv(
            body,
            separator=delim,
            has_header=has_header,
            new_columns=None if has_header else names,
            quote_char=quote_char,
            infer_schema=not columns_as_text,
            truncate_ragged_lines=False,
            raise_if_empty=False,
            empty_string_is_null=columns_as_text,
        )
    except pl.exceptions.ComputeError as exc:
        if "utf-8" not in str(exc) or encoding != "utf-8":
            raise _bad_line(p, body, delim, ncols, skip, exc) from None
        # invalid UTF-8 further into the file: re-read it line by line
        return read_text_table(
            path,
            sniff=FileSniff(**{**fs.__dict__, "_codec": "cp1252", "encoding": "windows-1252"}),
            columns_as_text=columns_as_text,
            has_header=has_header,
            columns=columns,
            quote_char=quote_char,
            delimiter=delimiter,
            drop_footer=drop_footer,
        )
    except pl.exceptions.NoDataError as exc:
        raise _bad_line(p, body, delim, ncols, skip, exc) from None
    if has_header:
        frame = frame.rename(dict(zip(frame.columns, _unique_names(names), strict=False)))
    if not body.endswith(b"\n") and frame.height and frame.width > 1:
        last = frame.row(frame.height - 1)
        if last[-1] is None and body.rstrip().count(delim.encode()) and _looks_cut(body, delim):
            line = first_data_line + frame.height - 1
            msg = (
                f"{p.name}: line {line}: the last row has fewer fields than the header "
                f"({ncols}) and no line end; the file looks truncated"
            )
            raise SourceFormatError(msg, path=str(p), line=line)
    frame = frame.with_columns(_source_rows(frame, body, first_data_line, has_header))
    frame, blank = _without_blank_rows(frame)
    frame, repeated = _without_repeated_headers(frame, names if has_header else [])
    return RawTable(
        frame=frame,
        header=tuple(frame.columns[:-1]),
        sniff=fs,
        preamble=fs.preamble,
        footer=footer,
        blank_lines=blank,
        fallback_lines=fallback,
        repeated_headers=repeated,
        duplicate_columns=_duplicates(names if has_header else []),
    )


def _without_blank_rows(frame: pl.DataFrame) -> tuple[pl.DataFrame, tuple[int, ...]]:
    """Drop rows with no value at all (blank lines, lines of bare delimiters)."""
    data = [c for c in frame.columns if c != SOURCE_ROW]
    if not data or frame.height == 0 or min(frame[c].null_count() for c in data) == 0:
        return frame, ()  # a column without empty cells: no blank row (O(1) per column)
    blank = frame.select(pl.all_horizontal(pl.col(c).is_null() for c in data).alias("b"))["b"]
    if not bool(blank.any()):
        return frame, ()
    return frame.filter(~blank), tuple(frame.filter(blank)[SOURCE_ROW].to_list())


def _without_repeated_headers(
    frame: pl.DataFrame, names: list[str]
) -> tuple[pl.DataFrame, tuple[int, ...]]:
    """Drop rows that repeat the header (two exports concatenated into one file).

    A row repeats the header when at least two of its cells, and at least 80% of the
    header's named columns, hold their own column's name (trimmed, any case).
    """
    data = [c for c in frame.columns if c != SOURCE_ROW]
    pairs = [(c, n.strip().lower()) for c, n in zip(data, names, strict=False) if n.strip()]
    if frame.height == 0 or len(pairs) < 2:
        return frame, ()
    need = max(2, -(-len(pairs) * 4 // 5))
    # cheap check first: a cell of a repeated header has its name's length (trimmed
    # names; any case), in both of the first two named columns
    (c0, n0), (c1, n1) = pairs[0], pairs[1]
    maybe = frame.select(
        (
            pl.col(c0).str.len_bytes().eq(len(n0.encode())).fill_null(False)
            & pl.col(c1).str.len_bytes().eq(len(n1.encode())).fill_null(False)
        ).alias("m")
    )["m"]
    if not bool(maybe.any()):
        return frame, ()
    same = pl.sum_horizontal(
        pl.col(c).str.strip_chars().str.to_lowercase().eq(n).fill_null(False).cast(pl.Int32)
        for c, n in pairs
    )
    cand = frame.filter(maybe)
    hit = cand.select((same >= need).alias("h"))["h"]
    if not bool(hit.any()):
        return frame, ()
    lines = cand.filter(hit)[SOURCE_ROW]
    flags = frame[SOURCE_ROW].is_in(lines.implode())
    return frame.filter(~flags), tuple(lines.to_list())


def _duplicates(names: list[str]) -> tuple[str, ...]:
    """Header names that occur more than once (empty names are not counted)."""
    seen: set[str] = set()
    dup: list[str] = []
    for n in names:
        if n and n in seen and n not in dup:
            dup.append(n)
        seen.add(n)
    return tuple(dup)


def _bad_line(
    p: Path, body: bytes, delim: str, ncols: int, skip: int, exc: Exception
) -> SourceFormatError:
    line, why = _locate_bad_line(body, delim, ncols, skip + 1)
    said = next((ln for ln in str(exc).splitlines() if "escaped" in ln), str(exc).splitlines()[0])
    msg = (
        f"{p.name}: line {line}: {why}; the file looks truncated or mis-quoted (expected "
        f"{ncols} fields separated by {delim!r} as in the header; polars said: {said.strip()})"
    )
    return SourceFormatError(msg, path=str(p), line=line)


def _valid_utf8_head_tail(data: bytes) -> bool:
    """Cheap check of the first and last 64 KB (polars validates the rest)."""
    tail = data[-65536:].lstrip(bytes(range(0x80, 0xC0)))
    for chunk in (data[:65536], tail):
        try:
            codecs.getincrementaldecoder("utf-8")().decode(chunk)
        except UnicodeDecodeError:
            return False
    return True


def _looks_cut(body: bytes, delim: str) -> bool:
    last = body.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    header = body.split(b"\n", 1)[0]
    return last.count(delim.encode()) < header.count(delim.encode())


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = n or "column"
        if k in seen:
            seen[k] += 1
            k = f"{k}_{seen[k]}"
        else:
            seen[k] = 0
        out.append(k)
    return out


def _read_plain(fs: FileSniff, *, quote_char: str | None, drop_footer: bool) -> RawTable | None:
    """Fast path: a plain UTF-8 file with the header on line 1 and no footer.

    polars reads (memory-maps) the file itself; None means "use the careful path", which
    also produces the detailed errors.
    """
    p = fs.path
    with p.open("rb") as fh:
        fh.seek(max(0, fs.size - 16384))
        tail = fh.read()
    if not tail.endswith(b"\n") or tail.endswith((b"\n\n", b"\r\n\r\n")):
        return None  # cut last line or trailing blank lines: the careful path decides
    delim = fs.delimiter or ","
    if drop_footer and _split_footer(tail, delim, len(fs.header))[1]:
        return None
    from concurrent.futures import ThreadPoolExecutor

    # the line count runs beside polars' reader (both release the GIL)
    with ThreadPoolExecutor(max_workers=1) as pool:
        lines = pool.submit(_count_newlines, p)
        try:
            frame = pl.read_csv(
                p,
                separator=delim,
                has_header=True,
                quote_char=quote_char,
                infer_schema=False,
                truncate_ragged_lines=False,
                raise_if_empty=False,
                empty_string_is_null=True,
            )
        except (pl.exceptions.ComputeError, pl.exceptions.NoDataError):
            return None
        newlines = lines.result()
    if frame.width != len(fs.header):
        return None
    frame = frame.rename(dict(zip(frame.columns, _unique_names(list(fs.header)), strict=True)))
    # a line per row plus the header means no quoted field holds a line break
    embedded = frame.height > 0 and newlines - 1 != frame.height
    frame = frame.with_columns(_rows_expr(frame, 2, embedded=embedded))
    frame, blank = _without_blank_rows(frame)
    frame, repeated = _without_repeated_headers(frame, list(fs.header))
    return RawTable(
        frame=frame,
        header=tuple(frame.columns[:-1]),
        sniff=fs,
        blank_lines=blank,
        repeated_headers=repeated,
        duplicate_columns=_duplicates(list(fs.header)),
    )


def _count_newlines(path: Path) -> int:
    """Number of line-feed bytes in a file (memory-mapped, counted 16 MB at a time)."""
    import mmap

    import numpy as np

    size = path.stat().st_size
    if size == 0:
        return 0
    step = 1 << 24
    total = 0
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for start in range(0, size, step):
            chunk = np.frombuffer(mm, dtype=np.uint8, count=min(step, size - start), offset=start)
            total += int(np.count_nonzero(chunk == 10))
            del chunk  # release the buffer before the map closes
    return total


def _rows_expr(frame: pl.DataFrame, first: int, *, embedded: bool) -> pl.Expr:
    """1-based file line of each row (``embedded``: line breaks inside fields counted)."""
    n = frame.height
    if not embedded or n == 0:
        return (pl.int_range(n, dtype=pl.Int64) + first).alias(SOURCE_ROW)
    text_cols = [c for c, t in frame.schema.items() if t == pl.String]
    inner = pl.sum_horizontal(
        [pl.col(c).str.count_matches("\n").fill_null(0) for c in text_cols]
    ).cast(pl.Int64)
    return (pl.int_range(n, dtype=pl.Int64) + first + inner.cum_sum().shift(1, fill_value=0)).alias(
        SOURCE_ROW
    )


def _source_rows(frame: pl.DataFrame, body: bytes, first: int, has_header: bool) -> pl.Expr:
    """:func:`_rows_expr` for ``body``: a line per row means no field holds a line break."""
    expected = frame.height + (1 if has_header else 0)
    embedded = body.count(b"\n") not in (expected, expected - 1)
    return _rows_expr(frame, first, embedded=embedded)


_SUGGEST: dict[str, str] = {
    "xlsx": "an Excel workbook (perhaps renamed to .csv): save it as CSV, or read it with "
    "`clk.io.read_mapped(path, mapping)`, which reads Excel sheets",
    "xls": "an old Excel (.xls) workbook: save it as CSV or .xlsx and use "
    "`clk.io.read_mapped(path, mapping)`",
    "zip": "a ZIP archive: unzip it and load the folder with `clk.load(folder)`",
    "parquet": "a Parquet file: read it with `clk.io.read_ga4` (GA4 export) or "
    "`clk.io.read_mapped(path, mapping)`",
    "json": "a JSON file, not a delimited text table",
    "ndjson": "a newline-delimited JSON file, not a delimited text table",
    "binary": "a binary file, not a text export",
    "empty": "an empty file",
}


def _refuse(fs: FileSniff) -> None:
    why = _SUGGEST.get(fs.kind, fs.kind)
    msg = f"{fs.name}: expected a delimited text export (CSV/TSV) but the file is {why}"
    suggestion = "clk.io.read_mapped" if fs.kind in ("xlsx", "xls", "parquet") else None
    raise SourceFormatError(msg, path=str(fs.path), line=1, suggestion=suggestion)


def refuse_unless_text(fs: FileSniff) -> None:
    """Raise :class:`SourceFormatError` unless ``fs`` is a delimited text file."""
    if fs.kind != "text":
        _refuse(fs)


def split_report_groups(
    frame: pl.DataFrame, *, key: str | None = None
) -> tuple[pl.DataFrame, tuple[int, ...], tuple[str, ...]]:
    """Undo a grouped (summary) report's layout: drop its summary lines, fill its groups.

    A report grouped by, say, Lead Source is exported with the group value on the
    group's first row only and a ``Subtotal`` line after each group (``Total`` /
    ``Grand Total`` / ``Count`` / ``Sum`` ... lines, one per grouping level). A row is a
    summary line when its first non-empty cell starts with such a word, its record id
    (``key``) is empty, and at most half its cells are filled (a detail row of a company
    called "Total Solutions" keeps its id and most cells). When summary lines exist, the
    leading columns left of the first column that is never empty in detail rows, and
    filled on the first detail row, are grouping columns: their empty cells take the
    value above (within the file; the record id is never filled).

    Parameters
    ----------
    frame
        A raw table (all text plus ``source_row``).
    key
        The record-id column, if known.

    Returns
    -------
    frame, summary_lines, filled_columns
        Detail rows (grouping columns filled), the file lines of the summary rows
        dropped, and the columns filled down.

    Examples
    --------
    >>> import polars as pl
    >>> raw = pl.DataFrame({
    ...     "Lead Source": ["Web", None, "Subtotal", "Partner", "Total"],
    ...     "Lead ID": ["00Q1", "00Q2", None, "00Q3", None],
    ...     "Name": ["Ann", "Bo", None, "Cy", None],
    ...     "source_row": [2, 3, 4, 5, 6],
    ... })
    >>> out, lines, filled = split_report_groups(raw, key="Lead ID")
    >>> out["Lead Source"].to_list(), lines, filled
    (['Web', 'Web', 'Partner'], (4, 6), ('Lead Source',))
    """
    cols = [c for c in frame.columns if c != SOURCE_ROW]
    if not cols or frame.height == 0:
        return frame, (), ()

    def text(c: str) -> pl.Expr:  # trimmed, empty (null or "") as null
        t = pl.col(c).cast(pl.String).str.strip_chars()
        return pl.when(t == "").then(None).otherwise(t)

    first = pl.coalesce([text(c) for c in cols])
    filled_cells = pl.sum_horizontal([text(c).is_not_null() for c in cols])
    summary = first.str.contains(_SUMMARY_RE).fill_null(False) & (
        filled_cells * 2 <= max(len(cols), 4)
    )
    if key is not None and key in frame.columns:
        summary = summary & (text(key).is_null() | (text(key) == first))
    flags = frame.select(summary.alias("s"))["s"]
    if not bool(flags.any()):
        return frame, (), ()
    lines = tuple(frame.filter(flags)[SOURCE_ROW].to_list())
    detail = frame.filter(~flags)
    empty = detail.select([text(c).is_null().alias(c) for c in cols])
    group_cols: list[str] = []
    for c in cols:
        if c == key or not bool(empty[c].any()):
            break
        if not empty[c][0]:
            group_cols.append(c)
    if group_cols:
        detail = detail.with_columns(text(c).forward_fill().alias(c) for c in group_cols)
    return detail, lines, tuple(group_cols)
