"""Housekeeping: remove store versions older than a retention period; compact files."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import CommitProperties, DeltaTable

from closedloop_kit._core.result import Result
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.schema import TABLES
from closedloop_kit.store._lock import writer_lock
from closedloop_kit.store._log import (
    LOG_DIR,
    is_store,
    list_versions,
    read_record,
    write_record,
)
from closedloop_kit.store._save import LOAD_REPORT, REJECTED

__all__ = ["VacuumResult", "compact", "parse_retention", "vacuum"]

_RETAIN = re.compile(r"^\s*(\d+)\s*([dhw])\s*$")
_UNIT_HOURS = {"h": 1, "d": 24, "w": 24 * 7}


def parse_retention(retain: str | dt.timedelta) -> dt.timedelta:
    """A retention period: ``"30d"``, ``"12h"``, ``"4w"`` or a timedelta.

    Examples
    --------
    >>> parse_retention("30d")
    datetime.timedelta(days=30)
    """
    if isinstance(retain, dt.timedelta):
        return retain
    m = _RETAIN.match(str(retain))
    if m is None:
        msg = f"`retain` must look like '30d', '12h' or '4w', got {retain!r}"
        raise ValueError(msg)
    return dt.timedelta(hours=int(m.group(1)) * _UNIT_HOURS[m.group(2)])


@dataclass(frozen=True)
class VacuumResult(Result):
    """What :func:`vacuum` removed (or would remove, with ``dry_run``).

    Attributes
    ----------
    table
        Per Delta table: ``files_removed``.
    removed_versions
        Store versions whose records were removed (they can no longer be opened).
    kept_versions
        Store versions still readable.
    params
        The store, ``retain`` and ``dry_run``.
    """

    table: pl.DataFrame
    removed_versions: tuple[int, ...]
    kept_versions: tuple[int, ...]
    params: dict[str, Any] = field(default_factory=dict)


def _delta_refs(record: dict[str, Any]) -> dict[str, int]:
    refs = {n: int(e["delta_version"]) for n, e in record["tables"].items()}
    for key, table in (("rejected", REJECTED), ("load_report", LOAD_REPORT)):
        if record.get(key):
            refs[table] = int(record[key]["delta_version"])
    return refs


def _require_store(root: Path) -> None:
    if not is_store(root):
        msg = f"{root} is not a versioned closedloop_kit store"
        raise SourceFormatError(msg, path=str(root))


def vacuum(
    path: str | Path,
    *,
    retain: str | dt.timedelta = "30d",
    dry_run: bool = False,
    timeout: float = 600.0,
) -> VacuumResult:
    """Remove store versions older than ``retain`` and the data files only they read.

    Kept: every version saved within ``retain`` of now, the last version saved before
    that (the store as it was ``retain`` ago) and the latest. The Delta tables are
    vacuumed keeping every Delta version a kept store version reads, including files a
    killed save left behind (Delta's ``full`` vacuum). Reports pinned to a removed
    version can no longer be re-run.

    Parameters
    ----------
    path
        Store folder.
    retain
        Retention period: ``"30d"``, ``"12h"``, ``"4w"`` or a timedelta.
    dry_run
        Only list what would be removed.
    timeout
        Seconds to wait while another process writes the store.
    """
    root = Path(path)
    _require_store(root)
    period = parse_retention(retain)
    with writer_lock(root / LOG_DIR, timeout=timeout, purpose="vacuum"):
        cutoff = dt.datetime.now(dt.UTC) - period
        versions = list_versions(root)
        records = {v: read_record(root, v) for v in versions}
        recent = [
            v for v in versions if dt.datetime.fromisoformat(records[v]["created_at"]) >= cutoff
        ]
        older = [v for v in versions if v not in recent]
        kept = sorted({*recent, *older[-1:], versions[-1]})
        removed = [v for v in versions if v not in kept]
        keep: dict[str, set[int]] = {}
        for v in kept:
            for table, d in _delta_refs(records[v]).items():
                keep.setdefault(table, set()).add(d)
        if not dry_run:
            for v in removed:  # records first: no reader resolves a version losing files
                (root / LOG_DIR / "versions" / f"{v:020d}.json").unlink(missing_ok=True)
        rows = []
        for table, deltas in sorted(keep.items()):
            files = DeltaTable(str(root / table)).vacuum(
                retention_hours=int(period.total_seconds() // 3600),
                dry_run=dry_run,
                enforce_retention_duration=False,
                full=True,
                keep_versions=sorted(deltas),
            )
            rows.append({"table": table, "files_removed": len(files)})
    return VacuumResult(
        table=pl.DataFrame(rows, schema={"table": pl.String, "files_removed": pl.Int64}),
        removed_versions=tuple(removed),
        kept_versions=tuple(kept),
        params={"path": str(root), "retain": str(retain), "dry_run": dry_run},
    )


def compact(path: str | Path, *, timeout: float = 600.0) -> int:
    """Rewrite each table's small files into larger ones; returns the new store version.

    The data do not change; the new store version reads the compacted files, and the old
    files go at the next :func:`vacuum` past the retention period.
    """
    root = Path(path)
    _require_store(root)
    with writer_lock(root / LOG_DIR, timeout=timeout, purpose="compact"):
        prev = read_record(root, list_versions(root)[-1])
        version = int(prev["store_version"]) + 1
        meta = {"closedloop_store_version": str(version), "closedloop_mode": "compact"}
        tables = {}
        for name, entry in prev["tables"].items():
            table = DeltaTable(str(root / name))
            if int(table.version()) != int(entry["delta_version"]):
                table.restore(int(entry["delta_version"]))
                table = DeltaTable(str(root / name))
            table.optimize.compact(commit_properties=CommitProperties(custom_metadata=meta))
            tables[name] = {**entry, "delta_version": int(DeltaTable(str(root / name)).version())}
        record = {
            **prev,
            "store_version": version,
            "parent": int(prev["store_version"]),
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            "mode": "compact",
            "written": [],
            "tables": {n: tables[n] for n in TABLES if n in tables},
        }
        write_record(root, record)
    return version
