"""What the explorer shows, as pure functions of the data and the chosen filters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, cast

import polars as pl

if TYPE_CHECKING:
    from closedloop_kit.store import ClosedLoopData

__all__ = [
    "ExplorerState",
    "ExplorerView",
    "compute_view",
    "filter_data",
    "options",
    "periods",
]


@dataclass(frozen=True)
class ExplorerState:
    """The explorer's choices (every control of :func:`closedloop_kit.widgets.explorer`)."""

    conversion: str = "opportunity_created"
    level: str = "account"
    model: str = "linear"
    lookback_days: int = 180
    start: dt.date | None = None
    end: dt.date | None = None
    product_lines: tuple[str, ...] = ()
    divisions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()

    def with_(self, **changes: Any) -> ExplorerState:
        """A copy with some choices changed."""
        return replace(self, **changes)


@dataclass(frozen=True)
class ExplorerView:
    """The frames the explorer displays for one state."""

    state: ExplorerState
    credit: pl.DataFrame
    rates: pl.DataFrame
    n_journeys: int
    n_converting: int
    notes: tuple[str, ...] = field(default=())


def options(data: ClosedLoopData) -> dict[str, list[Any]]:
    """Choices offered by the explorer's filters, read from the data."""

    def distinct(table: str, column: str) -> list[str]:
        frame = data.lazy(table)
        if column not in frame.collect_schema().names():
            return []
        values = frame.select(pl.col(column).drop_nulls().unique()).collect().to_series()
        return sorted(str(v) for v in values.to_list())

    dates = (
        data.lazy("touchpoints")
        .select(pl.col("occurred_at").min().alias("lo"), pl.col("occurred_at").max().alias("hi"))
        .collect()
    )
    lo, hi = dates.row(0)
    months: list[dt.date] = []
    if lo is not None and hi is not None:
        months = (
            pl.date_range(lo.date().replace(day=1), hi.date().replace(day=1), "1mo", eager=True)
        ).to_list()
    return {
        "product_lines": distinct("opportunities", "product_line"),
        "divisions": distinct("opportunities", "sales_division"),
        "channels": distinct("touchpoints", "channel"),
        "campaigns": _campaign_options(data),
        "months": months,
        "periods": periods(months),
    }


def _campaign_options(data: ClosedLoopData) -> list[tuple[str, str]]:
    """``(name, campaign_id)`` of the campaigns that have touches, sorted by name."""
    touched = data.lazy("touchpoints").select(pl.col("campaign_id").drop_nulls().unique())
    names = data.lazy("campaigns")
    if "name" not in names.collect_schema().names():
        found = touched.collect().to_series().to_list()
        return sorted((str(c), str(c)) for c in found)
    pairs = (
        touched.join(names.select("campaign_id", "name"), on="campaign_id", how="left")
        .with_columns(pl.coalesce("name", "campaign_id").alias("name"))
        .collect()
    )
    return sorted(zip(pairs["name"].to_list(), pairs["campaign_id"].to_list(), strict=True))


def periods(months: list[dt.date]) -> list[tuple[str, tuple[dt.date, dt.date]]]:
    """``(label, (start, end))`` of every calendar quarter and month in ``months``, newest first.

    Examples
    --------
    >>> import datetime as dt
    >>> from closedloop_kit.widgets import periods
    >>> [label for label, _ in periods([dt.date(2026, 3, 1), dt.date(2026, 4, 1)])]
    ['2026Q2', '2026Q1', '2026-04', '2026-03']
    """
    quarters: dict[str, tuple[dt.date, dt.date]] = {}
    monthly: list[tuple[str, tuple[dt.date, dt.date]]] = []
    for m in months:
        q = (m.month - 1) // 3
        q_start = dt.date(m.year, 3 * q + 1, 1)
        quarters[f"{m.year}Q{q + 1}"] = (q_start, _month_end(dt.date(m.year, 3 * q + 3, 1)))
        monthly.append((m.strftime("%Y-%m"), (m, _month_end(m))))
    ordered = sorted(quarters.items(), key=lambda kv: kv[1][0], reverse=True)
    return [*ordered, *sorted(monthly, key=lambda kv: kv[1][0], reverse=True)]


def _month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def filter_data(data: ClosedLoopData, state: ExplorerState) -> ClosedLoopData:
    """The data restricted to the chosen date range, product lines, divisions and channels.

    Opportunities are filtered by ``product_line``, ``sales_division`` and ``created_at``;
    touchpoints by ``channel``, ``campaign_id`` and ``occurred_at``; spend by
    ``campaign_id`` and ``date``. Other tables are unchanged.
    """
    opps = data.lazy("opportunities")
    touches = data.lazy("touchpoints")
    if state.product_lines:
        opps = opps.filter(pl.col("product_line").is_in(list(state.product_lines)))
    if state.divisions:
        opps = opps.filter(pl.col("sales_division").is_in(list(state.divisions)))
    spend = data.lazy("spend")
    if state.channels:
        touches = touches.filter(pl.col("channel").is_in(list(state.channels)))
    if state.campaigns:
        touches = touches.filter(pl.col("campaign_id").is_in(list(state.campaigns)))
        spend = spend.filter(pl.col("campaign_id").is_in(list(state.campaigns)))
    if state.start is not None:
        opps = opps.filter(pl.col("created_at").dt.date() >= state.start)
        touches = touches.filter(pl.col("occurred_at").dt.date() >= state.start)
    if state.end is not None:
        opps = opps.filter(pl.col("created_at").dt.date() <= state.end)
        touches = touches.filter(pl.col("occurred_at").dt.date() <= state.end)
    tables = {"opportunities": opps.collect(), "touchpoints": touches.collect()}
    if state.campaigns:
        tables["spend"] = spend.collect()
    return data.with_tables(**tables)


def compute_view(data: ClosedLoopData, state: ExplorerState) -> ExplorerView:
    """Attribution credit per channel and funnel conversion for one explorer state."""
    from closedloop_kit import attribution, funnel

    sub = filter_data(data, state)
    notes: list[str] = []
    journeys = attribution.journeys(
        sub,
        conversion=state.conversion,
        level=cast(Literal["person", "account"], state.level),
        lookback=f"{state.lookback_days}d",
    )
    n_journeys = journeys["journey_id"].n_unique() if journeys.height else 0
    converting = (
        journeys.filter(pl.col("converted")) if "converted" in journeys.columns else journeys
    )
    n_conv = converting["journey_id"].n_unique() if converting.height else 0
    if n_conv:
        credit = attribution.attribute(journeys, model=state.model).channels.sort(
            "share", descending=True
        )
    else:
        credit = pl.DataFrame(
            schema={
                "channel": pl.String,
                "conversions": pl.Float64,
                "value": pl.Float64,
                "share": pl.Float64,
            }
        )
        notes.append("no converting journeys for these filters")
    try:
        built = funnel.build(sub, grain=cast(Literal["person", "account"], state.level))
        frame = built.collect() if isinstance(built, pl.LazyFrame) else built
        found = funnel.conversion(frame).rates
        rates = found.collect() if isinstance(found, pl.LazyFrame) else found
    except (ValueError, KeyError) as exc:  # empty selections have no funnel
        rates = pl.DataFrame()
        notes.append(f"funnel unavailable: {exc}")
    return ExplorerView(state, credit, rates, int(n_journeys), int(n_conv), tuple(notes))
