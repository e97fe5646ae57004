"""Shared helpers of the chart builders: accept frames or result objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from closedloop_kit._core.display import column_label
from closedloop_kit.config import stage_label

__all__ = [
    "as_frame",
    "first_present",
    "group_columns",
    "groups_title",
    "stage_names",
    "with_step",
]


def as_frame(obj: Any, *attrs: str, func: str) -> pl.DataFrame:
    """An eager frame from a polars frame or from the first attribute found on a result."""
    if isinstance(obj, pl.LazyFrame):
        return obj.collect()
    if isinstance(obj, pl.DataFrame):
        return obj
    for attr in attrs:
        value = getattr(obj, attr, None)
        if isinstance(value, pl.LazyFrame):
            return value.collect()
        if isinstance(value, pl.DataFrame):
            return value
    wanted = ", ".join(attrs) or "none"
    msg = (
        f"`{func}` needs a polars frame or a result with one of the attributes ({wanted}), "
        f"got {type(obj).__name__!r}"
    )
    raise TypeError(msg)


def first_present(frame: pl.DataFrame, candidates: Sequence[str], *, func: str, role: str) -> str:
    """The first of ``candidates`` that is a column of ``frame``."""
    for c in candidates:
        if c in frame.columns:
            return c
    msg = (
        f"`{func}` needs a {role} column, one of {tuple(candidates)!r}; "
        f"the frame has {tuple(frame.columns)!r}"
    )
    raise ValueError(msg)


def group_columns(frame: pl.DataFrame, known: Sequence[str]) -> list[str]:
    """Columns of ``frame`` that are not among ``known`` (the ``by`` groups of a result)."""
    return [c for c in frame.columns if c not in known]


def groups_title(groups: Sequence[str]) -> str | None:
    """The group columns as a legend or axis title for people, ``None`` without groups.

    Examples
    --------
    >>> groups_title(["product_line", "sales_division"]), groups_title([])
    ('Product line · Sales division', None)
    """
    return " · ".join(column_label(g, "text") for g in groups) or None


def group_label(frame: pl.DataFrame, groups: Sequence[str], name: str = "group") -> pl.DataFrame:
    """Add one string column ``name`` joining the group columns (``"all"`` when none)."""
    if not groups:
        return frame.with_columns(pl.lit("all").alias(name))
    return frame.with_columns(
        pl.concat_str(
            [pl.col(g).cast(pl.String).fill_null("(none)") for g in groups], separator=" · "
        ).alias(name)
    )


def stage_names(
    frame: pl.DataFrame, columns: Sequence[str], labels: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """The stage ids in ``columns`` as people read them (``labels``, then the defaults).

    Each id reads as :func:`closedloop_kit.config.stage_label` says.

    Examples
    --------
    >>> f = pl.DataFrame({"stage": ["raw_lead", "sales_ready", None]})
    >>> stage_names(f, ["stage"])["stage"].to_list()
    ['Raw lead', 'Sales-ready lead', None]
    """
    present = [c for c in columns if c in frame.columns]
    ids = {v for c in present for v in frame[c].drop_nulls().unique().to_list()}
    mapping = {s: stage_label(str(s), labels) for s in ids}
    return frame.with_columns(pl.col(c).cast(pl.String).replace(mapping) for c in present)


def with_step(frame: pl.DataFrame, labels: Mapping[str, str] | None = None) -> pl.DataFrame:
    """``from_stage`` and ``to_stage`` as people read them, and ``step`` = "from → to"."""
    named = stage_names(frame, ("from_stage", "to_stage"), labels)
    return named.with_columns((pl.col("from_stage") + " → " + pl.col("to_stage")).alias("step"))
