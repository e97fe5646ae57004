"""``AttributionResult``: credit per touch, totals per channel, and what the model used."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from closedloop_kit._core.frames import collect
from closedloop_kit._core.result import Result

__all__ = ["CHANNEL_SCHEMA", "AttributionResult"]

CHANNEL_SCHEMA = {
    "channel": pl.String,
    "conversions": pl.Float64,
    "value": pl.Float64,
    "share": pl.Float64,
}


@dataclass(frozen=True)
class AttributionResult(Result):
    """Credit given by one attribution model.

    Attributes
    ----------
    model
        The model's name (``"linear"``, ``"markov"``, ...).
    params
        Every parameter the model used, defaults included.
    credits
        One row per credited touch of a converting journey: ``journey_id``,
        ``touch_id``, ``channel``, ``campaign_id``, ``campaign_name`` (when the journeys
        have them), ``credit`` (sums to 1 per journey) and ``credited_value``
        (``credit × value``). Lazy when the journeys were lazy.
    channels
        Per channel: ``conversions`` (credited conversions), ``value`` (credited value)
        and ``share`` (``conversions / Σ conversions``). For ``markov`` these are the
        ChannelAttribution-style totals from removal effects (see docs/attribution.md).
    tables
        Model-specific frames: ``removal_effects`` and ``transition_matrix`` (markov),
        ``coefficients`` (logistic), ``shapley_values`` (shapley).
    """

    model: str
    params: Mapping[str, Any]
    credits: pl.DataFrame | pl.LazyFrame
    channels: pl.DataFrame
    tables: Mapping[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def table(self) -> pl.DataFrame:  # type: ignore[override]
        """The main frame: credit per channel."""
        return self.channels

    def shares(self) -> pl.DataFrame:
        """``channel``, ``share``: the form :func:`closedloop_kit.attribution.score` reads."""
        return self.channels.select("channel", "share")

    def summary(self) -> pl.DataFrame:
        """Per-channel totals, largest share first."""
        return self.channels.sort("share", descending=True)

    def collect(self) -> AttributionResult:
        """A copy whose ``credits`` frame is eager."""
        return AttributionResult(
            self.model, self.params, collect(self.credits), self.channels, self.tables
        )

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"AttributionResult(model={self.model!r}, {params})\n{self.summary()}"

    def _repr_html_(self) -> str:
        params = html.escape(", ".join(f"{k}={v!r}" for k, v in self.params.items()))
        return (
            f"<div><b>AttributionResult</b> model={html.escape(self.model)} "
            f"({params}){self.summary()._repr_html_()}</div>"
        )


def channel_totals(credits: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Sum a credit frame per channel (streams when ``credits`` is lazy)."""
    lazy = credits.lazy() if isinstance(credits, pl.DataFrame) else credits
    out = (
        lazy.group_by("channel")
        .agg(
            pl.col("credit").sum().cast(pl.Float64).alias("conversions"),
            pl.col("credited_value").sum().cast(pl.Float64).alias("value"),
        )
        .collect(engine="streaming")
    )
    return with_shares(out)


def with_shares(out: pl.DataFrame) -> pl.DataFrame:
    """Add ``share = conversions / Σ conversions`` and sort by channel."""
    total = out["conversions"].sum() if out.height else 0.0
    return (
        out.with_columns(
            (pl.col("conversions") / total if total else pl.lit(0.0))
            .cast(pl.Float64)
            .alias("share")
        )
        .select(list(CHANNEL_SCHEMA))
        .cast(CHANNEL_SCHEMA)  # type: ignore[arg-type]
        .sort("channel")
    )
