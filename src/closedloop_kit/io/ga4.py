"""Read a GA4 BigQuery export (NDJSON, gzipped NDJSON or Parquet) into touchpoints.

One file per ``events_YYYYMMDD`` table, as BigQuery exports write them. Events are
streamed (polars lazy scans, ``engine="streaming"``) and aggregated to one
``web_session`` touchpoint per session (key ``user_pseudo_id`` + ``ga_session_id``);
form / lead / sign-up events also become ``form_fill`` touchpoints, and every event
carrying a person identifier (``user_id``, a CRM id or hashed email parameter) becomes
identity evidence in ``identity_links``. See ``docs/howto-ga4.md``.
"""

from __future__ import annotations

import gzip
import io
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io import _ga4_events as g
from closedloop_kit.io._registry import expand_paths, register
from closedloop_kit.io._result import REJECT_REASON, LoadResult, combine_results, finish
from closedloop_kit.io._text import FileSniff, sniff

__all__ = ["read_ga4"]

_SUFFIXES = (".json", ".ndjson", ".jsonl", ".gz", ".parquet")
CHUNK_BYTES = 16 * 1024 * 1024
"""NDJSON bytes parsed per chunk (bounds the memory of large daily files)."""
BUCKET_EVENTS = 250_000
"""Events aggregated to sessions per pass (bounds the memory of large exports)."""
_RAW_COLS = ("event_date", "event_timestamp", "event_name", "user_pseudo_id", "user_id")


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() == ".parquet"


def _scan_parquet(path: Path) -> pl.LazyFrame:
    """Lazy events of a Parquet export in :data:`_ga4_events.EVENT_SCHEMA` shape."""
    lf = pl.scan_parquet(path, row_index_name="__row", row_index_offset=1)
    have = lf.collect_schema()
    cols: list[pl.Expr] = []
    for name, dtype in g.EVENT_SCHEMA.items():
        if name not in have:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
        elif name == "event_params":
            cols.append(pl.col(name))
        elif isinstance(dtype, pl.Struct):
            cols.append(_conform_struct(pl.col(name), have[name], dtype).alias(name))
        else:
            cols.append(pl.col(name).cast(pl.String).alias(name))
    lf = lf.select(pl.col("__row").cast(pl.Int64), *cols)
    return lf.with_columns(pl.lit(str(path)).alias("__file"))


def _slim(events: pl.LazyFrame, *, params_as_text: bool) -> pl.LazyFrame:
    """Raw events → the narrow per-event columns the aggregations need, with problems."""
    frame = g.event_frame(events, params_as_text=params_as_text)
    frame = frame.with_columns(g.problem_expr().alias("__problem"))
    return g.narrow(frame, extra=("event_date", "event_timestamp", "__problem"))


def _spill_ndjson(path: Path, out: Path, first_part: int) -> int:
    """Parse an NDJSON export in chunks of ~CHUNK_BYTES into Parquet parts in ``out``.

    Memory is bounded by the chunk size whatever the file size (a gzipped file is
    decompressed as it is read). Returns the number of parts written.
    """
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    part = first_part
    line_no = 0
    with opener(path, "rb") as fh:
        while True:
            lines: list[bytes] = fh.readlines(CHUNK_BYTES)
            if not lines:
                break
            keep = [i for i, ln in enumerate(lines) if ln.strip()]
            rows = pl.Series("__row", [line_no + i + 1 for i in keep], dtype=pl.Int64)
            body = b"".join(
                lines[i] if lines[i].endswith(b"\n") else lines[i] + b"\n" for i in keep
            )
            if body:
                try:
                    df = pl.read_ndjson(io.BytesIO(body), schema=g.EVENT_SCHEMA)
                except pl.exceptions.PolarsError:
                    _raise_bad_line(path, lines, line_no)
                    raise
                df = df.with_columns(rows, pl.lit(str(path)).alias("__file"))
                _slim(df.lazy(), params_as_text=True).collect().write_parquet(
                    out / f"part-{part:06d}.parquet"
                )
                part += 1
            line_no += len(lines)
    return part - first_part


