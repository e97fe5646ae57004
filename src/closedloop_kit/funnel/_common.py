"""Helpers shared by the funnel metrics: stage columns, grouping, result display."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from closedloop_kit._core.frames import column_names
from closedloop_kit._core.types import AnyFrame
from closedloop_kit.errors import DataContractError

__all__ = ["as_list", "funnel_stages", "reached", "stage_at"]

PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 30.4375, "quarter": 91.3125, "year": 365.25}
"""Length of a relative period (months are 365.25 / 12 days)."""


def funnel_stages(frame: AnyFrame, stages: Sequence[str] | None = None, *, func: str) -> list[str]:
    """Stage names of a funnel frame: ``<s>_at`` columns that have ``<s>_backfilled``."""
    cols = column_names(frame)
    present = set(cols)
    found = [c[:-3] for c in cols if c.endswith("_at") and f"{c[:-3]}_backfilled" in present]
    if stages is None:
        if len(found) < 2:
            msg = (
                f"`{func}` needs a funnel frame from `clk.prepare(data).funnel(...)` "
                f"(`<stage>_at` and `<stage>_backfilled` columns for at least two stages); "
                f"it has {cols}"
            )
            raise DataContractError(msg, schema_name=func)
        return found
    missing = [s for s in stages if s not in found]
    if missing:
        msg = f"`{func}`: stage(s) {missing} have no `<stage>_at`/`<stage>_backfilled` columns"
        raise DataContractError(msg, schema_name=func)
    return list(stages)


def reached(stage: str) -> pl.Expr:
    """True where ``stage`` was reached (timestamped or back-filled)."""
    return pl.col(f"{stage}_at").is_not_null() | pl.col(f"{stage}_backfilled").fill_null(False)


def stage_at(stage: str) -> pl.Expr:
    """The stage's timestamp."""
    return pl.col(f"{stage}_at")


def as_list(by: str | Sequence[str] | None) -> list[str]:
    """``by`` as a list of column names."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def as_of_value(frame: pl.DataFrame, as_of: dt.datetime | dt.date | None) -> dt.datetime:
    """The censoring time: ``as_of`` or the frame's ``observed_until``."""
    if as_of is not None:
        if isinstance(as_of, dt.datetime):
            return as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
        return dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.UTC)
    if frame.height == 0:  # nothing to censor
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    if "observed_until" in frame.columns:
        value = frame["observed_until"].max()
        if isinstance(value, dt.datetime):
            return value
    stamps = frame.select(
        pl.max_horizontal([pl.col(c).max() for c in frame.columns if c.endswith("_at")])
    ).item()
    if isinstance(stamps, dt.datetime):
        return stamps
    # no timestamp anywhere: no entity has a duration, so the censoring time is unused
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def days_between(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Days (float) from ``start`` to ``end``."""
    return (end - start).dt.total_microseconds().cast(pl.Float64) / 86_400e6
