"""The target datastore: a folder of Parquet tables plus ``manifest.json``.

Layout::

    warehouse/
      manifest.json           schema version, package version, created time, row counts,
                              per-table SHA-256, input-file SHA-256s, corporate currency
      people.parquet          one file per canonical table ...
      touchpoints/            ... or a folder of parts for large tables
        part-00000.parquet
      _rejected.parquet       what the loaders rejected, with reasons
      _load_report.parquet    one row per input file

Rows are sorted by each table's primary key before writing, so saving the same data
twice gives identical table files. ``mode="upsert"`` merges into an existing store by
primary key (new rows win), so loading the same export twice never duplicates rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Literal

import polars as pl

from closedloop_kit._core.frames import collect
from closedloop_kit._version import __version__
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.schema import TABLES, UNIFORM_REJECT_SCHEMA
from closedloop_kit.store._data import ClosedLoopData

__all__ = ["SCHEMA_VERSION", "SaveMode", "open_store", "read_manifest", "save"]

SCHEMA_VERSION = 1
"""Version of the canonical data model written into every manifest."""

SaveMode = Literal["overwrite", "upsert"]
_PART_ROWS = 2_000_000
_MANIFEST = "manifest.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sorted(name: str, df: pl.DataFrame) -> pl.DataFrame:
    key = [k for k in TABLES[name].key if k in df.columns]
    extra = [c for c in ("source_system", "source_file", "source_row") if c in df.columns]
    by = key + [c for c in extra if c not in key]
    return df.sort(by, nulls_last=True, maintain_order=True) if by else df


def _write_table(df: pl.DataFrame, target: Path, part_rows: int) -> list[Path]:
    if df.height <= part_rows:
        df.write_parquet(target.with_suffix(".parquet"), compression="zstd", statistics=True)
        return [target.with_suffix(".parquet")]
    target.mkdir(parents=True, exist_ok=True)
    files = []
    for i, offset in enumerate(range(0, df.height, part_rows)):
        f = target / f"part-{i:05d}.parquet"
        df.slice(offset, part_rows).write_parquet(f, compression="zstd", statistics=True)
        files.append(f)
    return files


def _files_of(root: Path, name: str) -> list[Path]:
    single = root / f"{name}.parquet"
    if single.exists():
        return [single]
    folder = root / name
    return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []


def _upsert(name: str, new: pl.DataFrame, old: pl.LazyFrame) -> pl.DataFrame:
    key = [k for k in TABLES[name].key if k in new.columns]
    old_df = old.collect()
    if not key:
        return pl.concat([old_df, new], how="diagonal_relaxed").unique(maintain_order=True)
    kept_old = old_df.join(new.select(key).unique(), on=key, how="anti", nulls_equal=True)
    return pl.concat([kept_old, new], how="diagonal_relaxed")


def save(
    data: ClosedLoopData,
    path: str | Path,
    *,
    mode: SaveMode = "overwrite",
    part_rows: int = _PART_ROWS,
) -> Path:
    """Write ``data`` to the store folder ``path``.

    Parameters
    ----------
    data
        The tables to write.
    path
        Store folder; created if absent.
    mode
        ``"overwrite"`` replaces the tables present in ``data``; ``"upsert"`` merges them
        into the existing store by primary key (rows in ``data`` win) and keeps tables
        ``data`` does not have.
    part_rows
        Tables with more rows are written as a folder of parts of this many rows.

    Returns
    -------
    Path
        The store folder.
    """
    if mode not in ("overwrite", "upsert"):
        msg = f"`mode` must be one of ('overwrite', 'upsert'), got {mode!r}"
        raise ValueError(msg)
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    previous = read_manifest(root) if (root / _MANIFEST).exists() else None
    existing = open_store(root) if (previous and mode == "upsert") else None

    tables_meta: dict[str, dict[str, Any]] = {}
    if existing is not None and previous is not None:
        tables_meta.update(previous.get("tables", {}))
    for name in TABLES:
        if name not in data.tables:
            continue
        df = collect(data.tables[name])
        if existing is not None and name in existing.tables:
            df = _upsert(name, df, existing.lazy(name))
        df = _sorted(name, df)
        for old in _files_of(root, name):
            old.unlink()
        if (root / name).is_dir():
            shutil.rmtree(root / name)
        files = _write_table(df, root / name, part_rows)
        tables_meta[name] = {
            "rows": df.height,
            "path": files[0].relative_to(root).as_posix() if len(files) == 1 else name + "/",
            "columns": {c: str(t) for c, t in df.schema.items()},
            "sha256": [_sha256(f) for f in files],
        }

    rejected = data.rejected
    if existing is not None:
        rejected = pl.concat([existing.rejected, rejected], how="diagonal_relaxed").unique(
            maintain_order=True
        )
    rejected.sort(["table", "source_file", "source_row"], nulls_last=True).write_parquet(
        root / "_rejected.parquet"
    )
    if data.load_report.width:
        data.load_report.write_parquet(root / "_load_report.parquet")

    sources = dict(previous.get("sources", {})) if (previous and mode == "upsert") else {}
    sources.update(dict(data.sources))
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "package": "closedloop_kit",
        "package_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "corporate_currency": data.corporate_currency,
        "tables": {k: tables_meta[k] for k in TABLES if k in tables_meta},
        "rejected_rows": rejected.height,
        "sources": dict(sorted(sources.items())),
    }
    (root / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return root


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read a store's ``manifest.json``.

    Raises
    ------
    SourceFormatError
        If ``path`` has no manifest or it is not a closedloop_kit manifest.
    """
    mf = Path(path) / _MANIFEST
    if not mf.exists():
        msg = f"{Path(path)} is not a closedloop_kit store: it has no {_MANIFEST}"
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


def open_store(path: str | Path) -> ClosedLoopData:
    """Open a store folder; tables come back lazy (``pl.scan_parquet``).

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> from closedloop_kit.store import ClosedLoopData
    >>> data = ClosedLoopData({"accounts": pl.DataFrame({"account_id": ["sf:1"]})})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = data.save(d)
    ...     open_store(d).frame("accounts")["account_id"].to_list()
    ['sf:1']
    """
    root = Path(path)
    manifest = read_manifest(root)
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
