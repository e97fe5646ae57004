"""Read-only access to stores written before version history (store format 1).

Format 1 was a folder of Parquet files (``people.parquet`` or ``people/part-*.parquet``)
plus ``manifest.json``. Such a store still opens (lazily); saving into it is refused
with a message saying how to copy it into a versioned store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.schema import UNIFORM_REJECT_SCHEMA
from closedloop_kit.store._data import ClosedLoopData
from closedloop_kit.store._log import MANIFEST, SCHEMA_VERSION

__all__ = ["open_legacy", "read_legacy_manifest"]


def _files_of(root: Path, name: str) -> list[Path]:
    single = root / f"{name}.parquet"
    if single.exists():
        return [single]
    folder = root / name
    return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []


def read_legacy_manifest(path: Path) -> dict[str, Any]:
    """Read ``manifest.json`` of a format-1 store.

    Raises
    ------
    SourceFormatError
        If ``path`` has no manifest or it is not a closedloop_kit manifest.
    """
    mf = path / MANIFEST
    if not mf.exists():
        msg = f"{path} is not a closedloop_kit store: it has no {MANIFEST}"
        raise SourceFormatError(msg, path=str(path))
    try:
        manifest = json.loads(mf.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        msg = f"{mf}: line {exc.lineno}: not valid JSON ({exc.msg})"
        raise SourceFormatError(msg, path=str(mf), line=exc.lineno) from None
    if not isinstance(manifest, dict) or "tables" not in manifest:
        msg = f"{mf}: expected a closedloop_kit manifest with a 'tables' entry"
        raise SourceFormatError(msg, path=str(mf))
    version = manifest.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        msg = (
            f"{mf}: store written with schema version {version}, newer than this "
            f"closedloop_kit understands ({SCHEMA_VERSION}); upgrade the package"
        )
        raise SourceFormatError(msg, path=str(mf))
    return manifest


def open_legacy(root: Path) -> ClosedLoopData:
    """Open a format-1 store; tables come back lazy (``pl.scan_parquet``)."""
    manifest = read_legacy_manifest(root)
    tables: dict[str, pl.LazyFrame] = {}
    for name in manifest["tables"]:
        files = _files_of(root, str(name))
        if not files:
            msg = f"{root}: the manifest lists table {name!r} but its Parquet file is missing"
            raise SourceFormatError(msg, path=str(root))
        tables[str(name)] = pl.scan_parquet([str(f) for f in files])
    rej_path = root / "_rejected.parquet"
    rejected = (
        pl.read_parquet(rej_path)
        if rej_path.exists()
        else pl.DataFrame(schema=UNIFORM_REJECT_SCHEMA)
    )
    rep_path = root / "_load_report.parquet"
    report = pl.read_parquet(rep_path) if rep_path.exists() else pl.DataFrame()
    sources = manifest.get("sources", {})
    return ClosedLoopData(
        tables=tables,
        corporate_currency=str(manifest.get("corporate_currency", "USD")),
        rejected=rejected,
        load_report=report,
        sources=tuple(sorted(sources.items())) if isinstance(sources, dict) else (),
    )
