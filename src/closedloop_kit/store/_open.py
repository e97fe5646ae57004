"""Read a store at one version: ``open_store``, its manifest, its history and files."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import DeltaTable

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.schema import TABLES, UNIFORM_REJECT_SCHEMA
from closedloop_kit.store._data import ClosedLoopData
from closedloop_kit.store._legacy import open_legacy, read_legacy_manifest
from closedloop_kit.store._log import MANIFEST, is_store, list_versions, read_record, resolve
from closedloop_kit.store._save import LOAD_REPORT, REJECTED

__all__ = ["history", "open_store", "read_manifest", "store_ref", "version_files"]

_AT_VERSION = re.compile(r"^(?P<path>.+)@v(?P<version>\d+)$")

AsOf = str | dt.date | dt.datetime


def _split(path: str | Path) -> tuple[Path, int | None]:
    text = str(path)
    m = _AT_VERSION.match(text)
    if m and not Path(text).exists():
        return Path(m.group("path")), int(m.group("version"))
    return Path(text), None


def store_ref(path: str | Path) -> tuple[Path, int] | None:
    """``(store folder, version)`` when ``path`` is a versioned store, else ``None``.

    ``path`` may pin a version with a ``@v<N>`` suffix (``"warehouse@v3"``, as Delta
    Lake time travel writes it); without one the latest version is taken.

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> from closedloop_kit.store import ClosedLoopData
    >>> d = tempfile.mkdtemp()
    >>> _ = ClosedLoopData({"accounts": pl.DataFrame({"account_id": ["sf:1"]})}).save(d)
    >>> store_ref(d)[1], store_ref(d + "@v1")[1], store_ref(tempfile.mkdtemp())
    (1, 1, None)
    """
    root, version = _split(path)
    if not is_store(root):
        return None
    if version is None:
        kept = list_versions(root)
        if not kept:
            return None
        version = kept[-1]
    return root, version


def read_manifest(path: str | Path, *, version: int | None = None) -> dict[str, Any]:
    """The record of a store version (the latest by default).

    It lists the tables with their Delta versions, rows and columns, the corporate
    currency, the input files, the package version and when the version was saved.

    Raises
    ------
    SourceFormatError
        If ``path`` is not a closedloop_kit store.
    """
    ref = store_ref(path)
    if ref is not None:
        return resolve(ref[0], version=ref[1] if version is None else version)
    return read_legacy_manifest(Path(path))


def _meta_frame(
    root: Path, table: str, entry: dict[str, Any] | None, versions: tuple[int, int]
) -> pl.DataFrame | None:
    if not entry:
        return None
    frame = (
        pl.scan_delta(str(root / table), version=int(entry["delta_version"]))
        .filter(pl.col("store_version").is_between(*versions))
        .collect()
    )
    return frame.drop("store_version")


def open_store(
    path: str | Path, *, version: int | None = None, as_of: AsOf | None = None
) -> ClosedLoopData:
    """Open a store at one version; tables come back lazy (``pl.scan_delta``).

    Parameters
    ----------
    path
        Store folder; a ``@v<N>`` suffix pins version ``N`` (``"warehouse@v3"``).
    version
        Store version to read; the latest by default.
    as_of
        Read the last version saved by this time instead: a date means the end of that
        day (``"2026-03-31"``), a naive date-time is UTC.

    Returns
    -------
    ClosedLoopData
        Lazy tables, the rejects of the saves since the last overwrite, the load report
        of the save that made this version, and ``store_version``.

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> from closedloop_kit.store import ClosedLoopData
    >>> data = ClosedLoopData({"accounts": pl.DataFrame({"account_id": ["sf:1"]})})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = data.save(d)
    ...     _ = data.with_tables(accounts=pl.DataFrame({"account_id": ["sf:2"]})).save(
    ...         d, mode="upsert"
    ...     )
    ...     now, before = open_store(d), open_store(d, version=1)
    ...     sorted(now.frame("accounts")["account_id"]), before.frame("accounts").height
    (['sf:1', 'sf:2'], 1)
    """
    ref = store_ref(path)
    if ref is None:
        root = Path(path)
        if (root / MANIFEST).exists() and (version is not None or as_of is not None):
            msg = f"{root} is a store in the old Parquet layout: it has no versions to open"
            raise SourceFormatError(msg, path=str(root))
        return open_legacy(root)
    root, pinned = _split(path)
    record = resolve(root, version=pinned if version is None else version, as_of=as_of)
    n = int(record["store_version"])
    tables = {
        name: pl.scan_delta(str(root / name), version=int(entry["delta_version"]))
        for name, entry in record["tables"].items()
        if name in TABLES
    }
    rej_entry = record.get("rejected")
    since = int(rej_entry["since"]) if rej_entry else n
    rejected = _meta_frame(root, REJECTED, rej_entry, (since, n))
    if rejected is None:
        rejected = pl.DataFrame(schema=UNIFORM_REJECT_SCHEMA)
    else:
        sort = [c for c in ("table", "source_file", "source_row") if c in rejected.columns]
        rejected = rejected.unique(maintain_order=True).sort(sort, nulls_last=True)
    rep_entry = record.get("load_report") or {}
    of = rep_entry.get("of_version")
    report = None if of is None else _meta_frame(root, LOAD_REPORT, rep_entry, (of, of))
    return ClosedLoopData(
        tables=tables,
        corporate_currency=str(record.get("corporate_currency", "USD")),
        rejected=rejected,
        load_report=pl.DataFrame() if report is None else report,
        sources=tuple(sorted(record.get("sources", {}).items())),
        store_version=n,
    )


def history(path: str | Path) -> pl.DataFrame:
    """One row per kept store version: when, how (mode), which tables it wrote, rows.

    ``rows`` is a struct of the row count of every table in that version.
    """
    root = Path(path)
    if not is_store(root):
        msg = f"{root} is not a versioned closedloop_kit store"
        raise SourceFormatError(msg, path=str(root))
    rows = []
    for v in list_versions(root):
        rec = read_record(root, v)
        rows.append(
            {
                "store_version": v,
                "created_at": dt.datetime.fromisoformat(rec["created_at"]),
                "mode": rec.get("mode"),
                "written": list(rec.get("written", [])),
                "package_version": rec.get("package_version"),
                "total_rows": sum(int(e["rows"]) for e in rec["tables"].values()),
                **{f"rows_{t}": rec["tables"].get(t, {}).get("rows") for t in TABLES},
            }
        )
    schema: dict[str, pl.DataType] = {
        "store_version": pl.Int64(),
        "created_at": pl.Datetime("us", "UTC"),
        "mode": pl.String(),
        "written": pl.List(pl.String()),
        "package_version": pl.String(),
        "total_rows": pl.Int64(),
        **{f"rows_{t}": pl.Int64() for t in TABLES},
    }
    return pl.DataFrame(rows, schema=schema)


def version_files(path: str | Path, version: int) -> list[Path]:
    """Every file store version ``version`` reads: its record and the Delta data files.

    These never change once written (a later save adds files), so hashing them proves a
    report re-run read the same data.
    """
    root = Path(path)
    record = read_record(root, version)
    files = [root / "_store" / "versions" / f"{version:020d}.json"]
    delta = {name: entry for name, entry in record["tables"].items()}
    for key, table in (("rejected", REJECTED), ("load_report", LOAD_REPORT)):
        if record.get(key):
            delta[table] = record[key]
    for name, entry in sorted(delta.items()):
        uris = DeltaTable(str(root / name), version=int(entry["delta_version"])).file_uris()
        table_dir = (root / name).resolve()
        rel = (Path(u.removeprefix("file://")).relative_to(table_dir) for u in uris)
        files.extend(sorted(root / name / r for r in rel))
    return files
