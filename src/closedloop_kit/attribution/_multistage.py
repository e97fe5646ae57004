"""Multi-stage attribution: credit every funnel transition, chain them into revenue credit.

A B2B funnel has stages ``s_0 → s_1 → … → s_S`` (e.g. lead → MQL → sales-ready →
opportunity → won). Each journey ``J`` has the time ``T_k(J)`` it reached stage ``s_k``
(null: not reached); ``T_{−1}(J)`` is its first touch. Transition ``k`` moves a journey
from ``s_{k−1}`` to ``s_k``; for ``k = 0`` every journey is at risk. Its exposures count
the touches *before* the transition: ``x_kc(J) = log(1 + n_c(J, ≤ E_k))`` with ``E_k =
T_k`` when the journey reached ``s_k``; when it did not, ``E_k = E_{k−1} + m_k`` with
``m_k`` the median time the journeys that moved on took (``T_k − T_{k−1}``), so stalled
journeys are not credited with the touches they collect while waiting (equal windows).
A journey that never reached ``s_{k−1}`` thus enters it, for the chain below, at the
end of its window there, and later transitions do not count its later touches either
(``stalled="all"``: ``m_k = ∞``, every touch). One continuation-ratio logit is fitted
on every (journey, transition) row at risk:

    logit P(reach s_k | reached s_{k−1}, J) = α_k + Σ_c β_kc x_kc(J)

with a baseline ``α_k`` per transition and channel effects ``β_kc = β_c + δ_kc``: a
part ``β_c`` shared by all transitions, so the many early transitions (hundreds of MQLs)
inform the effects that the few won deals alone could not, and a per-transition
deviation ``δ_kc`` held back by a ridge penalty ``½ λ Σ δ_kc²`` (``pooling=λ``; ``0``
fits each transition on its own, a large ``λ`` shares one effect per channel). The
fit is penalised maximum likelihood by Newton-Raphson on the distinct
(transition, counts) patterns. Transitions where every or no journey at risk moves
on carry no information on ``β`` and are left out (their probability is 1 or 0 for
everyone). Rows with the same transition and touch counts are one binomial row.

**Chain**: the probability that journey ``J`` goes all the way is the product over the
fitted transitions,

    P(J) = Π_k σ(α_k + β_k · x_k(J)),    σ(t) = 1 / (1 + e^{−t})

**Credit** (counterfactual, as for the logistic model): ``Δ_c(J) = P(J) − P(J without
c)`` with ``c``'s touches removed from every transition's exposures. A journey that
reached the last stage gives its credit ``max(Δ_c, 0) / Σ_k max(Δ_k, 0)`` (equal split
over its channels when none is positive). Channel totals split the observed
conversions and value of the last stage in proportion to the expected incremental
conversions ``max(Σ_J Δ_c(J), 0)`` over *all* journeys (the same shares for value: a
chained conversion is valued at the mean value of the journeys that reached the last
stage, as the value of a deal that did not happen is unknown).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from closedloop_kit.attribution._logistic import distinct_patterns
from closedloop_kit.config import Taxonomy
from closedloop_kit.errors import ModelFitError
from closedloop_kit.stats import newton_logit

__all__ = ["DEFAULT_STAGES", "MultistageFit", "fit_multistage"]

DEFAULT_STAGES = tuple(f"{s}_at" for s in Taxonomy.default().stages)
"""Stage columns used when present, in funnel order (times per journey): the milestone
times ``<stage>_at`` that :meth:`Prepared.journeys` carries for the default taxonomy
(``raw_lead_at``, ``mql_at``, ``sales_ready_at``, ``opportunity_at``, ``won_at``)."""

FALLBACK_STAGES = ("is_lead_creation_touch", "is_opportunity_creation_touch", "conversion_at")
"""Without stage times: the milestone flags of :func:`journeys`, then the conversion."""


@dataclass(frozen=True)
class MultistageFit:
    """Per-journey shares, channel incremental totals, the transitions and the model."""

    shares: pl.DataFrame
    incremental: pl.DataFrame
    transitions: pl.DataFrame
    coefficients: pl.DataFrame
    stages: list[str]


def _stage_times(journeys: pl.DataFrame, stages: Sequence[str]) -> pl.DataFrame:
    """``journey_id`` and one datetime per stage (null when not reached).

    A datetime column is read as the journey's stage time; a boolean column is a
    per-touch milestone flag (``is_lead_creation_touch``: the last touch at or before the
    milestone), whose flagged touch's ``occurred_at`` stands for the stage time.
    """
    aggs = []
    for s in stages:
        dtype = journeys.schema[s]
        if dtype == pl.Boolean:
            aggs.append(pl.col("occurred_at").filter(pl.col(s)).max().alias(s))
        else:
            aggs.append(pl.col(s).drop_nulls().first().alias(s))
    out = journeys.group_by("journey_id").agg(aggs).sort("journey_id")
    # a stage passed without its own time (skipped in the record) takes the next one's
    return out.with_columns(
        pl.coalesce(stages[k:]).alias(stages[k]) for k in range(len(stages) - 1)
    )


def _up_to_conversion(journeys: pl.DataFrame, stages: list[str]) -> list[str]:
    """The default stages up to the journeys' conversion stage (the rest are after it).

    The conversion stage is the first whose time equals ``conversion_at`` on every
    converting journey (journeys to sales-ready end there, not at won); without
    ``conversion_at``, converting journeys or such a stage, all of ``stages``.
    """
    if "conversion_at" not in journeys.columns or "converted" not in journeys.columns:
        return stages
    conv = journeys.filter(pl.col("converted")).group_by("journey_id").first()
    if conv.height == 0 or conv.schema["conversion_at"] == pl.Null:
        return stages
    for k, s in enumerate(stages):
        if journeys.schema[s] != pl.Boolean and bool(
            (conv[s] == conv["conversion_at"]).fill_null(False).all()
        ):
            return stages[: k + 1]
    return stages


def _check(journeys: pl.DataFrame, stages: Sequence[str] | None) -> list[str]:
    if stages is None:
        present = [s for s in DEFAULT_STAGES if s in journeys.columns]
        stages = (
            _up_to_conversion(journeys, present)
            if present
            else [s for s in FALLBACK_STAGES if s in journeys.columns]
        )
    stages = list(stages)
    missing = [c for c in ("journey_id", "channel", "occurred_at", *stages) if c not in journeys]
    if missing:
        msg = (
            f"multistage needs columns {missing} in the journeys frame: `stages` names, in "
            "funnel order, per-journey stage times (or per-touch milestone flags such as "
            "is_lead_creation_touch), e.g. lead_at, mql_at, sales_ready_at, opportunity_at, "
            "won_at"
        )
        raise ValueError(msg)
    if len(stages) < 2:
        msg = f"`stages` must name at least 2 stages in funnel order, got {stages!r}"
        raise ValueError(msg)
    return stages


def fit_multistage(
    journeys: pl.DataFrame,
    *,
    stages: Sequence[str] | None = None,
    pooling: float = 10.0,
    stalled: str = "median",
) -> MultistageFit:
    """Fit the continuation-ratio logit over the funnel and derive chained credit.

    Parameters
    ----------
    journeys
        Touch-level journeys (``journey_id``, ``channel``, ``occurred_at``, ``value``)
        with the stage columns.
    stages
        Stage columns in funnel order (module docstring); default: those of
        :data:`DEFAULT_STAGES` present, up to the conversion (the first stage whose
        time is ``conversion_at`` on every converting journey), else those of
        :data:`FALLBACK_STAGES` (the lead- and opportunity-creation touches of
        :func:`journeys`, then ``conversion_at``). The last stage should be the
        conversion (``converted``).
    pooling
        Ridge ``λ`` on the per-transition deviations (module docstring): 0 fits each
        transition on its own, large values share one effect per channel.
    stalled
        ``"median"``: a journey that did not move on counts the touches up to its entry
        into the previous stage plus the median time the movers took; ``"all"``: every
        touch.

    Returns
    -------
    MultistageFit
    """
    stages = _check(journeys, stages)
    channels = sorted(journeys["channel"].drop_nulls().unique().to_list())
    c = len(channels)
    times = _stage_times(journeys, stages)
    ids = times["journey_id"]
    n_j = ids.len()
    jidx = pl.DataFrame({"journey_id": ids, "_j": np.arange(n_j, dtype=np.int64)})
    touch = journeys.select(
        "journey_id",
        pl.col("channel").cast(pl.Enum(channels)).to_physical().alias("_c"),
        "occurred_at",
    ).join(jidx, on="journey_id", how="inner")
    tj = touch["_j"].to_numpy()
    tc = touch["_c"].to_numpy().astype(np.int64)
    t_us = touch["occurred_at"].dt.epoch("us").to_numpy().astype(np.float64)
    all_counts = np.bincount(tj * c + tc, minlength=n_j * c).reshape(n_j, c)

    # a stage reached implies the earlier ones (coalesced in _stage_times)
    reached = np.column_stack([times[s].is_not_null().to_numpy() for s in stages])
    counts_k: list[np.ndarray] = []
    rows: list[dict[str, object]] = []
    used: list[int] = []
    # entry into the funnel: the journey's first touch
    prev_us = np.full(n_j, np.inf)
    np.minimum.at(prev_us, tj, t_us)
    for k, s in enumerate(stages):
        stage_us = times[s].dt.epoch("us").to_numpy().astype(np.float64)
        # reached: touches up to the stage; not reached: up to the entry into the
        # previous stage plus the median time reachers took (equal windows, else
        # journeys that stall collect touches and channels look harmful). A journey
        # that never reached the previous stage entered it, for the chain, at the end
        # of its window there, so later transitions do not count its future touches.
        took = stage_us - prev_us
        took = took[np.isfinite(took)]
        wait = float(np.median(took)) if took.size and stalled == "median" else np.inf
        open_end = prev_us + wait
        end_us = np.where(np.isnan(stage_us), open_end, stage_us)
        limit = end_us[tj]
        prev_us = end_us
        before = t_us <= limit
        counts = np.bincount(tj[before] * c + tc[before], minlength=n_j * c).reshape(n_j, c)
        counts_k.append(counts)
        at_risk = np.ones(n_j, dtype=bool) if k == 0 else reached[:, k - 1]
        moved = at_risk & reached[:, k]
        n_risk, n_moved = int(at_risk.sum()), int(moved.sum())
        informative = 0 < n_moved < n_risk
        rows.append(
            {
                "transition": f"{stages[k - 1]} → {s}" if k else f"start → {s}",
                "at_risk": n_risk,
                "moved_on": n_moved,
                "rate": n_moved / n_risk if n_risk else None,
                "fitted": informative,
            }
        )
        if informative:
            used.append(k)
    transitions = pl.DataFrame(
        rows,
        schema={
            "transition": pl.String,
            "at_risk": pl.Int64,
            "moved_on": pl.Int64,
            "rate": pl.Float64,
            "fitted": pl.Boolean,
        },
        orient="row",
    )
    if not used:
        msg = (
            "multistage: no transition has journeys that both moved on and stopped; check "
            "the stage columns (nulls mean 'not reached')"
        )
        raise ModelFitError(msg)
    # stacked (journey, transition) rows at risk, grouped by (transition, counts)
    blocks, succ_l = [], []
    for i, k in enumerate(used):
        at_risk = np.ones(n_j, dtype=bool) if k == 0 else reached[:, k - 1]
        rk = np.flatnonzero(at_risk)
        stage_col = np.full((rk.size, 1), i, dtype=np.int64)
        blocks.append(np.hstack([stage_col, counts_k[k][rk]]))
        succ_l.append(reached[rk, k].astype(np.float64))
    key = np.vstack(blocks)
    succ = np.concatenate(succ_l)
    rep, inverse = distinct_patterns(key)
    s_all = np.bincount(inverse, weights=succ, minlength=rep.size)
    n_all = np.bincount(inverse, minlength=rep.size).astype(np.float64)
    m = len(used)
    stage_idx, cnt = key[rep, 0], np.log1p(key[rep, 1:].astype(np.float64))
    dummies = (stage_idx[:, None] == np.arange(1, m)[None, :]).astype(np.float64)
    per_stage = np.hstack([cnt * (stage_idx == i)[:, None] for i in range(m)])
    if pooling > 0:
        # ridge λ on the per-transition deviations δ_kc only (intercepts, β_c free)
        x = np.hstack([dummies, cnt, per_stage])
        penalty = np.concatenate([np.zeros(m + c), np.full(m * c, float(pooling))])
        params = newton_logit(x, s_all, n_all, penalty=penalty)
        shared = params[m : m + c]
        deviations = params[m + c :]
    else:  # each transition on its own: no shared column
        params = newton_logit(np.hstack([dummies, per_stage]), s_all, n_all)
        shared = np.zeros(c)
        deviations = params[m:]
    if not np.all(np.isfinite(params)):
        msg = "multistage: the fit did not converge; check for channels in every journey"
        raise ModelFitError(msg)
    alphas = np.concatenate([[params[0]], params[0] + params[1:m]])
    betas = shared[None, :] + deviations.reshape(m, c)
    coefficients = pl.DataFrame(
        {
            "transition": [str(rows[k]["transition"]) for k in used for _ in range(c + 1)],
            "term": [t for _ in used for t in ("baseline", *channels)],
            "coef": np.column_stack([alphas, betas]).ravel(),
        }
    )

    def chain(drop: int | None) -> np.ndarray:
        logp = np.zeros(n_j)
        for i, k in enumerate(used):
            xk = np.log1p(counts_k[k].astype(np.float64))
            if drop is not None:
                xk[:, drop] = 0.0
            logp += -np.logaddexp(0.0, -(alphas[i] + xk @ betas[i]))
        return np.exp(logp)

    p = chain(None)
    delta = np.column_stack([p - chain(ch) for ch in range(c)])
    present = all_counts > 0
    final = reached[:, -1]
    keep = np.flatnonzero(final)
    pos = np.where(present[keep], np.maximum(delta[keep], 0.0), 0.0)
    tot = pos.sum(axis=1, keepdims=True)
    uniform = present[keep] / np.maximum(present[keep].sum(axis=1, keepdims=True), 1)
    share = np.where(tot > 0, pos / np.where(tot > 0, tot, 1.0), uniform)
    r, ch_i = np.nonzero(present[keep])
    shares = pl.DataFrame(
        {
            "journey_id": ids.gather(keep[r]),
            "channel": pl.Series(channels, dtype=pl.String).gather(ch_i),
            "share": share[r, ch_i],
        }
    )
    lift = np.where(present, delta, 0.0).sum(axis=0)
    incremental = pl.DataFrame({"channel": channels, "incremental": lift})
    return MultistageFit(shares, incremental, transitions, coefficients, stages)
