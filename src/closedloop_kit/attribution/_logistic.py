"""Regression attribution: a logit on touch exposures, turned into credit counterfactually.

Per journey ``J`` the main features are the exposures ``x_c = log(1 + n_c(J))`` (``n_c``
the number of touches of channel ``c``: diminishing returns). *Order terms* are 0/1
indicators of how the channels are arranged:

- ``a before b``: ``a``'s first touch comes before ``b``'s (both present);
- ``a with b``: both ``a`` and ``b`` appear, in either order (a pair synergy);
- ``first a`` / ``last a``: the journey's first (last) touch is ``a``.

The model is

    logit P(convert | J) = β₀ + Σ_c β_c x_c + Σ_t γ_t z_t(J)

fitted by maximum likelihood on **distinct exposure patterns**: journeys with the same
feature row are one binomial row (successes = conversions, trials = journeys), which gives
exactly the per-journey estimates (a test checks it to 1e-8) at a fraction of the cost.

**Which order terms** (``features``): ``"main"`` none; ``"order"`` every ``a before b``
pair seen at least ``min_pair_support`` times in both orders (the former definition);
``"auto"`` (the default) chooses them by forward selection on the Bayesian information
criterion ``BIC = −2 ℓ + k log N`` (``N`` journeys): at each step the candidate with the
largest score statistic ``U_t² / I_t`` (``U_t = z_t'(y − n p̂)``, ``I_t`` its efficient
information given the current terms) is refitted and kept when its likelihood-ratio
``2 Δℓ > log N``; selection stops at the first candidate that does not pass (at most
``max_terms``; a candidate whose refit separates the data, a coefficient beyond ±25
log-odds, is skipped). Candidates are every supported ``a before b`` and ``a with b`` pair and
every ``first a`` / ``last a`` seen at least ``min_pair_support`` times. The chosen terms
are reported (``LogisticFit.terms``; ``params["order_terms"]``) with the selection steps
(``LogisticFit.selection``).

**Credit (counterfactual)**: for a converting journey, channel ``c``'s effect is
``Δ_c = p̂(J) − p̂(J without c)``, where ``J without c`` removes every touch of ``c``: its
exposure becomes 0, pair terms involving ``c`` become 0, and ``first a`` (``last a``) is
re-read on the remaining touches (the first touch of another channel becomes the first).
Credit is ``max(Δ_c, 0) / Σ_k max(Δ_k, 0)`` (equal split over the journey's channels
when no channel has a positive effect), spread evenly over ``c``'s touches. The channel
table also reports ``incremental = Σ_J Δ_c(J)`` over *all* journeys: the expected
conversions the channel causes. With ``allocation="incremental"`` (the default) the
channel totals split the observed conversions (value) in proportion to
``max(incremental_c, 0)`` (``Σ_J Δ_c(J) · v̄(J)`` for value, ``v̄`` the path's mean
conversion value); ``allocation="journey"`` sums the per-journey credits instead.
Turning coefficients into shares directly (``β_c / Σ β``) ignores how often and with
what else a channel appears and misallocates far more (see docs/attribution.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
import polars as pl
import scipy.sparse as sp

from closedloop_kit.attribution._paths import PathTable
from closedloop_kit.stats import LogitFit, fit_logit, newton_logit

__all__ = ["LogisticFit", "Term", "fit_logistic"]

FEATURES = ("main", "order", "auto")
TermKind = Literal["before", "with", "first", "last"]


@dataclass(frozen=True)
class Term:
    """One order term: ``kind`` and the channel codes it reads (``b = -1`` if unused)."""

    kind: TermKind
    a: int
    b: int = -1

    def name(self, channels: list[str]) -> str:
        """Readable label, e.g. ``"Email before Webinar"`` or ``"last Direct"``."""
        if self.kind in ("before", "with"):
            return f"{channels[self.a]} {self.kind} {channels[self.b]}"
        return f"{self.kind} {channels[self.a]}"


@dataclass(frozen=True)
class LogisticFit:
    """Path-level shares, per-channel expected incremental conversions, the model.

    ``features`` is ``"main"`` or ``"order"`` (whether order terms are in the model),
    ``terms`` their labels, ``selection`` the forward-selection steps of
    ``features="auto"`` (``step``, ``term``, ``score``, ``lr``, ``threshold``, ``kept``).
    """

    shares: pl.DataFrame
    incremental: pl.DataFrame
    fit: LogitFit
    features: str
    terms: list[str]
    selection: pl.DataFrame


@dataclass(frozen=True)
class _Paths:
    """Per path: counts, first/last positions, first and last channel and runner-up."""

    counts: np.ndarray  # (P, C) int64
    first: np.ndarray  # (P, C) float, inf when absent
    first1: np.ndarray  # (P,) channel of the first touch
    first2: np.ndarray  # (P,) channel whose first touch is second (−1 if none)
    last1: np.ndarray
    last2: np.ndarray


def _runner_up(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the column of the smallest and second smallest finite ``key`` (−1 if none)."""
    rows = np.arange(key.shape[0])
    one = np.argmin(key, axis=1)
    one_ok = np.isfinite(key[rows, one])
    rest = key.copy()
    rest[rows, one] = np.inf
    two = np.argmin(rest, axis=1)
    two_ok = np.isfinite(rest[rows, two])
    return np.where(one_ok, one, -1), np.where(two_ok, two, -1)


