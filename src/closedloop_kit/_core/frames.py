"""Frame helpers: keep the caller's kind and check required columns in one place.

Eager in → eager out, lazy in → lazy out. Every public function that needs certain
columns calls :func:`require_columns`, so the error always names the function and what
is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import overload

import polars as pl

from closedloop_kit._core.types import FrameT
from closedloop_kit.errors import DataContractError

__all__ = [
    "collect",
    "collect_in_memory",
    "column_names",
    "like",
    "null_series",
    "require_columns",
    "to_lazy",
]


def to_lazy(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Return ``frame`` as a LazyFrame (no copy for an eager frame)."""
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def collect(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Return ``frame`` as a DataFrame, collecting a LazyFrame."""
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def collect_in_memory(lf: pl.LazyFrame) -> pl.DataFrame:
    """Run a plan over frames already in memory on polars' in-memory engine.

    polars 2 runs a plain ``collect()`` on its streaming engine, whose fixed cost per
    plan dominates on the small frames an export makes: mapping the bundled sample's
    663-row, 28-column Lead file takes about five times as long streaming
    (``python benchmarks/small_plans.py`` prints both). Plans that scan files larger
    than memory keep ``collect()``.

    Examples
    --------
    >>> collect_in_memory(pl.LazyFrame({"a": [1, 2]}).select(pl.col("a") * 2))["a"].to_list()
    [2, 4]
    """
    return lf.collect(engine="in-memory")


@overload
def like(template: pl.DataFrame, result: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame: ...
@overload
def like(template: pl.LazyFrame, result: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame: ...
def like(
    template: pl.DataFrame | pl.LazyFrame, result: pl.DataFrame | pl.LazyFrame
) -> pl.DataFrame | pl.LazyFrame:
    """Return ``result`` in the kind of ``template`` (eager or lazy)."""
    if isinstance(template, pl.LazyFrame):
        return to_lazy(result)
    return collect(result)


def null_series(n: int, dtype: pl.DataType | type[pl.DataType], name: str = "") -> pl.Series:
    """A Series of ``n`` nulls of ``dtype`` (built natively, not from a Python list).

    Examples
    --------
    >>> null_series(3, pl.String, "problem").to_list()
    [None, None, None]
    """
    # one null broadcast natively: about 20x cheaper than pl.repeat's query on a small n
    return pl.Series(name, [None], dtype=dtype).new_from_index(0, n)


def column_names(frame: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """Column names without collecting a LazyFrame."""
    if isinstance(frame, pl.LazyFrame):
        return frame.collect_schema().names()
    return frame.columns


def require_columns(frame: FrameT, columns: Iterable[str], *, func: str) -> FrameT:
    """Raise :class:`DataContractError` if ``frame`` lacks any of ``columns``.

    Parameters
    ----------
    frame
        The frame handed to ``func``.
    columns
        Columns ``func`` needs.
    func
        The public function's name, used in the message.

    Returns
    -------
    The frame, unchanged, so the call can be chained.

    Examples
    --------
    >>> import polars as pl
    >>> require_columns(pl.DataFrame({"a": [1]}), ["a", "b"], func="demo")
    Traceback (most recent call last):
    ...
    closedloop_kit.errors.DataContractError: `demo` needs column(s) ['b'] ...
    """
    present = set(column_names(frame))
    missing = [c for c in columns if c not in present]
    if missing:
        msg = (
            f"`{func}` needs column(s) {missing} that the frame does not have; "
            f"it has {sorted(present)}"
        )
        raise DataContractError(msg, schema_name=func)
    return frame
