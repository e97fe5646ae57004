"""``save``: write a :class:`ClosedLoopData` as one new store version.

Under the writer lock: roll back Delta commits a killed save left behind, write each
table (a Delta overwrite, or a Delta merge by primary key for ``mode="upsert"``), apply
the CRM's merges to the stored rows, append the rejects and the load report tagged with
the new store version, and only then create the store-version record. Until that record
exists every reader (and the next writer) sees the previous version, whole.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import polars as pl

from closedloop_kit._core.frames import collect
from closedloop_kit._version import __version__
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.schema import TABLES, UNIFORM_REJECT_SCHEMA
from closedloop_kit.store._data import ClosedLoopData
from closedloop_kit.store._delta import (
    append_table,
    apply_merge_links,
    delta_version,
    for_delta,
    merge_table,
    overwrite_table,
    restore_table,
)
from closedloop_kit.store._lock import writer_lock
from closedloop_kit.store._log import (
    LOG_DIR,
    MANIFEST,
    SCHEMA_VERSION,
    STORE_FORMAT,
    is_store,
    list_versions,
    read_record,
    write_record,
)

__all__ = ["LOAD_REPORT", "MERGE_TARGETS", "REJECTED", "SaveMode", "save"]

SaveMode = Literal["overwrite", "upsert"]

REJECTED = "_rejected"
"""Delta table of the rejects of every save (column ``store_version``)."""
LOAD_REPORT = "_load_report"
"""Delta table of the load report of every save (column ``store_version``)."""

MERGE_TARGETS: dict[str, tuple[str, str]] = {
    "crm_id": ("people", "person_id"),
    "account_id": ("accounts", "account_id"),
    "deal_id": ("opportunities", "opportunity_id"),
}
"""``identity_links.id_type`` of a CRM merge → the table and key it merges records of."""


_META = {"rejected": REJECTED, "load_report": LOAD_REPORT}
"""Store-version record key → Delta table of the save's metadata."""


def _checkpoint(stage: str) -> None:
    """Called between the steps of a save (``before:people``, ``before_record``, ...).

    Does nothing; the fault-injection tests replace it to kill the process there.
    """


def _sorted(name: str, df: pl.DataFrame) -> pl.DataFrame:
    key = [k for k in TABLES[name].key if k in df.columns]
    extra = [c for c in ("source_system", "source_file", "source_row") if c in df.columns]
    by = key + [c for c in extra if c not in key]
    return df.sort(by, nulls_last=True, maintain_order=True) if by else df


def _key(name: str, df: pl.DataFrame) -> list[str]:
    key = [k for k in TABLES[name].key if k in df.columns]
    missing = [k for k in TABLES[name].key if k not in df.columns]
    if missing:
        msg = (
            f"table {name!r}: cannot upsert without its primary key column(s) {missing}; "
            f"the key is {list(TABLES[name].key)}"
        )
        raise ValueError(msg)
    return key


def _recover(root: Path, entries: dict[str, dict[str, Any]], meta: dict[str, Any]) -> None:
    """Roll back Delta commits newer than the store version (left by a killed save)."""
    for name, entry in entries.items():
        latest = delta_version(root / name)
        if latest is not None and latest != entry["delta_version"]:
            entry["delta_version"] = restore_table(
                root / name, int(entry["delta_version"]), {**meta, "closedloop_recover": "1"}
            )


def merge_links(links: pl.DataFrame | pl.LazyFrame) -> dict[str, pl.DataFrame]:
    """CRM merges in ``identity_links`` (rule mentions "merge") by the table they touch."""
    frame = collect(links)
    need = {"id_type", "id_value", "linked_id_value", "rule"}
    if not need <= set(frame.columns):
        return {}
    merges = frame.filter(
        pl.col("rule").str.contains("merge")
        & pl.col("id_value").is_not_null()
        & pl.col("linked_id_value").is_not_null()
        & (pl.col("id_value") != pl.col("linked_id_value"))
    )
    out: dict[str, pl.DataFrame] = {}
    for id_type, (table, _) in MERGE_TARGETS.items():
        part = merges.filter(pl.col("id_type") == id_type)
        if part.height:
            out[table] = part.select("id_value", "linked_id_value")
    return out


def _table_entry(root: Path, name: str, version: int) -> dict[str, Any]:
    lf = pl.scan_delta(str(root / name), version=version)
    schema = lf.collect_schema()
    rows = int(lf.select(pl.len()).collect().item())
    return {
        "delta_version": version,
        "rows": rows,
        "columns": {c: str(t) for c, t in schema.items()},
    }


def _tagged(df: pl.DataFrame, version: int) -> pl.DataFrame:
    return for_delta(df, "").with_columns(pl.lit(version, dtype=pl.Int64).alias("store_version"))


def _meta_entry(
    root: Path, table: str, prev_meta: dict[str, dict[str, Any]], meta: dict[str, Any]
) -> dict[str, Any]:
    """The entry of a metadata table, created empty on the first save.

    Created (or reset, if a killed first save left rows) before anything is appended, so
    every later save can roll it back to the version its record names.
    """
    if table in prev_meta:
        return prev_meta[table]
    base = UNIFORM_REJECT_SCHEMA if table == REJECTED else {}
    empty = pl.DataFrame(schema={**base, "store_version": pl.Int64()})
    return {"delta_version": overwrite_table(root / table, empty, meta), "since": None}


