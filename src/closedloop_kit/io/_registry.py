"""How readers declare themselves, so :func:`closedloop_kit.io.load` can auto-detect files.

A reader module registers itself at import time, at the bottom of the module::

    from closedloop_kit.io._registry import register

    def _detect(sniff: FileSniff) -> float:
        # 0 = not mine, 1 = certainly mine; look at sniff.kind, sniff.header_lower,
        # sniff.name, sniff.sample (first ~64 KB decoded)
        return 0.9 if {"event_timestamp", "user_pseudo_id"} <= sniff.header_lower else 0.0

    register("ga4", source_system="ga4", detect=_detect, read=read_ga4,
             kinds=("ndjson", "parquet"))

``read(path, **options) -> LoadResult`` must accept a single file path (``load()``
calls it once per file; options come from a YAML config). A reader registered with
``many=True`` also accepts a list of files, and ``load()`` hands it every file it
detected at once (GA4: one ``events_YYYYMMDD`` file per day, read in one scan so
sessions that span midnight are one touchpoint). A reader that consumes
companion files (Adobe ``column_headers.tsv`` and lookups beside ``hit_data.tsv``)
lists them in its report (``rows_read=0``) so ``load()`` does not read them again, and
gives them a detect score of 0 (or a small score and a ``read`` that returns an empty
report row for them).

The modules named in :data:`READER_MODULES` are imported on first use of the
registry; a module that does not exist yet is skipped.
"""

from __future__ import annotations

import glob
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from closedloop_kit.io._result import LoadResult
    from closedloop_kit.io._text import FileKind, FileSniff

__all__ = [
    "READER_MODULES",
    "ReaderSpec",
    "claim_reader",
    "detect_reader",
    "expand_paths",
    "register",
    "registered",
    "suggest_reader",
]

READER_MODULES = (
    "salesforce",
    "hubspot",
    "ga4",
    "adobe",
    "marketo",
    "pardot",
    "ad_costs",
    "calls",
    "mapped",
)
"""Modules of ``closedloop_kit.io`` that register readers."""

DETECT_THRESHOLD = 0.5
"""Minimum detect score for :func:`closedloop_kit.io.load` to use a reader."""


@dataclass(frozen=True)
class ReaderSpec:
    """A registered reader.

    Attributes
    ----------
    name
        Reader name (``salesforce``); also the public function ``read_<name>``
        unless ``function`` says otherwise.
    source_system
        System its rows come from.
    detect
        ``detect(sniff) -> score`` in [0, 1].
    read
        ``read(path, **options) -> LoadResult``.
    kinds
        File kinds it reads (see :class:`~closedloop_kit.io._text.FileSniff`).
    function
        Public name, e.g. ``"clk.io.read_salesforce"`` (for suggestions in errors).
    many
        ``read`` takes a list of files: :func:`closedloop_kit.io.load` calls it once
        with every file detected for it.
    claim
        ``claim(path) -> bool``: a cheap test on the file name and first line that
        settles detection without sniffing (a GA4 export has hundreds of daily files).
    """

    name: str
    source_system: str
    detect: Callable[[FileSniff], float]
    read: Callable[..., LoadResult]
    kinds: tuple[str, ...] = ("text",)
    function: str = ""
    many: bool = False
    claim: Callable[[Path], bool] | None = None


_REGISTRY: dict[str, ReaderSpec] = {}
_LOADED = False


def register(
    name: str,
    *,
    source_system: str,
    detect: Callable[[FileSniff], float],
    read: Callable[..., LoadResult],
    kinds: tuple[FileKind, ...] | tuple[str, ...] = ("text",),
    function: str | None = None,
    many: bool = False,
    claim: Callable[[Path], bool] | None = None,
) -> None:
    """Register a reader for auto-detection (re-registering a name replaces it)."""
    _REGISTRY[name] = ReaderSpec(
        name=name,
        source_system=source_system,
        detect=detect,
        read=read,
        kinds=tuple(kinds),
        function=function or f"clk.io.read_{name}",
        many=many,
        claim=claim,
    )


