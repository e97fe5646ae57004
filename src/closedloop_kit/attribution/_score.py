"""Score attribution against a known causal truth: misallocated credit."""

from __future__ import annotations

from typing import Protocol

import polars as pl

from closedloop_kit._core.frames import collect
from closedloop_kit._core.types import AnyFrame
from closedloop_kit.attribution._results import AttributionResult

__all__ = ["KnownTruth", "misallocation", "score"]


class KnownTruth(Protocol):
    """A causal truth that knows each channel's true share of conversions.

    :class:`closedloop_kit.datasets.ConversionTruth` (the simulated worlds' truth) is one.
    """

    def true_shares(self, journeys: pl.DataFrame) -> pl.DataFrame:
        """``channel``, ``share``: each channel's true share of incremental conversions."""
        ...


def misallocation(model_shares: pl.DataFrame, true_shares: pl.DataFrame) -> float:
    """Misallocated credit: ``½ Σ_c |model_share_c − true_share_c|``.

    Both frames have ``channel`` and ``share`` columns; shares are renormalised to sum
    to 1 and a channel missing from one side counts as 0 there.

    Examples
    --------
    >>> import polars as pl
    >>> m = pl.DataFrame({"channel": ["a", "b"], "share": [0.5, 0.5]})
    >>> t = pl.DataFrame({"channel": ["a", "b"], "share": [0.8, 0.2]})
    >>> round(misallocation(m, t), 10)
    0.3
    """

    def norm(df: pl.DataFrame) -> pl.DataFrame:
        s = df.group_by("channel").agg(pl.col("share").sum())
        total = s["share"].sum()
        return s.with_columns(pl.col("share") / total) if total else s

    m, t = norm(model_shares), norm(true_shares)
    both = m.join(t, on="channel", how="full", coalesce=True, suffix="_true").fill_null(0.0)
    return 0.5 * float((both["share"] - both["share_true"]).abs().sum())


def score(
    credits_or_shares: AttributionResult | AnyFrame,
    truth: KnownTruth,
    journeys: AnyFrame,
) -> float:
    """Misallocated credit of a model against the true incremental shares.

    ``misallocation = ½ Σ_c |model_share_c − true_share_c|`` where the true share is
    ``lift_c / Σ_k lift_k`` with ``lift_c = Σ_J p(J) − p(J without c)`` over all
    journeys (:meth:`ConversionTruth.true_shares`). 0 is perfect, 1 puts all credit on
    the wrong channels.

    Parameters
    ----------
    credits_or_shares
        An :class:`AttributionResult` (its channel shares), a credit frame (``channel``,
        ``credit``) or a share frame (``channel``, ``share``).
    truth
        The world's causal truth.
    journeys
        The journeys the model saw (``journey_id``, ``channel``, ``position``).

    Returns
    -------
    float

    Examples
    --------
    >>> import polars as pl
    >>> from closedloop_kit.datasets import ConversionTruth
    >>> t = ConversionTruth(baseline=-1.0, effects={"A": 1.0, "B": 0.0})
    >>> j = pl.DataFrame({"journey_id": [1, 1], "channel": ["A", "B"], "position": [0, 1]})
    >>> score(pl.DataFrame({"channel": ["A", "B"], "share": [0.5, 0.5]}), t, j)
    0.5
    """
    if isinstance(credits_or_shares, AttributionResult):
        shares = credits_or_shares.shares()
    else:
        frame = collect(credits_or_shares)
        if "share" in frame.columns:
            shares = frame.select("channel", "share")
        else:
            shares = frame.group_by("channel").agg(pl.col("credit").sum().alias("share"))
    true = truth.true_shares(collect(journeys).select("journey_id", "channel", "position"))
    return misallocation(shares, true.select("channel", "share"))
