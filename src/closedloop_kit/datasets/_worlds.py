"""Simulated attribution worlds: journeys of touches whose causal truth is known.

:func:`make_attribution_world` draws journeys (ordered channel touches with timestamps),
then decides each journey's conversion with a :class:`ConversionTruth`, so every
attribution model can be scored against the true incremental shares
(:meth:`ConversionTruth.true_shares`, :func:`misallocation`).

Kinds of world (``kind``):

- ``"additive"``: ``logit p = b0 + Σ_c β_c log(1 + n_c)``; channels differ in how often
  and *where* in the journey they appear (some open journeys, some close them), and some
  popular channels have no effect, so position-based rules are fooled.
- ``"order"``: additive plus order effects ``γ_ab`` (``a`` before ``b`` helps).
- ``"interaction"``: additive plus symmetric pair effects (``a`` and ``b`` together help,
  whichever comes first).
- ``"mixed"``: additive plus both order and interaction effects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from closedloop_kit.datasets._truth import ConversionTruth

__all__ = ["AttributionWorld", "WorldKind", "make_attribution_world"]

WorldKind = Literal["additive", "order", "interaction", "mixed"]

_CHANNEL_NAMES = [
    "Organic Search",
    "Paid Search",
    "Paid Social",
    "Email",
    "Direct",
    "Referral",
    "Display",
    "Webinar",
    "Organic Social",
    "Trade Show",
    "Content Syndication",
    "Affiliates",
    "Paid Video",
    "Partner",
    "Event",
    "Call",
]


@dataclass(frozen=True)
class AttributionWorld:
    """A simulated set of journeys and the causal truth that decided conversions.

    Attributes
    ----------
    journeys
        One row per touch: ``journey_id``, ``touch_id``, ``channel``, ``position``,
        ``occurred_at``, ``converted``, ``conversion_at``, ``value``.
    truth
        The :class:`ConversionTruth` used to draw ``converted``.
    kind
        The kind of world.
    seed
        The seed it was drawn with.
    """

    journeys: pl.DataFrame
    truth: ConversionTruth
    kind: str
    seed: int

    def true_shares(self) -> pl.DataFrame:
        """Each channel's true share of credit on these journeys."""
        return self.truth.true_shares(self.journeys)


