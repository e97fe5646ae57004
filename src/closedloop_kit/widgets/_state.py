"""What the explorer shows, as pure functions of the data and the chosen filters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, cast

import polars as pl

if TYPE_CHECKING:
    from closedloop_kit.prepared import Prepared

__all__ = [
    "ExplorerState",
    "ExplorerView",
    "compute_view",
    "filter_journeys",
    "options",
    "periods",
]


@dataclass(frozen=True)
class ExplorerState:
    """The explorer's choices (every control of :func:`closedloop_kit.widgets.explorer`)."""

    conversion: str = "opportunity"
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


def options(prepared: Prepared) -> dict[str, list[Any]]:
    """Choices offered by the explorer's filters, read from the prepared model.

    Product lines and divisions are the ones the model attributed to people and deals;
    channels are the classified channels of the touchpoints.
    """
    people = prepared.funnel("person")
    deals = prepared.funnel("opportunity")

    def distinct(column: str) -> list[str]:
        values = pl.concat([people.select(column), deals.select(column)])[column]
        return sorted(str(v) for v in values.drop_nulls().unique().to_list())

    touches = prepared.touchpoints
    lo, hi = touches["occurred_at"].min(), touches["occurred_at"].max()
    months: list[dt.date] = []
    if isinstance(lo, dt.datetime) and isinstance(hi, dt.datetime):
        months = (
            pl.date_range(lo.date().replace(day=1), hi.date().replace(day=1), "1mo", eager=True)
        ).to_list()
    return {
        "product_lines": distinct("product_line"),
        "divisions": distinct("sales_division"),
        "channels": sorted(str(c) for c in touches["channel"].drop_nulls().unique().to_list()),
        "campaigns": _campaign_options(prepared),
        "months": months,
        "periods": periods(months),
    }


def _campaign_options(prepared: Prepared) -> list[tuple[str, str]]:
    """``(name, campaign_id)`` of the campaigns touches were placed on, sorted by name."""
    touched = prepared.touchpoints.select(pl.col("campaign_id").drop_nulls().unique())
    names = prepared.data.frame("campaigns")
    if "name" not in names.columns:
        return sorted((str(c), str(c)) for c in touched.to_series().to_list())
    pairs = touched.join(
        names.select("campaign_id", "name"), on="campaign_id", how="left"
    ).with_columns(pl.coalesce("name", "campaign_id").alias("name"))
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


def _period(state: ExplorerState) -> tuple[dt.date, dt.date] | None:
    if state.start is None and state.end is None:
        return None
    start = state.start or dt.date(1900, 1, 1)
    end = (state.end or dt.date(2999, 12, 31)) + dt.timedelta(days=1)
    return start, end


def _segment(frame: pl.DataFrame, state: ExplorerState) -> pl.DataFrame:
    if state.product_lines:
        frame = frame.filter(pl.col("product_line").is_in(list(state.product_lines)))
    if state.divisions:
        frame = frame.filter(pl.col("sales_division").is_in(list(state.divisions)))
    return frame


def filter_journeys(prepared: Prepared, state: ExplorerState) -> pl.DataFrame:
    """Journeys for the state: conversion, level, lookback, period, segment and channels.

    The period keeps journeys converting in it (and open ones overlapping it); the
    segment keeps journeys whose entity (person, deal or account) the model placed in
    the chosen product lines and divisions; channels keep only those touches.
    """
    journeys = prepared.journeys(
        conversion=state.conversion,
        level=cast(Literal["person", "account"], state.level),
        lookback=f"{state.lookback_days}d",
        period=_period(state),
    )
    if state.product_lines or state.divisions:
        grains: tuple[Literal["person", "account", "opportunity"], ...] = (
            ("person",) if state.level == "person" else ("opportunity", "account")
        )
        keep = pl.concat([_segment(prepared.funnel(g), state).select("entity_id") for g in grains])
        journeys = journeys.join(keep, left_on="journey_id", right_on="entity_id", how="semi")
    if state.channels:
        journeys = journeys.filter(pl.col("channel").is_in(list(state.channels)))
    if state.campaigns:
        journeys = journeys.filter(pl.col("campaign_id").is_in(list(state.campaigns)))
    return journeys


def compute_view(prepared: Prepared, state: ExplorerState) -> ExplorerView:
    """Attribution credit per channel and funnel conversion for one explorer state."""
    from closedloop_kit import attribution, funnel

    notes: list[str] = []
    journeys = filter_journeys(prepared, state)
    n_journeys = journeys["journey_id"].n_unique() if journeys.height else 0
    converting = journeys.filter(pl.col("converted"))
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
    grain = cast(Literal["person", "account"], state.level)
    frame = _segment(prepared.funnel(grain, period=_period(state)), state)
    if frame.height:
        rates = funnel.conversion(frame).table
    else:
        rates = pl.DataFrame()
        notes.append("no funnel entities for these filters")
    return ExplorerView(state, credit, rates, int(n_journeys), int(n_conv), tuple(notes))
