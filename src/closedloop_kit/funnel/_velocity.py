"""``velocity``: days between consecutive stages, with still-open entities handled."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence

import polars as pl

from closedloop_kit._core.frames import collect, like, require_columns
from closedloop_kit._core.types import FrameT
from closedloop_kit.funnel._common import (
    as_list,
    as_of_value,
    days_between,
    funnel_stages,
    reached,
)

__all__ = ["velocity"]


def velocity(
    funnel: FrameT,
    *,
    by: str | Sequence[str] | None = None,
    stages: Sequence[str] | None = None,
    as_of: dt.datetime | dt.date | None = None,
    include_backfilled: bool = False,
    alpha: float = 0.05,
) -> FrameT:
    r"""Days between consecutive stages: quantiles among converters and a censored median.

    For each pair of consecutive stages :math:`(a, b)` and each group, among entities
    that reached :math:`a` with a timestamp:

    - ``n``, ``median_days``, ``p25_days``, ``p75_days``, ``p90_days``: the empirical
      quantiles (linear interpolation) of :math:`t_b - t_a` in days over the entities
      that reached :math:`b` — how long conversions *that happened* took;
    - ``n_backfilled``: conversions left out because :math:`t_a` or :math:`t_b` was
      back-filled (a skipped stage has no real duration); set
      ``include_backfilled=True`` to keep them;
    - ``n_open``: entities at :math:`a` that are still open and have not reached
      :math:`b` (their wait so far is censored), ``n_exited``: entities that left the
      funnel (lost/disqualified) from :math:`a`;
    - ``km_median_days`` (with ``km_ci_low``/``km_ci_high``): the Kaplan-Meier median of
      the time to reach :math:`b` where entities still open are censored at ``as_of``
      (default: the frame's ``observed_until``) and exited ones at their exit time —
      this is the estimate that *includes still-open entities*: a slow stage with many
      entities still waiting has a longer KM median than the converters' median. It is
      null when fewer than half are observed to convert (median not reached).

    Parameters
    ----------
    funnel
        A funnel frame from :meth:`closedloop_kit.Prepared.funnel`.
    by
        Column(s) to group by.
    stages
        Stages to use (default: all, in order).
    as_of
        Censoring time for open entities (default: ``observed_until``).
    include_backfilled
        Keep durations that involve a back-filled timestamp.
    alpha
        One minus the confidence level of the KM median interval.

    Returns
    -------
    polars frame
        ``<by>…, from_stage, to_stage, n_from, n, n_backfilled, n_open, n_exited,
        median_days, p25_days, p75_days, p90_days, km_median_days, km_ci_low,
        km_ci_high``; eager or lazy like ``funnel``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = lambda d: dt.datetime(2026, 1, d, tzinfo=dt.timezone.utc)
    >>> f = pl.DataFrame({"entity_id": list("abc"), "lead_at": [t(1), t(1), t(1)],
    ...     "lead_backfilled": [False] * 3, "won_at": [t(3), t(11), None],
    ...     "won_backfilled": [False] * 3, "is_open": [False, False, True],
    ...     "observed_until": [t(21)] * 3})
    >>> v = velocity(f)
    >>> v.select("n", "median_days", "n_open", "km_median_days").row(0)  # (2 + 10) / 2
    (2, 6.0, 1, 10.0)
    """
    from closedloop_kit.stats import kaplan_meier

    names = funnel_stages(funnel, stages, func="velocity")
    groups: list[str] = as_list(by)
    require_columns(funnel, groups, func="velocity")
    f = collect(funnel)
    end = as_of_value(f, as_of)
    is_open = pl.col("is_open") if "is_open" in f.columns else pl.lit(True)
    exit_at = (
        pl.col("exit_at") if "exit_at" in f.columns else pl.lit(None, pl.Datetime("us", "UTC"))
    )
    rows: list[dict[str, object]] = []
    parts: list[pl.DataFrame] = f.partition_by(groups, as_dict=False) if groups else [f]
    for part in parts:
        key = {g: part[g][0] for g in groups}
        for a, b in itertools.pairwise(names):
            at_a = part.filter(pl.col(f"{a}_at").is_not_null())
            conv = at_a.filter(pl.col(f"{b}_at").is_not_null())
            bf = pl.col(f"{a}_backfilled") | pl.col(f"{b}_backfilled")
            kept = conv if include_backfilled else conv.filter(bf.not_())
            d = kept.select(days_between(pl.col(f"{a}_at"), pl.col(f"{b}_at")).alias("d"))["d"]
            waiting = at_a.filter(reached(b).not_())
            n_open = int(waiting.select(is_open.sum()).item() or 0)
            # KM: event = reached b; open censored at `end`, exited censored at exit time
            ev = kept.select(
                days_between(pl.col(f"{a}_at"), pl.col(f"{b}_at")).alias("d"),
                pl.lit(True).alias("e"),
            )
            cens = waiting.select(
                days_between(
                    pl.col(f"{a}_at"),
                    pl.when(is_open).then(pl.lit(end)).otherwise(pl.coalesce(exit_at, pl.lit(end))),
                ).alias("d"),
                pl.lit(False).alias("e"),
            )
            km = pl.concat([ev, cens]).with_columns(pl.col("d").clip(lower_bound=0.0))
            km = km.filter(pl.col("d").is_not_null())
            med, lo, hi = (
                kaplan_meier(km["d"].to_numpy(), km["e"].to_numpy(), alpha=alpha).quantile(0.5)
                if km.height
                else (math.nan, math.nan, math.nan)
            )
            q = {
                p: (float(d.quantile(p, interpolation="linear")) if d.len() else None)  # type: ignore[arg-type]
                for p in (0.25, 0.5, 0.75, 0.9)
            }
            rows.append(
                {
                    **key,
                    "from_stage": a,
                    "to_stage": b,
                    "n_from": at_a.height,
                    "n": d.len(),
                    "n_backfilled": conv.height - kept.height if not include_backfilled else 0,
                    "n_open": n_open,
                    "n_exited": waiting.height - n_open,
                    "median_days": q[0.5],
                    "p25_days": q[0.25],
                    "p75_days": q[0.75],
                    "p90_days": q[0.9],
                    "km_median_days": None if math.isnan(med) else med,
                    "km_ci_low": None if math.isnan(lo) else lo,
                    "km_ci_high": None if math.isnan(hi) or math.isinf(hi) else hi,
                }
            )
    schema: dict[str, pl.DataType] = {g: f.schema[g] for g in groups}
    schema.update(
        from_stage=pl.String(),
        to_stage=pl.String(),
        n_from=pl.Int64(),
        n=pl.Int64(),
        n_backfilled=pl.Int64(),
        n_open=pl.Int64(),
        n_exited=pl.Int64(),
        median_days=pl.Float64(),
        p25_days=pl.Float64(),
        p75_days=pl.Float64(),
        p90_days=pl.Float64(),
        km_median_days=pl.Float64(),
        km_ci_low=pl.Float64(),
        km_ci_high=pl.Float64(),
    )
    out = pl.DataFrame(rows, schema=schema)
    if groups:
        order = {s: i for i, s in enumerate(names)}
        out = out.sort([*groups, pl.col("from_stage").replace_strict(order)])
    return like(funnel, out)
