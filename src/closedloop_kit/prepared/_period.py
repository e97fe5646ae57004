"""One period filter for every number in a call: a quarter, year, month or date range."""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeAlias

import polars as pl

from closedloop_kit.config import FiscalCalendar

__all__ = ["PeriodLike", "period_bounds", "within"]

PeriodLike: TypeAlias = str | tuple[dt.date | str, dt.date | str] | None
"""``"2025Q3"`` (fiscal quarter), ``"2025"`` (fiscal year), ``"2025-07"`` (month),
``(start, end)`` dates (end exclusive), or ``None`` for all time."""

_UTC = dt.UTC


def _midnight(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=_UTC)


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def period_bounds(
    period: PeriodLike, fiscal: FiscalCalendar | None = None
) -> tuple[dt.datetime, dt.datetime] | None:
    """``[start, end)`` of ``period`` as UTC datetimes, or ``None`` for all time.

    Examples
    --------
    >>> period_bounds("2025Q3")[0].date(), period_bounds("2025Q3")[1].date()
    (datetime.date(2025, 7, 1), datetime.date(2025, 10, 1))
    >>> period_bounds("2025-02")[1].date()
    datetime.date(2025, 3, 1)
    >>> period_bounds(("2025-01-15", "2025-02-01"))[0].date()
    datetime.date(2025, 1, 15)
    """
    if period is None:
        return None
    cal = fiscal or FiscalCalendar()
    if isinstance(period, tuple):
        if len(period) != 2:
            msg = f"`period` as a range must be (start, end), got {period!r}"
            raise ValueError(msg)
        start, end = _as_date(period[0]), _as_date(period[1])
        if end <= start:
            msg = f"`period` must end after it starts, got {period!r}"
            raise ValueError(msg)
        return _midnight(start), _midnight(end)
    text = str(period).strip().upper()
    if re.fullmatch(r"\d{4}Q[1-4]", text):
        start = cal.quarter_start(text)
        return _midnight(start), _midnight(cal.quarter_start(cal.shift_quarter(text, 1)))
    if re.fullmatch(r"\d{4}", text):
        first = f"{text}Q1"
        start = cal.quarter_start(first)
        return _midnight(start), _midnight(cal.quarter_start(cal.shift_quarter(first, 4)))
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            msg = f"`period` month must be 01–12, got {period!r}"
            raise ValueError(msg)
        nxt = dt.date(y + (mo == 12), mo % 12 + 1, 1)
        return _midnight(dt.date(y, mo, 1)), _midnight(nxt)
    msg = (
        f"`period` must be a quarter ('2025Q3'), a year ('2025'), a month ('2025-07') or a "
        f"(start, end) pair of dates, got {period!r}"
    )
    raise ValueError(msg)


def within(expr: pl.Expr, span: tuple[dt.datetime, dt.datetime]) -> pl.Expr:
    """``start <= expr < end`` (a date column is compared at midnight UTC); null → False."""
    start, end = span
    return ((expr >= pl.lit(start)) & (expr < pl.lit(end))).fill_null(False)
