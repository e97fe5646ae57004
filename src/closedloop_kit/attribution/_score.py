"""Score attribution against a known causal truth: misallocated credit."""

from __future__ import annotations

import polars as pl

from closedloop_kit._core.frames import collect
from closedloop_kit._core.types import AnyFrame
from closedloop_kit.attribution._results import AttributionResult
from closedloop_kit.datasets._truth import ConversionTruth, misallocation

__all__ = ["score"]


def score(
    credits_or_shares: AttributionResult | AnyFrame,
    truth: ConversionTruth,
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
    >>> from closedloop_kit.datasets._truth import ConversionTruth
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
