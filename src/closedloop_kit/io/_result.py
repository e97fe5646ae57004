"""What every reader returns: canonical tables, the rejected rows and a per-file report.

A reader builds canonical frames from one file and hands them to :func:`finish`, which
validates each with :func:`closedloop_kit.schema.validate`, moves failing rows (and rows
the reader already flagged in a ``_reject`` column) to the uniform reject table, and
checks the reconciliation ``rows_read == rows_kept + rows_rejected + rows_merged`` for
the file's primary table. :func:`combine_results` stacks the results of several files.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from closedloop_kit.io._text import FileSniff
    from closedloop_kit.store import ClosedLoopData

__all__ = [
    "REJECT_REASON",
    "REPORT_SCHEMA",
    "FileReport",
    "LoadResult",
    "add_notes",
    "combine_results",
    "finish",
    "finish_files",
]

REJECT_REASON = "_reject"
"""Column a reader may add to a canonical frame: a reason to reject the row, or null."""

REPORT_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.String(),
    "reader": pl.String(),
    "source_system": pl.String(),
    "object": pl.String(),
    "table": pl.String(),
    "format": pl.String(),
    "encoding": pl.String(),
    "delimiter": pl.String(),
    "header_line": pl.Int64(),
    "rows_read": pl.Int64(),
    "rows_kept": pl.Int64(),
    "rows_rejected": pl.Int64(),
    "rows_merged": pl.Int64(),
    "time_zone_assumed": pl.String(),
    "notes": pl.String(),
}
"""Columns of :attr:`LoadResult.report`: one row per file (its primary table), plus one
row per other table built from the file's rows in which rows were refused (e.g.
``identity_links`` from a Pardot prospect export), so ``rows_rejected`` sums to the
rows in ``rejected`` and every row reconciles."""


@dataclass(frozen=True)
class FileReport:
    """How one file was read.

    Attributes
    ----------
    path
        The file.
    reader
        Reader that read it (``salesforce``, ``hubspot``, ..., ``unknown`` when no
        reader recognised it).
    source_system
        Source system of its rows (``salesforce``, ...).
    object
        What the file holds, as the vendor names it (``Lead``, ``contacts``, ...).
    table
        Primary canonical table: the one ``rows_kept`` counts rows of.
    format
        Detected format (``csv``, ``report csv``, ``tree-api json``, ``fivetran``...).
    encoding, delimiter, header_line
        As sniffed (see :class:`closedloop_kit.io._text.FileSniff`).
    rows_read, rows_kept, rows_rejected, rows_merged
        Source rows read; kept in ``table``; rejected (see ``LoadResult.rejected``);
        merged into another row (history-mode versions, duplicates across files).
    time_zone_assumed
        Zone naive date-times were taken to be in, when any were.
    notes
        Decisions taken and things worth knowing (decimal comma, dropped footer lines).
    """

    path: str
    reader: str
    source_system: str | None = None
    object: str | None = None
    table: str | None = None
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header_line: int | None = None
    rows_read: int = 0
    rows_kept: int = 0
    rows_rejected: int = 0
    rows_merged: int = 0
    time_zone_assumed: str | None = None
    notes: tuple[str, ...] = field(default=())

    def as_row(self) -> dict[str, Any]:
        """The report as one row of :data:`REPORT_SCHEMA`."""
        # shallow: every field is a scalar or a tuple of str (asdict deep-copies, slowly)
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["notes"] = "; ".join(self.notes) if self.notes else None
        return row

    @property
    def reconciles(self) -> bool:
        """``rows_read == rows_kept + rows_rejected + rows_merged``."""
        return self.rows_read == self.rows_kept + self.rows_rejected + self.rows_merged


def _empty_rejects() -> pl.DataFrame:
    from closedloop_kit.schema import UNIFORM_REJECT_SCHEMA

    return pl.DataFrame(schema=UNIFORM_REJECT_SCHEMA)


def _report_frame(rows: Iterable[FileReport]) -> pl.DataFrame:
    return pl.DataFrame([r.as_row() for r in rows], schema=REPORT_SCHEMA)


@dataclass(frozen=True)
class LoadResult:
    """Canonical tables read from one or more files, with rejects and a load report.

    Attributes
    ----------
    tables
        Canonical table name → eager polars frame (only the tables the files fed).
    rejected
        Uniform reject table: ``table``, ``reason``, ``source_system``,
        ``source_file``, ``source_row`` and the original values as JSON in ``raw``.
    report
        One row per file (:data:`REPORT_SCHEMA`): format, encoding, delimiter, header
        line, rows read / kept / rejected / merged, time zone assumed, notes; plus a row
        per derived table of a file in which rows were refused (see
        :data:`REPORT_SCHEMA`).
    """

    tables: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    rejected: pl.DataFrame = field(default_factory=_empty_rejects)
    report: pl.DataFrame = field(default_factory=lambda: _report_frame([]))

    def __getitem__(self, name: str) -> pl.DataFrame:
        from closedloop_kit.schema import empty_table

        frame = self.tables.get(name)
        return empty_table(name) if frame is None else frame

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    @property
    def reconciles(self) -> bool:
        """Whether every file's rows read equal rows kept + rejected + merged."""
        r = self.report
        return bool(
            (r["rows_read"] == r["rows_kept"] + r["rows_rejected"] + r["rows_merged"]).all()
        )

    def summary(self) -> pl.DataFrame:
        """Rows per canonical table, plus rejected rows per table."""
        rej = self.rejected.group_by("table").agg(pl.len().cast(pl.Int64).alias("rejected"))
        rows = pl.DataFrame(
            {"table": list(self.tables), "rows": [f.height for f in self.tables.values()]},
            schema={"table": pl.String, "rows": pl.Int64},
        )
        return (
            rows.join(rej, on="table", how="full", coalesce=True)
            .with_columns(pl.col("rows").fill_null(0), pl.col("rejected").fill_null(0))
            .sort("table")
        )

    def to_data(
        self,
        *,
        corporate_currency: str | None = None,
        fx_rates: pl.DataFrame | None = None,
    ) -> ClosedLoopData:
        """Wrap the tables in a :class:`~closedloop_kit.store.ClosedLoopData`.

        Amounts are converted to ``corporate_currency`` with the dated ``fx_rates``
        loaded (or given); a foreign amount with no rate for its date is rejected (see
        :func:`closedloop_kit.io._fx.convert_to_corporate`).
        """
        from closedloop_kit.io._fx import apply_corporate_currency
        from closedloop_kit.store import ClosedLoopData

        res, currency = apply_corporate_currency(
            self, corporate_currency=corporate_currency, fx_rates=fx_rates
        )
        sources = []
        for p in res.report["path"].to_list():
            path = Path(p)
            if path.is_file():
                sources.append((str(p), _sha256(path)))
        return ClosedLoopData(
            tables=dict(res.tables),
            corporate_currency=currency,
            rejected=res.rejected,
            load_report=res.report,
            sources=tuple(sources),
        )

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v.height}" for k, v in self.tables.items())
        files = self.report["path"].n_unique()
        return f"LoadResult({parts}; files={files}, rejected={self.rejected.height})"

    def _repr_html_(self) -> str:
        head = (
            f"<b>LoadResult</b>: {self.report['path'].n_unique()} file(s), "
            f"{self.rejected.height:,} rejected row(s)"
            + ("" if self.reconciles else " — <b>does not reconcile</b>")
        )
        report = self.report.select(
            "path",
            "reader",
            "object",
            "rows_read",
            "rows_kept",
            "rows_rejected",
            "rows_merged",
            "time_zone_assumed",
        )
        body = f"<div>{head}{self.summary()._repr_html_()}{report._repr_html_()}"
        if self.rejected.height:
            reasons = (
                self.rejected.group_by("table", "reason")
                .agg(pl.len().alias("rows"))
                .sort("rows", descending=True)
                .head(10)
            )
            body += f"<p>Top reject reasons</p>{reasons._repr_html_()}"
        return body + "</div>"

    def __str__(self) -> str:
        return html.unescape(repr(self))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _raw_json(raw: pl.DataFrame, key: tuple[str, ...] = ("source_row",)) -> pl.DataFrame:
    cols = [c for c in raw.columns if c not in key]
    return raw.select(
        *key,
        pl.struct([pl.col(c).cast(pl.String, strict=False) for c in cols])
        .struct.json_encode()
        .alias("raw"),
    )


