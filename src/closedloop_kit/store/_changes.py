"""What changed between two store versions: rows per table, and stage moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from closedloop_kit._core.result import Result
from closedloop_kit.schema import TABLES, empty_table
from closedloop_kit.store._open import open_store

__all__ = ["CHANGE_KINDS", "STAGE_FIELDS", "ChangesResult", "changes"]

CHANGE_KINDS = ("new", "changed", "deleted", "merged", "removed")
"""``new`` key; ``changed`` values; ``deleted`` (``is_deleted`` became true); ``merged``
(``merged_into_id`` became set); ``removed`` (the key is gone, e.g. after an overwrite)."""

STAGE_FIELDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "opportunities": ("opportunity", "opportunity_id", ("stage_raw", "is_closed", "is_won")),
    "people": ("person", "person_id", ("status_raw", "lifecycle_stage_raw", "person_type")),
}
"""Table → (entity, key, fields whose moves :func:`changes` lists as stage moves)."""

_ROWS_SCHEMA: dict[str, pl.DataType] = {
    "table": pl.String(),
    "key": pl.String(),
    "change": pl.String(),
    "columns_changed": pl.List(pl.String()),
}
_MOVES_SCHEMA: dict[str, pl.DataType] = {
    "entity_type": pl.String(),
    "entity_id": pl.String(),
    "field": pl.String(),
    "old_value": pl.String(),
    "new_value": pl.String(),
}


@dataclass(frozen=True)
class ChangesResult(Result):
    """Changes between two store versions.

    Attributes
    ----------
    table
        Per table: rows ``new``, ``changed``, ``deleted``, ``merged``, ``removed``.
    rows
        One row per changed record: ``table``, ``key`` (key values joined by ``|``),
        ``change`` (one of :data:`CHANGE_KINDS`) and ``columns_changed``.
    stage_moves
        Opportunities and people whose stage fields moved (:data:`STAGE_FIELDS`):
        ``entity_type``, ``entity_id``, ``field``, ``old_value``, ``new_value``.
    params
        The store, ``from_version`` and ``to_version``.
    """

    table: pl.DataFrame
    rows: pl.DataFrame
    stage_moves: pl.DataFrame
    params: dict[str, Any] = field(default_factory=dict)


def _aligned(name: str, old: pl.LazyFrame, new: pl.LazyFrame) -> tuple[pl.LazyFrame, ...]:
    o, n = old.collect_schema(), new.collect_schema()
    out = []
    for frame, have in ((old, o), (new, n)):
        add = [pl.lit(None, dtype=t).alias(c) for c, t in {**o, **n}.items() if c not in have]
        out.append(frame.with_columns(add))
    return tuple(out)


def _table_changes(name: str, old: pl.LazyFrame, new: pl.LazyFrame) -> pl.DataFrame:
    old, new = _aligned(name, old, new)
    schema = new.collect_schema()
    key = [k for k in TABLES[name].key if k in schema]
    others = [c for c in schema if c not in key]
    joined = (
        old.with_columns(pl.lit(True).alias("__in_old"))
        .join(
            new.with_columns(pl.lit(True).alias("__in_new")),
            on=key,
            how="full",
            coalesce=True,
            nulls_equal=True,
            suffix="__new",
        )
        .with_columns(pl.col("__in_old", "__in_new").fill_null(False))
    )
    diff = [pl.col(f"{c}__new").ne_missing(pl.col(c)).alias(c) for c in others]
    flagged = joined.with_columns(
        pl.concat_list([pl.when(d).then(pl.lit(c)) for d, c in zip(diff, others, strict=True)])
        .list.drop_nulls()
        .alias("columns_changed")
        if others
        else pl.lit([], dtype=pl.List(pl.String)).alias("columns_changed")
    )

    def became(col: str, expr: pl.Expr) -> pl.Expr:
        if col not in others:
            return pl.lit(False)
        return expr.fill_null(False)

    deleted = became(
        "is_deleted",
        pl.col("is_deleted__new") & pl.col("is_deleted").fill_null(False).not_(),
    )
    merged = became(
        "merged_into_id",
        pl.col("merged_into_id__new").is_not_null() & pl.col("merged_into_id").is_null(),
    )
    change = (
        pl.when(~pl.col("__in_old"))
        .then(pl.lit("new"))
        .when(~pl.col("__in_new"))
        .then(pl.lit("removed"))
        .when(deleted)
        .then(pl.lit("deleted"))
        .when(merged)
        .then(pl.lit("merged"))
        .when(pl.col("columns_changed").list.len() > 0)
        .then(pl.lit("changed"))
    )
    key_text = pl.concat_str([pl.col(k).cast(pl.String).fill_null("") for k in key], separator="|")
    return (
        flagged.select(
            pl.lit(name).alias("table"),
            key_text.alias("key"),
            change.alias("change"),
            pl.when(pl.col("__in_old") & pl.col("__in_new"))
            .then(pl.col("columns_changed"))
            .otherwise(pl.lit([], dtype=pl.List(pl.String)))
            .alias("columns_changed"),
        )
        .filter(pl.col("change").is_not_null())
        .sort("change", "key")
        .collect()
        .cast(_ROWS_SCHEMA)  # type: ignore[arg-type]
    )


def _stage_moves(name: str, old: pl.LazyFrame, new: pl.LazyFrame) -> pl.DataFrame:
    entity, key, fields = STAGE_FIELDS[name]
    old, new = _aligned(name, old, new)
    have = [f for f in fields if f in new.collect_schema()]
    if not have:
        return pl.DataFrame(schema=_MOVES_SCHEMA)
    pick = [pl.col(key), *(pl.col(f).cast(pl.String) for f in have)]
    both = old.select(pick).join(new.select(pick), on=key, how="inner", suffix="__new")
    parts = [
        both.filter(pl.col(f"{f}__new").ne_missing(pl.col(f))).select(
            pl.lit(entity).alias("entity_type"),
            pl.col(key).alias("entity_id"),
            pl.lit(f).alias("field"),
            pl.col(f).alias("old_value"),
            pl.col(f"{f}__new").alias("new_value"),
        )
        for f in have
    ]
    return pl.concat(parts).sort("entity_id", "field").collect()


def changes(path: str | Path, from_version: int, to_version: int | None = None) -> ChangesResult:
    """Rows that are new, changed, deleted, merged or removed between two store versions.

    Parameters
    ----------
    path
        Store folder.
    from_version
        The earlier store version (e.g. the one the last review read).
    to_version
        The later one; the latest by default.

    Returns
    -------
    ChangesResult
        Counts per table (``.table``), every changed row (``.rows``) and the stage moves
        of opportunities and people (``.stage_moves``). A row counts as changed when any
        column differs (nulls compare equal to nulls); keys are the primary keys of
        :data:`closedloop_kit.schema.TABLES`.

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> from closedloop_kit.store import ClosedLoopData, changes
    >>> d = tempfile.mkdtemp()
    >>> opp = pl.DataFrame({"opportunity_id": ["sf:1", "sf:2"], "stage_raw": ["Qualify"] * 2})
    >>> _ = ClosedLoopData({"opportunities": opp}).save(d)
    >>> moved = opp.with_columns(pl.Series("stage_raw", ["Qualify", "Proposal"]))
    >>> _ = ClosedLoopData({"opportunities": moved}).save(d, mode="upsert")
    >>> res = changes(d, 1, 2)
    >>> res.stage_moves.select("entity_id", "old_value", "new_value").rows()
    [('sf:2', 'Qualify', 'Proposal')]
    """
    before = open_store(path, version=from_version)
    after = open_store(path, version=to_version)
    rows, moves = [], []
    for name in TABLES:
        if name not in before.tables and name not in after.tables:
            continue
        old = before.lazy(name) if name in before.tables else empty_table(name).lazy()
        new = after.lazy(name) if name in after.tables else empty_table(name).lazy()
        rows.append(_table_changes(name, old, new))
        if name in STAGE_FIELDS:
            moves.append(_stage_moves(name, old, new))
    all_rows = pl.concat(rows) if rows else pl.DataFrame(schema=_ROWS_SCHEMA)
    names = pl.DataFrame({"table": [n for n in TABLES if n in before or n in after]})
    counts = names.join(
        all_rows.group_by("table").agg(
            *(pl.col("change").eq(k).sum().cast(pl.Int64).alias(k) for k in CHANGE_KINDS)
        ),
        on="table",
        how="left",
        maintain_order="left",
    ).with_columns(pl.col(*CHANGE_KINDS).fill_null(0))
    return ChangesResult(
        table=counts,
        rows=all_rows,
        stage_moves=pl.concat(moves) if moves else pl.DataFrame(schema=_MOVES_SCHEMA),
        params={
            "path": str(path),
            "from_version": before.store_version,
            "to_version": after.store_version,
        },
    )
