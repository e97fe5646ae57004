"""Delta Lake writes of one table: overwrite, merge by primary key, roll back.

Every write is one Delta commit (``deltalake``), retried on
:class:`deltalake.exceptions.CommitFailedError` when a writer outside closedloop_kit
committed at the same time. Tables are created with expired-log clean-up off, so the
log of every version stays until :func:`closedloop_kit.store.vacuum` decides otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from deltalake import CommitProperties, DeltaTable, PostCommitHookProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, TableNotFoundError

from closedloop_kit.errors import DataContractError
from closedloop_kit.schema import TABLES, empty_table

__all__ = [
    "apply_merge_links",
    "delta_version",
    "for_delta",
    "merge_table",
    "overwrite_table",
    "restore_table",
]

TABLE_CONFIG = {"delta.enableExpiredLogCleanup": "false"}
_RETRIES = 3
_T = TypeVar("_T")


def delta_version(path: Path) -> int | None:
    """Latest Delta version of the table at ``path`` (``None`` when there is none)."""
    try:
        return int(DeltaTable(str(path)).version())
    except TableNotFoundError:
        return None


def _column_dtype(name: str, column: str) -> pl.DataType:
    canonical = empty_table(name).schema if name in TABLES else pl.Schema()
    return canonical.get(column, pl.String())


def for_delta(df: pl.DataFrame, name: str) -> pl.DataFrame:
    """``df`` with types Delta Lake stores: no Null, Categorical or unsigned columns.

    Null columns get the canonical dtype (or String), categoricals become String,
    unsigned integers Int64 and date-times microseconds (Delta's resolution).
    """
    casts: dict[str, pl.DataType] = {}
    for column, dtype in df.schema.items():
        if dtype == pl.Null:
            casts[column] = _column_dtype(name, column)
        elif isinstance(dtype, pl.Categorical | pl.Enum):
            casts[column] = pl.String()
        elif dtype.is_unsigned_integer():
            casts[column] = pl.Int64()
        elif isinstance(dtype, pl.Datetime) and dtype.time_unit != "us":
            casts[column] = pl.Datetime("us", dtype.time_zone)
        elif dtype == pl.Object:
            msg = f"table {name!r}: column {column!r} holds Python objects; a store needs data"
            raise DataContractError(msg)
    return df.cast(casts) if casts else df  # type: ignore[arg-type]


def _commit(metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "commit_properties": CommitProperties(custom_metadata=metadata, max_commit_retries=10),
        "post_commithook_properties": PostCommitHookProperties(
            create_checkpoint=True, cleanup_expired_logs=False
        ),
    }


def _retry(action: Callable[[], _T]) -> _T:
    for attempt in range(_RETRIES):
        try:
            return action()
        except CommitFailedError:
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError  # pragma: no cover


def overwrite_table(path: Path, df: pl.DataFrame, metadata: dict[str, Any]) -> int:
    """Replace the table at ``path`` by ``df`` (created if absent); returns its version."""
    exists = delta_version(path) is not None
    arrow = df.to_arrow()
    _retry(
        lambda: write_deltalake(
            str(path),
            arrow,
            mode="overwrite",
            schema_mode="overwrite",
            configuration=None if exists else TABLE_CONFIG,
            **_commit(metadata),
        )
    )
    return int(DeltaTable(str(path)).version())


def append_table(path: Path, df: pl.DataFrame, metadata: dict[str, Any]) -> int:
    """Append ``df`` to the table at ``path`` (created if absent); returns its version."""
    exists = delta_version(path) is not None
    arrow = df.to_arrow()
    _retry(
        lambda: write_deltalake(
            str(path),
            arrow,
            mode="append",
            schema_mode="merge",
            configuration=None if exists else TABLE_CONFIG,
            **_commit(metadata),
        )
    )
    return int(DeltaTable(str(path)).version())


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _conform(name: str, df: pl.DataFrame, target: pl.Schema) -> pl.DataFrame:
    """``df`` with every target column (missing ones null) in the target's dtypes."""
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in target.items() if c not in df.columns]
    out = df.with_columns(missing) if missing else df
    shared = {c: t for c, t in target.items() if c in df.columns and df.schema[c] != t}
    if shared:
        try:
            out = out.cast(shared)  # type: ignore[arg-type]
        except pl.exceptions.InvalidOperationError as exc:
            cols = ", ".join(f"{c!r} ({df.schema[c]} -> {t})" for c, t in shared.items())
            msg = (
                f"table {name!r}: cannot upsert, columns change type against the store: "
                f"{cols} ({exc})"
            )
            raise DataContractError(msg) from None
    return out


def merge_table(
    path: Path, name: str, df: pl.DataFrame, key: Sequence[str], metadata: dict[str, Any]
) -> int:
    """Upsert ``df`` into the table at ``path`` by ``key``; returns the table's version.

    A Delta ``MERGE``: rows whose key is in the table are updated when any column
    differs (null-safe comparison, so re-loading the same rows writes nothing), new keys
    are inserted, other rows are kept. Keys compare null-safely (``IS NOT DISTINCT
    FROM``); within ``df`` the last row of a key wins.
    """
    target = pl.scan_delta(str(path)).collect_schema()
    source = _conform(name, df.unique(subset=list(key), keep="last", maintain_order=True), target)
    if source.height == 0:
        return int(DeltaTable(str(path)).version())
    on = " AND ".join(f"(s.{_q(k)} IS NOT DISTINCT FROM t.{_q(k)})" for k in key)
    others = [c for c in source.columns if c not in key]
    differs = " OR ".join(f"(s.{_q(c)} IS DISTINCT FROM t.{_q(c)})" for c in others)
    arrow = source.to_arrow()

    def run() -> None:
        merger = DeltaTable(str(path)).merge(
            arrow,
            predicate=on,
            source_alias="s",
            target_alias="t",
            merge_schema=True,
            **_commit(metadata),
        )
        if others:
            merger = merger.when_matched_update_all(predicate=differs)
        merger.when_not_matched_insert_all().execute()

    _retry(run)
    return int(DeltaTable(str(path)).version())


def apply_merge_links(path: Path, key: str, links: pl.DataFrame, metadata: dict[str, Any]) -> int:
    """Set ``merged_into_id`` of rows merged away in the CRM; returns the table's version.

    ``links`` has ``id_value`` (the key merged away) and ``linked_id_value`` (the record
    it survives as). A row already pointing somewhere keeps its value (the CRM's own
    ``MasterRecordId`` wins); rows not in the table are ignored.
    """
    if links.height == 0:
        return int(DeltaTable(str(path)).version())
    source = (
        links.select(
            pl.col("id_value").alias(key), pl.col("linked_id_value").alias("merged_into_id")
        )
        .unique(subset=[key], keep="last", maintain_order=True)
        .to_arrow()
    )

    def run() -> None:
        (
            DeltaTable(str(path))
            .merge(
                source,
                predicate=f"s.{_q(key)} = t.{_q(key)}",
                source_alias="s",
                target_alias="t",
                **_commit(metadata),
            )
            .when_matched_update(
                updates={"merged_into_id": "s.merged_into_id"},
                predicate="t.merged_into_id IS NULL AND s.merged_into_id IS NOT NULL",
            )
            .execute()
        )

    _retry(run)
    return int(DeltaTable(str(path)).version())


def restore_table(path: Path, version: int, metadata: dict[str, Any]) -> int:
    """Roll the table at ``path`` back to ``version`` (a new commit); returns the new one."""
    table = DeltaTable(str(path))
    if int(table.version()) == version:
        return version
    table.restore(version, **_commit(metadata))
    return int(DeltaTable(str(path)).version())
