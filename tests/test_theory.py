import numpy as np
import pytest

from bayeswd import ridge
from bayeswd.theory import (early_stopping_ratio_bound, gradient_flow_risk_exact, min_norm_risk, monte_carlo_risk,
                            optimal_lam, ridge_risk_asymptotic, ridge_risk_exact)


def test_d2l_values_from_theory_sheet():
    assert min_norm_risk(10, 0.02, 1e-4) == pytest.approx(0.018011, abs=1e-6)
    assert ridge_risk_asymptotic(10, optimal_lam(10, 0.02, 1e-4), 0.02, 1e-4) == pytest.approx(0.018011, abs=1e-6)
    assert optimal_lam(10, 0.02, 1e-4) == pytest.approx(0.05)


def test_optimal_lambda_minimizes_the_asymptotic_risk():
    lams = np.logspace(-3, 1, 401)
    risks = [ridge_risk_asymptotic(2.0, lam, 1.0, 1.0) for lam in lams]
    assert lams[np.argmin(risks)] == pytest.approx(optimal_lam(2.0, 1.0, 1.0), rel=0.03)


def test_ridge_risk_tends_to_min_norm_as_lambda_vanishes():
    for gamma in (0.5, 2.0, 10.0):
        assert ridge_risk_asymptotic(gamma, 1e-7, 1.0, 1.0) == pytest.approx(min_norm_risk(gamma, 1.0, 1.0), rel=1e-3)


@pytest.mark.parametrize("gamma", [0.5, 2.0, 10.0])
def test_asymptotic_risk_matches_monte_carlo_at_n_200(gamma):
    mean, _ = monte_carlo_risk(gamma, 200, None, 1.0, 1.0, reps=20, seed=1)
    assert mean == pytest.approx(min_norm_risk(gamma, 1.0, 1.0), rel=0.05)
    lam = optimal_lam(gamma, 1.0, 1.0)
    mean, _ = monte_carlo_risk(gamma, 200, lam, 1.0, 1.0, reps=20, seed=2)
    assert mean == pytest.approx(ridge_risk_asymptotic(gamma, lam, 1.0, 1.0), rel=0.05)


def test_exact_ridge_risk_matches_simulation(d2l):
    rng = np.random.default_rng(0)
    lam = 0.05
    errs = []
    for _ in range(400):
        y = d2l.X_train @ d2l.w_true + 0.05 + 0.01 * rng.standard_normal(20)
        errs.append(np.sum((ridge(d2l.X_train, y, lam).w - d2l.w_true) ** 2))
    expected = ridge_risk_exact(d2l.X_train, d2l.w_true, 0.01, lam)
    assert np.mean(errs) == pytest.approx(expected, abs=4 * np.std(errs) / 20)


def test_early_stopping_within_1_69_of_ridge_on_d2l(d2l):
    bound = early_stopping_ratio_bound()
    assert bound == pytest.approx(1.686, abs=1e-3)  # 1.68591 at x ≈ 1.793; the paper rounds up to 1.6862
    for noise in (0.01, 1.0):   # 1.0 makes the variance term, where the bound is tight, dominate
        ratios = [gradient_flow_risk_exact(d2l.X_train, d2l.w_true, noise, t)
                  / ridge_risk_exact(d2l.X_train, d2l.w_true, noise, 1 / t) for t in np.logspace(-3, 4, 200)]
        assert max(ratios) <= bound + 1e-12
