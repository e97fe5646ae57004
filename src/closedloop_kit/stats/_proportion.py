"""Proportions: Wilson score intervals and tests of equal proportions across groups."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["ProportionTest", "compare_proportions", "proportion_ci"]

FloatArray = npt.NDArray[np.float64]


def proportion_ci(
    successes: Sequence[float] | npt.ArrayLike,
    trials: Sequence[float] | npt.ArrayLike,
    *,
    alpha: float = 0.05,
) -> tuple[FloatArray, FloatArray]:
    r"""Wilson score confidence interval for each proportion ``successes / trials``.

    With :math:`\hat p = x/n` and :math:`z = \Phi^{-1}(1 - \alpha/2)`:

    .. math::

        \frac{\hat p + z^2/(2n) \pm z\sqrt{\hat p(1-\hat p)/n + z^2/(4n^2)}}{1 + z^2/n}

    computed by ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
    A group with ``trials == 0`` gets ``nan`` bounds.

    Parameters
    ----------
    successes, trials
        Counts per group (equal lengths).
    alpha
        One minus the confidence level.

    Returns
    -------
    tuple of numpy arrays
        Lower and upper bounds.

    Examples
    --------
    >>> low, high = proportion_ci([3], [10])
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.1078, 0.6032)
    """
    from statsmodels.stats.proportion import proportion_confint

    x = np.atleast_1d(np.asarray(successes, dtype=float))
    n = np.atleast_1d(np.asarray(trials, dtype=float))
    if x.shape != n.shape:
        msg = f"`successes` and `trials` must have the same length, got {x.shape} and {n.shape}"
        raise ValueError(msg)
    if not 0 < alpha < 1:
        msg = f"`alpha` must be between 0 and 1, got {alpha!r}"
        raise ValueError(msg)
    low = np.full(x.shape, np.nan)
    high = np.full(x.shape, np.nan)
    ok = n > 0
    if ok.any():
        lo, hi = proportion_confint(x[ok], n[ok], alpha=alpha, method="wilson")
        low[ok] = np.clip(np.asarray(lo, dtype=float), 0.0, 1.0)
        high[ok] = np.clip(np.asarray(hi, dtype=float), 0.0, 1.0)
    return low, high


@dataclass(frozen=True)
class ProportionTest:
    """Outcome of :func:`compare_proportions`.

    Attributes
    ----------
    test
        ``"two_proportion_z"``, ``"chi_square"`` or ``"none"`` (fewer than two groups).
    statistic, p_value, df
        Test statistic (z or chi-square), two-sided p-value, degrees of freedom.
    n_groups
        Groups compared (groups with no trials are left out).
    small_sample
        Some expected count is below 5, so the normal/chi-square approximation is rough.
    """

    test: str
    statistic: float
    p_value: float
    df: int
    n_groups: int
    small_sample: bool


def compare_proportions(
    successes: Sequence[float] | npt.ArrayLike,
    trials: Sequence[float] | npt.ArrayLike,
) -> ProportionTest:
    r"""Test whether groups share one proportion.

    Two groups: the pooled two-proportion z-test,
    :math:`z = (\hat p_1 - \hat p_2) / \sqrt{\bar p(1-\bar p)(1/n_1 + 1/n_2)}` with
    :math:`\bar p = (x_1+x_2)/(n_1+n_2)` (``statsmodels proportions_ztest``). More groups:
    Pearson's chi-square test of homogeneity on the k×2 table,
    :math:`\chi^2 = \sum (O - E)^2 / E` with k−1 degrees of freedom
    (``statsmodels proportions_chisquare``). Groups with no trials are dropped; when
    every group has the same observed proportion of 0 or 1 the statistic is 0 and
    the p-value 1.

    Examples
    --------
    >>> t = compare_proportions([30, 45], [100, 100])
    >>> t.test, round(t.statistic, 4), round(t.p_value, 4)  # -0.15 / sqrt(.375·.625·.02)
    ('two_proportion_z', -2.1909, 0.0285)
    """
    x = np.atleast_1d(np.asarray(successes, dtype=float))
    n = np.atleast_1d(np.asarray(trials, dtype=float))
    keep = n > 0
    x, n = x[keep], n[keep]
    k = int(x.size)
    if k < 2:
        return ProportionTest("none", float("nan"), float("nan"), 0, k, False)
    pooled = x.sum() / n.sum()
    expected = np.concatenate([n * pooled, n * (1 - pooled)])
    small = bool((expected < 5).any())
    test = "two_proportion_z" if k == 2 else "chi_square"
    if pooled in (0.0, 1.0):
        return ProportionTest(test, 0.0, 1.0, k - 1, k, small)
    from statsmodels.stats.proportion import proportions_chisquare, proportions_ztest

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if k == 2:
            stat, p = proportions_ztest(x, n)
        else:
            stat, p, _ = proportions_chisquare(x, n)
    return ProportionTest(test, float(stat), float(p), k - 1, k, small)
