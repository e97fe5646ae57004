"""``conversion``: stage counts and conversion rates with Wilson intervals and tests."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from closedloop_kit._core.frames import collect, like, require_columns
from closedloop_kit._core.result import Result, frames_html
from closedloop_kit._core.types import AnyFrame, FrameT, Period
from closedloop_kit.config import FiscalCalendar
from closedloop_kit.funnel._common import as_list, funnel_stages, reached

__all__ = ["ConversionResult", "conversion"]


@dataclass(frozen=True)
class ConversionResult(Result):
    """Stage counts, conversion rates with confidence intervals, and tests between groups.

    Attributes
    ----------
    counts
        ``<groups>…, stage, stage_index, n``: entities reaching each stage.
    rates
        ``<groups>…, kind, from_stage, to_stage, n_from, n_to, rate, ci_low, ci_high``;
        ``kind`` is ``"stage_to_stage"`` (consecutive stages) or ``"overall"`` (from
        the first stage).
    tests
        ``[<by>…], kind, from_stage, to_stage, test, statistic, p_value, df, n_groups,
        small_sample, significant``: whether the rate differs between groups (or,
        with ``period``, between periods within each ``by`` group). Empty without
        ``by``/``period``.
    by, period, alpha, stages
        The parameters used.
    """

    counts: AnyFrame
    rates: AnyFrame
    tests: AnyFrame
    by: tuple[str, ...]
    period: str | None
    alpha: float
    stages: tuple[str, ...]

    @property
    def table(self) -> pl.DataFrame:  # type: ignore[override]
        """The main frame: stage-to-stage rates with intervals."""
        return collect(self.rates)

    def summary(self) -> pl.DataFrame:
        """Stage-to-stage rates with intervals (and the p-value of the group test)."""
        rates = collect(self.rates).filter(pl.col("kind") == "stage_to_stage")
        tests = collect(self.tests)
        if tests.height == 0:
            return rates
        keys = [c for c in tests.columns if c in rates.columns and c not in ("test",)]
        keys = [k for k in keys if k in ("kind", "from_stage", "to_stage", *self.by)]
        return rates.join(tests.select(*keys, "p_value"), on=keys, how="left")

    def _repr_html_(self) -> str:
        return frames_html(
            "ConversionResult",
            {"by": list(self.by), "period": self.period, "alpha": self.alpha},
            {"summary": self.summary(), "counts": collect(self.counts)},
        )


def conversion(
    funnel: FrameT,
    *,
    by: str | Sequence[str] | None = None,
    period: Period | None = None,
    alpha: float = 0.05,
    stages: Sequence[str] | None = None,
    fiscal: FiscalCalendar | None = None,
) -> ConversionResult:
    r"""Entities reaching each stage and conversion rates, with Wilson intervals and tests.

    For stages :math:`s_1, \dots, s_k`, :math:`n_i` is the number of entities that reached
    :math:`s_i` (timestamped or back-filled) and :math:`n_{i,j}` the number that reached
    both :math:`s_i` and :math:`s_j`. Skipped stages are back-filled, but an entity that
    *entered* the funnel at a later stage (a contact sales put straight on a deal) did not
    reach the stages before its entry, so it is in neither count of those pairs.

    - stage-to-stage rate :math:`r_i = n_{i,i+1} / n_i`;
    - overall rate :math:`R_i = n_{1,i} / n_1`;
    - Wilson interval of a rate :math:`\hat p = x/n` (see
      :func:`closedloop_kit.stats.proportion_ci`);
    - test of equal rates across groups: the two-proportion z-test for two groups,
      Pearson's chi-square test for more (:func:`closedloop_kit.stats.compare_proportions`);
      ``significant`` is ``p_value < alpha``.

    Rates are *naive*: entities still open count as not (yet) converted, so recent
    cohorts look worse; use :func:`closedloop_kit.funnel.cohorts` to compare like ages.

    Parameters
    ----------
    funnel
        A funnel frame from :meth:`closedloop_kit.Prepared.funnel` (eager or lazy; the
        result's frames are of the same kind).
    by
        Column(s) to group by (e.g. ``["product_line", "sales_division"]``).
    period
        Also group by the period (``"month"``, ``"quarter"``, ...) of the first stage's
        timestamp; tests then compare periods within each ``by`` group.
    alpha
        One minus the confidence level; also the significance level.
    stages
        Stages to use (default: every stage column of the frame, in order).
    fiscal
        Fiscal calendar for quarter and year labels.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> f = pl.DataFrame({"entity_id": ["a", "b", "c", "d"], "channel": ["x", "x", "y", "y"],
    ...     "lead_at": [t] * 4, "lead_backfilled": [False] * 4,
    ...     "won_at": [t, None, t, t], "won_backfilled": [False] * 4})
    >>> res = conversion(f)
    >>> res.rates.select("from_stage", "to_stage", "n_from", "n_to", "rate").row(0)
    ('lead', 'won', 4, 3, 0.75)
    >>> conversion(f, by="channel").tests.select("test", "n_groups").row(0)
    ('two_proportion_z', 2)
    """
    from closedloop_kit.stats import compare_proportions, proportion_ci

    names = funnel_stages(funnel, stages, func="conversion")
    groups: list[str] = as_list(by)
    require_columns(funnel, groups, func="conversion")
    f = collect(funnel)
    if period is not None:
        cal = fiscal or FiscalCalendar()
        f = f.with_columns(cal.period_expr(pl.col(f"{names[0]}_at"), period).alias("period"))
        groups = [*groups, "period"]
    reached_cols = [reached(s).cast(pl.Int64).sum().alias(s) for s in names]
    wide = f.group_by(groups).agg(reached_cols) if groups else f.select(reached_cols)
    wide = wide.sort(groups) if groups else wide
    counts = (
        wide.unpivot(index=groups, on=names, variable_name="stage", value_name="n")
        .with_columns(
            pl.col("stage")
            .replace_strict(names, list(range(len(names))), return_dtype=pl.Int64)
            .alias("stage_index")
        )
        .select(*groups, "stage", "stage_index", pl.col("n").cast(pl.Int64))
    )
    counts = counts.sort([*groups, "stage_index"])

    pairs = [("stage_to_stage", a, b) for a, b in itertools.pairwise(names)]
    pairs += [("overall", names[0], b) for b in names[2:]]
    # n_to counts entities that reached both stages: an entity that entered the funnel
    # after ``a`` (a contact sales put straight on a deal) is in neither count of the pair
    both = [
        (reached(a) & reached(b)).cast(pl.Int64).sum().alias(f"__{a}__{b}") for _, a, b in pairs
    ]
    pair_wide = f.group_by(groups).agg(both) if groups else f.select(both)
    pair_wide = (
        pair_wide.join(wide, on=groups)
        if groups
        else pl.concat([pair_wide, wide], how="horizontal")
    )
    frames = [
        pair_wide.select(
            *groups,
            pl.lit(kind).alias("kind"),
            pl.lit(a).alias("from_stage"),
            pl.lit(b).alias("to_stage"),
            pl.col(a).cast(pl.Int64).alias("n_from"),
            pl.col(f"__{a}__{b}").cast(pl.Int64).alias("n_to"),
        )
        for kind, a, b in pairs
    ]
    rates = pl.concat(frames)
    low, high = proportion_ci(rates["n_to"].to_numpy(), rates["n_from"].to_numpy(), alpha=alpha)
    rates = rates.with_columns(
        pl.when(pl.col("n_from") > 0).then(pl.col("n_to") / pl.col("n_from")).alias("rate"),
        pl.Series("ci_low", low).fill_nan(None),
        pl.Series("ci_high", high).fill_nan(None),
    )

    by_cols = as_list(by)
    test_rows: list[dict[str, object]] = []
    compare_over = "period" if period is not None else None
    if groups and (compare_over or by_cols):
        outer: list[str] = by_cols if compare_over else []
        parts: list[pl.DataFrame] = rates.partition_by(
            [*outer, "kind", "from_stage", "to_stage"], as_dict=False
        )
        for part in parts:
            t = compare_proportions(part["n_to"].to_numpy(), part["n_from"].to_numpy())
            row: dict[str, object] = {c: part[c][0] for c in outer}
            row.update(
                kind=part["kind"][0],
                from_stage=part["from_stage"][0],
                to_stage=part["to_stage"][0],
                test=t.test,
                statistic=t.statistic,
                p_value=t.p_value,
                df=t.df,
                n_groups=t.n_groups,
                small_sample=t.small_sample,
            )
            test_rows.append(row)
    schema: dict[str, pl.DataType] = {c: f.schema[c] for c in (by_cols if compare_over else [])}
    schema.update(
        kind=pl.String(),
        from_stage=pl.String(),
        to_stage=pl.String(),
        test=pl.String(),
        statistic=pl.Float64(),
        p_value=pl.Float64(),
        df=pl.Int64(),
        n_groups=pl.Int64(),
        small_sample=pl.Boolean(),
    )
    tests = pl.DataFrame(test_rows, schema=schema).with_columns(
        pl.col("statistic", "p_value").fill_nan(None)
    )
    tests = tests.with_columns((pl.col("p_value") < alpha).alias("significant"))
    return ConversionResult(
        counts=like(funnel, counts),
        rates=like(funnel, rates),
        tests=like(funnel, tests),
        by=tuple(by_cols),
        period=period,
        alpha=alpha,
        stages=tuple(names),
    )