def _previous(root: Path) -> dict[str, Any] | None:
    if (root / MANIFEST).exists() and not is_store(root):
        msg = (
            f"{root} is a closedloop_kit store in the old Parquet layout (no version "
            f"history); save into a new folder instead: "
            f"clk.open_store({str(root)!r}).save(NEW_FOLDER)"
        )
        raise SourceFormatError(msg, path=str(root))
    kept = list_versions(root)
    return read_record(root, kept[-1]) if kept else None


def save(
    data: ClosedLoopData,
    path: str | Path,
    *,
    mode: SaveMode = "overwrite",
    timeout: float = 600.0,
) -> Path:
    """Write ``data`` to the store ``path`` as one new store version (atomic).

    Parameters
    ----------
    data
        The tables to write.
    path
        Store folder; created if absent.
    mode
        ``"overwrite"``: the new version holds exactly the tables of ``data``.
        ``"upsert"``: each table of ``data`` is merged into the stored one by primary key
        (a changed row is replaced, a new key inserted, other rows kept; loading the same
        rows again changes nothing) and tables ``data`` lacks are kept. In both modes CRM
        merges in ``identity_links`` (HubSpot merge audits, ``hs_merged_object_ids``) set
        ``merged_into_id`` of the stored records merged away; deleted records arrive
        flagged (``is_deleted``) and are kept flagged, as everywhere in the data model.
    timeout
        Seconds to wait while another process writes the store.

    Returns
    -------
    Path
        The store folder.

    Raises
    ------
    StoreLockedError
        Another writer held the store for longer than ``timeout``.
    """
    if mode not in ("overwrite", "upsert"):
        msg = f"`mode` must be one of ('overwrite', 'upsert'), got {mode!r}"
        raise ValueError(msg)
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    _previous(root)  # the old layout is refused before the lock folder is created
    with writer_lock(root / LOG_DIR, timeout=timeout, purpose=f"save ({mode})"):
        prev = _previous(root)
        version = (int(prev["store_version"]) + 1) if prev else 1
        meta = {"closedloop_store_version": str(version), "closedloop_mode": mode}
        prev_tables: dict[str, dict[str, Any]] = dict(prev["tables"]) if prev else {}
        prev_meta = {table: dict(prev[k]) for k, table in _META.items() if prev and prev.get(k)}
        _recover(root, prev_tables, meta)
        _recover(root, prev_meta, meta)

        tables = dict(prev_tables) if mode == "upsert" else {}
        versions: dict[str, int] = {k: int(v["delta_version"]) for k, v in tables.items()}
        for name in TABLES:
            if name not in data.tables:
                continue
            _checkpoint(f"before:{name}")
            df = for_delta(collect(data.tables[name]), name)
            if mode == "upsert" and name in tables:
                versions[name] = merge_table(root / name, name, df, _key(name, df), meta)
            else:
                versions[name] = overwrite_table(root / name, _sorted(name, df), meta)
            _checkpoint(f"after:{name}")
        for table, links in merge_links(data["identity_links"]).items():
            if table not in versions:
                continue
            schema = pl.scan_delta(str(root / table), version=versions[table]).collect_schema()
            if "merged_into_id" in schema:
                key = TABLES[table].key[0]
                versions[table] = apply_merge_links(root / table, key, links, meta)
        entries = {n: _table_entry(root, n, versions[n]) for n in TABLES if n in versions}

        _checkpoint("before:_rejected")
        rejected = _meta_entry(root, REJECTED, prev_meta, meta)
        since = version if (mode == "overwrite" or prev is None) else int(rejected["since"])
        if data.rejected.height:
            d = append_table(root / REJECTED, _tagged(data.rejected, version), meta)
            rejected = {"delta_version": d}
        rejected = {"delta_version": rejected["delta_version"], "since": since}
        report = _meta_entry(root, LOAD_REPORT, prev_meta, meta)
        report = {"delta_version": report["delta_version"], "of_version": None}
        if data.load_report.width and data.load_report.height:
            d = append_table(root / LOAD_REPORT, _tagged(data.load_report, version), meta)
            report = {"delta_version": d, "of_version": version}

        sources = dict(prev.get("sources", {})) if (prev and mode == "upsert") else {}
        sources.update(dict(data.sources))
        record = {
            "kind": "closedloop_kit store version",
            "store_version": version,
            "parent": None if prev is None else int(prev["store_version"]),
            "schema_version": SCHEMA_VERSION,
            "store_format": STORE_FORMAT,
            "package": "closedloop_kit",
            "package_version": __version__,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            "mode": mode,
            "written": [n for n in TABLES if n in data.tables],
            "corporate_currency": data.corporate_currency,
            "tables": entries,
            "rejected": rejected,
            "load_report": report,
            "sources": dict(sorted(sources.items())),
        }
        _checkpoint("before_record")
        write_record(root, record)
    return root
