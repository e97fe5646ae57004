"""Cross-table join rates after a load: whether the loaded tables find each other.

Files exported from one system at different times, or read with the wrong key prefix,
load without a single rejected row and still do not fit together (opportunities whose
accounts are missing, members of campaigns that were not exported). :func:`join_rates`
measures, for each reference a canonical table holds, the share of rows whose
reference finds a row of the referenced table; :func:`note_join_rates` writes them into
the load report of the files that hold the references and warns when one is low.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import polars as pl

from closedloop_kit.errors import DataQualityWarning
from closedloop_kit.io._result import LoadResult

__all__ = ["JOINS", "LOW_JOIN_RATE", "join_rates", "note_join_rates"]

JOINS: tuple[tuple[str, str, str, str], ...] = (
    ("opportunities", "account_id", "accounts", "account_id"),
    ("people", "account_id", "accounts", "account_id"),
    ("campaign_members", "campaign_id", "campaigns", "campaign_id"),
    ("touchpoints", "person_id", "people", "person_id"),
)
"""(table, reference column, referenced table, its key) pairs that are measured."""

LOW_JOIN_RATE = 0.5
"""A join rate below this raises a :class:`~closedloop_kit.errors.DataQualityWarning`."""

_SCHEMA = {
    "table": pl.String,
    "column": pl.String,
    "references": pl.String,
    "source_file": pl.String,
    "rows_with_reference": pl.Int64,
    "rows_joined": pl.Int64,
    "join_rate": pl.Float64,
}


def join_rates(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    r"""Share of rows whose reference finds the referenced row, per table pair and file.

    For each pair in :data:`JOINS` where both tables were loaded (and are not empty),
    per source file of the referencing table:

    .. math:: \text{join rate} = \frac{\#\{\text{rows whose reference is a key of the
              referenced table}\}}{\#\{\text{rows with a non-null reference}\}}

    Returns
    -------
    pl.DataFrame
        ``table``, ``column``, ``references``, ``source_file``, ``rows_with_reference``,
        ``rows_joined``, ``join_rate``.

    Examples
    --------
    >>> import polars as pl
    >>> tables = {
    ...     "opportunities": pl.DataFrame({"account_id": ["sf:a", "sf:b", None],
    ...                                    "source_file": ["Opp.csv"] * 3}),
    ...     "accounts": pl.DataFrame({"account_id": ["sf:a"]}),
    ... }
    >>> join_rates(tables).select("table", "rows_with_reference", "rows_joined", "join_rate").row(0)
    ('opportunities', 2, 1, 0.5)
    """
    parts: list[pl.DataFrame] = []
    for table, column, target, key in JOINS:
        frame, ref = tables.get(table), tables.get(target)
        if frame is None or ref is None or frame.height == 0 or ref.height == 0:
            continue
        if column not in frame.columns or key not in ref.columns:
            continue
        keys = ref[key].drop_nulls().unique().implode()
        files = (
            pl.col("source_file")
            if "source_file" in frame.columns
            else pl.lit(None, dtype=pl.String).alias("source_file")
        )
        part = (
            frame.lazy()
            .filter(pl.col(column).is_not_null())
            .group_by(files)
            .agg(
                pl.len().cast(pl.Int64).alias("rows_with_reference"),
                pl.col(column).is_in(keys).sum().cast(pl.Int64).alias("rows_joined"),
            )
            .with_columns(
                pl.lit(table).alias("table"),
                pl.lit(column).alias("column"),
                pl.lit(target).alias("references"),
                (pl.col("rows_joined") / pl.col("rows_with_reference")).alias("join_rate"),
            )
            .collect()
        )
        if part.height:
            parts.append(part.select(list(_SCHEMA)).cast(_SCHEMA))  # type: ignore[arg-type]
    if not parts:
        return pl.DataFrame(schema=_SCHEMA)
    return pl.concat(parts).sort("table", "column", "source_file")


def note_join_rates(result: LoadResult, *, stacklevel: int = 2) -> LoadResult:
    """Write :func:`join_rates` into the report notes of the files holding the references.

    A rate below :data:`LOW_JOIN_RATE` is also issued as a
    :class:`~closedloop_kit.errors.DataQualityWarning` naming the file and the tables.
    """
    rates = join_rates(result.tables)
    if rates.height == 0:
        return result
    report = result.report
    low: list[str] = []
    for r in rates.iter_rows(named=True):
        text = (
            f"joins: {r['table']}.{r['column']} -> {r['references']}: {r['rows_joined']} of "
            f"{r['rows_with_reference']} ({r['join_rate']:.0%}) find a loaded row"
        )
        if r["join_rate"] < LOW_JOIN_RATE:
            name = str(r["source_file"]).rsplit("/", 1)[-1]
            low.append(f"{name}: {text.removeprefix('joins: ')}")
        where = (pl.col("path") == r["source_file"]) & (pl.col("table") == r["table"])
        report = report.with_columns(
            pl.when(where & (pl.col("notes").is_null() | (pl.col("notes") == "")))
            .then(pl.lit(text))
            .when(where)
            .then(pl.col("notes") + "; " + text)
            .otherwise(pl.col("notes"))
            .alias("notes")
        )
    if low:
        msg = (
            f"low join rate(s) after loading (below {LOW_JOIN_RATE:.0%}): "
            + "; ".join(low[:5])
            + ("..." if len(low) > 5 else "")
            + ". Check that the related exports are in the folder and that they were read "
            "by the same system's reader (see the load report)"
        )
        warnings.warn(msg, DataQualityWarning, stacklevel=stacklevel + 1)
    return LoadResult(tables=result.tables, rejected=result.rejected, report=report)