def _path_arrays(pt: PathTable, *, order: bool = True) -> _Paths:
    """Counts per path and channel; with ``order``, also what the order terms read."""
    table = pt.table
    c = len(pt.channels)
    lengths = table["path"].list.len().to_numpy().astype(np.int64)
    codes = table["path"].explode().drop_nulls().to_numpy().astype(np.int64)
    pid = np.repeat(np.arange(table.height, dtype=np.int64), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    counts = np.bincount(pid * c + codes, minlength=table.height * c).reshape(table.height, c)
    if not order:
        none = np.zeros(0, dtype=np.int64)
        return _Paths(counts.astype(np.int64), np.zeros((0, c)), none, none, none, none)
    first = np.full((table.height, c), np.inf)
    last = np.full((table.height, c), np.inf)  # −position, so the smallest is the latest
    # one position at a time, every path at most once per write (no duplicate indices):
    # backwards for the first touch of each channel, forwards for the last
    steps = range(int(lengths.max()) if lengths.size else 0)
    for s in reversed(steps):
        rows = np.flatnonzero(lengths > s)
        first[rows, codes[starts[rows] + s]] = s
    for s in steps:
        rows = np.flatnonzero(lengths > s)
        last[rows, codes[starts[rows] + s]] = -s
    f1, f2 = _runner_up(first)
    l1, l2 = _runner_up(last)
    return _Paths(counts.astype(np.int64), first, f1, f2, l1, l2)


def _term_column(t: Term, pa: _Paths, without: int = -1) -> np.ndarray:
    """0/1 value of term ``t`` per path, optionally with channel ``without`` removed."""
    present = pa.counts > 0
    if t.kind in ("before", "with"):
        if without in (t.a, t.b):
            return np.zeros(pa.counts.shape[0])
        both = present[:, t.a] & present[:, t.b]
        if t.kind == "before":
            both &= pa.first[:, t.a] < pa.first[:, t.b]
        return both.astype(np.float64)
    one, two = (pa.first1, pa.first2) if t.kind == "first" else (pa.last1, pa.last2)
    if without == t.a:
        return np.zeros(pa.counts.shape[0])
    if without >= 0:
        one = np.where(one == without, two, one)
    out: np.ndarray = (one == t.a).astype(np.float64)
    return out


def _candidates(
    pa: _Paths, trials: np.ndarray, min_support: float
) -> tuple[list[Term], sp.csc_matrix]:
    """Order terms with enough support, and their 0/1 columns as a sparse (paths × terms).

    Built from the rows where both channels of a pair are present, never as a dense
    matrix (there are ``C (C − 1) · 3/2 + 2C`` possible terms).
    """
    n_paths, c = pa.counts.shape
    present = pa.counts > 0
    terms: list[Term] = []
    cols: list[np.ndarray] = []
    withs: list[tuple[Term, np.ndarray]] = []
    for a, b in combinations(range(c), 2):
        both = np.flatnonzero(present[:, a] & present[:, b])
        if both.size == 0:
            continue
        a_first = pa.first[both, a] < pa.first[both, b]
        ab, ba = both[a_first], both[~a_first]
        s_ab, s_ba = float(trials[ab].sum()), float(trials[ba].sum())
        if s_ab >= min_support and s_ba >= min_support:
            terms += [Term("before", a, b), Term("before", b, a)]
            cols += [ab, ba]
        if s_ab + s_ba >= min_support:
            withs.append((Term("with", a, b), both))
    for t, rows in withs:
        terms.append(t)
        cols.append(rows)
    for kind, one in (("first", pa.first1), ("last", pa.last1)):
        for a in range(c):
            rows = np.flatnonzero(one == a)
            if float(trials[rows].sum()) >= min_support:
                terms.append(Term(kind, a))  # type: ignore[arg-type]
                cols.append(rows)
    if not terms:
        return terms, sp.csc_matrix((n_paths, 0))
    indices = np.concatenate(cols)
    indptr = np.concatenate([[0], np.cumsum([r.size for r in cols])])
    z = sp.csc_matrix((np.ones(indices.size), indices, indptr), shape=(n_paths, len(terms)))
    return terms, z


def _fit_patterns(
    counts: np.ndarray,
    extra: np.ndarray,
    conv: np.ndarray,
    trials: np.ndarray,
    start: np.ndarray | None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Newton fit on distinct patterns: ``(beta, log-likelihood, path linear predictor)``."""
    rep, inverse = distinct_patterns(counts, extra)
    x = np.hstack([np.log1p(counts[rep].astype(np.float64)), extra[rep]])
    succ = np.bincount(inverse, weights=conv, minlength=rep.size)
    n = np.bincount(inverse, weights=trials, minlength=rep.size)
    beta = newton_logit(x, succ, n, start=start)
    eta = beta[0] + x @ beta[1:]
    ll = float(np.sum(succ * eta - n * np.logaddexp(0.0, eta)))
    return beta, ll, eta[inverse]


def _select(
    pa: _Paths,
    conv: np.ndarray,
    trials: np.ndarray,
    candidates: list[Term],
    z: sp.csc_matrix,
    channels: list[str],
    max_terms: int,
) -> tuple[list[Term], pl.DataFrame, np.ndarray | None]:
    """Forward selection of order terms by score statistic, kept when BIC improves.

    The score ``U_t = z_t'(y − n p̂)`` uses the current fit; the information
    ``I_t = z_t'W z_t − b_t' H⁻¹ b_t`` (``b_t = X'W z_t``, ``H = X'WX``) uses the weights
    ``W`` of the main-effects fit, extended by one column per chosen term (two sparse
    products per step instead of one per candidate). The score only ranks candidates:
    the likelihood-ratio test on the refit decides.
    """
    rows: list[dict[str, object]] = []
    chosen: list[int] = []
    if not candidates:
        return [], pl.DataFrame(schema=_SELECTION_SCHEMA), None
    threshold = float(np.log(max(trials.sum(), 2.0)))
    extra = np.zeros((pa.counts.shape[0], 0))
    beta, ll, eta = _fit_patterns(pa.counts, extra, conv, trials, None)
    zt = z.T.tocsr()
    p = 1.0 / (1.0 + np.exp(-np.clip(eta, -30, 30)))
    w = trials * p * (1.0 - p)
    design = np.column_stack([np.ones(pa.counts.shape[0]), np.log1p(pa.counts.astype(np.float64))])
    wd = design * w[:, None]
    hess = wd.T @ design
    cross = np.asarray(zt @ wd)  # (K, d): b_t for every candidate
    zwz = zt @ w  # z is 0/1: z'Wz = Σ w where z = 1
    open_ = np.ones(len(candidates), dtype=bool)
    for step in range(max_terms):
        u = zt @ (conv - trials * p)
        reg = hess + 1e-10 * (np.diag(hess).max() + 1.0) * np.eye(hess.shape[0])
        solved = np.linalg.lstsq(reg, cross.T, rcond=None)[0]
        info = zwz - np.einsum("kd,dk->k", cross, solved)
        ok = open_ & (info > 1e-8 * np.maximum(zwz, 1e-300))
        if not ok.any():
            break
        score = np.where(ok, u**2 / np.where(ok, info, 1.0), -np.inf)
        k = int(np.argmax(score))
        col = z[:, [k]].toarray().ravel()
        extra_new = np.column_stack([extra, col])
        beta_new, ll_new, eta_new = _fit_patterns(
            pa.counts, extra_new, conv, trials, np.append(beta, 0.0)
        )
        lr = 2.0 * (ll_new - ll)
        # a term that separates the data (coefficients run off) is dropped, not kept
        separated = not bool(np.all(np.abs(beta_new) < _MAX_LOG_ODDS))
        kept = bool(lr > threshold and not separated)
        rows.append(
            {
                "step": step + 1,
                "term": candidates[k].name(channels),
                "score": float(score[k]),
                "lr": float(lr),
                "threshold": threshold,
                "kept": kept,
            }
        )
        open_[k] = False
        if separated:
            continue
        if not kept:
            break
        chosen.append(k)
        extra, beta, ll, eta = extra_new, beta_new, ll_new, eta_new
        p = 1.0 / (1.0 + np.exp(-np.clip(eta, -30, 30)))
        # extend H and every b_t by the chosen column (weights of the main fit)
        wz = w * col
        zk = cross[k]
        hess = np.block([[hess, zk[:, None]], [zk[None, :], np.array([[zwz[k]]])]])
        cross = np.column_stack([cross, zt @ wz])
    frame = pl.DataFrame(rows, schema=_SELECTION_SCHEMA, orient="row")
    return [candidates[k] for k in chosen], frame, beta


_MAX_LOG_ODDS = 25.0
"""A coefficient beyond ±25 log-odds means separation: the term is not kept."""

_SELECTION_SCHEMA = {
    "step": pl.Int64,
    "term": pl.String,
    "score": pl.Float64,
    "lr": pl.Float64,
    "threshold": pl.Float64,
    "kept": pl.Boolean,
}


def distinct_patterns(
    counts: np.ndarray, extra: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Index of one representative row per distinct pattern, and each row's pattern.

    A pattern is the exact row of integer ``counts`` plus the 0/1 ``extra`` columns;
    returns ``(representative_rows, inverse)`` with ``inverse[i]`` the pattern of row ``i``.
    The row is packed into one integer (mixed radix) when it fits in 62 bits, else
    compared as raw bytes.
    """
    parts = [counts.astype(np.int64)]
    if extra is not None and extra.size:
        parts.append(extra.astype(np.int64))
    key = np.hstack(parts)
    if key.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    radix = key.max(axis=0) + 1
    if float(np.sum(np.log2(radix.astype(np.float64)))) < 62:
        packed = np.zeros(key.shape[0], dtype=np.int64)
        for j in range(key.shape[1]):
            packed = packed * int(radix[j]) + key[:, j]
        _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    else:
        raw = np.ascontiguousarray(key)
        void = raw.view(np.dtype((np.void, raw.dtype.itemsize * raw.shape[1]))).ravel()
        _, first, inverse = np.unique(void, return_index=True, return_inverse=True)
    return first.astype(np.int64), inverse.ravel().astype(np.int64)


def fit_logistic(
    pt: PathTable,
    *,
    features: str = "auto",
    min_pair_support: float = 50.0,
    max_terms: int | None = None,
    alpha: float = 0.05,
) -> LogisticFit:
    """Fit the exposure logit on a path table and derive counterfactual credit."""
    if features not in FEATURES:
        msg = f"`features` must be one of {FEATURES}, got {features!r}"
        raise ValueError(msg)
    pa = _path_arrays(pt, order=features != "main")
    conv = pt.table["conversions"].to_numpy().astype(np.float64)
    trials = conv + pt.table["nulls"].to_numpy().astype(np.float64)
    names = list(pt.channels)
    c = len(names)
    main: np.ndarray = np.log1p(pa.counts.astype(np.float64))
    selection = pl.DataFrame(schema=_SELECTION_SCHEMA)
    terms: list[Term] = []
    start: np.ndarray | None = None
    if features == "order":
        cands, _ = _candidates(pa, trials, min_pair_support)
        terms = [t for t in cands if t.kind == "before"]
    elif features == "auto":
        cands, zc = _candidates(pa, trials, min_pair_support)
        limit = 2 * c if max_terms is None else max_terms
        terms, selection, start = _select(pa, conv, trials, cands, zc, names, limit)
    z = (
        np.column_stack([_term_column(t, pa) for t in terms])
        if terms
        else np.zeros((pt.table.height, 0))
    )
    x = np.hstack([main, z])
    cols = [*names, *[t.name(names) for t in terms]]
    # paths with identical features are one binomial row (same estimates, faster fit)
    rep, inverse = distinct_patterns(pa.counts, z)
    s_all = np.bincount(inverse, weights=conv, minlength=rep.size)
    n_all = np.bincount(inverse, weights=trials, minlength=rep.size)
    # the selection's last fit is the estimate: it starts the final Newton steps
    fit = fit_logit(x[rep], s_all, n_all, cols, alpha=alpha, start=start)
    delta = _deltas(fit, x, pa, terms)
    shares = _shares(pt, pa, delta, conv, names)
    value = pt.table["value"].fill_null(0.0).to_numpy().astype(np.float64)
    overall = value.sum() / conv.sum() if conv.sum() > 0 else 0.0
    mean_value = np.where(conv > 0, value / np.where(conv > 0, conv, 1.0), overall)
    lift = np.where(pa.counts > 0, delta, 0.0) * trials[:, None]
    incremental = pl.DataFrame(
        {
            "channel": names,
            "incremental": lift.sum(0),
            "incremental_value": (lift * mean_value[:, None]).sum(0),
        }
    )
    chosen = "order" if terms else "main"
    return LogisticFit(shares, incremental, fit, chosen, [t.name(names) for t in terms], selection)


def _deltas(fit: LogitFit, x: np.ndarray, pa: _Paths, terms: list[Term]) -> np.ndarray:
    """``Δ_c = p̂(J) − p̂(J without c)`` per path and channel."""
    c = pa.counts.shape[1]
    beta = fit.params[1:]
    eta = fit.linear_predictor(x)
    p = 1.0 / (1.0 + np.exp(-eta))
    delta = np.zeros((x.shape[0], c))
    for ch in range(c):
        eta_without = eta - beta[ch] * x[:, ch]
        for k, t in enumerate(terms):
            touched = ch in (t.a, t.b) or t.kind in ("first", "last")
            if touched:
                eta_without = eta_without - beta[c + k] * (x[:, c + k] - _term_column(t, pa, ch))
        delta[:, ch] = p - 1.0 / (1.0 + np.exp(-eta_without))
    return delta


def _shares(
    pt: PathTable, pa: _Paths, delta: np.ndarray, conv: np.ndarray, names: list[str]
) -> pl.DataFrame:
    """Per converting path and present channel: ``max(Δ_c, 0) / Σ_k max(Δ_k, 0)``."""
    keep = np.flatnonzero(conv > 0)
    present = pa.counts[keep] > 0
    pos = np.where(present, np.maximum(delta[keep], 0.0), 0.0)
    tot = pos.sum(axis=1, keepdims=True)
    uniform = present / np.maximum(present.sum(axis=1, keepdims=True), 1)
    share = np.where(tot > 0, pos / np.where(tot > 0, tot, 1.0), uniform)
    rows, chans = np.nonzero(present)
    return pl.DataFrame(
        {
            "path_id": pt.table["path_id"].to_numpy()[keep[rows]],
            "channel": pl.Series(names, dtype=pl.String).gather(chans),
            "share": share[rows, chans],
        },
        schema={"path_id": pl.Int64, "channel": pl.String, "share": pl.Float64},
    )