def finish(
    *,
    path: str | Path,
    reader: str,
    source_system: str,
    object: str | None,
    primary: str | None,
    tables: Mapping[str, pl.DataFrame],
    rows_read: int,
    raw: pl.DataFrame | None = None,
    rows_merged: int = 0,
    sniff: FileSniff | None = None,
    format: str | None = None,
    time_zone_assumed: str | None = None,
    notes: Iterable[str] = (),
) -> LoadResult:
    """Validate a reader's canonical frames for one file and build its LoadResult.

    Parameters
    ----------
    path
        The file read.
    reader, source_system, object, format
        For the report.
    primary
        The canonical table with one row per kept source row (``people`` for a Lead
        file); its counts reconcile with ``rows_read``. None for a lookup file whose
        rows all fold into other tables (then ``rows_merged == rows_read``).
    tables
        Canonical frames. A ``_reject`` column (:data:`REJECT_REASON`) may hold a reason
        to reject the row before validation. Frames need ``source_row``.
    rows_read
        Source rows read from the file.
    raw
        The source rows as read (columns as exported, plus ``source_row``); rejected
        rows carry these original values in ``raw``. Without it, the canonical values.
    rows_merged
        Source rows folded into another row (history versions, in-file duplicates the
        reader merged); not in ``primary``.
    sniff, time_zone_assumed, notes
        For the report.

    Raises
    ------
    AssertionError
        The reader lost rows: ``rows_read != kept + rejected + merged`` for ``primary``.
    """
    from closedloop_kit.schema import validate

    source_file = str(path)
    out: dict[str, pl.DataFrame] = {}
    rejects: list[pl.DataFrame] = []
    kept = rejected = 0
    derived: list[tuple[str, int, int]] = []  # (table, kept, rejected) of other tables
    raw_rows = raw if raw is not None and "source_row" in raw.columns else None
    for name, frame in tables.items():
        if REJECT_REASON in frame.columns:
            pre = frame.filter(pl.col(REJECT_REASON).is_not_null())
            frame = frame.filter(pl.col(REJECT_REASON).is_null()).drop(REJECT_REASON)
        else:
            pre = frame.clear().with_columns(pl.lit(None, dtype=pl.String).alias(REJECT_REASON))
        if "source_file" not in frame.columns:
            frame = frame.with_columns(pl.lit(source_file).alias("source_file"))
        res = validate(frame, name, source_file=source_file)
        valid = res.valid
        assert isinstance(valid, pl.DataFrame)
        out[name] = valid
        pre_rows = pre.select(
            pl.lit(name).alias("table"),
            pl.col(REJECT_REASON).alias("reason"),
            pl.lit(source_file).alias("source_file"),
            pl.col("source_row").cast(pl.Int64),
        )
        val_rows = res.rejected.select(
            pl.lit(name).alias("table"),
            pl.col("reason"),
            pl.lit(source_file).alias("source_file"),
            pl.col("source_row").cast(pl.Int64),
        )
        both = pl.concat([pre_rows, val_rows])
        if name == primary:
            kept = valid.height
            rejected = both.height
        elif both.height:
            derived.append((name, valid.height, both.height))
        if both.height == 0:
            continue
        source = (
            raw_rows if raw_rows is not None else tables[name].drop(REJECT_REASON, strict=False)
        )
        wanted = source.filter(pl.col("source_row").is_in(both["source_row"].implode()))
        lookup = _raw_json(wanted).unique("source_row", keep="first", maintain_order=True)
        joined = both.join(lookup, on="source_row", how="left")
        rejects.append(
            joined.select(
                "table",
                "reason",
                pl.lit(source_system).alias("source_system"),
                "source_file",
                "source_row",
                pl.col("raw").fill_null("{}"),
            )
        )
    if primary is not None and primary not in tables:
        msg = f"internal error: reader {reader!r} did not build its primary table {primary!r}"
        raise AssertionError(msg)
    if sniff is not None and sniff.sheet is not None:
        format = f"{format} ({sniff.kind} sheet {sniff.sheet!r})"  # a workbook: which sheet
    report = FileReport(
        path=source_file,
        reader=reader,
        source_system=source_system,
        object=object,
        table=primary,
        format=format,
        encoding=sniff.encoding if sniff else None,
        delimiter=sniff.delimiter if sniff else None,
        header_line=sniff.header_line if sniff and sniff.header_line else None,
        rows_read=rows_read,
        rows_kept=kept,
        rows_rejected=rejected,
        rows_merged=rows_merged,
        time_zone_assumed=time_zone_assumed,
        notes=tuple(notes),
    )
    if not report.reconciles:
        msg = (
            f"internal error in reader {reader!r} for {Path(source_file).name}: "
            f"{rows_read} rows read != {kept} kept + {rejected} rejected + "
            f"{rows_merged} merged"
        )
        raise AssertionError(msg)
    from closedloop_kit.schema import UNIFORM_REJECT_SCHEMA

    rej = (
        pl.concat([r.cast(UNIFORM_REJECT_SCHEMA) for r in rejects])  # type: ignore[arg-type]
        if rejects
        else _empty_rejects()
    )
    # one reject ledger: rows refused in a table built from the file's rows (identity
    # links, stage history...) get their own report row, so the report counts every
    # rejected row and each row still reconciles
    extra = [
        replace(
            report,
            table=name,
            rows_read=n_kept + n_rejected,
            rows_kept=n_kept,
            rows_rejected=n_rejected,
            rows_merged=0,
            notes=(f"{name} built from this file's rows: {n_rejected} refused (see `rejected`)",),
        )
        for name, n_kept, n_rejected in derived
    ]
    return LoadResult(tables=out, rejected=rej, report=_report_frame([report, *extra]))


