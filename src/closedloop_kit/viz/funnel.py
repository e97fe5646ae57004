"""Funnel charts: stage counts, conversion with intervals, velocity, survival, cohorts, sourcing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from closedloop_kit.config import stage_label
from closedloop_kit.funnel import SOURCING_NAMES
from closedloop_kit.viz._common import (
    as_frame,
    first_present,
    group_columns,
    group_label,
    groups_title,
    stage_names,
    with_step,
)
from closedloop_kit.viz._theme import PERCENT_FORMAT, SEQUENTIAL, styled

__all__ = [
    "cohort_chart",
    "cohort_heatmap",
    "conversion_chart",
    "funnel_chart",
    "sourcing_chart",
    "survival_chart",
    "velocity_chart",
]

_RATE_COLS = ("kind", "from_stage", "to_stage", "n_from", "n_to", "rate", "ci_low", "ci_high")


def funnel_chart(
    result: Any,
    *,
    title: str = "Funnel: entities reaching each stage",
    labels: Mapping[str, str] | None = None,
) -> Any:
    """Stage counts (bars) beside stage-to-stage conversion with Wilson intervals.

    Parameters
    ----------
    result
        A :class:`~closedloop_kit.funnel.ConversionResult`, or its ``counts`` frame
        (``stage, stage_index, n`` plus optional group columns).
    title
        Chart title.
    labels
        Stage id → how it reads (e.g. ``prepared.taxonomy.labels``); default
        :data:`~closedloop_kit.config.STAGE_LABELS`, other ids with spaces for
        underscores (:func:`~closedloop_kit.config.stage_label`).

    Examples
    --------
    >>> import polars as pl, closedloop_kit as clk
    >>> counts = pl.DataFrame({"stage": ["lead", "mql", "won"], "stage_index": [0, 1, 2],
    ...                        "n": [100, 40, 8]})
    >>> spec = clk.viz.funnel_chart(counts).to_dict()
    >>> spec["hconcat"][0]["encoding"]["x"]["field"]
    'n'
    """
    import altair as alt

    counts = as_frame(result, "counts", func="funnel_chart")
    groups = group_columns(counts, ("stage", "stage_index", "n"))
    counts = stage_names(group_label(counts, groups), ["stage"], labels)
    order = counts.sort("stage_index")["stage"].unique(maintain_order=True).to_list()
    y = alt.Y("stage:N", sort=order, title=None)
    tooltip = [alt.Tooltip("stage:N"), alt.Tooltip("n:Q", title="entities", format=",")]
    if groups:
        tooltip.insert(0, alt.Tooltip("group:N"))
    left = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            y=y,
            # ",d": vega gives "," a precision from the tick step ("1e+2" for 100)
            x=alt.X("n:Q", title="Entities", axis=alt.Axis(format=",d", tickMinStep=1)),
            color=alt.Color(
                "group:N",
                title=groups_title(groups),
                legend=None if not groups else alt.Legend(),
            ),
            yOffset=alt.YOffset("group:N") if groups else alt.Undefined,
            tooltip=tooltip,
        )
        .properties(width=320)
    )
    rates = getattr(result, "rates", None)
    if rates is None:
        return styled(alt.hconcat(left), title=title)
    rates_f = as_frame(rates, func="funnel_chart").filter(pl.col("kind") == "stage_to_stage")
    rates_f = with_step(group_label(rates_f, [g for g in groups if g in rates_f.columns]), labels)
    return styled(
        alt.hconcat(left, _rate_panel(rates_f, "step", grouped=bool(groups))),
        title=title,
        subtitle=(
            "Bars: entities per stage. Points: stage-to-stage conversion, 95% Wilson interval."
        ),
    )


def _rate_panel(rates: pl.DataFrame, y_field: str, *, grouped: bool) -> Any:
    import altair as alt

    y = alt.Y(f"{y_field}:N", title=None, sort=None)
    color = alt.Color("group:N", legend=None) if grouped else alt.Undefined
    offset = alt.YOffset("group:N") if grouped else alt.Undefined
    tooltip = [
        alt.Tooltip(f"{y_field}:N", title="step"),
        alt.Tooltip("rate:Q", format=PERCENT_FORMAT),
        alt.Tooltip("ci_low:Q", title="CI low", format=PERCENT_FORMAT),
        alt.Tooltip("ci_high:Q", title="CI high", format=PERCENT_FORMAT),
        alt.Tooltip("n_from:Q", title="from", format=","),
        alt.Tooltip("n_to:Q", title="to", format=","),
    ]
    if grouped:
        tooltip.insert(0, alt.Tooltip("group:N"))
    base = alt.Chart(rates).encode(y=y, color=color, yOffset=offset, tooltip=tooltip)
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title="Conversion rate", axis=alt.Axis(format="%")), x2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=70).encode(x="rate:Q")
    return alt.layer(bars, points).properties(width=300)


def conversion_chart(
    result: Any,
    *,
    kind: str = "overall",
    to_stage: str | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Any:
    """Conversion rates by group with Wilson confidence intervals.

    Parameters
    ----------
    result
        A :class:`~closedloop_kit.funnel.ConversionResult` or its ``rates`` frame.
    kind
        ``"overall"`` (from the first stage) or ``"stage_to_stage"``.
    to_stage
        Keep only rates into this stage (default: every stage, one row each).
    title
        Chart title.
    labels
        Stage id → how it reads (e.g. ``prepared.taxonomy.labels``); default
        :data:`~closedloop_kit.config.STAGE_LABELS`, other ids with spaces for
        underscores (:func:`~closedloop_kit.config.stage_label`).

    Examples
    --------
    >>> import polars as pl, closedloop_kit as clk
    >>> rates = pl.DataFrame({"channel": ["Email", "Paid Search"], "kind": ["overall"] * 2,
    ...     "from_stage": ["lead"] * 2, "to_stage": ["won"] * 2, "n_from": [50, 80],
    ...     "n_to": [5, 4], "rate": [0.1, 0.05], "ci_low": [0.04, 0.02], "ci_high": [0.21, 0.12]})
    >>> spec = clk.viz.conversion_chart(rates).to_dict()
    >>> spec["layer"][1]["encoding"]["x"]["field"]
    'rate'
    """
    import altair as alt

    rates = as_frame(result, "rates", func="conversion_chart")
    first_present(rates, ("rate",), func="conversion_chart", role="rate")
    rates = rates.filter(pl.col("kind") == kind) if "kind" in rates.columns else rates
    if to_stage is not None:
        rates = rates.filter(pl.col("to_stage") == to_stage)
    groups = group_columns(rates, _RATE_COLS)
    rates = with_step(group_label(rates, groups), labels)
    tooltip = [
        alt.Tooltip("group:N", title=groups_title(groups) or "group"),
        alt.Tooltip("step:N"),
        alt.Tooltip("rate:Q", format=PERCENT_FORMAT),
        alt.Tooltip("ci_low:Q", title="CI low", format=PERCENT_FORMAT),
        alt.Tooltip("ci_high:Q", title="CI high", format=PERCENT_FORMAT),
        alt.Tooltip("n_from:Q", title="n", format=","),
    ]
    base = alt.Chart(rates).encode(
        y=alt.Y("group:N", title=groups_title(groups), sort="-x"),
        color=alt.Color("step:N", title="Step"),
        yOffset=alt.YOffset("step:N"),
        tooltip=tooltip,
    )
    rule = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title="Conversion rate", axis=alt.Axis(format="%")), x2="ci_high:Q"
    )
    point = base.mark_point(filled=True, size=70).encode(x="rate:Q")
    name = "overall" if kind == "overall" else "stage-to-stage"
    return styled(
        alt.layer(rule, point).properties(width=420),
        title=title or f"Conversion ({name}) by {(groups_title(groups) or 'group').lower()}",
        subtitle="Point: observed rate; line: 95% Wilson interval.",
    )


def velocity_chart(
    frame: Any,
    *,
    title: str = "Velocity: days between stages",
    labels: Mapping[str, str] | None = None,
) -> Any:
    """Median days per stage transition with the p25–p75 range (and p90 tick).

    Parameters
    ----------
    frame
        The frame of :func:`closedloop_kit.funnel.velocity`.
    title
        Chart title.
    labels
        Stage id → how it reads (e.g. ``prepared.taxonomy.labels``); default
        :data:`~closedloop_kit.config.STAGE_LABELS`, other ids with spaces for
        underscores (:func:`~closedloop_kit.config.stage_label`).

    Examples
    --------
    >>> import polars as pl, closedloop_kit as clk
    >>> v = pl.DataFrame({"from_stage": ["lead"], "to_stage": ["won"], "n": [20],
    ...     "median_days": [30.0], "p25_days": [12.0], "p75_days": [55.0], "p90_days": [90.0]})
    >>> clk.viz.velocity_chart(v).to_dict()["layer"][1]["encoding"]["x"]["field"]
    'median_days'
    """
    import altair as alt

    v = as_frame(frame, "velocity", "frame", func="velocity_chart")
    known = (
        "from_stage", "to_stage", "n_from", "n", "n_backfilled", "n_open", "n_exited",
        "median_days", "p25_days", "p75_days", "p90_days", "km_median_days", "km_ci_low",
        "km_ci_high",
    )  # fmt: skip
    groups = group_columns(v, known)
    v = with_step(group_label(v, groups), labels)
    tooltip = [
        alt.Tooltip("step:N"),
        alt.Tooltip("median_days:Q", title="median days", format=".0f"),
        alt.Tooltip("p25_days:Q", title="p25", format=".0f"),
        alt.Tooltip("p75_days:Q", title="p75", format=".0f"),
        alt.Tooltip("p90_days:Q", title="p90", format=".0f"),
        alt.Tooltip("n:Q", title="entities", format=","),
    ]
    if groups:
        tooltip.insert(0, alt.Tooltip("group:N"))
    base = alt.Chart(v).encode(
        y=alt.Y("step:N", title=None, sort=None),
        yOffset=alt.YOffset("group:N") if groups else alt.Undefined,
        color=alt.Color("group:N", title=groups_title(groups)) if groups else alt.Undefined,
        tooltip=tooltip,
    )
    iqr = base.mark_bar(opacity=0.35, height=10).encode(
        x=alt.X("p25_days:Q", title="Days"), x2="p75_days:Q"
    )
    median = base.mark_point(filled=True, size=80, shape="diamond").encode(x="median_days:Q")
    p90 = base.mark_tick(thickness=2).encode(x="p90_days:Q")
    return styled(
        alt.layer(iqr, median, p90).properties(width=440),
        title=title,
        subtitle="Diamond: median; bar: 25th–75th percentile; tick: 90th percentile.",
    )


def survival_chart(result: Any, *, title: str = "Time to close (Kaplan-Meier)") -> Any:
    """Kaplan-Meier curves (share still open by days since start) with intervals, by group.

    Parameters
    ----------
    result
        A :class:`~closedloop_kit.funnel.TimeToCloseResult` or its ``survival`` frame.
    title
        Chart title.

    Examples
    --------
    >>> import polars as pl, closedloop_kit as clk
    >>> s = pl.DataFrame({"days": [0.0, 30.0, 90.0], "survival": [1.0, 0.6, 0.2],
    ...     "ci_low": [1.0, 0.4, 0.1], "ci_high": [1.0, 0.8, 0.35]})
    >>> clk.viz.survival_chart(s).to_dict()["layer"][1]["mark"]["interpolate"]
    'step-after'
    """
    import altair as alt

    s = as_frame(result, "survival", func="survival_chart")
    groups = group_columns(s, ("days", "survival", "ci_low", "ci_high", "n_risk", "n_events"))
    s = group_label(s, groups)
    color = alt.Color(
        "group:N", title=groups_title(groups), legend=None if not groups else alt.Legend()
    )
    tooltip = [
        alt.Tooltip("group:N"),
        alt.Tooltip("days:Q", format=".0f"),
        alt.Tooltip("survival:Q", title="still open", format=PERCENT_FORMAT),
    ]
    base = alt.Chart(s).encode(
        x=alt.X("days:Q", title="Days since start"), color=color, tooltip=tooltip
    )
    band = base.mark_area(opacity=0.15, interpolate="step-after").encode(
        y=alt.Y("ci_low:Q", title="Share not yet closed", axis=alt.Axis(format="%")),
        y2="ci_high:Q",
    )
    line = base.mark_line(interpolate="step-after").encode(y="survival:Q")
    return styled(
        alt.layer(band, line).properties(width=480),
        title=title,
        subtitle="Open opportunities are censored; band: 95% confidence interval.",
    )


def cohort_chart(
    frame: Any,
    *,
    stage: str | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Any:
    """Cohort heatmap: share of each cohort reaching ``stage`` by age (periods since entry).

    Parameters
    ----------
    frame
        The frame of :func:`closedloop_kit.funnel.cohorts`.
    stage
        Stage to show (default: the last stage in the frame).
    title
        Chart title.
    labels
        Stage id → how it reads (e.g. ``prepared.taxonomy.labels``); default
        :data:`~closedloop_kit.config.STAGE_LABELS`, other ids with spaces for
        underscores (:func:`~closedloop_kit.config.stage_label`).

    Examples
    --------
    >>> import polars as pl, closedloop_kit as clk
    >>> c = pl.DataFrame({"cohort": ["2026-01", "2026-01", "2026-02"], "stage": ["won"] * 3,
    ...     "age": [0, 1, 0], "n_cohort": [10, 10, 8], "n_reached": [1, 3, 2],
    ...     "share": [0.1, 0.3, 0.25], "observable": [True, True, True]})
    >>> clk.viz.cohort_chart(c).to_dict()["encoding"]["color"]["field"]
    'share'
    """
    import altair as alt

    c = as_frame(frame, "cohorts", func="cohort_chart")
    stages = c["stage"].unique(maintain_order=True).to_list() if "stage" in c.columns else []
    chosen = stage or (stages[-1] if stages else None)
    if chosen is not None and "stage" in c.columns:
        c = c.filter(pl.col("stage") == chosen)
    if "observable" in c.columns:
        c = c.filter(pl.col("observable"))
    c = c.with_columns(pl.col("cohort").cast(pl.String))
    chart = (
        alt.Chart(c)
        .mark_rect()
        .encode(
            x=alt.X("age:O", title="Age (periods since entering)"),
            y=alt.Y("cohort:O", title="Cohort"),
            color=alt.Color(
                "share:Q",
                title="Share reached",
                scale=alt.Scale(scheme=SEQUENTIAL, domainMin=0),  # type: ignore[arg-type]
                legend=alt.Legend(format="%"),
            ),
            tooltip=[
                alt.Tooltip("cohort:O"),
                alt.Tooltip("age:O"),
                alt.Tooltip("share:Q", format=PERCENT_FORMAT),
                alt.Tooltip("n_reached:Q", title="reached", format=","),
                alt.Tooltip("n_cohort:Q", title="cohort size", format=","),
            ],
        )
        .properties(width=420)
    )
    reached = stage_label(chosen, labels) if chosen is not None else "the stage"
    return styled(chart, title=title or f"Cohorts: share reaching {reached} by age")


cohort_heatmap = cohort_chart


def sourcing_chart(result: Any, *, metric: str | None = None, title: str | None = None) -> Any:
    """Share sourced by marketing, sales, partners and web-direct, against commitments.

    Parameters
    ----------
    result
        A :class:`~closedloop_kit.funnel.SourcingResult` (its ``comparison`` is used when
        commitments were given, else its ``shares``), or one of those frames.
    metric
        ``"sales_ready"``, ``"pipeline"`` or ``"bookings"`` (default: every metric).
    title
        Chart title.

    Examples
    --------
    >>> import polars as pl, closedloop_kit as clk
    >>> s = pl.DataFrame({"metric": ["sales_ready"] * 2, "source": ["marketing", "sales"],
    ...     "value": [30.0, 70.0], "total": [100.0] * 2, "share": [0.3, 0.7]})
    >>> clk.viz.sourcing_chart(s).to_dict()["encoding"]["x"]["field"]
    'share'
    """
    import altair as alt

    comparison = getattr(result, "comparison", None)
    if comparison is not None and as_frame(comparison, func="sourcing_chart").height > 0:
        frame = as_frame(comparison, func="sourcing_chart")
    else:
        frame = as_frame(result, "shares", func="sourcing_chart")
    if metric is not None:
        frame = frame.filter(pl.col("metric") == metric)
    frame = frame.with_columns(  # as people read them
        pl.col(c).replace(dict(SOURCING_NAMES[c])) for c in ("metric", "source")
    )
    has_commit = "committed_share" in frame.columns
    share = "actual_share" if has_commit else "share"
    known = (
        "metric", "source", "value", "total", "share", "committed_share", "actual_share", "gap",
        "committed_value", "actual_value", "gap_value", "shortfall_value", "met",
    )  # fmt: skip
    groups = group_columns(frame, known)
    frame = group_label(frame, ["metric", *groups], name="row").with_columns(
        pl.col(share).alias("share")
    )
    tooltip = [
        alt.Tooltip("row:N", title="metric · group"),
        alt.Tooltip("source:N"),
        alt.Tooltip("share:Q", title="actual share", format=PERCENT_FORMAT),
    ]
    if has_commit:
        tooltip += [
            alt.Tooltip("committed_share:Q", title="committed", format=PERCENT_FORMAT),
            alt.Tooltip("gap:Q", format="+.1%"),
        ]
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("row:N", title=None),
            x=alt.X("share:Q", title="Share", axis=alt.Axis(format="%"), stack="zero"),
            color=alt.Color("source:N", title="Sourced by"),
            tooltip=tooltip,
        )
        .properties(width=440)
    )
    if not has_commit:
        return styled(bars, title=title or "Sourced by: share of each metric")
    bars = bars.encode(
        yOffset=alt.YOffset("source:N"),
        x=alt.X("share:Q", title="Share", axis=alt.Axis(format="%")),
    )
    ticks = (
        alt.Chart(frame.filter(pl.col("committed_share").is_not_null()))
        .mark_tick(color="black", thickness=3)
        .encode(y="row:N", yOffset=alt.YOffset("source:N"), x="committed_share:Q", tooltip=tooltip)
    )
    return styled(
        alt.layer(bars, ticks),
        title=title or "Sourcing against commitments",
        subtitle="Bars: actual share; black tick: committed share.",
    )
