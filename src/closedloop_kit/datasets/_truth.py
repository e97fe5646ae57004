"""The causal truth of a simulated world: how touches change the chance to convert.

A journey's true conversion probability is a logistic function of its touches::

    logit p(J) = b0 + Σ_c β_c · log(1 + n_c(J)) + Σ_(a,b) γ_ab · [a first appears before b in J]

with ``n_c(J)`` the number of touches of channel ``c`` in journey ``J`` (diminishing
returns), ``β_c`` the channel's incremental effect, and ``γ_ab`` optional order effects
(e.g. retargeting only works after a first visit), which make worlds where order matters.

A channel's **true share** of credit is the expected number of conversions it causes,
normalised::

    lift_c = Σ_J [ p(J) − p(J without any touch of c) ]
    share_c = lift_c / Σ_k lift_k

Attribution models are scored by :func:`misallocation`, half the L1 distance between
a model's channel shares and the true shares (0 = perfect, 1 = everything misplaced).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from closedloop_kit.attribution import misallocation

__all__ = ["ConversionTruth", "misallocation"]


@dataclass(frozen=True)
class ConversionTruth:
    """Known causal model of conversion given a journey's touches.

    Parameters
    ----------
    baseline
        ``b0``: log-odds of converting with no touch at all.
    effects
        ``β_c`` per channel: change in log-odds per unit of ``log(1 + touches)``.
    order_effects
        ``γ_ab`` per ordered channel pair ``(a, b)``: added when ``a``'s first touch
        comes before ``b``'s first touch.

    Examples
    --------
    >>> import polars as pl
    >>> truth = ConversionTruth(baseline=-2.0, effects={"email": 1.0, "display": 0.0})
    >>> j = pl.DataFrame({"journey_id": [1, 1], "channel": ["email", "display"],
    ...                   "position": [0, 1]})
    >>> round(truth.probability(j)["p"][0], 6)  # 1 / (1 + e^2 / 2)
    0.213014
    >>> truth.true_shares(j)["share"].to_list()  # display has no effect
    [0.0, 1.0]
    """

    baseline: float
    effects: Mapping[str, float]
    order_effects: Mapping[tuple[str, str], float] = field(default_factory=dict)

    @property
    def channels(self) -> list[str]:
        """Channels with a declared effect, sorted."""
        return sorted(self.effects)

    def _logit(self, journeys: pl.DataFrame, *, without: str | None = None) -> pl.DataFrame:
        j = journeys.select("journey_id", "channel", "position")
        ids = j.select("journey_id").unique()
        if without is not None:
            j = j.filter(pl.col("channel") != without)
        eff = pl.DataFrame(
            {"channel": list(self.effects), "beta": [float(v) for v in self.effects.values()]},
            schema={"channel": pl.String, "beta": pl.Float64},
        )
        per = (
            j.group_by("journey_id", "channel")
            .agg(pl.len().alias("n"), pl.col("position").min().alias("first"))
            .join(eff, on="channel", how="left")
        )
        main = per.group_by("journey_id").agg(
            (pl.col("beta").fill_null(0.0) * pl.col("n").cast(pl.Float64).log1p()).sum().alias("z")
        )
        out = ids.join(main, on="journey_id", how="left").with_columns(
            pl.col("z").fill_null(0.0) + self.baseline
        )
        if self.order_effects:
            firsts = per.select("journey_id", "channel", "first")
            pairs = pl.DataFrame(
                {
                    "a": [a for a, _ in self.order_effects],
                    "b": [b for _, b in self.order_effects],
                    "gamma": [float(g) for g in self.order_effects.values()],
                }
            )
            hit = (
                pairs.join(firsts.rename({"channel": "a", "first": "fa"}), on="a")
                .join(firsts.rename({"channel": "b", "first": "fb"}), on=["b", "journey_id"])
                .filter(pl.col("fa") < pl.col("fb"))
                .group_by("journey_id")
                .agg(pl.col("gamma").sum())
            )
            out = (
                out.join(hit, on="journey_id", how="left")
                .with_columns(pl.col("z") + pl.col("gamma").fill_null(0.0))
                .drop("gamma")
            )
        return out

    def probability(self, journeys: pl.DataFrame, *, without: str | None = None) -> pl.DataFrame:
        """True conversion probability per journey (``journey_id``, ``p``).

        ``journeys`` has one row per touch: ``journey_id``, ``channel``, ``position``
        (order within the journey). ``without`` removes every touch of that channel.
        """
        z = self._logit(journeys, without=without)
        return z.select("journey_id", (1.0 / (1.0 + (-pl.col("z")).exp())).alias("p")).sort(
            "journey_id", maintain_order=True
        )

    def lifts(self, journeys: pl.DataFrame) -> pl.DataFrame:
        """Expected conversions each channel causes: ``Σ_J p(J) − p(J without c)``."""
        full = self.probability(journeys)
        present = sorted(set(journeys["channel"].unique().to_list()))
        rows = []
        for c in present:
            p0 = self.probability(journeys, without=c)
            drop = full.join(p0, on="journey_id", suffix="_0").select(
                (pl.col("p") - pl.col("p_0")).sum()
            )
            rows.append({"channel": c, "lift": float(drop.item())})
        return pl.DataFrame(rows, schema={"channel": pl.String, "lift": pl.Float64})

    def true_shares(self, journeys: pl.DataFrame) -> pl.DataFrame:
        """Each channel's true share of credit (``channel``, ``lift``, ``share``)."""
        lifts = self.lifts(journeys)
        pos = lifts.with_columns(pl.col("lift").clip(lower_bound=0.0))
        total = pos["lift"].sum()
        return pos.with_columns(
            (pl.col("lift") / total if total > 0 else pl.lit(0.0)).alias("share")
        ).sort("channel", maintain_order=True)

    def sample(self, journeys: pl.DataFrame, *, seed: int) -> pl.DataFrame:
        """Draw conversions: ``journey_id``, ``p``, ``converted`` (fixed ``seed``)."""
        p = self.probability(journeys)
        rng = np.random.default_rng(seed)
        draws = rng.random(p.height) < p["p"].to_numpy()
        return p.with_columns(pl.Series("converted", draws))
