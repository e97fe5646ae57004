"""``time_to_close``: Kaplan-Meier time from lead or opportunity to close, open deals censored."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from closedloop_kit._core.frames import collect, like, require_columns
from closedloop_kit._core.result import Result, frames_html
from closedloop_kit._core.types import AnyFrame, FrameT, Period
from closedloop_kit.funnel._common import (
    PERIOD_DAYS,
    as_list,
    as_of_value,
    days_between,
    funnel_stages,
)

__all__ = ["TimeToCloseResult", "time_to_close"]

Event = Literal["closed", "won"]
QUANTILES = (0.25, 0.5, 0.75, 0.9)


@dataclass(frozen=True)
class TimeToCloseResult(Result):
    r"""Kaplan-Meier time to close: quantiles, survival curve and timing distribution.

    Attributes
    ----------
    quantiles
        ``<by>…, quantile, days, ci_low, ci_high``: days by which a share ``quantile``
        of entities has closed (0.25, 0.5, 0.75, 0.9); null when not reached,
        ``ci_high`` null when unbounded.
    counts
        ``<by>…, n, n_won, n_lost, n_open, n_no_time``: entities that reached the start
        stage with a timestamp, how they ended, and exited entities left out because
        their exit has no timestamp.
    survival
        ``<by>…, days, survival, ci_low, ci_high, n_risk, n_events``: the KM curve
        :math:`\hat S(t)` (share not yet closed), starting with a row at day 0.
    distribution
        ``<by>…, period_index, start_days, end_days, share_closed, share_won,
        share_lost, cum_share_closed, cum_share_won, share_of_won``: for period ``k``
        after the start (``[k·L, (k+1)·L)`` days, ``L`` the period length), the share of
        *all* started entities that close in it (Kaplan-Meier increments of
        :math:`1-\hat S`), split into won and lost with Aalen-Johansen cumulative
        incidences, and ``share_of_won``: the share of eventual wins that land in
        period ``k`` (``share_won / cum_share_won`` at the last period) — the timing
        profile used to schedule funding ahead of bookings.
    start, event, by, period, alpha, as_of
        The parameters used.
    """

    quantiles: AnyFrame
    counts: AnyFrame
    survival: AnyFrame
    distribution: AnyFrame
    start: str
    event: str
    by: tuple[str, ...]
    period: str
    alpha: float
    as_of: dt.datetime

    @property
    def table(self) -> pl.DataFrame:  # type: ignore[override]
        """The main frame: time-to-close quantiles."""
        return collect(self.quantiles)

    def summary(self) -> pl.DataFrame:
        """Counts with the median and p90 days (and their intervals) per group."""
        q = collect(self.quantiles)
        wide = q.filter(pl.col("quantile").is_in([0.5, 0.9])).with_columns(
            pl.format("p{}", (pl.col("quantile") * 100).round().cast(pl.Int64)).alias("q")
        )
        keys = list(self.by)
        parts = []
        for label in ("p50", "p90"):
            sub = wide.filter(pl.col("q") == label).select(
                *keys,
                pl.col("days").alias(f"{label}_days"),
                pl.col("ci_low").alias(f"{label}_ci_low"),
                pl.col("ci_high").alias(f"{label}_ci_high"),
            )
            parts.append(sub)
        out = collect(self.counts)
        for p in parts:
            out = (
                out.join(p, on=keys, how="left") if keys else pl.concat([out, p], how="horizontal")
            )
        return out

    def _repr_html_(self) -> str:
        return frames_html(
            "TimeToCloseResult",
            {"start": self.start, "event": self.event, "by": list(self.by), "period": self.period},
            {"summary": self.summary(), "distribution": collect(self.distribution)},
        )


def _durations(
    part: pl.DataFrame, start: str, won: str, end: dt.datetime
) -> tuple[np.ndarray, np.ndarray, int]:
    """Durations (days) and causes (0 censored, 1 won, 2 exited) of one group."""
    s = part.filter(pl.col(f"{start}_at").is_not_null())
    exit_stage = pl.col("exit_stage") if "exit_stage" in s.columns else pl.lit(None, pl.String)
    exit_at = (
        pl.col("exit_at") if "exit_at" in s.columns else pl.lit(None, pl.Datetime("us", "UTC"))
    )
    won_at = pl.col(f"{won}_at")
    s = s.with_columns(
        pl.when(won_at.is_not_null())
        .then(1)
        .when(exit_stage.is_not_null() & exit_at.is_not_null())
        .then(2)
        .when(exit_stage.is_not_null())
        .then(-1)
        .otherwise(0)
        .alias("_cause"),
    )
    n_no_time = int((s["_cause"] == -1).sum())
    s = s.filter(pl.col("_cause") >= 0).with_columns(
        days_between(
            pl.col(f"{start}_at"),
            pl.when(pl.col("_cause") == 1)
            .then(won_at)
            .when(pl.col("_cause") == 2)
            .then(exit_at)
            .otherwise(pl.lit(end)),
        )
        .clip(lower_bound=0.0)
        .alias("_d")
    )
    return s["_d"].to_numpy(), s["_cause"].to_numpy(), n_no_time


def time_to_close(
    funnel: FrameT,
    *,
    by: str | Sequence[str] | None = None,
    start: str = "opportunity",
    won_stage: str | None = None,
    event: Event = "closed",
    alpha: float = 0.05,
    as_of: dt.datetime | dt.date | None = None,
    period: Period = "month",
) -> TimeToCloseResult:
    r"""Time from ``start`` (``"opportunity"`` or ``"raw_lead"``) to close, Kaplan-Meier.

    Every entity that reached ``start`` with a timestamp contributes a duration in days:
    to its won time, to its exit time (lost / disqualified), or — still open — to
    ``as_of`` (default: the frame's ``observed_until``, the data's end date), where it
    is *censored*. The survival curve is the product-limit estimator

    .. math::

        \hat S(t) = \prod_{t_j \le t} \left(1 - \frac{d_j}{n_j}\right)

    (:func:`closedloop_kit.stats.kaplan_meier`, statsmodels ``SurvfuncRight``), with
    ``event="closed"`` (default) counting both won and lost closes as events — the
    sales-cycle length — and ``event="won"`` counting only wins (lost and disqualified
    entities are then censored at their exit: the cause-specific curve). The ``p``
    quantile is the first time with :math:`\hat S(t) < 1-p`, with Brookmeyer-Crowley
    log-log intervals. The won/lost split of the timing distribution uses the
    Aalen-Johansen cumulative incidence :math:`\hat F_k(t) = \sum_{t_j \le t}
    \hat S(t_{j-1})\, d_{kj}/n_j` (:func:`closedloop_kit.stats.cumulative_incidence`).

    Parameters
    ----------
    funnel
        A funnel frame from :meth:`closedloop_kit.Prepared.funnel`.
    by
        Column(s) to group by.
    start
        Stage the clock starts at (default ``"opportunity"``; ``"raw_lead"`` for
        lead-to-close).
    won_stage
        The won stage (default: the last stage of the frame).
    event
        ``"closed"`` (won or exited) or ``"won"``.
    alpha
        One minus the confidence level.
    as_of
        Censoring time for open entities.
    period
        Length of the periods of ``distribution`` (``"month"`` = 30.4375 days,
        ``"quarter"`` = 91.3125, ``"week"``, ``"day"``, ``"year"``).

    Returns
    -------
    TimeToCloseResult
        See its attributes for the frame shapes.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = lambda d: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=d)
    >>> f = pl.DataFrame({"entity_id": list("abcd"), "opportunity_at": [t(0)] * 4,
    ...     "opportunity_backfilled": [False] * 4,
    ...     "won_at": [t(30), None, t(90), None], "won_backfilled": [False] * 4,
    ...     "exit_stage": [None, "lost", None, None], "exit_at": [None, t(60), None, None],
    ...     "observed_until": [t(120)] * 4})
    >>> res = time_to_close(f)
    >>> res.counts.row(0)  # d is open, censored at day 120
    (4, 2, 1, 1, 0)
    >>> res.quantiles.filter(pl.col("quantile") == 0.5)["days"].item()  # S(60) = 2/4
    90.0
    """
    from closedloop_kit.stats import cumulative_incidence, kaplan_meier

    names = funnel_stages(funnel, None, func="time_to_close")
    won = won_stage or names[-1]
    funnel_stages(funnel, [start, won], func="time_to_close")
    if event not in ("closed", "won"):
        msg = f"`event` must be one of ('closed', 'won'), got {event!r}"
        raise ValueError(msg)
    if period not in PERIOD_DAYS:
        msg = f"`period` must be one of {tuple(PERIOD_DAYS)}, got {period!r}"
        raise ValueError(msg)
    groups: list[str] = as_list(by)
    require_columns(funnel, groups, func="time_to_close")
    f = collect(funnel)
    end = as_of_value(f, as_of)
    length = PERIOD_DAYS[period]
    parts: list[pl.DataFrame] = f.partition_by(groups, as_dict=False) if groups else [f]
    q_rows: list[dict[str, object]] = []
    c_rows: list[dict[str, object]] = []
    s_rows: list[dict[str, object]] = []
    d_rows: list[dict[str, object]] = []
    for part in parts:
        key = {g: part[g][0] for g in groups}
        d, cause, n_no_time = _durations(part, start, won, end)
        c_rows.append(
            {
                **key,
                "n": int(d.size),
                "n_won": int((cause == 1).sum()),
                "n_lost": int((cause == 2).sum()),
                "n_open": int((cause == 0).sum()),
                "n_no_time": n_no_time,
            }
        )
        observed = cause > 0 if event == "closed" else cause == 1
        fit = kaplan_meier(d, observed, alpha=alpha)
        for p in QUANTILES:
            est, lo, hi = fit.quantile(p)
            q_rows.append(
                {
                    **key,
                    "quantile": p,
                    "days": None if math.isnan(est) else est,
                    "ci_low": None if math.isnan(lo) else lo,
                    "ci_high": None if (math.isnan(hi) or math.isinf(hi)) else hi,
                }
            )
        s_rows.append(
            {
                **key,
                "days": 0.0,
                "survival": 1.0,
                "ci_low": 1.0,
                "ci_high": 1.0,
                "n_risk": float(d.size),
                "n_events": 0.0,
            }
        )
        for i in range(fit.times.size):
            s_rows.append(
                {
                    **key,
                    "days": float(fit.times[i]),
                    "survival": float(fit.survival[i]),
                    "ci_low": float(fit.ci_low[i]),
                    "ci_high": float(fit.ci_high[i]),
                    "n_risk": float(fit.n_risk[i]),
                    "n_events": float(fit.n_events[i]),
                }
            )
        # timing distribution: all-cause KM increments and Aalen-Johansen by outcome
        if d.size == 0:
            continue
        causes = cause if event == "closed" else np.where(cause == 1, 1, 0)
        t_won, f_won = cumulative_incidence(d, causes, cause=1)
        t_lost, f_lost = cumulative_incidence(d, causes, cause=2)
        n_periods = math.floor(float(d.max()) / length) + 1

        def at(times: np.ndarray, values: np.ndarray, x: float) -> float:
            idx = int(np.searchsorted(times, x, side="left")) - 1  # events strictly before x
            return float(values[idx]) if idx >= 0 else 0.0

        total_won = float(f_won[-1]) if f_won.size else 0.0
        prev_w = prev_l = 0.0
        for k in range(n_periods):
            hi_edge = (k + 1) * length
            w = at(t_won, f_won, hi_edge)
            lo_ = at(t_lost, f_lost, hi_edge)
            d_rows.append(
                {
                    **key,
                    "period_index": k,
                    "start_days": k * length,
                    "end_days": hi_edge,
                    "share_closed": (w - prev_w) + (lo_ - prev_l),
                    "share_won": w - prev_w,
                    "share_lost": lo_ - prev_l,
                    "cum_share_closed": w + lo_,
                    "cum_share_won": w,
                    "share_of_won": (w - prev_w) / total_won if total_won > 0 else None,
                }
            )
            prev_w, prev_l = w, lo_
    key_schema: dict[str, pl.DataType] = {g: f.schema[g] for g in groups}
    quantiles = pl.DataFrame(
        q_rows,
        schema={
            **key_schema,
            "quantile": pl.Float64(),
            "days": pl.Float64(),
            "ci_low": pl.Float64(),
            "ci_high": pl.Float64(),
        },
    )
    counts = pl.DataFrame(
        c_rows,
        schema={
            **key_schema,
            "n": pl.Int64(),
            "n_won": pl.Int64(),
            "n_lost": pl.Int64(),
            "n_open": pl.Int64(),
            "n_no_time": pl.Int64(),
        },
    )
    survival = pl.DataFrame(
        s_rows,
        schema={
            **key_schema,
            "days": pl.Float64(),
            "survival": pl.Float64(),
            "ci_low": pl.Float64(),
            "ci_high": pl.Float64(),
            "n_risk": pl.Float64(),
            "n_events": pl.Float64(),
        },
    )
    distribution = pl.DataFrame(
        d_rows,
        schema={
            **key_schema,
            "period_index": pl.Int64(),
            "start_days": pl.Float64(),
            "end_days": pl.Float64(),
            "share_closed": pl.Float64(),
            "share_won": pl.Float64(),
            "share_lost": pl.Float64(),
            "cum_share_closed": pl.Float64(),
            "cum_share_won": pl.Float64(),
            "share_of_won": pl.Float64(),
        },
    )
    if groups:
        quantiles, counts, survival, distribution = (
            x.sort(groups, maintain_order=True) for x in (quantiles, counts, survival, distribution)
        )
    return TimeToCloseResult(
        quantiles=like(funnel, quantiles),
        counts=like(funnel, counts),
        survival=like(funnel, survival),
        distribution=like(funnel, distribution),
        start=start,
        event=event,
        by=tuple(groups),
        period=period,
        alpha=alpha,
        as_of=end,
    )