def _raise_bad_line(path: Path, lines: list[bytes], offset: int) -> None:
    for i, raw in enumerate(lines):
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
            line = offset + i + 1
            msg = (
                f"{path.name}: line {line}: {why}; the export looks truncated or corrupted "
                f"(expected one JSON event per line)"
            )
            raise SourceFormatError(msg, path=str(path), line=line)


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


def _check_file(path: Path) -> None:
    """Refuse files that are not a GA4 export, naming what they look like."""
    if path.suffix.lower() == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
        keys = _first_keys(first)
        kind = "ndjson"
    else:
        fs = sniff(path)
        kind = fs.kind
        if kind == "parquet":
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
        first = fs.sample.split("\n", 1)[0]
        keys = _first_keys(first)
        if kind not in ("ndjson", "json"):
            from closedloop_kit.io._registry import suggest_reader

            other = suggest_reader(fs, exclude=("ga4",))
            hint = f"; it looks like a file for `{other}`" if other else ""
            msg = (
                f"{path.name}: expected a GA4 BigQuery export (NDJSON or Parquet, one "
                f"event per line), got a {kind} file{hint}"
            )
            raise SourceFormatError(msg, path=str(path), line=1, suggestion=other)
    if keys is not None and not {"event_timestamp", "user_pseudo_id"} <= keys:
        msg = (
            f"{path.name}: line 1: expected GA4 event fields `event_timestamp` and "
            f"`user_pseudo_id`, got {sorted(keys)[:12]}"
        )
        raise SourceFormatError(msg, path=str(path), line=1, column="event_timestamp")
    del kind


def _first_keys(line: str) -> set[str] | None:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None  # reported with its line number when the file is scanned
    return set(obj) if isinstance(obj, dict) else set()


def _collect(plans: Sequence[pl.LazyFrame]) -> list[pl.DataFrame]:
    # one plan at a time: collect_all of these plans holds more at once (2x the peak)
    return [plan.collect(engine="streaming") for plan in plans]


def _ga4_files(path: str | Path) -> list[Path]:
    files = expand_paths(path, suffixes=_SUFFIXES)
    return [f for f in files if not f.name.startswith(".")]