def registered() -> dict[str, ReaderSpec]:
    """Every registered reader by name (imports the reader modules once)."""
    global _LOADED
    if not _LOADED:
        for mod in READER_MODULES:
            full = f"closedloop_kit.io.{mod}"
            try:
                importlib.import_module(full)
            except ModuleNotFoundError as exc:
                if exc.name != full:
                    raise
        _LOADED = True
    return dict(_REGISTRY)


def detect_reader(
    sniff: FileSniff, *, exclude: tuple[str, ...] = ()
) -> tuple[ReaderSpec | None, float, list[tuple[str, float]]]:
    """The best reader for a sniffed file, its score, and every reader's score."""
    scores: list[tuple[str, float]] = []
    for spec in registered().values():
        if spec.name in exclude or sniff.kind not in spec.kinds:
            continue
        try:
            score = float(spec.detect(sniff))
        except Exception:
            score = 0.0
        scores.append((spec.name, score))
    scores.sort(key=lambda t: -t[1])
    if not scores or scores[0][1] < DETECT_THRESHOLD:
        return None, scores[0][1] if scores else 0.0, scores
    return _REGISTRY[scores[0][0]], scores[0][1], scores


def claim_reader(path: Path) -> ReaderSpec | None:
    """The reader whose cheap ``claim`` takes ``path`` (no sniffing), if any."""
    for spec in registered().values():
        if spec.claim is not None:
            try:
                if spec.claim(path):
                    return spec
            except OSError:
                continue
    return None


def suggest_reader(sniff: FileSniff, *, exclude: tuple[str, ...] = ()) -> str | None:
    """Public function of the reader that fits ``sniff`` best (for error messages)."""
    spec, _, _ = detect_reader(sniff, exclude=exclude)
    return spec.function if spec else None


# .gz covers events_*.json.gz and .tar.gz; .zip covers zipped Adobe feed deliveries
_DATA_SUFFIXES = (
    ".csv",
    ".tsv",
    ".txt",
    ".json",
    ".ndjson",
    ".jsonl",
    ".parquet",
    ".xlsx",
    ".xls",
    ".gz",
    ".zip",
    ".tgz",
)


def expand_paths(path: str | Path, *, suffixes: tuple[str, ...] = _DATA_SUFFIXES) -> list[Path]:
    """A file, a folder (its data files, recursively, sorted) or a glob, as file paths.

    Raises
    ------
    FileNotFoundError
        Nothing matches ``path``.
    """
    p = Path(path)
    if p.is_file():
        return [p]
    if p.is_dir():
        files = sorted(
            f
            for f in p.rglob("*")
            if f.is_file()
            and not any(part.startswith(".") for part in f.relative_to(p).parts)
            and (not suffixes or f.suffix.lower() in suffixes or f.name.endswith(".csv.gz"))
        )
        return files
    matches = sorted(Path(m) for m in glob.glob(str(path), recursive=True))
    files = [m for m in matches if m.is_file()]
    if not files:
        msg = f"`path` {str(path)!r} matches no file"
        raise FileNotFoundError(msg)
    return files


def read_paths(
    path: str | Path,
    read_one: Callable[..., LoadResult],
    *,
    reader: str,
    suffixes: tuple[str, ...] = _DATA_SUFFIXES,
    **options: Any,
) -> LoadResult:
    """Read a file, folder or glob with ``read_one`` and combine the results.

    A single file a reader cannot read raises its
    :class:`~closedloop_kit.errors.SourceFormatError`. In a folder or glob, such a file
    is skipped and listed in the report (``reader='unknown'``, ``rows_read=0``) with the
    reason, so one object outside the model (a Salesforce Data Export always holds
    Case, Solution, ...) does not refuse the whole folder.
    """
    from closedloop_kit.errors import SourceFormatError
    from closedloop_kit.io._result import combine_results, unknown_file

    if Path(path).is_file():
        return read_one(Path(path), **options)
    results = []
    for p in expand_paths(path, suffixes=suffixes):
        try:
            results.append(read_one(p, **options))
        except SourceFormatError as exc:
            results.append(unknown_file(p, reason=f"skipped by `read_{reader}`: {exc}"))
    return combine_results(results)
