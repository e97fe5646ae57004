"""Read a GA4 BigQuery export (NDJSON, gzipped NDJSON or Parquet) into touchpoints.

One file per ``events_YYYYMMDD`` table, as BigQuery exports write them. All the files
are read by ONE polars lazy scan (``scan_ndjson`` over every NDJSON file, plus one
``scan_parquet`` per Parquet file), collected once with the streaming engine: the
events are aggregated to one ``web_session`` touchpoint per session (key
``user_pseudo_id`` + ``ga_session_id``), form / lead / sign-up events also become
``form_fill`` touchpoints, and every event carrying a person identifier (``user_id``, a
CRM id or hashed email parameter) becomes identity evidence in ``identity_links``. Raw
events are never held in memory: only sessions, the events that carry identifiers and
the rejected events are collected. See ``docs/howto-ga4.md``.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io import _ga4_events as g
from closedloop_kit.io import _ga4_flat as flat
from closedloop_kit.io._memo import memoized
from closedloop_kit.io._registry import expand_paths, register
from closedloop_kit.io._result import (
    REJECT_REASON,
    FileReport,
    LoadResult,
    combine_results,
    finish_files,
)
from closedloop_kit.io._sheet import TABLE_KINDS
from closedloop_kit.io._text import FileSniff, sniff

__all__ = ["read_ga4"]

_SUFFIXES = (".json", ".ndjson", ".jsonl", ".gz", ".parquet")
_RAW_COLS = ("event_date", "event_timestamp", "event_name", "user_pseudo_id", "user_id")
IN_MEMORY_BYTES = 256 * 1024 * 1024
"""NDJSON bytes up to which an export of small files is read into memory first."""
SMALL_FILE_BYTES = 8 * 1024 * 1024
"""Mean NDJSON file size below which the files count as small (tiny streaming batches)."""
_GZ_RATIO = 8
"""Assumed expansion of gzipped NDJSON (for :data:`IN_MEMORY_BYTES`)."""
_FIRST_LINE_BYTES = 1 << 20
"""Bytes read to check the first event of a file (GA4 events are a few KB)."""


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() == ".parquet"


def _scan_ndjson(files: list[Path]) -> pl.LazyFrame:
    """Lazy events of every NDJSON file in ONE scan (``__row``: index over all files).

    A small export of small files (:data:`IN_MEMORY_BYTES`, :data:`SMALL_FILE_BYTES`) is
    read into one contiguous frame first:
    many small daily files stream as many tiny batches, and the per-batch cost of the
    parameter extraction then outweighs the work (3x on the bundled sample).
    """
    lf = pl.scan_ndjson(
        [str(f) for f in files],
        schema=g.EVENT_SCHEMA,
        row_index_name="__row",
        include_file_paths="__file",
    ).with_columns(pl.col("__row").cast(pl.Int64))
    size = sum(f.stat().st_size * (_GZ_RATIO if f.suffix.lower() == ".gz" else 1) for f in files)
    if size <= IN_MEMORY_BYTES and size / len(files) < SMALL_FILE_BYTES:
        return lf.collect().rechunk().lazy()
    return lf


def _scan_parquet(path: Path) -> pl.LazyFrame:
    """Lazy events of a Parquet export in :data:`_ga4_events.EVENT_SCHEMA` shape."""
    lf = pl.scan_parquet(path, row_index_name="__row")
    have = lf.collect_schema()
    cols: list[pl.Expr] = []
    for name, dtype in g.EVENT_SCHEMA.items():
        if name not in have:
            if name == "event_params":
                cols.append(pl.lit(None, dtype=g.PARAMS_DTYPE).alias(name))
            else:
                cols.append(pl.lit(None, dtype=dtype).alias(name))
        elif name == "event_params":
            have_params = have[name]
            inner = have_params.inner if isinstance(have_params, pl.List) else None
            want = g.PARAMS_DTYPE.inner  # type: ignore[attr-defined]
            conformed = _conform_struct(pl.element(), inner, want)
            cols.append(pl.col(name).list.eval(conformed).alias(name))
        elif isinstance(dtype, pl.Struct):
            cols.append(_conform_struct(pl.col(name), have[name], dtype).alias(name))
        else:
            cols.append(pl.col(name).cast(pl.String).alias(name))
    lf = lf.select(pl.col("__row").cast(pl.Int64), *cols)
    return lf.with_columns(pl.lit(str(path)).alias("__file"))


_ID_EVENT_COLS = (
    "__row",
    "__file",
    "__ts_us",
    "event_name",
    "user_id",
    "page_referrer",
    *g.SOURCE_INPUTS,
)
"""Columns kept for each event that may carry a person id (form fills, identity links);
its traffic source and click id are built from them after the aggregation."""


def _events(raw: pl.LazyFrame, form_events: list[str], *, params_as_text: bool) -> pl.LazyFrame:
    """Raw events → the per-event columns the one aggregation reads.

    Adds ``__problem`` (why the event cannot be placed in a session, or null),
    ``__maybe_id`` (a form event, a ``user_id`` or an identity key named in the
    parameters: a cheap pre-filter) and ``__params``, the parameters as JSON text.
    """
    frame = g.event_frame(raw, params_as_text=params_as_text)
    problem = g.problem_expr()
    if "__why" in raw.collect_schema().names():  # a flattened table: why a row is unreadable
        problem = pl.coalesce(pl.col("__why"), problem)
    return frame.with_columns(
        problem.alias("__problem"),
        (
            pl.col("event_name").is_in(form_events)
            | pl.col("user_id").is_not_null()
            | g.may_carry_id(params_as_text=params_as_text)
        ).alias("__maybe_id"),
    ).select(
        "event_date",
        "event_timestamp",
        "__problem",
        "__maybe_id",
        *g.narrow(frame).collect_schema().names(),
    )


def _event_plans(
    files: list[Path], form_events: list[str], tables: Sequence[pl.LazyFrame] = ()
) -> list[pl.LazyFrame]:
    """Sessions (with the rejected events and identifier events) and per-file counts.

    One lazy scan over all NDJSON files (plus one per Parquet file) feeds ONE group-by:
    a session per ``user_pseudo_id`` + ``ga_session_id``; each unusable event is a group
    of its own (keyed by its file and row), and each session carries, as a list, its
    events that may name a person. The per-file counts read only the row index.
    """
    ndjson = [f for f in files if not _is_parquet(f)]
    raw: list[tuple[pl.LazyFrame, bool]] = []
    if ndjson:
        raw.append((_scan_ndjson(ndjson), True))
    raw += [(_scan_parquet(f), False) for f in files if _is_parquet(f)]
    raw += [(t, True) for t in tables]  # flattened tables, in the export's shape
    events = pl.concat(
        [_events(lf, form_events, params_as_text=t) for lf, t in raw], how="vertical"
    )
    bad = pl.col("__problem").is_not_null()
    by = [
        pl.when(bad).then(pl.col("__file")).alias("__bad_file"),
        pl.when(bad).then(pl.col("__row")).alias("__bad_row"),
    ]
    carry = [  # a rejected event is a group of its own: its first row is the event
        *[pl.col(c).first().alias(f"__raw_{c}") for c in ("event_date", "event_timestamp")],
        pl.col("event_name").first().alias("__raw_event_name"),
        pl.col("__problem").first(),
        pl.struct(_ID_EVENT_COLS).filter(pl.col("__maybe_id") & ~bad).alias("__id_events"),
    ]
    counts = pl.concat([lf.select("__file", "__row") for lf, _ in raw], how="vertical")
    # every line of the NDJSON files, blank ones too (the scan of events skips them)
    lines = (
        pl.scan_lines([str(f) for f in ndjson], include_file_paths="__file")
        if ndjson
        else pl.LazyFrame(schema={"__file": pl.String, "line": pl.String})
    )
    return [
        g.sessions(events, by=by, carry=carry),
        counts.group_by("__file").agg(pl.len().alias("n"), pl.col("__row").min().alias("__first")),
        lines.group_by("__file").agg(pl.len().alias("lines")),
    ]


def _split(
    grouped: pl.DataFrame, form_events: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The one aggregation → sessions, identifier events and rejected events."""
    is_bad = pl.col("__bad_row").is_not_null()
    bad = grouped.filter(is_bad).select(
        pl.col("__bad_file").alias("__file"),
        pl.col("__bad_row").alias("__row"),
        pl.col("__raw_event_date").alias("event_date"),
        pl.col("__raw_event_timestamp").alias("event_timestamp"),
        pl.col("__raw_event_name").alias("event_name"),
        "user_pseudo_id",
        "user_id",
        "ga_session_id",
        "__problem",
    )
    ok = grouped.filter(~is_bad)
    id_events = (
        ok.select("user_pseudo_id", "ga_session_id", "__id_events")
        .explode("__id_events")
        .drop_nulls("__id_events")
        .unnest("__id_events")
    )
    parts = [c for c in g.SOURCE_INPUTS if c.startswith("__")]
    id_events = (
        g.source_columns(id_events.lazy())
        .pipe(g.id_columns, params_as_text=True, params=pl.col("__params"))
        .with_columns(
            pl.from_epoch("__ts_us", time_unit="us").dt.replace_time_zone("UTC").alias("ts")
        )
        .drop(*parts)
        .collect()
    )
    has_id = pl.any_horizontal([pl.col(c).is_not_null() for c in g.ID_COLUMNS])
    keep = has_id | pl.col("user_id").is_not_null() | pl.col("event_name").is_in(form_events)
    sessions = ok.drop(
        "__bad_file",
        "__bad_row",
        "__raw_event_date",
        "__raw_event_timestamp",
        "__raw_event_name",
        "__problem",
        "__id_events",
    )
    return sessions, id_events.filter(keep), bad