def add_notes(result: LoadResult, notes: Iterable[str]) -> LoadResult:
    """``result`` with ``notes`` appended to every report row's notes."""
    extra = "; ".join(notes)
    if not extra or result.report.height == 0:
        return result
    report = result.report.with_columns(
        pl.when(pl.col("notes").is_null() | (pl.col("notes") == ""))
        .then(pl.lit(extra))
        .otherwise(pl.col("notes") + "; " + extra)
        .alias("notes")
    )
    return LoadResult(tables=result.tables, rejected=result.rejected, report=report)


def finish_files(
    reports: Iterable[FileReport],
    *,
    source_system: str,
    tables: Mapping[str, pl.DataFrame],
    raw: pl.DataFrame | None = None,
) -> LoadResult:
    """Validate the canonical frames of several files at once; one report row per file.

    Like :func:`finish`, but every row of ``tables`` (and of ``raw``) names its file in
    ``source_file``, and each report gives the file's ``rows_read`` and ``rows_merged``
    (its ``table`` is the primary table; kept and rejected are counted here, per file).
    Validation runs once per table whatever the number of files, so a reader of many
    small files (a GA4 export has one per day) does not pay a validation per file.

    Raises
    ------
    AssertionError
        The reader lost rows in a file: ``rows_read != kept + rejected + merged``.
    """
    from closedloop_kit.schema import UNIFORM_REJECT_SCHEMA, validate

    reports = list(reports)
    primary = {r.table for r in reports}
    out: dict[str, pl.DataFrame] = {}
    rejects: list[pl.DataFrame] = []
    kept: dict[str, int] = {}
    rejected: dict[str, int] = {}
    raw_rows = raw if raw is not None and "source_row" in raw.columns else None
    for name, frame in tables.items():
        if REJECT_REASON in frame.columns:
            pre = frame.filter(pl.col(REJECT_REASON).is_not_null())
            frame = frame.filter(pl.col(REJECT_REASON).is_null()).drop(REJECT_REASON)
        else:
            pre = frame.clear().with_columns(pl.lit(None, dtype=pl.String).alias(REJECT_REASON))
        only = reports[0].path if len(reports) == 1 else None
        res = validate(frame, name, source_file=only)
        valid = res.valid
        assert isinstance(valid, pl.DataFrame)
        out[name] = valid
        cols = (
            pl.lit(name).alias("table"),
            pl.col("reason"),
            pl.col("source_file").cast(pl.String),
            pl.col("source_row").cast(pl.Int64),
        )
        both = pl.concat(
            [pre.rename({REJECT_REASON: "reason"}).select(cols), res.rejected.select(cols)]
        )
        if name in primary:
            kept = _per_file(valid)
            rejected = _per_file(both)
        if both.height == 0:
            continue
        source = (
            raw_rows if raw_rows is not None else tables[name].drop(REJECT_REASON, strict=False)
        )
        key = ("source_file", "source_row")
        wanted = source.join(both.select(key).unique(), on=list(key), how="semi")
        lookup = _raw_json(wanted, key).unique(key, keep="first", maintain_order=True)
        joined = both.join(lookup, on=list(key), how="left")
        rejects.append(
            joined.select(
                "table",
                "reason",
                pl.lit(source_system).alias("source_system"),
                "source_file",
                "source_row",
                pl.col("raw").fill_null("{}"),
            )
        )
    done = []
    for r in reports:
        if r.table is not None and r.table not in tables:
            msg = f"internal error: reader {r.reader!r} did not build its primary table {r.table!r}"
            raise AssertionError(msg)
        report = replace(r, rows_kept=kept.get(r.path, 0), rows_rejected=rejected.get(r.path, 0))
        if not report.reconciles:
            msg = (
                f"internal error in reader {r.reader!r} for {Path(r.path).name}: "
                f"{r.rows_read} rows read != {report.rows_kept} kept + "
                f"{report.rows_rejected} rejected + {r.rows_merged} merged"
            )
            raise AssertionError(msg)
        done.append(report)
    rej = (
        pl.concat([r.cast(UNIFORM_REJECT_SCHEMA) for r in rejects])  # type: ignore[arg-type]
        if rejects
        else _empty_rejects()
    )
    return LoadResult(tables=out, rejected=rej, report=_report_frame(done))