def make_attribution_world(
    seed: int = 0,
    *,
    n_journeys: int = 20_000,
    channels: int | list[str] = 6,
    kind: WorldKind = "additive",
    baseline: float | None = None,
    mean_touches: float = 3.5,
    max_touches: int = 30,
    n_pairs: int = 2,
    pair_strength: float = 1.0,
    start: dt.datetime = dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
) -> AttributionWorld:
    """Draw journeys and conversions from a known causal model.

    Journey lengths are ``1 + Poisson(mean_touches − 1)`` (capped at ``max_touches``).
    Each channel has a popularity and a *position tendency*: the chance of drawing channel
    ``c`` at relative position ``r ∈ [0, 1]`` is ``∝ w_c · exp(τ_c (r − ½))``, so some
    channels tend to open journeys and others to close them. Effects ``β_c`` are drawn
    from ``{0, U(0.2, 1.2)}`` (about a third of channels do nothing), with the channel that
    most tends to close journeys set to no effect: exactly the case where last-touch rules
    mislead. Conversion is then drawn with :meth:`ConversionTruth.sample`; converting
    journeys get a log-normal ``value``, the others 0.

    Parameters
    ----------
    seed
        Random seed: the same seed gives the same world.
    n_journeys
        Number of journeys.
    channels
        Number of channels (named after GA4 groups and campaign types) or their names.
    kind
        ``"additive"``, ``"order"``, ``"interaction"`` or ``"mixed"`` (module docstring).
    baseline
        ``b0``, log-odds without any touch; drawn from ``U(−3.5, −2)`` when ``None``.
    mean_touches, max_touches
        Journey length distribution.
    n_pairs, pair_strength
        Number of order/interaction pairs and the size of their effect (log-odds).
    start
        Timestamp of the earliest journey start.

    Returns
    -------
    AttributionWorld

    Examples
    --------
    >>> w = make_attribution_world(1, n_journeys=200, channels=4, kind="order")
    >>> w.journeys.columns[:4]
    ['journey_id', 'touch_id', 'channel', 'position']
    >>> round(float(w.true_shares()["share"].sum()), 6)
    1.0
    """
    valid = ("additive", "order", "interaction", "mixed")
    if kind not in valid:
        msg = f"`kind` must be one of {valid}, got {kind!r}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    names = list(channels) if isinstance(channels, list) else _CHANNEL_NAMES[:channels]
    if len(names) < 2:
        msg = f"`channels` must give at least 2 channels, got {channels!r}"
        raise ValueError(msg)
    k = len(names)
    popularity = rng.dirichlet(np.full(k, 2.0))
    tendency = rng.normal(0.0, 2.0, size=k)
    betas = np.where(rng.random(k) < 1 / 3, 0.0, rng.uniform(0.2, 1.2, size=k))
    betas[int(np.argmax(tendency))] = 0.0  # the typical closer does nothing
    if not (betas > 0).any():
        betas[int(np.argmin(tendency))] = 0.8
    b0 = float(rng.uniform(-3.5, -2.0)) if baseline is None else float(baseline)

    lengths = np.minimum(1 + rng.poisson(max(mean_touches - 1.0, 0.0), n_journeys), max_touches)
    jid = np.repeat(np.arange(n_journeys, dtype=np.int64), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    pos = np.arange(jid.size, dtype=np.int64) - np.repeat(starts, lengths)
    len_t = np.repeat(lengths, lengths)
    rel = np.where(len_t > 1, pos / np.maximum(len_t - 1, 1), 0.5)
    logits = np.log(popularity)[None, :] + tendency[None, :] * (rel[:, None] - 0.5)
    gumbel = rng.gumbel(size=logits.shape)
    ch = np.argmax(logits + gumbel, axis=1)

    order: dict[tuple[str, str], float] = {}
    if kind != "additive":
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < min(n_pairs * (2 if kind == "mixed" else 1), k * (k - 1) // 2):
            a, b = (int(x) for x in rng.choice(k, size=2, replace=False))
            pairs.add((min(a, b), max(a, b)))
        for i, (a, b) in enumerate(sorted(pairs)):
            g = float(pair_strength * rng.uniform(0.6, 1.4))
            symmetric = kind == "interaction" or (kind == "mixed" and i % 2 == 1)
            if symmetric:
                order[(names[a], names[b])] = g
                order[(names[b], names[a])] = g
            else:
                first, second = (a, b) if rng.random() < 0.5 else (b, a)
                order[(names[first], names[second])] = g
    truth = ConversionTruth(
        baseline=b0,
        effects={n: float(b) for n, b in zip(names, betas, strict=True)},
        order_effects=order,
    )

    gaps = rng.exponential(4.0, size=jid.size)
    gaps[starts] = rng.uniform(0, 365, size=n_journeys)
    seconds = np.cumsum(gaps * 86400.0)
    seconds -= np.repeat(seconds[starts] - gaps[starts] * 86400.0, lengths)
    touches = pl.DataFrame(
        {
            "journey_id": jid,
            "touch_id": np.arange(jid.size, dtype=np.int64),
            "channel": np.asarray(names, dtype=object)[ch].tolist(),
            "position": pos,
            "occurred_at": pl.Series(np.round(seconds * 1e6).astype(np.int64)),
        }
    ).with_columns(
        (pl.lit(start) + pl.duration(microseconds=pl.col("occurred_at"))).alias("occurred_at")
    )
    drawn = truth.sample(touches.select("journey_id", "channel", "position"), seed=seed + 1)
    values = np.round(np.exp(rng.normal(np.log(20_000.0), 0.8, size=n_journeys)), 2)
    outcome = drawn.select(
        "journey_id",
        "converted",
        pl.when(pl.col("converted")).then(pl.Series(values)).otherwise(0.0).alias("value"),
    )
    last = touches.group_by("journey_id").agg(pl.col("occurred_at").max().alias("_last"))
    out = (
        touches.join(outcome, on="journey_id", how="left")
        .join(last, on="journey_id", how="left")
        .with_columns(
            pl.when(pl.col("converted"))
            .then(pl.col("_last") + pl.duration(hours=1))
            .alias("conversion_at")
        )
        .drop("_last")
        .select(
            "journey_id",
            "touch_id",
            "channel",
            "position",
            "occurred_at",
            "converted",
            "conversion_at",
            "value",
        )
        .sort("journey_id", "position", maintain_order=True)
    )
    return AttributionWorld(journeys=out, truth=truth, kind=kind, seed=seed)
