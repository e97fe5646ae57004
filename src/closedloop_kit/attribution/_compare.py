"""Compare models: one tidy table of credit per channel per model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from closedloop_kit._core.types import AnyFrame
from closedloop_kit.attribution._attribute import attribute

__all__ = ["DEFAULT_COMPARISON", "compare"]

DEFAULT_COMPARISON = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
    "logistic",
)


def compare(
    journeys: AnyFrame,
    *,
    models: Sequence[str | tuple[str, Mapping[str, Any]]] = DEFAULT_COMPARISON,
) -> pl.DataFrame:
    """Run several models on the same journeys and stack their channel totals.

    Parameters
    ----------
    journeys
        Touch-level journeys (see :func:`attribute`).
    models
        Model names, or ``(name, params)`` pairs to pass parameters
        (``("markov", {"order": 2})``). A pair's label is ``name(k=v, ...)``.

    Returns
    -------
    pl.DataFrame
        ``model``, ``channel``, ``conversions``, ``value``, ``share``: one row per
        channel per model (long form; pivot on ``model`` for a wide table).

    Examples
    --------
    >>> import polars as pl
    >>> j = pl.DataFrame({"journey_id": [1, 1, 2], "channel": ["A", "B", "B"],
    ...                   "position": [0, 1, 0], "converted": [True, True, False]})
    >>> out = compare(j, models=["first_touch", "last_touch"])
    >>> out.select("model", "channel", "share").rows()  # doctest: +NORMALIZE_WHITESPACE
    [('first_touch', 'A', 1.0), ('first_touch', 'B', 0.0),
     ('last_touch', 'A', 0.0), ('last_touch', 'B', 1.0)]
    """
    frames = []
    for spec in models:
        if isinstance(spec, str):
            name, params, label = spec, {}, spec
        else:
            name, params = spec[0], dict(spec[1])
            label = f"{name}({', '.join(f'{k}={v}' for k, v in params.items())})"
        res = attribute(journeys, model=name, **params)
        frames.append(res.channels.with_columns(pl.lit(label).alias("model")))
    out = pl.concat(frames, how="vertical")
    return out.select("model", "channel", "conversions", "value", "share")
