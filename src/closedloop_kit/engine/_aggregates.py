"""The small aggregates the models need, computed on the engine and collected as polars.

- :func:`path_counts`: distinct channel paths with journeys, conversions and value
  (the input of Markov, Shapley and ChannelAttribution-style models).
- :func:`transition_counts`: Markov transitions between order-``k`` states.
- :func:`exposure_counts`: touches per journey and channel (Shapley coalitions,
  logistic attribution).
"""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
import polars as pl

from closedloop_kit.engine._backend import collect_polars, lazy, require
from closedloop_kit.engine._journeys import journeys

__all__ = ["END_STATES", "START_STATE", "exposure_counts", "path_counts", "transition_counts"]

START_STATE = "(start)"
"""Where every journey's chain starts."""
END_STATES = ("(conversion)", "(null)")
"""Absorbing states: the journey converted / did not."""

_TOUCH_COLUMNS = ["journey_id", "position", "channel", "converted", "value"]


def path_counts(journey_touches: Any, *, sep: str = ">") -> pl.DataFrame:
    """Distinct paths with their journeys, conversions and converted value.

    Formulas, per distinct path ``p`` (the journey's channels in ``position`` order):
    ``journeys_p = #{j : path_j = p}``, ``conversions_p = #{j : path_j = p, converted_j}``,
    ``nulls_p = journeys_p − conversions_p``, ``value_p = Σ_{j: path_j = p} value_j``
    (value is 0 for a journey that did not convert).

    Parameters
    ----------
    journey_touches
        Output of :func:`journey_touches` on any engine.
    sep
        Separator between channels in ``path``.

    Returns
    -------
    pl.DataFrame
        ``path``, ``conversions``, ``value``, ``nulls`` (Float64, as
        :func:`closedloop_kit.attribution.paths` returns them) and ``journeys`` (Int64),
        sorted by path length then path.

    Examples
    --------
    >>> import polars as pl
    >>> jt = pl.LazyFrame({"journey_id": ["1", "1", "2", "3", "3"],
    ...     "position": [0, 1, 0, 0, 1], "channel": list("ABABB"), "occurred_at": [1] * 5,
    ...     "converted": [True, True, False, False, False], "value": [10.0, 10, 0, 0, 0]})
    >>> path_counts(jt).rows()
    [('A', 0.0, 0.0, 1.0, 1), ('A>B', 1.0, 10.0, 0.0, 1), ('B>B', 0.0, 0.0, 1.0, 1)]
    """
    per = lazy(journeys(journey_touches, sep=sep))
    conv = nw.col("converted").cast(nw.Int64)
    agg = per.group_by("path").agg(
        conv.sum().cast(nw.Float64).alias("conversions"),
        nw.col("value").sum().cast(nw.Float64).alias("value"),
        (nw.lit(1) - conv).sum().cast(nw.Float64).alias("nulls"),
        nw.col("converted").count().cast(nw.Int64).alias("journeys"),
    )
    out = collect_polars(agg)
    return out.sort(pl.col("path").str.len_chars(), "path")