def read_ga4(
    path: str | Path,
    *,
    form_events: Sequence[str] = g.FORM_EVENTS,
) -> LoadResult:
    r"""Read a GA4 BigQuery export into ``touchpoints`` and ``identity_links``.

    Parameters
    ----------
    path
        An ``events_YYYYMMDD`` file (``.json``/``.ndjson``, ``.gz``, ``.parquet``), a
        folder of them or a glob. Sessions spanning midnight (two daily files) are one
        touchpoint, so pass the whole export at once.
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
        timestamp or session; merged = the other events of sessions.

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
    for f in files:
        _check_file(f)
    form_set = list(form_events)
    with tempfile.TemporaryDirectory(prefix="clk-ga4-") as tmp:
        # one streaming pass parses the export into compact columnar spill parts; the
        # aggregations then read those instead of parsing the export again
        spill = Path(tmp)
        parts = 0
        for f in files:
            if _is_parquet(f):
                _slim(_scan_parquet(f), params_as_text=False).sink_parquet(
                    spill / f"part-{parts:06d}.parquet", engine="streaming"
                )
                parts += 1
            else:
                parts += _spill_ndjson(f, spill, parts)
        if parts == 0:
            msg = f"`path` {str(path)!r}: the GA4 export files hold no events"
            raise SourceFormatError(msg, path=str(files[0]), line=1)
        scan = pl.scan_parquet(spill / "part-*.parquet")
        ok = scan.filter(pl.col("__problem").is_null())
        is_form = pl.col("event_name").is_in(form_set)
        has_id = pl.any_horizontal([pl.col(c).is_not_null() for c in g.ID_COLUMNS])
        plans = [
            ok.filter(is_form | has_id | pl.col("user_id").is_not_null()),
            scan.filter(pl.col("__problem").is_not_null()).select(
                "__file", "__row", *_RAW_COLS, "ga_session_id", "__problem"
            ),
            scan.group_by("__file").agg(pl.len().alias("n")),
        ]
        id_events, bad, counts = _collect(plans)
        # sessions are aggregated in hash buckets of ~BUCKET_EVENTS events each, so the
        # memory needed stays bounded however large the export is
        n_ok = int(counts["n"].sum()) - bad.height
        buckets = max(1, -(-n_ok // BUCKET_EVENTS))
        bucket = pl.struct("user_pseudo_id", "ga_session_id").hash(seed=0) % buckets
        sessions = pl.concat(
            [
                g.sessions(ok.filter(bucket == b)).collect(engine="streaming")
                for b in range(buckets)
            ],
            how="vertical",
        )
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
    return _assemble(files, sessions, forms, links, bad, counts)


def _assemble(
    files: list[Path],
    sessions: pl.DataFrame,
    forms: pl.DataFrame,
    links: pl.DataFrame,
    bad: pl.DataFrame,
    counts: pl.DataFrame,
) -> LoadResult:
    """Split the aggregated frames by the file of their first event; finish each file."""
    touch_cols = [
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
    ]
    touch = pl.concat(
        [
            sessions.select(touch_cols).with_columns(pl.col("source_row").cast(pl.Int64)),
            forms.select(touch_cols),
        ],
        how="vertical_relaxed",
    ).with_columns(pl.lit(None, pl.String).alias(REJECT_REASON))
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
    raw = bad.select("__file", pl.col("__row").alias("source_row"), *_RAW_COLS)
    n_by_file = dict(counts.iter_rows())
    is_form = pl.col("touch_type") == "form_fill"
    results = []
    for f in files:
        name = str(f)
        fmt = "ga4 bigquery export (parquet)" if _is_parquet(f) else "ga4 bigquery export (ndjson)"
        t = touch.filter((pl.col("source_file") == name) & ~is_form)
        n_rejected = int(t[REJECT_REASON].is_not_null().sum())
        n_read = int(n_by_file.get(name, 0))
        file_raw = (
            raw.filter(pl.col("__file") == name)
            .drop("__file")
            .unique("source_row", keep="first", maintain_order=True)
        )
        results.append(
            finish(
                path=f,
                reader="ga4",
                source_system="ga4",
                object="events",
                primary="touchpoints",
                tables={
                    "touchpoints": t,
                    "identity_links": links.filter(pl.col("source_file") == name),
                },
                rows_read=n_read,
                raw=file_raw if file_raw.height else None,
                rows_merged=n_read - t.height,
                format=fmt,
                notes=(
                    "events → one web_session per user_pseudo_id + ga_session_id; "
                    f"{n_rejected} event(s) without a visitor, time or session rejected",
                ),
            )
        )
        ff = touch.filter((pl.col("source_file") == name) & is_form)
        if ff.height:
            kept = ff.unique("touchpoint_id", keep="first", maintain_order=True)
            results.append(
                finish(
                    path=f,
                    reader="ga4",
                    source_system="ga4",
                    object="form events",
                    primary="touchpoints",
                    tables={"touchpoints": kept},
                    rows_read=ff.height,
                    rows_merged=ff.height - kept.height,
                    format=fmt,
                    notes=(
                        "form / lead events → form_fill touchpoints (identical repeats merged)",
                    ),
                )
            )
    return combine_results(results)


def _detect(fs: FileSniff) -> float:
    if fs.kind == "parquet":
        try:
            names = set(pl.scan_parquet(fs.path).collect_schema().names())
        except Exception:
            return 0.0
        return 0.95 if {"event_timestamp", "user_pseudo_id", "event_name"} <= names else 0.0
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


register(
    "ga4",
    source_system="ga4",
    detect=_detect,
    read=read_ga4,
    kinds=("ndjson", "json", "parquet", "binary"),
)