def _per_file(frame: pl.DataFrame) -> dict[str, int]:
    counts = frame.group_by("source_file").agg(pl.len().alias("n"))
    return {str(f): int(n) for f, n in counts.iter_rows()}


def unknown_file(path: str | Path, *, reason: str, sniff: FileSniff | None = None) -> LoadResult:
    """A LoadResult that only reports a file nobody could read (``reader='unknown'``)."""
    report = FileReport(
        path=str(path),
        reader="unknown",
        format=sniff.kind if sniff else None,
        encoding=sniff.encoding if sniff else None,
        delimiter=sniff.delimiter if sniff else None,
        notes=(reason,),
    )
    return LoadResult(report=_report_frame([report]))


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.width]
    if len(frames) == 1:
        return frames[0]
    return pl.concat(frames, how="diagonal_relaxed")


def combine_results(results: Iterable[LoadResult]) -> LoadResult:
    """Stack LoadResults of several files into one.

    Tables are concatenated; a key seen in an earlier file wins and the later row is
    counted as merged in its file's report (moved from kept), so the report still
    reconciles. Rejects and reports are stacked.
    """
    from closedloop_kit.schema import TABLES

    results = list(results)
    if len(results) == 1:
        return results[0]
    names: list[str] = []
    for r in results:
        names += [n for n in r.tables if n not in names]
    tables: dict[str, pl.DataFrame] = {}
    report = _concat([r.report for r in results]) if results else _report_frame([])
    report = report.cast(REPORT_SCHEMA)  # type: ignore[arg-type]
    for name in names:
        frame = _concat([r.tables[name] for r in results if name in r.tables])
        key = [k for k in TABLES[name].key if k in frame.columns]
        if key and frame.height:
            first = frame.select(pl.struct(key).is_first_distinct()).to_series()
            dropped = frame.filter(~first)
            if dropped.height:
                frame = frame.filter(first)
                counts = dropped.group_by("source_file").agg(pl.len().cast(pl.Int64).alias("d"))
                report = (
                    report.join(
                        counts.with_columns(pl.lit(name).alias("table")),
                        left_on=["path", "table"],
                        right_on=["source_file", "table"],
                        how="left",
                    )
                    .with_columns(
                        (pl.col("rows_kept") - pl.col("d").fill_null(0)).alias("rows_kept"),
                        (pl.col("rows_merged") + pl.col("d").fill_null(0)).alias("rows_merged"),
                    )
                    .drop("d")
                )
        tables[name] = frame
    rejected = pl.concat([r.rejected for r in results]) if results else _empty_rejects()
    return LoadResult(tables=tables, rejected=rejected, report=report)


def read_each(paths: Iterable[Path], read_one: Callable[[Path], LoadResult]) -> LoadResult:
    """Read every path with ``read_one`` and combine the results."""
    return combine_results([read_one(p) for p in paths])
