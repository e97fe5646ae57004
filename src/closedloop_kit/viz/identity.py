"""Identity chart: the loop-closure breakdown."""

from __future__ import annotations

from typing import Any

import polars as pl

from closedloop_kit.viz._common import as_frame
from closedloop_kit.viz._theme import CURRENCY_FORMAT, PERCENT_FORMAT, styled

__all__ = ["loop_closure_chart"]


def loop_closure_chart(result: Any, *, title: str | None = None) -> Any:
    """Share of won revenue whose loop is closed, and why the rest is not.

    Parameters
    ----------
    result
        A :class:`~closedloop_kit.identity.LoopClosureResult` or its ``by_reason`` frame
        (``reason, opportunities, revenue, opportunity_share, revenue_share``).
    title
        Chart title (default states the loop-closure rate).

    Examples
    --------
    >>> import polars as pl, closedloop_kit as clk
    >>> r = pl.DataFrame({"reason": ["closed", "no_person"], "opportunities": [8, 2],
    ...     "revenue": [80.0, 20.0], "opportunity_share": [0.8, 0.2],
    ...     "revenue_share": [0.8, 0.2]})
    >>> clk.viz.loop_closure_chart(r).to_dict()["encoding"]["x"]["field"]
    'revenue_share'
    """
    import altair as alt

    f = as_frame(result, "by_reason", func="loop_closure_chart")
    rate = getattr(result, "revenue_rate", None)
    if rate is None and "reason" in f.columns:
        closed = f.filter(pl.col("reason") == "closed")["revenue_share"]
        rate = float(closed.sum()) if closed.len() else None
    f = f.with_columns(pl.col("reason").str.replace_all("_", " "))
    chart = (
        alt.Chart(f)
        .mark_bar()
        .encode(
            y=alt.Y("reason:N", title=None, sort="-x"),
            x=alt.X("revenue_share:Q", title="Share of won revenue", axis=alt.Axis(format="%")),
            color=alt.condition(
                alt.datum.reason == "closed", alt.value("#009E73"), alt.value("#8c959f")
            ),
            tooltip=[
                alt.Tooltip("reason:N"),
                alt.Tooltip("revenue_share:Q", title="revenue share", format=PERCENT_FORMAT),
                alt.Tooltip("revenue:Q", format=CURRENCY_FORMAT),
                alt.Tooltip("opportunities:Q", format=","),
                alt.Tooltip(
                    "opportunity_share:Q", title="opportunity share", format=PERCENT_FORMAT
                ),
            ],
        )
        .properties(width=420)
    )
    head = (
        f"Loop closure: {rate:.0%} of won revenue traced to marketing"
        if rate is not None
        else ("Loop closure by reason")
    )
    return styled(
        chart, title=title or head, subtitle="Green: revenue with a marketing touch before close."
    )
