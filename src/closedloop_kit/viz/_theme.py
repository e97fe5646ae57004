"""One accessible look for every chart, applied per chart (never a global altair theme).

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies); text is dark grey on white; labels are never truncated silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import altair as alt

__all__ = ["CURRENCY_FORMAT", "PALETTE", "PERCENT_FORMAT", "SEQUENTIAL", "styled"]

PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
"""Okabe-Ito categorical palette (colour-blind safe)."""

SEQUENTIAL = "viridis"
"""Sequential scheme for heatmaps (perceptually uniform, colour-blind safe)."""

CURRENCY_FORMAT = "$,.0f"
PERCENT_FORMAT = ".1%"

_PADDING = {"left": 24, "top": 5, "right": 5, "bottom": 5}
"""Room around the chart: axis labels are measured with the font the renderer first
finds, and a notebook output cuts what the wider font of the page then draws past it."""

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


def _config() -> dict[str, Any]:
    return {
        "font": _FONT,
        "background": "white",
        "view": {"stroke": None, "continuousWidth": 480, "continuousHeight": 280},
        "title": {
            "fontSize": 15,
            "anchor": "start",
            "color": "#1f2328",
            "subtitleColor": "#57606a",
        },
        "axis": {
            "labelFontSize": 12,
            "titleFontSize": 12,
            "labelColor": "#1f2328",
            "titleColor": "#1f2328",
            "gridColor": "#e6e8eb",
            "labelLimit": 260,
        },
        "legend": {"labelFontSize": 12, "titleFontSize": 12, "labelLimit": 260, "orient": "right"},
        "range": {"category": list(PALETTE), "ordinal": {"scheme": "blues"}},
        "mark": {"color": PALETTE[0]},
    }


def styled(chart: alt.TopLevelMixin, *, title: str, subtitle: str | None = None) -> Any:
    """Apply the house look and a title to one chart; returns a new chart."""
    t: dict[str, Any] = {"text": title}
    if subtitle:
        t["subtitle"] = subtitle
    cfg = _config()
    return (
        chart.properties(title=t, padding=_PADDING)
        .configure(
            font=cfg["font"],
            background=cfg["background"],
        )
        .configure_view(**cfg["view"])
        .configure_title(**cfg["title"])
        .configure_axis(**cfg["axis"])
        .configure_legend(**cfg["legend"])
        .configure_range(category=cfg["range"]["category"])
        .configure_mark(color=PALETTE[0])
    )
