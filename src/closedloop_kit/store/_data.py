"""``ClosedLoopData``: the canonical tables of one company, plus what the load rejected."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from closedloop_kit._core.frames import collect
from closedloop_kit.schema import TABLES, UNIFORM_REJECT_SCHEMA, empty_table

if TYPE_CHECKING:
    from closedloop_kit.store._save import SaveMode

__all__ = ["ClosedLoopData"]


@dataclass(frozen=True)
class ClosedLoopData:
    """All canonical tables of one company (see docs/data-model.md).

    Tables are reached by attribute or item (``data.people``, ``data["people"]``); a
    table that was never loaded comes back as an empty frame with the canonical
    columns, so analyses need no special cases. Frames may be eager or lazy (a store
    opened with :func:`closedloop_kit.open_store` is lazy).

    Attributes
    ----------
    tables
        Canonical table name → polars frame.
    corporate_currency
        ISO code every ``*_corporate`` amount is expressed in.
    rejected
        Rows that did not make it into a table: ``table``, ``reason``,
        ``source_system``, ``source_file``, ``source_row`` and the original values as
        JSON in ``raw``.
    load_report
        One row per file read (format, encoding, rows read/kept/rejected/merged, ...).
    sources
        ``(path, sha256)`` of every input file, for the store's manifest.
    store_version
        The store version the tables were read from (:func:`closedloop_kit.open_store`);
        ``None`` for data not read from a store.
    """

    tables: Mapping[str, pl.DataFrame | pl.LazyFrame] = field(default_factory=dict)
    corporate_currency: str = "USD"
    rejected: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=UNIFORM_REJECT_SCHEMA)
    )
    load_report: pl.DataFrame = field(default_factory=pl.DataFrame)
    sources: tuple[tuple[str, str], ...] = ()
    store_version: int | None = None

    def __post_init__(self) -> None:
        unknown = [t for t in self.tables if t not in TABLES]
        if unknown:
            msg = f"unknown table(s) {unknown}; canonical tables are {tuple(TABLES)}"
            raise ValueError(msg)

    # -- access ----------------------------------------------------------------------
    def __getitem__(self, name: str) -> pl.DataFrame | pl.LazyFrame:
        if name not in TABLES:
            msg = f"`name` must be one of {tuple(TABLES)}, got {name!r}"
            raise KeyError(msg)
        frame = self.tables.get(name)
        return empty_table(name) if frame is None else frame

    def __getattr__(self, name: str) -> pl.DataFrame | pl.LazyFrame:
        if name in TABLES:
            return self[name]
        msg = f"{type(self).__name__!r} object has no attribute {name!r}"
        raise AttributeError(msg)

    def __iter__(self) -> Iterator[str]:
        return iter(t for t in TABLES if t in self.tables)

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def frame(self, name: str) -> pl.DataFrame:
        """Table ``name`` as an eager DataFrame (collects a lazy table)."""
        return collect(self[name])

    def lazy(self, name: str) -> pl.LazyFrame:
        """Table ``name`` as a LazyFrame."""
        f = self[name]
        return f.lazy() if isinstance(f, pl.DataFrame) else f

    def with_tables(self, **tables: pl.DataFrame | pl.LazyFrame) -> ClosedLoopData:
        """A copy with some tables replaced or added (the original is unchanged)."""
        return replace(self, tables={**self.tables, **tables})

    def collect(self) -> ClosedLoopData:
        """A copy with every table eager."""
        return replace(self, tables={k: collect(v) for k, v in self.tables.items()})

    # -- persistence -----------------------------------------------------------------
    def save(
        self, path: str | Path, *, mode: SaveMode = "overwrite", timeout: float = 600.0
    ) -> Path:
        """Write the tables as one new store version; see :func:`closedloop_kit.store.save`."""
        from closedloop_kit.store._save import save

        return save(self, path, mode=mode, timeout=timeout)

    # -- display ---------------------------------------------------------------------
    def summary(self) -> pl.DataFrame:
        """Per table: ``rows``, ``columns``, ``rejected`` rows and ``deleted`` rows.

        ``deleted`` counts the rows the source marks deleted (``is_deleted``): they are
        kept and flagged, and the prepared model leaves deleted people, opportunities,
        activities and line items out of the funnel, journeys and ROI, so a table's rows
        and its funnel stage can differ by these.
        """
        rej = self.rejected.group_by("table").agg(pl.len().alias("rejected"))
        rows = []
        for name in TABLES:
            if name not in self.tables:
                continue
            lf = self.lazy(name)
            names = lf.collect_schema().names()
            deleted = (
                pl.col("is_deleted").fill_null(False).sum() if "is_deleted" in names else pl.lit(0)
            )
            n, n_deleted = lf.select(pl.len(), deleted.cast(pl.Int64)).collect().row(0)
            rows.append({"table": name, "rows": n, "columns": len(names), "deleted": n_deleted})
        schema = {"table": pl.String, "rows": pl.Int64, "columns": pl.Int64, "deleted": pl.Int64}
        out = pl.DataFrame(rows, schema=schema)
        return (
            out.join(rej, on="table", how="full", coalesce=True)
            .with_columns(
                pl.col("rejected").fill_null(0).cast(pl.Int64),
                pl.col("rows", "columns", "deleted").fill_null(0),
            )
            .select("table", "rows", "columns", "rejected", "deleted")
        )

    def __repr__(self) -> str:
        parts = ", ".join(f"{r['table']}={r['rows']}" for r in self.summary().iter_rows(named=True))
        return f"ClosedLoopData({parts}; corporate_currency={self.corporate_currency!r})"

    def _repr_html_(self) -> str:
        return (
            f"<div><b>ClosedLoopData</b> (corporate currency "
            f"{html.escape(self.corporate_currency)})"
            f"{self.summary()._repr_html_()}</div>"
        )

    def _tables_eager(self) -> dict[str, pl.DataFrame]:
        return {k: collect(v) for k, v in self.tables.items()}

    def __reduce__(self) -> tuple[Any, ...]:  # pickling for multiprocessing
        return (
            ClosedLoopData,
            (
                self._tables_eager(),
                self.corporate_currency,
                self.rejected,
                self.load_report,
                self.sources,
                self.store_version,
            ),
        )
