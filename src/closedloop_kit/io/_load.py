"""``clk.load``: a store, folder, file, glob or YAML config into one ClosedLoopData.

Every file is sniffed and handed to the registered reader that recognises it best (see
:mod:`closedloop_kit.io._registry`; a reader that reads many files at once, GA4, gets
all of its files in one call); files no reader recognises, or that their reader
refuses, are listed in the load report with the reason (``reader='unknown'``), never
skipped silently. Results are stacked (keys seen in an earlier file win, later
duplicates counted as merged), amounts are converted to the corporate currency with the
dated FX rates, and the report reconciles rows read = kept + rejected + merged per file.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from closedloop_kit._core.progress import progress as progress_bar
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._memo import file_memo
from closedloop_kit.io._registry import (
    ReaderSpec,
    claim_reader,
    detect_reader,
    expand_paths,
    registered,
)
from closedloop_kit.io._result import LoadResult, combine_results, unknown_file
from closedloop_kit.io._text import FileSniff, sniff

if TYPE_CHECKING:
    from closedloop_kit.store import ClosedLoopData

__all__ = ["is_store", "load", "load_result"]

_CONFIG_SUFFIXES = (".yaml", ".yml")


def load(
    path_or_config: str | Path | Any,
    *,
    corporate_currency: str | None = None,
    progress: bool = True,
) -> ClosedLoopData:
    r"""Load every export in a folder (or a file, glob or YAML config) into canonical tables.

    Parameters
    ----------
    path_or_config
        A store written by :meth:`ClosedLoopData.save` (opened as it is; ``"path@v3"``
        opens version 3), a folder
        of exports (all data files in it, recursively, each auto-detected), a file, a glob,
        or a YAML config (``.yaml``/``.yml``) naming sources, readers, options, mappings,
        the corporate currency, FX rates and time zones (see docs/loading.md). Or a
        warehouse: a DuckDB connection, an Ibis backend or a URI such as
        ``duckdb:///crm.db`` (:func:`closedloop_kit.io.warehouse.load_warehouse`; every
        table read by the same readers as files, credentials redacted).
    corporate_currency
        ISO code all ``*_corporate`` amounts are converted to; overrides the config.
        Default: the config's, else the currency the loaded FX rates convert to, else USD.
    progress
        Show a progress bar (terminal or notebook) when loading several files.

    Returns
    -------
    ClosedLoopData
        All tables; ``.rejected`` holds every rejected row with its reason and
        ``.load_report`` one row per file (what it was detected as, rows read / kept /
        rejected / merged, encoding, delimiter, header line, time zone assumed, notes),
        with the cross-table join rates (opportunities -> accounts, contacts -> accounts,
        campaign members -> campaigns, touchpoints -> people) in the notes of the files
        holding the references; a rate below 50% is also a
        :class:`~closedloop_kit.errors.DataQualityWarning`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "Lead.csv").write_text(
    ...     "Id,LastName,Company,Status\n00Q5e00000AbCdE,Akin,Athena,Open\n")
    >>> _ = (folder / "notes.txt").write_text("call Bob")
    >>> data = load(folder, progress=False)
    >>> data.load_report.select("reader", "object", "rows_read", "rows_kept").rows()
    [('salesforce', 'Lead', 1, 1), ('unknown', None, 0, 0)]
    """
    if is_store(path_or_config):
        from closedloop_kit.store import open_store

        stored = open_store(path_or_config)  # a ``@v<N>`` suffix pins a version
        if corporate_currency not in (None, stored.corporate_currency):
            msg = (
                f"{path_or_config}: the store holds amounts in {stored.corporate_currency}; "
                f"pass `currency={corporate_currency!r}` to `clk.prepare` to re-express them"
            )
            raise ValueError(msg)
        return stored
    result, config_currency, fx = load_result(path_or_config, progress=progress)
    data = result.to_data(corporate_currency=corporate_currency or config_currency, fx_rates=fx)
    return _with_join_rates(data)


def _with_join_rates(data: ClosedLoopData) -> ClosedLoopData:
    """The load report with the cross-table join rates (a warning when one is low)."""
    from dataclasses import replace

    from closedloop_kit.io._joins import note_join_rates

    eager = {k: v for k, v in data.tables.items() if isinstance(v, pl.DataFrame)}
    noted = note_join_rates(
        LoadResult(tables=eager, rejected=data.rejected, report=data.load_report),
        stacklevel=3,
    )
    return replace(data, load_report=noted.report)


def is_store(path: str | Path) -> bool:
    """Whether ``path`` is a store (:meth:`ClosedLoopData.save`), maybe with ``@v<N>``."""
    from closedloop_kit.store import store_ref

    if store_ref(path) is not None:
        return True
    p = Path(path)  # a format-1 store (Parquet + manifest.json) opens read-only
    return p.is_dir() and (p / "manifest.json").is_file() and any(p.glob("*.parquet"))


def load_result(
    path_or_config: str | Path | Any, *, progress: bool = True
) -> tuple[LoadResult, str | None, pl.DataFrame | None]:
    """Like :func:`load` but return the combined :class:`LoadResult` (before FX)."""
    from closedloop_kit.io.warehouse import is_warehouse, load_warehouse

    if is_warehouse(path_or_config):
        return load_warehouse(path_or_config, progress=progress), None, None
    p = Path(path_or_config)
    with file_memo():  # each file is sniffed once, by the loader and its reader together
        if p.is_file() and p.suffix.lower() in _CONFIG_SUFFIXES:
            return _load_config(p, progress=progress)
        files = expand_paths(p)
        return _read_files(files, progress=progress, options={}), None, None


def _accepts(func: Any, name: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(q.kind is q.VAR_KEYWORD for q in params.values())


def _resolve(
    path: Path, reader: str | None
) -> tuple[ReaderSpec | None, FileSniff | None, LoadResult | None]:
    """The reader for ``path`` (or the report of a file no reader takes)."""
    readers = registered()
    if reader in (None, "auto"):
        claimed = claim_reader(path)
        if claimed is not None:
            return claimed, None, None
    try:
        fs = sniff(path)
    except OSError as exc:
        return None, None, unknown_file(path, reason=f"cannot open: {exc}")
    if reader not in (None, "auto"):
        if reader not in readers:
            msg = f"`reader` must be one of {tuple(sorted(readers))} or 'auto', got {reader!r}"
            raise ValueError(msg)
        return readers[reader], fs, None
    found, _score, scores = detect_reader(fs)
    if found is None:
        best = ", ".join(f"{n} {s:.2f}" for n, s in scores[:3]) or "none"
        why = (
            f"no reader recognised this {fs.kind} file (best scores: {best}); read it "
            f"with a specific reader or `clk.io.read_mapped(path, mapping)`"
        )
        return None, fs, unknown_file(path, reason=why, sniff=fs)
    return found, fs, None


def read_path(path: Path, reader: str | None, options: dict[str, Any]) -> LoadResult:
    """Read one file with ``reader`` (``None``/``"auto"``: the reader that recognises it)."""
    spec, fs, refused = _resolve(path, reader)
    if spec is None:
        assert refused is not None
        return refused
    return _read_one(path, spec, fs, options)


def _read_one(
    path: Path, spec: ReaderSpec, fs: FileSniff | None, options: dict[str, Any]
) -> LoadResult:
    opts = {k: v for k, v in options.items() if _accepts(spec.read, k)}
    try:
        return spec.read(path, **opts)
    except SourceFormatError as exc:
        return unknown_file(path, reason=f"{spec.name} reader refused it: {exc}", sniff=fs)


def _read_group(spec: ReaderSpec, files: list[Path], options: dict[str, Any]) -> LoadResult:
    """Read the files of a ``many`` reader in one call.

    A file the reader refuses (the error names it) is reported as unknown with the
    reason and the others are read again without it.
    """
    opts = {k: v for k, v in options.items() if _accepts(spec.read, k)}
    refused: list[LoadResult] = []
    left = list(files)
    while left:
        try:
            return combine_results([*refused, spec.read(left, **opts)])
        except SourceFormatError as exc:
            bad = next((f for f in left if str(f) == exc.path), None)
            if bad is None:
                why = f"{spec.name} reader refused the files: {exc}"
                return combine_results([*refused, *(unknown_file(f, reason=why) for f in left)])
            refused.append(unknown_file(bad, reason=f"{spec.name} reader refused it: {exc}"))
            left.remove(bad)
    return combine_results(refused)


def _read_files(
    files: Iterable[Path],
    *,
    progress: bool,
    options: dict[str, Any],
    reader: str | None = None,
    done: set[str] | None = None,
) -> LoadResult:
    """Read ``files`` (skipping those in ``done``, which grows with every file read).

    Every file is resolved to its reader first. The files of ``many`` readers (GA4's
    daily exports) are then read together, in one call per reader, on a worker thread
    while the other files are read one by one: the grouped read spends its time in
    polars, which releases the GIL, so the two overlap (see docs/benchmarks.md).
    Results come back in the same order as a sequential read.
    """
    files = list(files)
    done = done if done is not None else set()
    singles: list[tuple[Path, ReaderSpec | None, FileSniff | None, LoadResult | None]] = []
    groups: dict[str, tuple[ReaderSpec, list[Path]]] = {}
    for f in files:
        if str(f) in done:
            continue
        spec, fs, res = _resolve(f, reader)
        if spec is not None and spec.many:
            groups.setdefault(spec.name, (spec, []))[1].append(f)
        else:
            singles.append((f, spec, fs, res))
    if not singles and not groups:
        return LoadResult()
    bar = progress_bar(
        total=len(files), desc="loading", unit="file", enabled=progress and len(files) > 1
    )
    pool = ThreadPoolExecutor(max_workers=1) if groups and singles else None
    grouped: Future[list[LoadResult]] | None = None
    if pool is not None:  # the worker sees this load's file memo (a context variable)
        grouped = pool.submit(copy_context().run, _read_groups, groups, options)
    results: list[LoadResult] = []
    n_grouped = sum(len(g) for _, g in groups.values())
    try:
        bar.update(len(files) - len(singles) - n_grouped)
        for f, spec, fs, res in singles:
            if str(f) in done:  # read already, with an earlier file of its export
                bar.update(1)
                continue
            bar.set_postfix_str(f.name[:30])
            if res is None:
                assert spec is not None
                res = _read_one(f, spec, fs, options)
            results.append(res)
            done.update(res.report["path"].to_list())
            bar.update(1)
        if groups:
            bar.set_postfix_str(", ".join(f"{n}: {len(g)} files" for n, (_, g) in groups.items()))
            later = grouped.result() if grouped is not None else _read_groups(groups, options)
            for res in later:
                results.append(res)
                done.update(res.report["path"].to_list())
            bar.update(n_grouped)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    return combine_results(results) if results else LoadResult()


def _read_groups(
    groups: dict[str, tuple[ReaderSpec, list[Path]]], options: dict[str, Any]
) -> list[LoadResult]:
    return [_read_group(spec, group, options) for spec, group in groups.values()]


# --------------------------------------------------------------------------- config
def _load_config(
    path: Path, *, progress: bool
) -> tuple[LoadResult, str | None, pl.DataFrame | None]:
    import yaml

    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        msg = f"{path.name}: not valid YAML ({exc})"
        raise SourceFormatError(
            msg, path=str(path), line=None if line is None else line + 1
        ) from None
    if not isinstance(cfg, dict) or "sources" not in cfg:
        got = sorted(cfg) if isinstance(cfg, dict) else cfg
        msg = (
            f"{path.name}: a load config needs a `sources` list (each with `path`, optional "
            f"`reader`, `options`, `mapping`); got {got!r}"
        )
        raise SourceFormatError(msg, path=str(path), line=1, column="sources")
    base = path.parent
    default_tz = cfg.get("time_zone") or cfg.get("tz")
    results: list[LoadResult] = []
    done: set[str] = set()
    for i, src in enumerate(cfg["sources"] or [], start=1):
        if not isinstance(src, dict) or "path" not in src:
            msg = f"{path.name}: source #{i} needs a `path`, got {src!r}"
            raise SourceFormatError(msg, path=str(path), column="sources")
        options = dict(src.get("options") or {})
        if default_tz and "tz" not in options:
            options["tz"] = default_tz
        if "mapping" in src:
            mapping = src["mapping"]
            if isinstance(mapping, str):
                mapping = str(base / mapping)
            options["mapping"] = mapping
        src_path = Path(str(src["path"]))
        src_path = src_path if src_path.is_absolute() else base / src_path
        reader = src.get("reader")
        files = expand_paths(src_path)
        results.append(
            _read_files(files, progress=progress, options=options, reader=reader, done=done)
        )
    fx = _config_fx(cfg.get("fx_rates"), base)
    combined = combine_results(results) if results else LoadResult()
    return combined, cfg.get("corporate_currency"), fx


def _config_fx(spec: Any, base: Path) -> pl.DataFrame | None:
    """FX rates from the config: a list of mappings or a CSV with canonical columns."""
    if spec is None:
        return None
    if isinstance(spec, list):
        rows = [
            {
                "currency": str(r["currency"]).upper(),
                "valid_from": _date(r.get("valid_from")),
                "valid_to": _date(r.get("valid_to")),
                "rate_to_corporate": float(r["rate_to_corporate"]),
            }
            for r in spec
        ]
        return pl.DataFrame(
            rows,
            schema={
                "currency": pl.String,
                "valid_from": pl.Date,
                "valid_to": pl.Date,
                "rate_to_corporate": pl.Float64,
            },
        )
    from closedloop_kit.io._text import read_text_table

    p = Path(str(spec))
    p = p if p.is_absolute() else base / p
    raw = read_text_table(p).frame
    return raw.select(
        pl.col("currency").str.to_uppercase(),
        pl.col("valid_from").str.to_date(strict=False),
        (pl.col("valid_to") if "valid_to" in raw.columns else pl.lit(None, pl.String))
        .str.to_date(strict=False)
        .alias("valid_to"),
        pl.col("rate_to_corporate").cast(pl.Float64, strict=False),
    )


def _date(v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v))
