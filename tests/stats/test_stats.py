"""Statistics helpers checked against closed forms and independent implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chi2_contingency, norm

from closedloop_kit.stats import (
    compare_proportions,
    cumulative_incidence,
    kaplan_meier,
    proportion_ci,
    survival_quantiles,
)


def wilson_by_hand(x: float, n: float, alpha: float = 0.05) -> tuple[float, float]:
    z = norm.ppf(1 - alpha / 2)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_wilson_known_value():
    # x=3, n=10, z=1.959964: centre = (0.3 + 0.19207)/1.38415 = 0.35551,
    # half = 1.959964*sqrt(0.021 + 0.0096036)/1.38415 = 0.24771 -> (0.10780, 0.60322)
    low, high = proportion_ci([3], [10])
    assert low[0] == pytest.approx(0.10779, abs=1e-5)
    assert high[0] == pytest.approx(0.60322, abs=1e-5)


@given(
    st.integers(min_value=1, max_value=500).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    ),
    st.sampled_from([0.01, 0.05, 0.1]),
)
def test_wilson_matches_closed_form_and_statsmodels(xn, alpha):
    from statsmodels.stats.proportion import proportion_confint

    x, n = xn
    low, high = proportion_ci([x], [n], alpha=alpha)
    hand = wilson_by_hand(x, n, alpha)
    sm = proportion_confint(x, n, alpha=alpha, method="wilson")
    assert low[0] == pytest.approx(max(hand[0], 0.0), abs=1e-12)
    assert high[0] == pytest.approx(min(hand[1], 1.0), abs=1e-12)
    assert low[0] == pytest.approx(sm[0], abs=1e-12)
    assert high[0] == pytest.approx(sm[1], abs=1e-12)


def test_wilson_zero_trials_is_nan():
    low, high = proportion_ci([0, 1], [0, 2])
    assert math.isnan(low[0])
    assert math.isnan(high[0])
    assert not math.isnan(low[1])


def test_two_proportion_z_by_hand():
    # p1 = 0.3, p2 = 0.45, pooled 0.375; se = sqrt(.375*.625*(1/100+1/100)) = 0.0684653
    # z = -0.15 / 0.0684653 = -2.19089; p = 2*Phi(-2.19089) = 0.028460
    t = compare_proportions([30, 45], [100, 100])
    assert t.test == "two_proportion_z"
    assert t.statistic == pytest.approx(-2.19089, abs=1e-5)
    assert t.p_value == pytest.approx(2 * norm.cdf(-2.190890), abs=1e-6)
    assert t.df == 1


def test_chi_square_matches_scipy():
    x = np.array([30, 45, 20])
    n = np.array([100, 100, 80])
    t = compare_proportions(x, n)
    chi2, p, dof, _ = chi2_contingency(np.column_stack([x, n - x]), correction=False)
    assert t.test == "chi_square"
    assert t.statistic == pytest.approx(chi2, rel=1e-10)
    assert t.p_value == pytest.approx(p, rel=1e-10)
    assert t.df == dof == 2


def test_degenerate_groups():
    assert compare_proportions([0, 0], [5, 7]).p_value == 1.0
    assert compare_proportions([3], [5]).test == "none"
    assert compare_proportions([3, 1], [5, 0]).test == "none"  # empty group dropped


def km_by_hand(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Product-limit estimator written from the definition."""
    times, surv, s = [], [], 1.0
    for u in sorted(set(t[e == 1].tolist())):
        at_risk = int(np.sum(t >= u))
        d = int(np.sum((t == u) & (e == 1)))
        s *= 1 - d / at_risk
        times.append(u)
        surv.append(s)
    return np.array(times), np.array(surv)


def test_km_known_value():
    # t: 1 2 2 3 4(c) 5 ; at risk 6,5,3,..: S = 5/6, 5/6*3/5=1/2, 1/2*2/3=1/3, (4 censored), 1/3*0
    fit = kaplan_meier([1, 2, 2, 3, 4, 5], [1, 1, 1, 1, 0, 1])
    assert fit.times.tolist() == [1, 2, 3, 5]
    np.testing.assert_allclose(fit.survival, [5 / 6, 1 / 2, 1 / 3, 0.0], atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_km_matches_hand_rolled_and_lifelines(seed):
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(seed)
    n = 300
    t = np.round(rng.exponential(100, n))  # ties on purpose
    e = (rng.random(n) < 0.7).astype(int)
    fit = kaplan_meier(t, e)
    times, surv = km_by_hand(t, e)
    np.testing.assert_allclose(fit.times, times, atol=1e-9)
    np.testing.assert_allclose(fit.survival, surv, atol=1e-9)
    kmf = KaplanMeierFitter().fit(t, e)
    sf = kmf.survival_function_["KM_estimate"]
    np.testing.assert_allclose(fit.survival, sf.loc[times].to_numpy(), atol=1e-9)
    # confidence band: lifelines uses the same exponential Greenwood formula
    ci = kmf.confidence_interval_survival_function_.loc[times]
    ok = (fit.survival > 0) & (fit.survival < 1)
    np.testing.assert_allclose(fit.ci_low[ok], ci.iloc[:, 0].to_numpy()[ok], atol=1e-9)
    np.testing.assert_allclose(fit.ci_high[ok], ci.iloc[:, 1].to_numpy()[ok], atol=1e-9)
    # median: first time with S < 0.5 (statsmodels/SAS); lifelines uses S <= 0.5
    med = fit.quantile(0.5)[0]
    assert med == times[np.flatnonzero(surv < 0.5)[0]]
    if not np.any(np.isclose(surv, 0.5)):
        assert med == pytest.approx(kmf.median_survival_time_, abs=1e-9)


def test_quantile_cis_bracket_estimate():
    rng = np.random.default_rng(3)
    t = rng.exponential(90, 400)
    e = rng.random(400) < 0.8
    for p, est, lo, hi in survival_quantiles(t, e):
        assert lo <= est <= hi, p


def test_km_no_events():
    fit = kaplan_meier([1.0, 2.0], [0, 0])
    assert fit.times.size == 0
    assert all(math.isnan(v) for v in fit.quantile(0.5))


def test_cumulative_incidence_sums_to_one_minus_km():
    rng = np.random.default_rng(4)
    t = np.round(rng.exponential(50, 200))
    causes = rng.choice([0, 1, 2], size=200, p=[0.3, 0.4, 0.3])
    t1, f1 = cumulative_incidence(t, causes, cause=1)
    _t2, f2 = cumulative_incidence(t, causes, cause=2)
    fit = kaplan_meier(t, causes > 0)
    np.testing.assert_allclose(t1, fit.times)
    np.testing.assert_allclose(f1 + f2, 1 - fit.survival, atol=1e-12)


def test_cumulative_incidence_matches_lifelines_aalen_johansen():
    from lifelines import AalenJohansenFitter

    rng = np.random.default_rng(5)
    t = rng.exponential(50, 150) + rng.random(150) * 1e-3  # lifelines jitters ties
    causes = rng.choice([0, 1, 2], size=150, p=[0.3, 0.4, 0.3])
    times, f1 = cumulative_incidence(t, causes, cause=1)
    ajf = AalenJohansenFitter(calculate_variance=False).fit(t, causes, event_of_interest=1)
    ref = ajf.cumulative_density_.iloc[:, 0]
    np.testing.assert_allclose(f1, ref.loc[times].to_numpy(), atol=1e-9)