def _collect(
    files: list[Path], form_events: list[str], tables: Sequence[pl.LazyFrame] = ()
) -> list[pl.DataFrame]:
    try:
        return pl.collect_all(_event_plans(files, form_events, tables), engine="streaming")
    except pl.exceptions.PolarsError as exc:
        for f in files:
            if not _is_parquet(f):
                _raise_bad_line(f)
        msg = f"the GA4 export could not be read: {exc}"
        raise SourceFormatError(msg, path=str(files[0]) if files else None) from None


def _lines(path: Path) -> Iterable[bytes]:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as fh:
        yield from fh


def _raise_bad_line(path: Path) -> None:
    """Raise naming the first line of ``path`` that is not a JSON object (error path)."""
    for i, raw in enumerate(_lines(path), start=1):
        if not raw.strip():
            continue
        why = None
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            why = f"not valid JSON ({getattr(exc, 'msg', exc)})"
        else:
            if not isinstance(obj, dict):
                why = "not a JSON object"
        if why is not None:
            msg = (
                f"{path.name}: line {i}: {why}; the export looks truncated or corrupted "
                f"(expected one JSON event per line)"
            )
            raise SourceFormatError(msg, path=str(path), line=i)


def _line_map(files: list[Path], counts: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """The line of every event of the rare files with blank lines (the scan skips them).

    Event ``k`` (0-based in its file) is on line ``k + 1`` unless the file has blank
    lines; those files (more lines than events) are mapped exactly.
    """
    n_by_file = dict(zip(counts["__file"], counts["n"], strict=True))
    lines_by_file = dict(zip(lines["__file"], lines["lines"], strict=True))
    pieces = []
    for f in files:
        name = str(f)
        if _is_parquet(f) or name not in n_by_file or lines_by_file.get(name) == n_by_file[name]:
            continue
        pieces.append(
            pl.scan_lines(name, row_index_name="__line", row_index_offset=1)
            .filter(pl.col("line").str.strip_chars() != "")
            .select(
                pl.lit(name).alias("__file"),
                pl.int_range(pl.len(), dtype=pl.Int64).alias("__k"),
                pl.col("__line").cast(pl.Int64),
            )
            .collect()
        )
    if not pieces:
        return pl.DataFrame(schema={"__file": pl.String, "__k": pl.Int64, "__line": pl.Int64})
    return pl.concat(pieces)


def _to_lines(
    frame: pl.DataFrame, file_col: str, row_col: str, counts: pl.DataFrame, blanks: pl.DataFrame
) -> pl.DataFrame:
    """Replace the scan index in ``row_col`` by the event's line (row) in its file."""
    firsts = counts.select(pl.col("__file").alias(file_col), "__first")
    out = frame.join(firsts, on=file_col, how="left").with_columns(
        (pl.col(row_col) - pl.col("__first")).alias("__k")
    )
    if blanks.height:
        out = (
            out.join(blanks.rename({"__file": file_col}), on=[file_col, "__k"], how="left")
            .with_columns(pl.coalesce("__line", pl.col("__k") + 1).alias(row_col))
            .drop("__line")
        )
    else:
        out = out.with_columns((pl.col("__k") + 1).alias(row_col))
    return out.drop("__first", "__k")


def _conform_struct(expr: pl.Expr, have: object, want: object) -> pl.Expr:
    """Pick (and cast) the fields of ``want`` from a struct, nulls for missing fields."""
    assert isinstance(want, pl.Struct)
    fields = {f.name: f.dtype for f in have.fields} if isinstance(have, pl.Struct) else {}
    parts = []
    for f in want.fields:
        if f.name not in fields:
            parts.append(pl.lit(None, dtype=f.dtype).alias(f.name))
        elif isinstance(f.dtype, pl.Struct):
            parts.append(
                _conform_struct(expr.struct.field(f.name), fields[f.name], f.dtype).alias(f.name)
            )
        else:
            parts.append(expr.struct.field(f.name).cast(f.dtype).alias(f.name))
    return pl.struct(parts)


def _first_line(path: Path) -> str:
    """The first line of a file; read once per load (:func:`_claim`, then :func:`_check_file`)."""
    return memoized(("ga4_first_line", str(path)), lambda: _read_first_line(path))


def _read_first_line(path: Path) -> str:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.readline(_FIRST_LINE_BYTES)
    return raw.decode("utf-8", errors="replace")


def _check_file(path: Path) -> None:
    """Refuse files that are not a GA4 export, naming what they look like.

    An NDJSON file whose first line is a JSON object is judged by its keys alone (one
    short read); anything else is sniffed for a better message.
    """
    if _is_parquet(path):
        names = set(pl.scan_parquet(path).collect_schema().names())
        if not {"event_timestamp", "user_pseudo_id"} <= names:
            msg = (
                f"{path.name}: expected a GA4 BigQuery export (columns `event_timestamp`, "
                f"`user_pseudo_id`, `event_params`), the Parquet file has {sorted(names)}"
            )
            raise SourceFormatError(
                msg, path=str(path), column="event_timestamp", suggestion="clk.io.read_mapped"
            )
        return
    keys = _first_keys(_first_line(path))
    if keys is None and path.suffix.lower() != ".gz":
        fs = sniff(path)
        if fs.kind not in ("ndjson", "json"):
            from closedloop_kit.io._registry import suggest_reader

            other = suggest_reader(fs, exclude=("ga4",))
            hint = f"; it looks like a file for `{other}`" if other else ""
            msg = (
                f"{path.name}: expected a GA4 BigQuery export (NDJSON or Parquet, one "
                f"event per line), got a {fs.kind} file{hint}"
            )
            raise SourceFormatError(msg, path=str(path), line=1, suggestion=other)
    if keys is not None and not {"event_timestamp", "user_pseudo_id"} <= keys:
        msg = (
            f"{path.name}: line 1: expected GA4 event fields `event_timestamp` and "
            f"`user_pseudo_id`, got {sorted(keys)[:12]}"
        )
        raise SourceFormatError(msg, path=str(path), line=1, column="event_timestamp")


def _first_keys(line: str) -> set[str] | None:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None  # reported with its line number when the file is scanned
    return set(obj) if isinstance(obj, dict) else set()


def _ga4_files(path: str | Path | Sequence[str | Path]) -> list[Path]:
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    files: list[Path] = []
    for p in paths:
        files += [f for f in expand_paths(p, suffixes=_SUFFIXES) if not f.name.startswith(".")]
        files += _table_files(p)
    return list(dict.fromkeys(files))


def _table_files(path: str | Path) -> list[Path]:
    """Flattened event tables (CSV, TSV, Excel) named by ``path``.

    A file named on its own is always taken (and refused with a reason if it is not
    one); in a folder or glob only the tables whose header is a GA4 events table.
    """
    suffixes = tuple(s for s in flat.FLAT_SUFFIXES if s not in _SUFFIXES)
    if Path(path).is_file():
        return [Path(path)] if Path(path).suffix.lower() in suffixes else []
    found = expand_paths(path, suffixes=suffixes)
    return [f for f in found if f.suffix.lower() in suffixes and flat.is_flat_file(f)]


def _flat_tables(files: list[Path]) -> dict[Path, flat.FlatEvents]:
    """The flattened event tables among ``files``, read; other tables are refused."""
    out: dict[Path, flat.FlatEvents] = {}
    for f in files:
        if _is_parquet(f):
            if flat.is_flat_file(f):
                out[f] = flat.read_flat(f)
            continue
        if f.suffix.lower() not in flat.FLAT_SUFFIXES:
            continue
        fs = sniff(f)
        if fs.kind not in TABLE_KINDS:
            continue  # refused by _check_file with what it looks like
        if not flat.is_flat(fs.header):
            from closedloop_kit.io._registry import suggest_reader

            other = suggest_reader(fs, exclude=("ga4",))
            hint = f"; it looks like a file for `{other}`" if other else ""
            msg = (
                f"{f.name}: line {fs.header_line}: expected a flattened GA4 events table "
                f"(columns `user_pseudo_id`, `event_timestamp` or `timestamp`, `event_name` "
                f"or `name`), the file has {list(fs.header)[:12]}{hint}"
            )
            raise SourceFormatError(
                msg, path=str(f), line=fs.header_line, column="user_pseudo_id", suggestion=other
            )
        out[f] = flat.read_flat(f)
    return out


def _describe_tables(result: LoadResult, tables: dict[Path, flat.FlatEvents]) -> LoadResult:
    """The report rows of flattened tables: their format, layout, zone and notes."""
    if not tables:
        return result
    by_path = {str(f): t for f, t in tables.items()}
    path = pl.col("path")

    def pick(attr: str, dtype: pl.DataType) -> pl.Expr:
        values = {p: getattr(t, attr) for p, t in by_path.items()}
        return (
            pl.when(path.is_in(list(by_path)))
            .then(path.replace_strict(values, default=None, return_dtype=dtype))
            .otherwise(pl.col(attr))
            .alias(attr)
        )

    notes = {p: "; ".join(t.notes) for p, t in by_path.items()}
    extra = pl.when(pl.col("object") == "events").then(
        path.replace_strict(notes, default=None, return_dtype=pl.String)
    )
    report = result.report.with_columns(
        pick("format", pl.String()),
        pick("encoding", pl.String()),
        pick("delimiter", pl.String()),
        pick("header_line", pl.Int64()),
        pick("time_zone_assumed", pl.String()),
        pl.when(extra.is_null() | (extra == ""))
        .then(pl.col("notes"))
        .when(pl.col("notes").is_null())
        .then(extra)
        .otherwise(pl.col("notes") + "; " + extra)
        .alias("notes"),
    )
    return LoadResult(tables=result.tables, rejected=result.rejected, report=report)


def read_ga4(
    path: str | Path | Sequence[str | Path],
    *,
    form_events: Sequence[str] = g.FORM_EVENTS,
) -> LoadResult:
    r"""Read a GA4 BigQuery export into ``touchpoints`` and ``identity_links``.

    Parameters
    ----------
    path
        An ``events_YYYYMMDD`` file (``.json``/``.ndjson``, ``.gz``, ``.parquet``), a
        folder of them, a glob, or a list of files. All files are read in one scan, and
        sessions spanning midnight (two daily files) are one touchpoint, so pass the
        whole export at once. A flattened events table (one row per event, parameters
        as ``param_<key>`` columns: Fivetran's ``event``, dbt-ga4's
        ``base_ga4__events``) as CSV/TSV/Excel or Parquet is read into the same
        touchpoints (see ``docs/howto-ga4.md``); in a folder, only the tables whose
        columns are a GA4 events table are taken.
    form_events
        Event names that become ``form_fill`` touchpoints and identity evidence.

    Returns
    -------
    LoadResult
        ``touchpoints``: one ``web_session`` per session (``touchpoint_id`` =
        ``session_id`` = ``"ga4:<user_pseudo_id>:<ga_session_id>"``, ``anonymous_id`` =
        ``"ga4:<user_pseudo_id>"``; landing page, referrer and source of the session's
        first event that has them) and one ``form_fill`` per form event;
        ``identity_links``: ``anonymous_id`` → ``user_id`` / ``crm_id`` /
        ``email_sha256`` / ``email``. Report per file: rows read = events; kept = the
        touchpoints whose first event is in the file; rejected = events with no visitor,
        timestamp or session (with their file and line); merged = the other events of
        sessions.

    Raises
    ------
    SourceFormatError
        A file is not a GA4 export, or a line is not valid JSON (the message names the
        file and line).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "events_20231101.json"
    >>> ev = {"event_timestamp": "1698800000000000", "event_name": "page_view",
    ...       "user_pseudo_id": "123.456", "event_params": [
    ...       {"key": "ga_session_id", "value": {"int_value": "1698800000"}}]}
    >>> _ = p.write_text(json.dumps(ev) + "\n")
    >>> read_ga4(p)["touchpoints"]["touchpoint_id"].to_list()
    ['ga4:123.456:1698800000']
    """
    files = _ga4_files(path)
    if not files:
        msg = f"`path` {str(path)!r} holds no GA4 export files ({', '.join(_SUFFIXES)})"
        raise FileNotFoundError(msg)
    tables = _flat_tables(files)
    for f in files:
        if f not in tables:
            _check_file(f)
    nested = [f for f in files if f not in tables]
    form_set = list(form_events)
    grouped, counts, lines = _collect(nested, form_set, [t.raw for t in tables.values()])
    if counts.height == 0:
        msg = f"`path` {str(path)!r}: the GA4 export files hold no events"
        raise SourceFormatError(msg, path=str(files[0]), line=1)
    sessions, id_events, bad = _split(grouped, form_set)
    flat_lines = [t.lines for t in tables.values() if t.lines is not None]
    blanks = pl.concat([_line_map(nested, counts, lines), *flat_lines])
    sessions = _to_lines(sessions, "source_file", "source_row", counts, blanks)
    id_events = _to_lines(id_events, "__file", "__row", counts, blanks)
    bad = _to_lines(bad, "__file", "__row", counts, blanks)
    forms = g.form_fills(id_events.lazy(), form_set).collect()
    links = g.identity_links(id_events.lazy(), form_set).collect()
    # form fills inherit the session's source when the event carries none, and the
    # session's landing page and referrer (the canonical meaning of those columns)
    src = ["source", "medium", "campaign_name", "content", "term", "click_id"]
    session_cols = [*src, "landing_page", "referrer"]
    forms = (
        forms.join(
            sessions.select("session_id", *[pl.col(c).alias(f"__s_{c}") for c in session_cols]),
            on="session_id",
            how="left",
        )
        .with_columns(
            [
                pl.when(pl.col("source").is_null() & pl.col("medium").is_null())
                .then(pl.col(f"__s_{c}"))
                .otherwise(pl.col(c))
                .alias(c)
                for c in src
            ]
            + [pl.col(f"__s_{c}").alias(c) for c in ("landing_page", "referrer")]
        )
        .drop([f"__s_{c}" for c in session_cols])
    )
    return _describe_tables(_assemble(files, sessions, forms, links, bad, counts), tables)


_TOUCH_COLS = (
    "touchpoint_id",
    "anonymous_id",
    "occurred_at",
    "touch_type",
    "is_marketing",
    "source",
    "medium",
    "campaign_name",
    "content",
    "term",
    "referrer",
    "click_id",
    "session_id",
    "landing_page",
    "user_id",
    "source_system",
    "source_id",
    "source_file",
    "source_row",
)


def _assemble(
    files: list[Path],
    sessions: pl.DataFrame,
    forms: pl.DataFrame,
    links: pl.DataFrame,
    bad: pl.DataFrame,
    counts: pl.DataFrame,
) -> LoadResult:
    """Validate once; report per file (the file of a session is that of its first event)."""
    touch = sessions.select(_TOUCH_COLS).with_columns(
        pl.col("source_row").cast(pl.Int64), pl.lit(None, pl.String).alias(REJECT_REASON)
    )
    rejected_events = bad.select(
        pl.lit(None, pl.String).alias("touchpoint_id"),
        pl.concat_str(pl.lit("ga4:"), "user_pseudo_id").alias("anonymous_id"),
        pl.lit("web_session").alias("touch_type"),
        pl.lit("ga4").alias("source_system"),
        pl.col("__file").alias("source_file"),
        pl.col("__row").alias("source_row"),
        pl.col("__problem").alias(REJECT_REASON),
    )
    touch = pl.concat([touch, rejected_events], how="diagonal_relaxed")
    # original values of rejected events only: JSON-encoding every session's source
    # row for the reject table would cost more than the load itself
    raw = bad.select(
        pl.col("__file").alias("source_file"), pl.col("__row").alias("source_row"), *_RAW_COLS
    ).unique(["source_file", "source_row"], keep="first", maintain_order=True)
    n_read = dict(zip(counts["__file"], counts["n"], strict=True))
    kept = _per_file(touch.filter(pl.col(REJECT_REASON).is_null()))
    n_bad = _per_file(bad.rename({"__file": "source_file"}))
    reports = []
    for f in files:
        name, fmt = str(f), _format(f)
        reports.append(
            FileReport(
                path=name,
                reader="ga4",
                source_system="ga4",
                object="events",
                table="touchpoints",
                format=fmt,
                rows_read=n_read.get(name, 0),
                rows_merged=n_read.get(name, 0) - kept.get(name, 0) - n_bad.get(name, 0),
                notes=(
                    "events → one web_session per user_pseudo_id + ga_session_id; "
                    f"{n_bad.get(name, 0)} event(s) without a visitor, time or session rejected",
                ),
            )
        )
    results = [
        finish_files(
            reports,
            source_system="ga4",
            tables={"touchpoints": touch, "identity_links": links},
            raw=raw if raw.height else None,
        )
    ]
    form_reports = []
    forms = forms.select(_TOUCH_COLS)
    n_forms = _per_file(forms)
    distinct = forms.unique("touchpoint_id", keep="first", maintain_order=True)
    n_distinct = _per_file(distinct)
    for f in files:
        name = str(f)
        if n_forms.get(name):
            form_reports.append(
                FileReport(
                    path=name,
                    reader="ga4",
                    source_system="ga4",
                    object="form events",
                    table="touchpoints",
                    format=_format(f),
                    rows_read=n_forms[name],
                    rows_merged=n_forms[name] - n_distinct.get(name, 0),
                    notes=(
                        "form / lead events → form_fill touchpoints (identical repeats merged)",
                    ),
                )
            )
    if form_reports:
        results.append(
            finish_files(form_reports, source_system="ga4", tables={"touchpoints": distinct})
        )
    out = combine_results(results)
    order = {str(f): i for i, f in enumerate(files)}
    report = out.report.with_columns(
        pl.col("path").replace_strict(order, default=len(order)).alias("__o")
    ).sort("__o", maintain_order=True)
    return LoadResult(tables=out.tables, rejected=out.rejected, report=report.drop("__o"))


def _format(f: Path) -> str:
    return "ga4 bigquery export (parquet)" if _is_parquet(f) else "ga4 bigquery export (ndjson)"


def _per_file(frame: pl.DataFrame) -> dict[str, int]:
    counts = frame.group_by("source_file").agg(pl.len().alias("n"))
    return {str(f): int(n) for f, n in counts.iter_rows()}


def _detect(fs: FileSniff) -> float:
    if fs.kind == "parquet":
        try:
            names = set(pl.scan_parquet(fs.path).collect_schema().names())
        except Exception:
            return 0.0
        if {"event_timestamp", "user_pseudo_id", "event_name"} <= names:
            return 0.95
        return 0.95 if flat.is_flat_file(fs.path) else 0.0
    if fs.kind in TABLE_KINDS:
        return 0.95 if flat.is_flat(fs.header) else 0.0
    if fs.kind == "binary" and fs.name.endswith((".json.gz", ".ndjson.gz", ".jsonl.gz")):
        try:
            with gzip.open(fs.path, "rt", encoding="utf-8", errors="replace") as fh:
                first = fh.readline()
        except OSError:
            return 0.0
        keys = _first_keys(first)
        return 0.95 if keys and {"event_timestamp", "user_pseudo_id"} <= keys else 0.0
    if fs.kind not in ("ndjson", "json"):
        return 0.0
    keys = _first_keys(fs.sample.split("\n", 1)[0])
    if keys and {"event_timestamp", "user_pseudo_id", "event_name"} <= keys:
        return 0.95
    return 0.0


_DAILY = re.compile(r"^events_(?:intraday_)?\d{8}(?:_\d+)?\.(?:json|ndjson|jsonl)(?:\.gz)?$")


def _claim(path: Path) -> bool:
    """An ``events_YYYYMMDD`` NDJSON file whose first line is a GA4 event (no sniff)."""
    if not _DAILY.match(path.name.lower()):
        return False
    keys = _first_keys(_first_line(path))
    return bool(keys) and {"event_timestamp", "user_pseudo_id", "event_name"} <= (keys or set())


register(
    "ga4",
    source_system="ga4",
    detect=_detect,
    read=read_ga4,
    kinds=("ndjson", "json", "parquet", "binary", *TABLE_KINDS),
    many=True,
    claim=_claim,
)