def transition_counts(journey_touches: Any, *, order: int = 1, sep: str = ">") -> pl.DataFrame:
    """Markov transition counts between order-``k`` states, as ChannelAttribution builds them.

    A journey ``c_0 … c_{n−1}`` (channels in ``position`` order) visits the full sliding
    windows ``s_i = (c_{i−k+1}, …, c_i)`` for ``i = k−1 … n−1``; a journey shorter than
    ``k`` visits one state, its whole path. Each journey contributes the transitions
    ``(start) → s_first → … → s_last → (conversion) | (null)``; a state is its channels
    joined by ``sep``. ``transitions`` counts journeys over each edge and ``value`` sums
    the converted value on edges into ``(conversion)`` (0 on the others). Collapse
    repeats beforehand (``journey_touches(..., collapse_repeats=True)``) when the model
    wants ``A > A`` merged.

    Parameters
    ----------
    journey_touches
        Output of :func:`journey_touches` on any engine.
    order
        ``k ≥ 1``.
    sep
        Separator between the channels of a state.

    Returns
    -------
    pl.DataFrame
        ``from_state``, ``to_state``, ``transitions`` (Float64), ``value`` (Float64),
        sorted by ``from_state``, ``to_state``.

    Examples
    --------
    >>> import polars as pl
    >>> jt = pl.LazyFrame({"journey_id": ["1", "1", "1"], "position": [0, 1, 2],
    ...     "channel": list("ABC"), "converted": [True] * 3, "value": [4.0] * 3})
    >>> transition_counts(jt, order=2).rows()  # A>B then B>C, then converts
    [('(start)', 'A>B', 1.0, 0.0), ('A>B', 'B>C', 1.0, 0.0), ('B>C', '(conversion)', 1.0, 4.0)]
    """
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        msg = f"`order` must be an int ≥ 1, got {order!r}"
        raise ValueError(msg)
    jt = lazy(journey_touches)
    require(jt, _TOUCH_COLUMNS, func="transition_counts")
    jt = jt.select(*_TOUCH_COLUMNS)
    lags = [
        nw.col("channel").shift(j).over("journey_id", order_by=["position"])
        for j in range(order - 1, -1, -1)
    ]
    last = nw.col("position").max().over("journey_id")
    states = (
        jt.with_columns(
            nw.concat_str(lags, separator=sep, ignore_nulls=True).alias("__state"),
            last.alias("__last"),
        )
        .filter((nw.col("position") >= order - 1) | (nw.col("position") == nw.col("__last")))
        .with_columns(
            nw.col("__state").shift(1).over("journey_id", order_by=["position"]).alias("__prev"),
        )
    )
    inner = states.select(
        nw.coalesce(nw.col("__prev"), nw.lit(START_STATE)).alias("from_state"),
        nw.col("__state").alias("to_state"),
        nw.lit(0.0).alias("__value"),
    )
    ends = states.filter(nw.col("position") == nw.col("__last")).select(
        nw.col("__state").alias("from_state"),
        nw.when(nw.col("converted"))
        .then(nw.lit(END_STATES[0]))
        .otherwise(nw.lit(END_STATES[1]))
        .alias("to_state"),
        nw.when(nw.col("converted"))
        .then(nw.col("value"))
        .otherwise(nw.lit(0.0))
        .cast(nw.Float64)
        .alias("__value"),
    )
    agg = (
        nw.concat([inner, ends], how="vertical")
        .group_by("from_state", "to_state")
        .agg(
            nw.col("__value").count().cast(nw.Float64).alias("transitions"),
            nw.col("__value").sum().cast(nw.Float64).alias("value"),
        )
    )
    return collect_polars(agg).sort("from_state", "to_state")


def exposure_counts(journey_touches: Any) -> pl.DataFrame:
    """Touches per journey and channel, with the journey's outcome.

    ``exposures_{j,c} = #{touches of journey j in channel c}``; the set of channels with
    ``exposures > 0`` is the journey's Shapley coalition, the counts are the logistic
    model's regressors.

    Returns
    -------
    pl.DataFrame
        ``journey_id``, ``channel``, ``exposures`` (Int64), ``converted``, ``value``,
        sorted by ``journey_id``, ``channel``. Journeys without touches have no rows.

    Examples
    --------
    >>> import polars as pl
    >>> jt = pl.LazyFrame({"journey_id": ["1", "1", "1"], "position": [0, 1, 2],
    ...     "channel": list("ABA"), "converted": [False] * 3, "value": [0.0] * 3})
    >>> exposure_counts(jt).select("channel", "exposures").rows()
    [('A', 2), ('B', 1)]
    """
    jt = lazy(journey_touches)
    require(jt, _TOUCH_COLUMNS, func="exposure_counts")
    agg = jt.group_by("journey_id", "channel").agg(
        nw.col("position").count().cast(nw.Int64).alias("exposures"),
        nw.col("converted").any().alias("converted"),
        nw.col("value").max().cast(nw.Float64).alias("value"),
    )
    return collect_polars(agg).sort("journey_id", "channel")
