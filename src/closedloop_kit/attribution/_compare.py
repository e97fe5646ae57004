"""Compare models: one tidy table of credit per channel per model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from closedloop_kit._core.types import AnyFrame
from closedloop_kit.attribution._attribute import attribute
from closedloop_kit.attribution._bootstrap import bootstrap

__all__ = ["DATA_DRIVEN", "DEFAULT_COMPARISON", "compare"]

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


DATA_DRIVEN = ("markov", "shapley", "ordered_shapley", "logistic", "fractribution", "multistage")
"""Models whose spread makes the disagreement band (rule models are conventions, not fits)."""


def compare(
    journeys: AnyFrame,
    *,
    models: Sequence[str | tuple[str, Mapping[str, Any]]] = DEFAULT_COMPARISON,
    intervals: int = 0,
    seed: int = 0,
    alpha: float = 0.05,
) -> pl.DataFrame:
    """Run several models on the same journeys and stack their channel totals.

    Two kinds of uncertainty sit side by side, and they answer different questions:

    - **Sampling uncertainty** (``sampling_lower``, ``sampling_upper``; with
      ``intervals > 0``): the percentile bootstrap interval of the model's share
      (:func:`bootstrap`, ``intervals`` replicates). It says how much *this model's*
      answer would move with another sample of journeys. It does **not** cover the true
      causal share when the model is biased: on simulated worlds the intervals of biased
      models contain the truth 0 % of the time.
    - **Model disagreement** (``disagreement_lower``, ``disagreement_upper``): per
      channel, the lowest and highest share given by the data-driven models in the
      comparison (:data:`DATA_DRIVEN`: Markov, Shapley, ordered Shapley, logistic,
      fractribution, multistage). A wide band means the answer depends on the model
      choice, which no amount of data resolves. Null when fewer than two data-driven
      models are compared.

    Parameters
    ----------
    journeys
        Touch-level journeys (see :func:`attribute`).
    models
        Model names, or ``(name, params)`` pairs to pass parameters
        (``("markov", {"order": 2})``). A pair's label is ``name(k=v, ...)``.
    intervals
        Bootstrap replicates per model for the sampling intervals (0: none).
    seed, alpha
        Bootstrap seed and level (intervals cover ``1 − alpha``).

    Returns
    -------
    pl.DataFrame
        ``model``, ``channel``, ``conversions``, ``value``, ``share``,
        ``disagreement_lower``, ``disagreement_upper`` and, with ``intervals``,
        ``sampling_lower``, ``sampling_upper``: one row per channel per model (long
        form; pivot on ``model`` for a wide table).

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
        frame = res.channels.with_columns(
            pl.lit(label).alias("model"), pl.lit(name in DATA_DRIVEN).alias("_data_driven")
        )
        if intervals > 0:
            ci = bootstrap(journeys, model=name, n=intervals, seed=seed, alpha=alpha, **params)
            frame = frame.join(
                ci.select(
                    "channel",
                    pl.col("share_lower").alias("sampling_lower"),
                    pl.col("share_upper").alias("sampling_upper"),
                ),
                on="channel",
                how="left",
            )
        frames.append(frame)
    out = pl.concat(frames, how="diagonal_relaxed")
    driven = out.filter(pl.col("_data_driven"))
    several = driven["model"].n_unique() >= 2
    band = driven.group_by("channel").agg(
        pl.col("share").min().alias("disagreement_lower"),
        pl.col("share").max().alias("disagreement_upper"),
    )
    if not several:
        band = band.with_columns(pl.lit(None, pl.Float64).alias(c) for c in band.columns[1:])
    out = out.join(band, on="channel", how="left", maintain_order="left")
    cols = ["model", "channel", "conversions", "value", "share"]
    cols += ["disagreement_lower", "disagreement_upper"]
    if intervals > 0:
        cols += ["sampling_lower", "sampling_upper"]
    return out.select(cols)
