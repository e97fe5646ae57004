"""L4 analyse: statistics helpers; the only importer of statsmodels (imported lazily).

- :func:`proportion_ci` — Wilson score intervals for proportions;
- :func:`compare_proportions` — two-proportion z-test (two groups) or chi-square test of
  homogeneity (more groups);
- :func:`kaplan_meier` — the Kaplan-Meier product-limit estimator for right-censored
  durations, with Greenwood standard errors, and :func:`survival_quantiles` with
  confidence intervals;
- :func:`fit_logit` — logistic regression with Wald intervals (statsmodels GLM, or a
  numpy Newton solver with the same estimates for large designs); :func:`newton_logit` —
  frequency-weighted, optionally ridge-penalised Newton-Raphson fit (numpy only).
"""

from closedloop_kit.stats._proportion import ProportionTest, compare_proportions, proportion_ci
from closedloop_kit.stats._regression import LogitFit, fit_logit, newton_logit
from closedloop_kit.stats._survival import (
    KaplanMeierFit,
    cumulative_incidence,
    kaplan_meier,
    survival_quantiles,
)

__all__ = [
    "KaplanMeierFit",
    "LogitFit",
    "ProportionTest",
    "compare_proportions",
    "cumulative_incidence",
    "fit_logit",
    "kaplan_meier",
    "newton_logit",
    "proportion_ci",
    "survival_quantiles",
]
