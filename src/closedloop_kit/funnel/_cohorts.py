"""``cohorts``: cohort conversion curves by age."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from closedloop_kit._core.frames import collect, like
from closedloop_kit._core.types import FrameT, Period
from closedloop_kit.config import FiscalCalendar
from closedloop_kit.funnel._common import as_list, as_of_value, funnel_stages

__all__ = ["cohorts", "period_index"]

_PERIODS = ("day", "week", "month", "quarter", "year")


def period_index(expr: pl.Expr, period: str, fiscal: FiscalCalendar) -> pl.Expr:
    """Integer index of the (fiscal) period of each timestamp (ages are differences)."""
    if period == "month":
        return expr.dt.year().cast(pl.Int64) * 12 + expr.dt.month().cast(pl.Int64) - 1
    if period == "quarter":
        return (
            fiscal.year_expr(expr).cast(pl.Int64) * 4 + fiscal.quarter_expr(expr).cast(pl.Int64) - 1
        )
    if period == "year":
        return fiscal.year_expr(expr).cast(pl.Int64)
    days = expr.dt.date().cast(pl.Int32).cast(pl.Int64)  # days since 1970-01-01 (a Thursday)
    if period == "week":
        return (days + 3) // 7  # weeks start on Monday
    if period == "day":
        return days
    msg = f"`period` must be one of {_PERIODS}, got {period!r}"
    raise ValueError(msg)


def cohorts(
    funnel: FrameT,
    *,
    period: Period = "month",
    stage: str | Sequence[str] | None = None,
    max_age: int | None = None,
    by: str | Sequence[str] | None = None,
    as_of: dt.datetime | dt.date | None = None,
    fiscal: FiscalCalendar | None = None,
) -> FrameT:
    r"""Cohort conversion curves: share of each cohort reaching a stage by age.

    A cohort is the entities whose first stage (e.g. ``raw_lead``) falls in one period.
    An entity's age at a stage is the number of periods between its first-stage period
    and its stage period. For cohort :math:`c`, stage :math:`s` and age :math:`a`:

    .. math::

        \text{share}_{c,s}(a) = \frac{\#\{i \in c : \text{age}_i(s) \le a\}}{|c|}

    Ages the data cannot have seen yet (the cohort's period plus :math:`a` is after the
    period of ``as_of``, default the frame's ``observed_until``) have ``observable``
    false and null ``n_reached``/``share``, so young cohorts are not mistaken for poor
    ones. Stages reached without any timestamp are not counted.

    Parameters
    ----------
    funnel
        A funnel frame from :meth:`closedloop_kit.Prepared.funnel`.
    period
        ``"month"`` (default), ``"quarter"``, ``"week"``, ``"day"`` or ``"year"``.
    stage
        Stage(s) to follow (default: every stage after the first).
    max_age
        Largest age in periods (default: the oldest cohort's observable age).
    by
        Extra column(s) to split cohorts by.
    as_of
        The data's end (default: ``observed_until``).
    fiscal
        Fiscal calendar for quarter and year periods.

    Returns
    -------
    polars frame
        ``<by>…, cohort, stage, age, n_cohort, n_reached, share, observable``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = lambda m, d: dt.datetime(2026, m, d, tzinfo=dt.timezone.utc)
    >>> f = pl.DataFrame({"entity_id": list("abc"),
    ...     "lead_at": [t(1, 5), t(1, 9), t(2, 1)], "lead_backfilled": [False] * 3,
    ...     "won_at": [t(1, 20), t(3, 2), None], "won_backfilled": [False] * 3,
    ...     "observed_until": [t(3, 31)] * 3})
    >>> cohorts(f).select("cohort", "age", "n_reached", "share", "observable").head(4)
    shape: (4, 5)
    ┌─────────┬─────┬───────────┬───────┬────────────┐
    │ cohort  ┆ age ┆ n_reached ┆ share ┆ observable │
    │ ---     ┆ --- ┆ ---       ┆ ---   ┆ ---        │
    │ str     ┆ i64 ┆ i64       ┆ f64   ┆ bool       │
    ╞═════════╪═════╪═══════════╪═══════╪════════════╡
    │ 2026-01 ┆ 0   ┆ 1         ┆ 0.5   ┆ true       │
    │ 2026-01 ┆ 1   ┆ 1         ┆ 0.5   ┆ true       │
    │ 2026-01 ┆ 2   ┆ 2         ┆ 1.0   ┆ true       │
    │ 2026-02 ┆ 0   ┆ 0         ┆ 0.0   ┆ true       │
    └─────────┴─────┴───────────┴───────┴────────────┘
    """
    names = funnel_stages(funnel, None, func="cohorts")
    follow = names[1:] if stage is None else as_list(stage)
    funnel_stages(funnel, follow, func="cohorts")
    groups: list[str] = as_list(by)
    if period not in _PERIODS:
        msg = f"`period` must be one of {_PERIODS}, got {period!r}"
        raise ValueError(msg)
    cal = fiscal or FiscalCalendar()
    f = collect(funnel)
    end = as_of_value(f, as_of)
    first = pl.col(f"{names[0]}_at")
    f = f.filter(first.is_not_null()).with_columns(
        cal.period_expr(first, period).alias("cohort"),
        period_index(first, period, cal).alias("_c_idx"),
    )
    end_idx = int(pl.select(period_index(pl.lit(end), period, cal)).item())
    keys: list[str] = [*groups, "cohort"]
    sizes = f.group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("n_cohort"), pl.col("_c_idx").first().alias("_c_idx")
    )
    oldest = end_idx - int(sizes.select(pl.col("_c_idx").min()).item()) if sizes.height else 0
    top = oldest if max_age is None else int(max_age)
    ages = pl.DataFrame({"age": list(range(top + 1))}, schema={"age": pl.Int64})
    stage_frame = pl.DataFrame({"stage": follow}, schema={"stage": pl.String})
    grid = sizes.join(stage_frame, how="cross").join(ages, how="cross")
    hits = pl.concat(
        [
            f.filter(pl.col(f"{s}_at").is_not_null()).select(
                *keys,
                pl.lit(s).alias("stage"),
                (period_index(pl.col(f"{s}_at"), period, cal) - pl.col("_c_idx"))
                .clip(lower_bound=0)
                .alias("age"),
            )
            for s in follow
        ]
    )
    hits = hits.group_by([*keys, "stage", "age"]).agg(pl.len().cast(pl.Int64).alias("_n"))
    out = grid.join(hits, on=[*keys, "stage", "age"], how="left").with_columns(
        pl.col("_n").fill_null(0)
    )
    out = out.sort([*keys, "stage", "age"]).with_columns(
        pl.col("_n").cum_sum().over([*keys, "stage"]).alias("n_reached"),
        ((pl.col("_c_idx") + pl.col("age")) <= end_idx).alias("observable"),
    )
    out = out.with_columns(
        pl.when("observable").then(pl.col("n_reached")).alias("n_reached"),
    ).with_columns((pl.col("n_reached") / pl.col("n_cohort")).alias("share"))
    order = {s: i for i, s in enumerate(follow)}
    out = out.sort([*keys, pl.col("stage").replace_strict(order), "age"])
    return like(
        funnel,
        out.select(*keys, "stage", "age", "n_cohort", "n_reached", "share", "observable"),
    )
