"""Backend plumbing: native frames in, narwhals lazy frames through, small polars out.

The heavy steps are written once against narwhals' lazy API. This module holds the few
places where the backends must be told apart: the ordered string aggregation narwhals
lacks (a journey's channel path), materialising an intermediate result between the
rounds of an iterative algorithm, and collecting the small aggregate as polars.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal, cast

import narwhals.stable.v2 as nw
import polars as pl

__all__ = [
    "Backend",
    "backend_of",
    "collect_polars",
    "lazy",
    "materialize",
    "native",
    "ordered_join",
    "require",
]

Backend = Literal["polars", "duckdb", "pyspark", "ibis", "other"]
"""Engine a frame runs on."""

_COUNTER = itertools.count()


def lazy(frame: Any) -> nw.LazyFrame[Any]:
    """Wrap a polars DataFrame/LazyFrame, DuckDB relation, Spark DataFrame or Ibis table.

    An eager polars DataFrame becomes a LazyFrame so every backend runs the same lazy
    plan (polars then runs it on its streaming engine when collected).
    """
    if isinstance(frame, nw.LazyFrame):
        return frame
    if isinstance(frame, nw.DataFrame):
        return frame.lazy()
    if isinstance(frame, pl.DataFrame):
        frame = frame.lazy()
    try:
        wrapped = nw.from_native(frame)
    except TypeError:
        msg = (
            "expected a polars DataFrame/LazyFrame, a DuckDB relation, a PySpark DataFrame "
            f"or an Ibis table, got {type(frame).__name__}"
        )
        raise TypeError(msg) from None
    if isinstance(wrapped, nw.DataFrame):
        return wrapped.lazy()
    return cast("nw.LazyFrame[Any]", wrapped)


def backend_of(frame: nw.LazyFrame[Any]) -> Backend:
    """Name of the engine behind a narwhals LazyFrame."""
    impl = frame.implementation
    if impl.is_polars():
        return "polars"
    if impl.is_duckdb():
        return "duckdb"
    if impl.is_pyspark() or impl.is_pyspark_connect():
        return "pyspark"
    if impl.is_ibis():
        return "ibis"
    return "other"


def native(frame: nw.LazyFrame[Any]) -> Any:
    """The engine's own lazy object (polars LazyFrame, DuckDB relation, Spark DataFrame)."""
    return frame.to_native()


def require(frame: nw.LazyFrame[Any], columns: list[str], *, func: str) -> None:
    """Raise a ValueError naming ``func`` and the missing columns."""
    missing = [c for c in columns if c not in frame.collect_schema().names()]
    if missing:
        msg = f"{func}: missing column(s) {missing}; the frame has {frame.collect_schema().names()}"
        raise ValueError(msg)


def collect_polars(frame: nw.LazyFrame[Any]) -> pl.DataFrame:
    """Run the plan on its engine and return the (small) result as a polars DataFrame.

    polars runs with the streaming engine, so the input need not fit in memory.
    """
    if backend_of(frame) == "polars":
        out = frame.to_native().collect(engine="streaming")
        assert isinstance(out, pl.DataFrame)
        return out
    result: pl.DataFrame = frame.collect(backend="polars").to_native()
    return result


def materialize(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Compute ``frame`` now and keep the result on its engine (for iterative algorithms).

    Without this, each round of an iteration would re-plan every earlier round.
    polars: an in-memory DataFrame; DuckDB: a temporary table on the relation's
    connection; Spark: a local checkpoint.
    """
    kind = backend_of(frame)
    obj = frame.to_native()
    if kind == "polars":
        return lazy(obj.collect(engine="streaming"))
    if kind == "duckdb":
        # a temporary table on the relation's own connection (reached through query())
        name = f"__clk_tmp_{next(_COUNTER)}"
        obj.query("_clk_rel", f"create temp table {name} as select * from _clk_rel")
        # read it back through the connection when the relation exposes it (DuckDB 2.x
        # keeps it as `_con`): a relation derived from `obj` would re-bind obj's plan
        con = getattr(obj, "_con", None)
        if con is not None and hasattr(con, "table"):
            return lazy(con.table(name))
        return lazy(obj.query("_clk_rel", f"select * from {name}"))
    if kind == "pyspark":
        return lazy(obj.localCheckpoint(eager=True))
    return frame


def ordered_join(
    frame: nw.LazyFrame[Any],
    *,
    by: str,
    value: str,
    order: list[str],
    sep: str,
    name: str,
) -> nw.LazyFrame[Any]:
    """One row per ``by``: the ``value`` strings joined by ``sep`` in ``order``.

    narwhals has no ordered string aggregation per group, so this is the one step
    written per backend (polars ``sort_by().str.join``, DuckDB ``string_agg(... ORDER
    BY ...)``, Spark ``array_join`` over a sorted ``collect_list`` of structs).
    """
    kind = backend_of(frame)
    obj = frame.to_native()
    if kind == "polars":
        out = obj.group_by(by).agg(
            pl.col(value).sort_by(order).str.join(sep).alias(name),
        )
        return lazy(out)
    if kind == "duckdb":
        ordering = ", ".join(_quote(c) for c in order)
        sql = (
            f"select {_quote(by)}, string_agg({_quote(value)}, {_literal(sep)} "
            f"order by {ordering}) as {_quote(name)} from _clk_rel group by {_quote(by)}"
        )
        return lazy(obj.query("_clk_rel", sql))
    if kind == "pyspark":
        from pyspark.sql import functions as F

        fields = [*order, value]
        ordered = F.array_sort(F.collect_list(F.struct(*[F.col(c) for c in fields])))
        joined = F.array_join(F.transform(ordered, lambda x: x[value]), sep)
        return lazy(obj.groupBy(by).agg(joined.alias(name)))
    msg = (
        f"ordered path strings are implemented for polars, DuckDB and PySpark, not {kind}; "
        "convert the frame (e.g. an Ibis table with `.to_pyarrow()`)"
    )
    raise NotImplementedError(msg)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
