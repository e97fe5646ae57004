"""ROI and planning charts: spend vs revenue, budget, funding schedule, spend and pipeline."""

from __future__ import annotations

from typing import Any

import polars as pl

from closedloop_kit.viz._common import as_frame, first_present
from closedloop_kit.viz._theme import CURRENCY_FORMAT, PALETTE, styled

__all__ = ["budget_chart", "funding_chart", "roi_chart", "spend_pipeline_chart"]

_COST = ("cost", "cost_corporate", "spend")
_REVENUE = ("attributed_revenue", "revenue", "won_revenue", "credited_value", "value")
_LABELS = ("campaign_name", "campaign", "channel", "campaign_id", "product_line")


def roi_chart(
    frame: Any,
    *,
    label: str | None = None,
    cost: str | None = None,
    revenue: str | None = None,
    title: str = "ROI: attributed revenue against cost",
) -> Any:
    """Cost (x) against attributed revenue (y), one point per program, with the break-even line.

    Points above the dashed line ``revenue = cost`` have ROI > 0; the dotted lines at the
    median cost and median revenue split programs into four quadrants (scale up, fix,
    promising, reconsider). ROI = (attributed revenue − cost) / cost.

    Parameters
    ----------
    frame
        A :func:`closedloop_kit.roi.summary` table (or its result): one row per campaign,
        channel, ... with a cost and an attributed revenue column.
    label
        The column naming each point (default: the first of campaign_name, campaign,
        channel, campaign_id, product_line present).
    cost, revenue
        Column names (defaults: ``cost`` / ``attributed_revenue`` or close variants).
    title
        Chart title.

    Examples
    --------
    >>> import polars as pl, closedloop_kit as clk
    >>> r = pl.DataFrame({"channel": ["Email", "Events"], "cost": [1000.0, 5000.0],
    ...                   "attributed_revenue": [9000.0, 4000.0]})
    >>> enc = clk.viz.roi_chart(r).to_dict()["layer"][0]["encoding"]
    >>> enc["x"]["field"], enc["y"]["field"]
    ('cost', 'attributed_revenue')
    """
    import altair as alt

    f = as_frame(frame, "table", "summary_table", "frame", func="roi_chart")
    lab = label or first_present(f, _LABELS, func="roi_chart", role="label")
    c = cost or first_present(f, _COST, func="roi_chart", role="cost")
    r = revenue or first_present(f, _REVENUE, func="roi_chart", role="revenue")
    f = f.filter(pl.col(c).is_not_null() & pl.col(r).is_not_null()).with_columns(
        pl.col(lab).cast(pl.String),
        pl.when(pl.col(c) > 0).then((pl.col(r) - pl.col(c)) / pl.col(c)).alias("roi"),
    )
    tooltip = [
        alt.Tooltip(f"{lab}:N"),
        alt.Tooltip(f"{c}:Q", title="cost", format=CURRENCY_FORMAT),
        alt.Tooltip(f"{r}:Q", title="attributed revenue", format=CURRENCY_FORMAT),
        alt.Tooltip("roi:Q", title="ROI", format=".0%"),
    ]
    top = max(_num(f[c].max()), _num(f[r].max()), 1.0)
    points = (
        alt.Chart(f)
        .mark_circle(size=90, opacity=0.85)
        .encode(
            x=alt.X(f"{c}:Q", title="Cost", axis=alt.Axis(format="$~s")),
            y=alt.Y(f"{r}:Q", title="Attributed revenue", axis=alt.Axis(format="$~s")),
            # one colour per program only while colours stay distinguishable
            color=(
                alt.Color(f"{lab}:N", title=lab.replace("_", " "))
                if f[lab].n_unique() <= len(PALETTE)
                else alt.value(PALETTE[0])
            ),
            tooltip=tooltip,
        )
    )
    even = (
        alt.Chart(pl.DataFrame({"x": [0.0, top], "y": [0.0, top]}))
        .mark_line(strokeDash=[6, 4], color="#57606a")
        .encode(x="x:Q", y="y:Q")
    )
    med = pl.DataFrame({"mc": [_num(f[c].median())], "mr": [_num(f[r].median())]})
    vline = alt.Chart(med).mark_rule(strokeDash=[2, 2], color="#8c959f").encode(x="mc:Q")
    hline = alt.Chart(med).mark_rule(strokeDash=[2, 2], color="#8c959f").encode(y="mr:Q")
    return styled(
        alt.layer(points, even, vline, hline).properties(width=440, height=320),
        title=title,
        subtitle="Dashed: break-even (ROI = 0); dotted: median cost and median revenue.",
    )


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def budget_chart(
    frame: Any,
    *,
    value: str | None = None,
    by: tuple[str, ...] = ("product_line", "sales_division"),
    title: str = "Required budget",
) -> Any:
    """Required budget per product line × sales division (or any grouping).

    Parameters
    ----------
    frame
        A budget table from :func:`closedloop_kit.planning.budget` (or its result).
    value
        The budget column (default: the first of required_budget, budget, cost).
    by
        Grouping columns present in the frame (y axis and colour).
    title
        Chart title.

    Examples
    --------
    >>> import polars as pl, closedloop_kit as clk
    >>> b = pl.DataFrame({"product_line": ["Core", "Cloud"], "sales_division": ["EMEA"] * 2,
    ...                   "required_budget": [120000.0, 80000.0]})
    >>> clk.viz.budget_chart(b).to_dict()["encoding"]["x"]["field"]
    'required_budget'
    """
    import altair as alt

    f = as_frame(frame, "plan", "budget", "table", func="budget_chart")
    v = value or first_present(
        f,
        ("required_budget", "budget", "budget_corporate", "cost"),
        func="budget_chart",
        role="budget",
    )
    groups = [g for g in by if g in f.columns]
    y_field = groups[0] if groups else None
    color_field = groups[1] if len(groups) > 1 else y_field
    enc: dict[str, Any] = {
        "x": alt.X(f"{v}:Q", title="Budget", axis=alt.Axis(format="$~s"), stack="zero"),
        "tooltip": [alt.Tooltip(f"{g}:N") for g in groups]
        + [alt.Tooltip(f"{v}:Q", title="budget", format=CURRENCY_FORMAT)],
    }
    if y_field is not None:
        enc["y"] = alt.Y(f"{y_field}:N", title=y_field.replace("_", " "))
    if color_field is not None:
        enc["color"] = alt.Color(f"{color_field}:N", title=color_field.replace("_", " "))
    chart = alt.Chart(f).mark_bar().encode(**enc).properties(width=440)
    return styled(chart, title=title)


