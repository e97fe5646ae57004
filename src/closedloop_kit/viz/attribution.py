"""Attribution charts: credit per channel across models, with bootstrap intervals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from closedloop_kit.attribution import MODEL_LABELS
from closedloop_kit.viz._common import as_frame
from closedloop_kit.viz._theme import CURRENCY_FORMAT, PERCENT_FORMAT, styled

__all__ = ["attribution_chart"]


def _to_long(obj: Any) -> pl.DataFrame:
    """``model, channel, share[, share_lower, share_upper, value…]`` from the accepted inputs."""
    if isinstance(obj, Mapping):  # {model: AttributionResult | bootstrap frame}
        parts = [_to_long(v).with_columns(pl.lit(str(k)).alias("model")) for k, v in obj.items()]
        return pl.concat(parts, how="diagonal_relaxed")
    if isinstance(obj, list | tuple):
        return pl.concat([_to_long(v) for v in obj], how="diagonal_relaxed")
    if hasattr(obj, "channels") and hasattr(obj, "model"):
        channels: pl.DataFrame = obj.channels
        return channels.with_columns(pl.lit(str(obj.model)).alias("model"))
    return as_frame(obj, func="attribution_chart")


def attribution_chart(
    results: Any, *, measure: str = "share", title: str = "Attribution: credit by channel"
) -> Any:
    """Credit per channel, one colour per model, with bootstrap intervals where given.

    With one model there is no legend (the title names the model).

    Parameters
    ----------
    results
        Any of: the long frame of :func:`closedloop_kit.attribution.compare`
        (``model, channel, share, value``); a frame of
        :func:`closedloop_kit.attribution.bootstrap` (``share_lower``/``share_upper``);
        an :class:`~closedloop_kit.attribution.AttributionResult`; a list of those, or a
        mapping ``{model: bootstrap frame or result}``.
    measure
        ``"share"`` (of conversions), ``"conversions"`` or ``"value"`` (credited value).
    title
        Chart title.

    Examples
    --------
    >>> import polars as pl, closedloop_kit as clk
    >>> cmp = pl.DataFrame({"model": ["linear", "linear", "markov", "markov"],
    ...     "channel": ["Email", "Paid Search"] * 2, "share": [0.4, 0.6, 0.3, 0.7]})
    >>> enc = clk.viz.attribution_chart(cmp).to_dict()["layer"][0]["encoding"]
    >>> enc["x"]["field"], enc["color"]["field"]
    ('share', 'model')
    """
    import altair as alt

    frame = _to_long(results)
    if measure not in frame.columns:
        msg = f"`measure` {measure!r} is not a column of the results; columns: {frame.columns!r}"
        raise ValueError(msg)
    if "model" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("model"))
    # models as people name them ("W-shaped", "Markov chain"); other names stay
    frame = frame.with_columns(pl.col("model").cast(pl.String).replace(MODEL_LABELS))
    several = frame["model"].n_unique() > 1  # one model: no legend, the title names it
    fmt = {"share": PERCENT_FORMAT, "value": CURRENCY_FORMAT}.get(measure, ",.1f")
    axis_fmt = {"share": "%", "value": "$,.0f"}.get(measure, ",")
    title_x = {"share": "Share of credit", "value": "Credited value", "conversions": "Conversions"}
    order = (frame.group_by("channel").agg(pl.col(measure).mean()).sort(measure, descending=True))[
        "channel"
    ].to_list()
    tooltip = [
        alt.Tooltip("channel:N", title="Channel"),
        *([alt.Tooltip("model:N", title="Model")] if several else []),
        alt.Tooltip(f"{measure}:Q", title=title_x.get(measure, measure), format=fmt),
    ]
    lo, hi = f"{measure}_lower", f"{measure}_upper"
    has_ci = lo in frame.columns and hi in frame.columns
    if has_ci:
        tooltip += [
            alt.Tooltip(f"{lo}:Q", title="lower", format=fmt),
            alt.Tooltip(f"{hi}:Q", title="upper", format=fmt),
        ]
    by_model: dict[str, Any] = (
        {"yOffset": alt.YOffset("model:N"), "color": alt.Color("model:N", title="Model")}
        if several
        else {}
    )
    base = alt.Chart(frame).encode(
        y=alt.Y("channel:N", sort=order, title=None), tooltip=tooltip, **by_model
    )
    points = base.mark_point(filled=True, size=60).encode(
        x=alt.X(f"{measure}:Q", title=title_x.get(measure, measure), axis=alt.Axis(format=axis_fmt))
    )
    layers = [points]
    if has_ci:
        layers.append(base.mark_rule(strokeWidth=2).encode(x=f"{lo}:Q", x2=f"{hi}:Q"))
    sub = "Lines: bootstrap 95% intervals (journeys resampled)." if has_ci else None
    # several models: each channel's band is one row per model, 8 px each (the default
    # 20 px spreads 8 models over 160 px per channel)
    height = {"height": alt.Step(8, **{"for": "offset"})} if several else {}
    chart = alt.layer(*layers).properties(width=440, **height)
    return styled(chart, title=title, subtitle=sub)
