"""Read any CSV / Excel / Parquet file into a canonical table through a field mapping.

The mapping (a YAML file, YAML text or a dict; format in ``docs/field-mapping.md``)
names the target table, which source column feeds each canonical column, constants,
value maps, date formats, the time zone of naive date-times and the prefix of key
columns. Values are parsed with the same parsers as the vendor readers (localized
numbers, Excel serial dates, day/month order decided from the data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from closedloop_kit._core.frames import null_series
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._parse import (
    DateRange,
    Parsed,
    combine_problems,
    date_bounds,
    decimal_marks,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_number,
)
from closedloop_kit.io._registry import read_paths, register
from closedloop_kit.io._result import REJECT_REASON, LoadResult, finish
from closedloop_kit.io._sheet import WORKBOOK_KINDS, read_table
from closedloop_kit.io._text import FileSniff, sniff

__all__ = ["FieldMapping", "read_mapped"]

_KEYS = {"table", "source_system", "id_prefix", "time_zone", "dayfirst", "sheet", "columns"}
_OPTIONAL = {
    "constants",
    "values",
    "formats",
    "prefix_columns",
    "separator",
    "description",
    "date_range",
}


@dataclass(frozen=True)
class FieldMapping:
    """A field-to-target mapping (see ``docs/field-mapping.md``).

    Attributes
    ----------
    table
        Target canonical table (``touchpoints``, ``people``, ``spend``, ...).
    columns
        Canonical column → source column, or a list of source columns joined with
        ``separator`` (``session_id: [domain_userid, domain_sessionidx]``).
    constants
        Canonical column → a value for every row (``touch_type: web_session``).
    values
        Canonical column → {source value: canonical value} (unlisted values kept).
    formats
        Canonical date/time column → strftime format (else detected).
    source_system
        Value of ``source_system`` (one of the canonical systems; default ``mapped``).
    id_prefix
        Prefix of key columns (default ``map``): ``"<id_prefix>:<value>"``.
    prefix_columns
        Columns that get the prefix; default every mapped ``*_id`` column except
        ``source_id``.
    time_zone
        Zone of date-times written without an offset (default ``UTC``).
    dayfirst
        Day/month order of ``d/m/y`` dates; None decides from the data.
    date_range
        Plausible dates ``[earliest, latest]`` (ISO strings); a date outside rejects
        its row. Default 1990-01-01 to today + 10 years.
    sheet
        Excel sheet name or 0-based index (default the first sheet holding a table).
    separator
        Joins list-valued ``columns`` (default ``":"``).
    time_zone_given
        Whether the mapping named ``time_zone`` (else ``read_mapped(tz=)`` may set it).
    """

    table: str
    columns: Mapping[str, str | list[str]]
    constants: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    formats: Mapping[str, str] = field(default_factory=dict)
    source_system: str = "mapped"
    id_prefix: str = "map"
    prefix_columns: tuple[str, ...] | None = None
    time_zone: str = "UTC"
    dayfirst: bool | None = None
    date_range: DateRange | None = None
    sheet: str | int | None = None
    separator: str = ":"
    time_zone_given: bool = False

    @classmethod
    def parse(cls, mapping: str | Path | Mapping[str, Any] | FieldMapping) -> FieldMapping:
        """A mapping from a YAML file path, YAML text, a dict or a FieldMapping.

        Raises
        ------
        ValueError
            Unknown keys, an unknown table or a column the table does not have.
        """
        if isinstance(mapping, FieldMapping):
            return mapping
        if isinstance(mapping, Mapping):
            spec = dict(mapping)
        else:
            from closedloop_kit.config import load_yaml

            loaded = load_yaml(mapping, what="field mapping")
            if not isinstance(loaded, dict):
                msg = f"`mapping` must be a YAML mapping (table:, columns:, ...), got {loaded!r}"
                raise ValueError(msg)
            spec = loaded
        unknown = sorted(set(spec) - _KEYS - _OPTIONAL)
        if unknown:
            valid = sorted(_KEYS | _OPTIONAL)
            msg = f"`mapping` has unknown key(s) {unknown}; valid keys are {valid}"
            raise ValueError(msg)
        from closedloop_kit.schema import TABLES

        table = spec.get("table")
        if table not in TABLES:
            msg = f"`mapping.table` must be one of {tuple(TABLES)}, got {table!r}"
            raise ValueError(msg)
        known = set(TABLES[table].columns)
        named = set(spec.get("columns") or {}) | set(spec.get("constants") or {})
        bad = sorted(named - known)
        if bad:
            msg = (
                f"`mapping` names column(s) {bad} that table `{table}` does not have; "
                f"its columns are {sorted(known)}"
            )
            raise ValueError(msg)
        lineage = {"source_system", "source_id", "source_file", "source_row"}
        defaults = {k for k, _ in TABLES[table].defaults}
        missing = [c for c in TABLES[table].required if c not in named | lineage | defaults]
        if missing:
            msg = (
                f"`mapping` must give table `{table}` its required column(s) {missing} "
                f"(under `columns` or `constants`)"
            )
            raise ValueError(msg)
        prefix_cols = spec.get("prefix_columns")
        return cls(
            table=table,
            columns=dict(spec.get("columns") or {}),
            constants=dict(spec.get("constants") or {}),
            values={k: dict(v) for k, v in (spec.get("values") or {}).items()},
            formats=dict(spec.get("formats") or {}),
            source_system=str(spec.get("source_system", "mapped")),
            id_prefix=str(spec.get("id_prefix", "map")),
            prefix_columns=tuple(prefix_cols) if prefix_cols is not None else None,
            time_zone=str(spec.get("time_zone", "UTC")),
            dayfirst=spec.get("dayfirst"),
            date_range=_date_range(spec.get("date_range")),
            sheet=spec.get("sheet"),
            separator=str(spec.get("separator", ":")),
            time_zone_given="time_zone" in spec,
        )


def _date_range(value: Any) -> DateRange | None:
    if value is None:
        return None
    lo, hi = date_bounds(tuple(value))  # checks the values
    return (lo, hi)


def _read_any(
    path: Path, sheet: str | int | None
) -> tuple[pl.DataFrame, FileSniff | None, str, list[str]]:
    """All-text frame with ``source_row`` (file line / sheet row), sniff, format, notes."""
    fs = sniff(path)
    if fs.kind == "text" or fs.kind in WORKBOOK_KINDS:
        raw = read_table(path, sniff=fs, sheet=sheet)
        return raw.frame, raw.sniff, "csv" if fs.kind == "text" else "excel", raw.layout_notes()
    if fs.kind == "parquet":
        frame = pl.read_parquet(path)
        frame = frame.select(
            [
                pl.col(c).cast(pl.String)
                if not isinstance(t, (pl.List, pl.Struct, pl.Array))
                else pl.col(c).cast(pl.String, strict=False)
                for c, t in frame.schema.items()
            ]
        )
        return (
            frame.with_row_index("source_row", offset=1).cast({"source_row": pl.Int64}),
            fs,
            "parquet",
            [],
        )
    msg = (
        f"{path.name}: expected a CSV, Excel or Parquet file for `read_mapped`, got a "
        f"{fs.kind} file"
    )
    raise SourceFormatError(msg, path=str(path), line=1)


def _typed(
    s: pl.Series,
    dtype: pl.DataType,
    m: FieldMapping,
    column: str,
    source: str,
    path: Path,
    decimal: str | None = None,
) -> Parsed:
    fmt = m.formats.get(column)
    if fmt is not None and (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        text = s.str.strip_chars()
        if dtype == pl.Date:
            value = text.str.strptime(pl.Date, fmt, strict=False)
        else:
            value = text.str.strptime(pl.Datetime("us"), fmt, strict=False)
            has_tz = "%z" in fmt or "%#z" in fmt
            value = (
                value.dt.convert_time_zone("UTC")
                if has_tz
                else value.dt.replace_time_zone(m.time_zone).dt.convert_time_zone("UTC")
            )
        empty = text.is_null() | (text == "")
        problem = pl.select(
            pl.when(~empty & value.is_null())
            .then(pl.format(f"`{source}`: cannot read '{{}}' with format {fmt!r}", text))
            .otherwise(None)
        ).to_series()
        return Parsed(value, problem, assumed_time_zone=None if "%z" in fmt else m.time_zone)
    if dtype == pl.Date:
        return parse_date(s, dayfirst=m.dayfirst, column=source, path=path, date_range=m.date_range)
    if isinstance(dtype, pl.Datetime):
        return parse_datetime(
            s,
            tz=m.time_zone,
            dayfirst=m.dayfirst,
            column=source,
            path=path,
            date_range=m.date_range,
        )
    if dtype == pl.Boolean:
        return parse_bool(s, column=source)
    if dtype in (pl.Float64, pl.Int64):
        r = parse_number(s, column=source, decimal=decimal)
        if dtype == pl.Int64:
            value = r.value.round(0).cast(pl.Int64)
            return Parsed(value, r.problem, notes=r.notes)
        return r
    text = s.str.strip_chars()
    return Parsed(
        pl.select(pl.when(text != "").then(text)).to_series().alias(s.name),
        null_series(s.len(), pl.String, "problem"),
    )


def _read_file(path: Path, m: FieldMapping) -> LoadResult:
    from closedloop_kit.schema import TABLES

    frame, fs, fmt, layout = _read_any(path, m.sheet)
    available = [c for c in frame.columns if c != "source_row"]
    for canon, src in m.columns.items():
        for col in [src] if isinstance(src, str) else list(src):
            if col not in frame.columns:
                msg = (
                    f"{path.name}: the mapping reads column {col!r} (for `{canon}`) that "
                    f"the file does not have; the file's columns are {available}"
                )
                raise SourceFormatError(msg, path=str(path), column=col)
    targets = TABLES[m.table].columns
    out: dict[str, pl.Series] = {}
    problems: list[pl.Series] = []
    notes: list[str] = list(layout)
    assumed: str | None = None
    prefix_cols = (
        m.prefix_columns
        if m.prefix_columns is not None
        else tuple(c for c in m.columns if c.endswith("_id") and c != "source_id")
    )
    n = frame.height
    # one decimal mark per number column, decided with the file's other number columns
    marks = decimal_marks(
        {
            canon: frame[src]
            for canon, src in m.columns.items()
            if isinstance(src, str) and targets[canon] in (pl.Float64, pl.Int64)
        }
    )
    for canon, src in m.columns.items():
        if isinstance(src, str):
            s = frame[src]
            label = src
        else:
            s = frame.select(
                pl.concat_str([pl.col(c) for c in src], separator=m.separator)
            ).to_series()
            label = "+".join(src)
        if canon in m.values:
            vm = {str(k): v for k, v in m.values[canon].items()}
            s = s.replace_strict(
                list(vm), [None if v is None else str(v) for v in vm.values()], default=s
            )
        r = _typed(s.alias(canon), targets[canon], m, canon, label, path, marks.get(canon))
        value = r.value.alias(canon)
        if canon in prefix_cols:
            value = pl.select(
                pl.when(value.is_not_null())
                .then(pl.lit(f"{m.id_prefix}:") + value.cast(pl.String))
                .otherwise(None)
            ).to_series()
        out[canon] = value.alias(canon)
        problems.append(r.problem)
        notes += list(r.notes)
        assumed = assumed or r.assumed_time_zone
    for canon, const in m.constants.items():
        dtype = targets[canon]
        out[canon] = pl.Series(canon, [const] * n).cast(dtype, strict=False)
    key = TABLES[m.table].key[0]
    key_src = m.columns.get(key)
    source_id: pl.Series = (
        frame.get_column(key_src)
        if isinstance(key_src, str)
        else out.get(key, null_series(n, pl.String))
    )
    canonical = pl.DataFrame(out).with_columns(
        pl.lit(m.source_system).alias("source_system"),
        source_id.cast(pl.String).alias("source_id"),
        frame["source_row"],
        (combine_problems(*problems) if problems else pl.lit(None, pl.String)).alias(REJECT_REASON),
    )
    return finish(
        path=path,
        reader="mapped",
        source_system=m.source_system,
        object=m.table,
        primary=m.table,
        tables={m.table: canonical},
        rows_read=n,
        raw=frame,
        sniff=fs if fs is not None and fs.kind != "parquet" else None,
        format=f"{fmt} with a field mapping",
        time_zone_assumed=assumed,
        notes=notes,
    )


def read_mapped(
    path: str | Path,
    mapping: str | Path | Mapping[str, Any] | FieldMapping,
    *,
    tz: str | None = None,
) -> LoadResult:
    r"""Read CSV / Excel / Parquet files into one canonical table with a field mapping.

    Parameters
    ----------
    path
        A file, a folder or a glob.
    mapping
        A YAML file, YAML text, a dict or a :class:`FieldMapping`; the format is in
        ``docs/field-mapping.md``.
    tz
        Zone of naive date-times when the mapping names none (``time_zone:``); a
        ``clk.load`` config's default zone arrives here.

    Returns
    -------
    LoadResult
        The mapped table; values that cannot be read reject their row (with the
        column and value in the reason), every file reconciles.

    Raises
    ------
    SourceFormatError
        The mapping names a column the file lacks (the message lists the file's
        columns), or the file is not CSV, Excel or Parquet.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "webinar.csv"
    >>> _ = p.write_text("Email,Attended On\nann@x.com,05/01/2026\n")
    >>> m = '''
    ... table: touchpoints
    ... id_prefix: webinar
    ... columns: {touchpoint_id: Email, person_id: Email, occurred_at: Attended On}
    ... constants: {touch_type: webinar, is_marketing: true}
    ... dayfirst: true
    ... '''
    >>> tp = read_mapped(p, m)["touchpoints"]
    >>> tp["person_id"].to_list(), str(tp["occurred_at"][0])
    (['webinar:ann@x.com'], '2026-01-05 00:00:00+00:00')
    """
    m = FieldMapping.parse(mapping)
    if tz is not None and not m.time_zone_given:
        m = replace(m, time_zone=tz)
    return read_paths(path, _read_file, reader="mapped", suffixes=_SUFFIXES, m=m)


_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".parquet")


def _detect(fs: FileSniff) -> float:
    return 0.0  # a mapping is needed: never chosen by auto-detection


register(
    "mapped",
    source_system="mapped",
    detect=_detect,
    read=read_mapped,
    kinds=("text", "xlsx", "xls", "parquet"),
)
