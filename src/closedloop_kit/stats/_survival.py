"""Survival analysis for right-censored durations: Kaplan-Meier and cumulative incidence."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["KaplanMeierFit", "cumulative_incidence", "kaplan_meier", "survival_quantiles"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class KaplanMeierFit:
    r"""A fitted Kaplan-Meier curve (see :func:`kaplan_meier`).

    Attributes
    ----------
    times
        Distinct event times, ascending.
    survival
        :math:`\hat S(t)` just after each time.
    se
        Greenwood standard error of :math:`\hat S(t)`.
    ci_low, ci_high
        Pointwise log-log ("exponential Greenwood") confidence band.
    n_risk, n_events
        At risk just before, and events at, each time.
    n, n_observed
        Subjects and observed events in total.
    alpha
        One minus the confidence level of the band.
    """

    times: FloatArray
    survival: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    n_risk: FloatArray
    n_events: FloatArray
    n: int
    n_observed: int
    alpha: float
    _durations: FloatArray
    _events: FloatArray

    def quantile(self, p: float) -> tuple[float, float, float]:
        r"""Time by which a share ``p`` has had the event, with its confidence interval.

        The estimate is the first event time with :math:`\hat S(t) < 1 - p` (the SAS
        and statsmodels convention); the interval inverts the log-log transformed
        z-test (Brookmeyer-Crowley, ``SurvfuncRight.quantile_ci(method="cloglog")``).
        ``nan`` means not reached (fewer than ``p`` had the event); an upper bound of
        ``inf`` means not bounded by the data.
        """
        if not 0 < p < 1:
            msg = f"`p` must be between 0 and 1, got {p!r}"
            raise ValueError(msg)
        if self.n_observed == 0:
            return (math.nan, math.nan, math.nan)
        from statsmodels.duration.survfunc import SurvfuncRight

        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            sf = SurvfuncRight(self._durations, self._events)
            est = float(sf.quantile(p))
            lo, hi = sf.quantile_ci(p, alpha=self.alpha, method="cloglog")
        return (est, float(lo), float(hi))


def kaplan_meier(
    durations: Sequence[float] | npt.ArrayLike,
    events: Sequence[bool] | npt.ArrayLike,
    *,
    alpha: float = 0.05,
) -> KaplanMeierFit:
    r"""Kaplan-Meier product-limit estimate of a survival curve with right censoring.

    .. math::

        \hat S(t) = \prod_{t_j \le t} \left(1 - \frac{d_j}{n_j}\right),\qquad
        \widehat{\mathrm{Var}}\,\hat S(t) = \hat S(t)^2 \sum_{t_j \le t}
        \frac{d_j}{n_j (n_j - d_j)}

    with :math:`d_j` events at time :math:`t_j` and :math:`n_j` subjects still at risk
    just before it (censored subjects count as at risk at their own censoring time).
    Fitted by ``statsmodels.duration.survfunc.SurvfuncRight``. The pointwise band is
    :math:`\hat S^{\exp(\pm z\,\sigma)}` with
    :math:`\sigma = \mathrm{se}(\hat S) / (\hat S\,|\log \hat S|)`.

    Parameters
    ----------
    durations
        Time from start to event or censoring (same unit throughout, e.g. days).
    events
        True where the event was observed, False where the duration is censored.
    alpha
        One minus the confidence level.

    Examples
    --------
    >>> fit = kaplan_meier([1, 2, 2, 3], [True, True, False, True])
    >>> fit.survival.round(4).tolist()  # 3/4; 3/4 · 2/3 (3 at risk at t=2); 0
    [0.75, 0.5, 0.0]
    >>> fit.quantile(0.5)[0]  # first t with S(t) < 0.5
    3.0
    """
    t = np.atleast_1d(np.asarray(durations, dtype=float))
    e = np.atleast_1d(np.asarray(events, dtype=float))
    if t.shape != e.shape:
        msg = f"`durations` and `events` must have the same length, got {t.shape} and {e.shape}"
        raise ValueError(msg)
    if np.isnan(t).any() or (t < 0).any():
        msg = "`durations` must be non-negative numbers without nan"
        raise ValueError(msg)
    empty = np.array([], dtype=float)
    if t.size == 0 or e.sum() == 0:
        return KaplanMeierFit(
            empty, empty, empty, empty, empty, empty, empty, int(t.size), 0, alpha, t, e
        )
    from scipy.stats import norm
    from statsmodels.duration.survfunc import SurvfuncRight

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        sf = SurvfuncRight(t, e)
        surv = np.asarray(sf.surv_prob, dtype=float)
        se = np.asarray(sf.surv_prob_se, dtype=float)
        z = float(norm.ppf(1 - alpha / 2))
        sigma = se / (surv * np.abs(np.log(surv)))
        low = surv ** np.exp(z * sigma)
        high = surv ** np.exp(-z * sigma)
    # S = 1 or S = 0 make the log-log band degenerate: use the point itself there
    low = np.where(np.isfinite(low), low, surv)
    high = np.where(np.isfinite(high), high, surv)
    se = np.where(np.isfinite(se), se, 0.0)
    return KaplanMeierFit(
        times=np.asarray(sf.surv_times, dtype=float),
        survival=surv,
        se=se,
        ci_low=low,
        ci_high=high,
        n_risk=np.asarray(sf.n_risk, dtype=float),
        n_events=np.asarray(sf.n_events, dtype=float),
        n=int(t.size),
        n_observed=int(e.sum()),
        alpha=alpha,
        _durations=t,
        _events=e,
    )


def survival_quantiles(
    durations: Sequence[float] | npt.ArrayLike,
    events: Sequence[bool] | npt.ArrayLike,
    *,
    probs: Sequence[float] = (0.25, 0.5, 0.75, 0.9),
    alpha: float = 0.05,
) -> list[tuple[float, float, float, float]]:
    """``(p, time, ci_low, ci_high)`` for each ``p`` (see :meth:`KaplanMeierFit.quantile`).

    Examples
    --------
    >>> survival_quantiles([1, 2, 3, 4], [1, 1, 1, 1], probs=[0.5])[0][:2]
    (0.5, 3.0)
    """
    fit = kaplan_meier(durations, events, alpha=alpha)
    return [(float(p), *fit.quantile(p)) for p in probs]


def cumulative_incidence(
    durations: Sequence[float] | npt.ArrayLike,
    causes: Sequence[int] | npt.ArrayLike,
    *,
    cause: int = 1,
) -> tuple[FloatArray, FloatArray]:
    r"""Aalen-Johansen cumulative incidence of one cause among competing causes.

    .. math::

        \hat F_k(t) = \sum_{t_j \le t} \hat S(t_{j-1}) \frac{d_{kj}}{n_j}

    where :math:`\hat S` is the Kaplan-Meier curve of *any* event, :math:`d_{kj}` the
    events of cause :math:`k` at :math:`t_j` and :math:`n_j` the number at risk.
    ``causes`` is 0 for a censored duration and a positive code per cause. Summed over
    causes, the incidences equal :math:`1 - \hat S(t)`.

    Returns
    -------
    tuple of numpy arrays
        Distinct event times (any cause) and :math:`\hat F_k` just after each.

    Examples
    --------
    >>> t, f = cumulative_incidence([1, 2, 3, 4], [1, 2, 0, 1], cause=1)
    >>> t.tolist(), f.round(4).tolist()  # 1/4; +0; then S(2)=1/2 · 1/1 at t=4
    ([1.0, 2.0, 4.0], [0.25, 0.25, 0.75])
    """
    t = np.atleast_1d(np.asarray(durations, dtype=float))
    c = np.atleast_1d(np.asarray(causes, dtype=int))
    if t.shape != c.shape:
        msg = f"`durations` and `causes` must have the same length, got {t.shape} and {c.shape}"
        raise ValueError(msg)
    times = np.unique(t[c > 0])
    if times.size == 0:
        return times.astype(float), np.array([], dtype=float)
    order = np.sort(t)
    n_risk = (t.size - np.searchsorted(order, times, side="left")).astype(float)
    d_all = np.array([np.sum((t == u) & (c > 0)) for u in times], dtype=float)
    d_k = np.array([np.sum((t == u) & (c == cause)) for u in times], dtype=float)
    surv = np.cumprod(1.0 - d_all / n_risk)
    s_before = np.concatenate([[1.0], surv[:-1]])
    return times.astype(float), np.cumsum(s_before * d_k / n_risk)
