"""The operating rhythm: a dated review per week or month, and an index with the deltas.

``closedloop review --every month --data DATA --out reports/reviews`` renders the
``operating_review`` template once per period (skipping periods already rendered, so a
cron job only adds the new one) and writes ``index.html``: every period, newest first,
with its headline KPI tiles and the change against the period before.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from closedloop_kit.report._run import Report, open_data, run

if TYPE_CHECKING:
    from closedloop_kit.store import ClosedLoopData

__all__ = ["Review", "data_end", "review", "review_periods"]

Every = Literal["week", "month"]
EVERY: tuple[str, ...] = ("week", "month")
TEMPLATE = "operating_review"


def review_periods(every: Every, *, until: dt.date, last: int) -> list[tuple[dt.date, dt.date]]:
    """The ``last`` complete weeks (Monday–Sunday) or calendar months ending by ``until``.

    Examples
    --------
    >>> import datetime as dt
    >>> from closedloop_kit.report import review_periods
    >>> [f"{a} to {b}" for a, b in review_periods("month", until=dt.date(2026, 3, 15), last=2)]
    ['2026-01-01 to 2026-01-31', '2026-02-01 to 2026-02-28']
    >>> review_periods("week", until=dt.date(2026, 3, 8), last=1)  # a Sunday: its week counts
    [(datetime.date(2026, 3, 2), datetime.date(2026, 3, 8))]
    """
    if every not in EVERY:
        msg = f"`every` must be one of {EVERY!r}, got {every!r}"
        raise ValueError(msg)
    if last < 1:
        msg = f"`last` must be at least 1, got {last!r}"
        raise ValueError(msg)
    out: list[tuple[dt.date, dt.date]] = []
    if every == "week":
        end = until - dt.timedelta(days=(until.weekday() + 1) % 7)  # the last Sunday
        for _ in range(last):
            out.append((end - dt.timedelta(days=6), end))
            end -= dt.timedelta(days=7)
    else:
        first = until.replace(day=1)
        end = until if (until + dt.timedelta(days=1)).day == 1 else first - dt.timedelta(days=1)
        for _ in range(last):
            start = end.replace(day=1)
            out.append((start, end))
            end = start - dt.timedelta(days=1)
    return sorted(out)


def period_label(every: Every, start: dt.date) -> str:
    """``2026-03`` for a month, ``2026-W10`` for a week (ISO week of its Monday)."""
    if every == "month":
        return f"{start:%Y-%m}"
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Review:
    """What :func:`review` wrote: the index page, one report per period, and the KPIs."""

    index: Path
    reports: tuple[Path, ...]
    kpis: pl.DataFrame

    def summary(self) -> str:
        """One line: where the index is and how many periods it lists."""
        return f"{self.index} ({len(self.reports)} periods)"


_CRM_DATES: tuple[tuple[str, str], ...] = (
    ("people", "created_at"),
    ("opportunities", "created_at"),
    ("opportunities", "closed_at"),
    ("stage_history", "changed_at"),
)
"""Where :func:`data_end` looks when the data has no touch (a CRM-only export)."""


def data_end(data: ClosedLoopData) -> dt.date:
    """The date the data runs to: where a default review period ends.

    The date of the latest touch; in data without touches (a CRM-only export), of the
    latest person or opportunity created, deal closed or stage change (not a close
    date, which an open deal holds in the future); with none of these, today (UTC).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from closedloop_kit import ClosedLoopData
    >>> people = pl.DataFrame({"person_id": ["a"], "created_at": [dt.datetime(2019, 5, 2, 9)]})
    >>> data_end(ClosedLoopData(tables={"people": people}))
    datetime.date(2019, 5, 2)
    """
    touch = _latest(data, "touchpoints", "occurred_at")
    if touch is not None:
        return touch
    found = [d for table, column in _CRM_DATES if (d := _latest(data, table, column)) is not None]
    return max(found) if found else dt.datetime.now(dt.UTC).date()


def _latest(data: ClosedLoopData, table: str, column: str) -> dt.date | None:
    found = data.lazy(table).select(pl.col(column).max()).collect().item()
    if found is None:
        return None
    return found.date() if isinstance(found, dt.datetime) else found  # type: ignore[no-any-return]


def review(
    data: str | Path,
    *,
    every: Every = "month",
    out: str | Path = "reports/reviews",
    last: int = 3,
    until: dt.date | None = None,
    include_pii: bool = False,
    force: bool = False,
    template: str = TEMPLATE,
) -> Review:
    """Render one review per period and the index page listing them with headline deltas.

    Parameters
    ----------
    data
        A folder of exports or a store.
    every
        ``"week"`` (Monday–Sunday) or ``"month"``.
    out
        Output folder: ``review_<period>.html`` (+ notebook, manifest) and ``index.html``.
    last
        How many periods, ending with the last complete one by ``until``.
    until
        Default: the date of the latest touch in the data.
    include_pii
        Passed on to the reports (e-mails are hidden otherwise).
    force
        Render periods again even when their report exists.
    template
        The review template (``operating_review``: parameters ``start`` and ``end``).
    """
    from closedloop_kit.widgets import kpis

    loaded = open_data(data)
    end_date = until or data_end(loaded)
    from closedloop_kit.prepared import prepare

    prepared = prepare(loaded)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    pages: list[Path] = []
    frames: list[pl.DataFrame] = []
    for start, end in review_periods(every, until=end_date, last=last):
        label = period_label(every, start)
        name = f"review_{label}"
        page = folder / f"{name}.html"
        if force or not page.is_file():
            rep: Report = run(
                template,
                data=data,
                params={"start": start.isoformat(), "end": end.isoformat()},
                out=folder,
                name=name,
                include_pii=include_pii,
            )
            page = rep.html
        pages.append(page)
        frames.append(
            kpis(prepared, start=start, end=end).with_columns(
                pl.lit(label).alias("period"), pl.lit(page.name).alias("report")
            )
        )
    table = pl.concat(frames)
    index = folder / "index.html"
    index.write_text(
        index_page(table, every=every, currency=loaded.corporate_currency), encoding="utf-8"
    )
    return Review(index=index, reports=tuple(pages), kpis=table)


def index_page(table: pl.DataFrame, *, every: str, currency: str = "USD") -> str:
    """The review index: one section per period (newest first) with its KPI tiles."""
    from closedloop_kit.viz import kpi_tiles

    sections = []
    for label in reversed(table["period"].unique(maintain_order=True).to_list()):
        rows = table.filter(pl.col("period") == label)
        first: dict[str, Any] = rows.row(0, named=True)
        title = (
            f'<h2><a href="{html.escape(first["report"])}">{html.escape(label)}</a> '
            f"<small>{first['start']} to {first['end']} · change vs {first['previous_start']} "
            f"to {first['previous_end']}</small></h2>"
        )
        sections.append(title + kpi_tiles(rows, currency=currency).html)
    name = "Weekly" if every == "week" else "Monthly"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{name} reviews</title>\n<style>body{{font-family:system-ui,-apple-system,"
        "'Segoe UI',Roboto,Helvetica,Arial,sans-serif;max-width:1100px;margin:2rem auto;"
        "padding:0 1rem;color:#1f2328}h2 small{font-weight:normal;color:#57606a;"
        "font-size:.8rem}</style>\n</head>\n<body>\n"
        f"<h1>{name} reviews</h1>\n{''.join(sections)}\n</body>\n</html>\n"
    )