def funding_chart(
    frame: Any,
    *,
    period: str | None = None,
    value: str | None = None,
    color: str | None = None,
    title: str = "Funding schedule: when the budget must be available",
) -> Any:
    """Budget needed per funding period (stacked by product line, or another column).

    Parameters
    ----------
    frame
        A schedule from :func:`closedloop_kit.planning.funding_schedule` (or its result).
    period
        Period column (default: the first of funding_quarter, quarter, period).
    value
        Amount column (default: the first of funding, amount, budget).
    color
        Stack colour column (default: product_line when present).
    title
        Chart title.

    Examples
    --------
    >>> import polars as pl, closedloop_kit as clk
    >>> s = pl.DataFrame({"funding_quarter": ["2025Q3", "2025Q4"], "funding": [50.0, 70.0]})
    >>> clk.viz.funding_chart(s).to_dict()["encoding"]["x"]["field"]
    'funding_quarter'
    """
    import altair as alt

    f = as_frame(frame, "schedule", "table", func="funding_chart")
    p = period or first_present(
        f,
        ("funding_quarter", "funding_period", "quarter", "period"),
        func="funding_chart",
        role="period",
    )
    v = value or first_present(
        f,
        ("funding", "funding_amount", "amount", "budget", "required_budget"),
        func="funding_chart",
        role="amount",
    )
    col = color or ("product_line" if "product_line" in f.columns else None)
    f = f.with_columns(pl.col(p).cast(pl.String))
    enc: dict[str, Any] = {
        "x": alt.X(f"{p}:O", title="Funding period", sort="ascending"),
        "y": alt.Y(f"sum({v}):Q", title="Budget to make available", axis=alt.Axis(format="$~s")),
        "tooltip": [
            alt.Tooltip(f"{p}:O"),
            alt.Tooltip(f"sum({v}):Q", title="amount", format=CURRENCY_FORMAT),
        ],
    }
    if col is not None:
        enc["color"] = alt.Color(f"{col}:N", title=col.replace("_", " "))
        enc["tooltip"].insert(1, alt.Tooltip(f"{col}:N"))
    chart = alt.Chart(f).mark_bar().encode(**enc).properties(width=440)
    return styled(chart, title=title)


