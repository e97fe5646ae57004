"""Time configuration: fiscal calendars and lookback windows."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl

__all__ = ["FiscalCalendar", "Window", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+)\s*(d|w|mo|q|y)\s*$")
_UNIT_DAYS = {"d": 1, "w": 7}


def parse_duration(value: str | int | dt.timedelta) -> dt.timedelta:
    """Parse a lookback such as ``"90d"``, ``"12w"``, ``"6mo"`` into a timedelta.

    Months count as 30.4375 days and quarters as three months, years as 365.25 days,
    so ``"6mo"`` is 182.625 days. An ``int`` is a number of days.

    Examples
    --------
    >>> parse_duration("90d")
    datetime.timedelta(days=90)
    >>> parse_duration("2w").days
    14
    """
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, int):
        return dt.timedelta(days=value)
    m = _DURATION.match(value)
    if not m:
        msg = f"`lookback` must look like '90d', '12w', '6mo', '2q' or '1y', got {value!r}"
        raise ValueError(msg)
    n, unit = int(m.group(1)), m.group(2)
    if unit in _UNIT_DAYS:
        return dt.timedelta(days=n * _UNIT_DAYS[unit])
    days = {"mo": 30.4375, "q": 91.3125, "y": 365.25}[unit] * n
    return dt.timedelta(days=days)


@dataclass(frozen=True)
class Window:
    """A lookback window before a conversion, e.g. ``Window("180d")``.

    Parameters
    ----------
    lookback
        How far before the conversion a touch may be and still count.
    include_conversion_instant
        Whether a touch at exactly the conversion timestamp counts (default True).
    """

    lookback: str = "180d"
    include_conversion_instant: bool = True

    @property
    def duration(self) -> dt.timedelta:
        """The lookback as a :class:`datetime.timedelta`."""
        return parse_duration(self.lookback)


@dataclass(frozen=True)
class FiscalCalendar:
    """A fiscal year that starts on the first day of ``start_month``.

    The fiscal year is named after the calendar year in which it *ends* (the
    convention of Salesforce and most US companies): with ``start_month=2``,
    1 Feb 2026 – 31 Jan 2027 is FY2027 and 1 Feb 2026 falls in FY2027 Q1.
    Set ``name_by="start"`` to name a year after the calendar year it starts in.

    Parameters
    ----------
    start_month
        Month (1–12) on which the fiscal year starts; 1 gives calendar quarters.
    name_by
        ``"end"`` (default) or ``"start"``: which calendar year names the fiscal year.

    Examples
    --------
    >>> import datetime as dt
    >>> cal = FiscalCalendar(start_month=2)
    >>> cal.quarter_label(dt.date(2026, 2, 1))
    '2027Q1'
    >>> FiscalCalendar().quarter_label(dt.date(2026, 5, 17))
    '2026Q2'
    """

    start_month: int = 1
    name_by: str = "end"

    def __post_init__(self) -> None:
        if not 1 <= self.start_month <= 12:
            msg = f"`start_month` must be between 1 and 12, got {self.start_month!r}"
            raise ValueError(msg)
        if self.name_by not in ("end", "start"):
            msg = f"`name_by` must be one of ('end', 'start'), got {self.name_by!r}"
            raise ValueError(msg)

    # -- scalar helpers -------------------------------------------------------------
    def fiscal_year(self, date: dt.date) -> int:
        """The fiscal year ``date`` falls in."""
        start_year = date.year if date.month >= self.start_month else date.year - 1
        if self.start_month == 1 or self.name_by == "start":
            return start_year
        return start_year + 1

    def fiscal_quarter(self, date: dt.date) -> int:
        """The fiscal quarter (1–4) ``date`` falls in."""
        return ((date.month - self.start_month) % 12) // 3 + 1

    def quarter_label(self, date: dt.date) -> str:
        """``"<fiscal year>Q<quarter>"`` for ``date``."""
        return f"{self.fiscal_year(date)}Q{self.fiscal_quarter(date)}"

    def quarter_start(self, label: str) -> dt.date:
        """First day of the fiscal quarter named ``label`` (e.g. ``"2027Q1"``).

        Examples
        --------
        >>> FiscalCalendar(start_month=2).quarter_start("2027Q1")
        datetime.date(2026, 2, 1)
        """
        year, q = _parse_quarter(label)
        start_year = year if (self.start_month == 1 or self.name_by == "start") else year - 1
        month0 = self.start_month - 1 + 3 * (q - 1)
        return dt.date(start_year + month0 // 12, month0 % 12 + 1, 1)

    def shift_quarter(self, label: str, quarters: int) -> str:
        """The label ``quarters`` fiscal quarters after ``label`` (negative: before).

        Examples
        --------
        >>> FiscalCalendar().shift_quarter("2026Q1", -2)
        '2025Q3'
        """
        year, q = _parse_quarter(label)
        idx = year * 4 + (q - 1) + quarters
        return f"{idx // 4}Q{idx % 4 + 1}"

    # -- polars expressions ---------------------------------------------------------
    def year_expr(self, col: pl.Expr) -> pl.Expr:
        """Fiscal year of a Date/Datetime expression."""
        start_year = (
            pl.when(col.dt.month() >= self.start_month)
            .then(col.dt.year())
            .otherwise(col.dt.year() - 1)
        )
        if self.start_month == 1 or self.name_by == "start":
            return start_year.cast(pl.Int32)
        return (start_year + 1).cast(pl.Int32)

    def quarter_expr(self, col: pl.Expr) -> pl.Expr:
        """Fiscal quarter (1–4) of a Date/Datetime expression."""
        return (((col.dt.month().cast(pl.Int32) - self.start_month) % 12) // 3 + 1).cast(pl.Int32)

    def period_expr(self, col: pl.Expr, period: str = "quarter") -> pl.Expr:
        """Label of the fiscal ``period`` containing each value of ``col``.

        ``"quarter"`` → ``"2026Q2"``, ``"year"`` → ``"FY2026"``, ``"month"`` →
        ``"2026-05"`` (calendar month), ``"week"`` → ISO week start date, ``"day"`` →
        the date.
        """
        if period == "quarter":
            return pl.format("{}Q{}", self.year_expr(col), self.quarter_expr(col))
        if period == "year":
            return pl.format("FY{}", self.year_expr(col))
        if period == "month":
            return col.dt.strftime("%Y-%m")
        if period == "week":
            return col.dt.truncate("1w").dt.date().cast(pl.String)
        if period == "day":
            return col.dt.date().cast(pl.String)
        msg = f"`period` must be one of ('day', 'week', 'month', 'quarter', 'year'), got {period!r}"
        raise ValueError(msg)


def _parse_quarter(label: str) -> tuple[int, int]:
    m = re.fullmatch(r"(?:FY)?(\d{4})\s*-?Q([1-4])", label.strip(), flags=re.IGNORECASE)
    if not m:
        msg = f"quarter label must look like '2026Q2', got {label!r}"
        raise ValueError(msg)
    return int(m.group(1)), int(m.group(2))