def spend_pipeline_chart(
    data: Any, *, period: str = "month", title: str = "Spend and pipeline over time"
) -> Any:
    """Monthly (or weekly/quarterly) marketing spend and new pipeline, in corporate currency.

    Parameters
    ----------
    data
        A :class:`~closedloop_kit.ClosedLoopData` (uses ``spend.cost_corporate`` by ``date``
        and ``opportunities.amount_corporate`` by ``created_at``), or a long frame
        ``period_start, metric, amount``.
    period
        ``"week"``, ``"month"`` or ``"quarter"`` (calendar periods).
    title
        Chart title.

    Examples
    --------
    >>> import datetime as dt, polars as pl, closedloop_kit as clk
    >>> f = pl.DataFrame({"period_start": [dt.date(2026, 1, 1)] * 2,
    ...                   "metric": ["spend", "pipeline"], "amount": [10.0, 90.0]})
    >>> clk.viz.spend_pipeline_chart(f).to_dict()["encoding"]["y"]["field"]
    'amount'
    """
    import altair as alt

    if isinstance(data, pl.DataFrame | pl.LazyFrame):
        long = as_frame(data, func="spend_pipeline_chart")
    else:
        long = _spend_pipeline_long(data, period)
    chart = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("period_start:T", title=period.capitalize()),
            y=alt.Y("amount:Q", title="Amount (corporate currency)", axis=alt.Axis(format="$~s")),
            color=alt.Color(
                "metric:N", title=None, scale=alt.Scale(range=[PALETTE[0], PALETTE[1]])
            ),
            strokeDash=alt.StrokeDash("metric:N", legend=None),
            tooltip=[
                alt.Tooltip("period_start:T", title=period),
                alt.Tooltip("metric:N"),
                alt.Tooltip("amount:Q", format=CURRENCY_FORMAT),
            ],
        )
        .properties(width=480)
    )
    return styled(chart, title=title, subtitle="Pipeline: amount of opportunities created.")


def _spend_pipeline_long(data: Any, period: str) -> pl.DataFrame:
    every = {"week": "1w", "month": "1mo", "quarter": "1q"}.get(period)
    if every is None:
        msg = f"`period` must be one of ('week', 'month', 'quarter'), got {period!r}"
        raise ValueError(msg)
    spend = (
        data.lazy("spend")
        .select(pl.col("date").dt.truncate(every).alias("period_start"), pl.col("cost_corporate"))
        .group_by("period_start")
        .agg(pl.col("cost_corporate").sum().alias("amount"))
        .with_columns(pl.lit("spend").alias("metric"))
        .collect()
    )
    opps = (
        data.lazy("opportunities")
        .filter(pl.col("created_at").is_not_null())
        .select(
            pl.col("created_at").dt.date().dt.truncate(every).alias("period_start"),
            pl.col("amount_corporate"),
        )
        .group_by("period_start")
        .agg(pl.col("amount_corporate").sum().alias("amount"))
        .with_columns(pl.lit("pipeline").alias("metric"))
        .collect()
    )
    out: pl.DataFrame = (
        pl.concat([spend, opps], how="vertical_relaxed")
        .select("period_start", "metric", "amount")
        .sort("period_start", "metric")
    )
    return out
