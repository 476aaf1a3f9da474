import numpy as np
import pytest
from stats_budget import assert_z_within
from scipy import stats
from sklearn.linear_model import BayesianRidge

from bayeswd import empirical_bayes, gaussian_posterior, lam_from_prior, ridge


@pytest.mark.parametrize("prior_sd", [0.01, 1.0])
def test_posterior_mean_is_ridge(d2l, prior_sd):
    post = gaussian_posterior(d2l.X_train, d2l.y_train, 0.01, prior_sd)
    fit = ridge(d2l.X_train, d2l.y_train, lam_from_prior(0.01, prior_sd, 20))
    np.testing.assert_allclose(post.mean, fit.w, atol=1e-10, rtol=0)
    assert post.b_mean == pytest.approx(fit.b, abs=1e-10)


def test_covariance_is_inverse_precision(d2l):
    sigma, tau = 0.01, 0.05
    post = gaussian_posterior(d2l.X_train, d2l.y_train, sigma, tau)
    Xc = d2l.X_train - d2l.X_train.mean(axis=0)
    precision = np.eye(200) / tau**2 + Xc.T @ Xc / sigma**2
    np.testing.assert_allclose(post.cov @ precision, np.eye(200), atol=1e-9)


def _helmert_basis(n):
    """An orthonormal basis of the vectors orthogonal to 1 (independent of the SVD code)."""
    Q, _ = np.linalg.qr(np.column_stack([np.ones(n), np.eye(n)[:, : n - 1]]))
    return Q[:, 1:]


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("sigma, tau", [(0.01, 0.01), (0.1, 1.0), (1.0, 0.003)])
def test_log_evidence_equals_nxn_density(d2l, fit_intercept, sigma, tau):
    X, y = d2l.X_train, d2l.y_train
    post = gaussian_posterior(X, y, sigma, tau, fit_intercept=fit_intercept)
    if fit_intercept:
        Q = _helmert_basis(len(y))
        X, y = Q.T @ X, Q.T @ y
    cov = sigma**2 * np.eye(len(y)) + tau**2 * X @ X.T
    expected = stats.multivariate_normal(np.zeros(len(y)), cov).logpdf(y)
    assert post.log_evidence == pytest.approx(expected, abs=1e-9)


def check_draws(d2l, seed, n_draws=100_000):
    """200 means, the 820 distinct entries of a 40 × 40 covariance block and b's mean: one budget, K = 1021."""
    post = gaussian_posterior(d2l.X_train, d2l.y_train, 0.01, 0.01)
    w, b = post.sample(n_draws, seed=seed)
    sd = np.sqrt(np.diag(post.cov))
    z_mean = (w.mean(axis=0) - post.mean) / (sd / np.sqrt(n_draws))
    sample_cov = np.cov(w[:, :40], rowvar=False)
    cov = post.cov[:40, :40]
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n_draws)   # Wishart: exact for Gaussian draws
    z_cov = ((sample_cov - cov) / se)[np.triu_indices(40)]
    z_b = (b.mean() - post.b_mean) / (b.std() / np.sqrt(n_draws))
    assert_z_within(np.concatenate([z_mean, z_cov, [z_b]]), what="(estimate − exact) / MCSE")


def test_draws_match_mean_and_covariance_within_mc_error(d2l):
    """Tolerances: tests/stats_budget.py. Seed sweep: 0 failures in 20 seeds."""
    check_draws(d2l, seed=1)


def test_same_seed_same_draws(d2l):
    post = gaussian_posterior(d2l.X_train, d2l.y_train, 0.01, 0.01)
    np.testing.assert_array_equal(post.sample(10, seed=3)[0], post.sample(10, seed=3)[0])


def check_predictive_draws(d2l, seed, n_draws=50_000):
    """Mean and sd of f = x·w + b at 5 rows from draws against the closed form: K = 10."""
    post = gaussian_posterior(d2l.X_train, d2l.y_train, 0.01, 0.01)
    mean, sd = post.predict(d2l.X_val[:5], include_noise=False)
    w, b = post.sample(n_draws, seed=seed)
    f = w @ d2l.X_val[:5].T + b[:, None]
    z = np.concatenate([(f.mean(axis=0) - mean) / (sd / np.sqrt(n_draws)),
                        (f.std(axis=0) - sd) / (sd / np.sqrt(2 * n_draws))])
    assert_z_within(z, what="(estimate − exact) / MCSE")
    return post, sd


def test_predictive_sd_matches_draws(d2l):
    """Tolerances: tests/stats_budget.py. Seed sweep: 0 failures in 20 seeds."""
    post, sd = check_predictive_draws(d2l, seed=2)
    _, sd_noisy = post.predict(d2l.X_val[:5])
    np.testing.assert_allclose(sd_noisy**2, sd**2 + 0.01**2, rtol=1e-12)


def _fixed_point_reference(X, y, a1, a2, l1, l2, iters=5000):
    """MacKay's updates written out in the p×p form, independent of the library's SVD form."""
    n, p = X.shape
    eigs = np.linalg.eigvalsh(X.T @ X)
    alpha, beta = 1.0, 1.0 / np.var(y)
    for _ in range(iters):
        A = alpha * np.eye(p) + beta * X.T @ X
        m = beta * np.linalg.solve(A, X.T @ y)
        g = np.sum(beta * eigs / (alpha + beta * eigs))
        alpha = (g + 2 * l1) / (m @ m + 2 * l2)
        beta = (n - g + 2 * a1) / (np.sum((y - X @ m) ** 2) + 2 * a2)
    return 1 / np.sqrt(beta), 1 / np.sqrt(alpha)


def test_empirical_bayes_equals_reference_loop():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 8))
    y = X @ rng.normal(0, 0.5, 8) + 0.3 * rng.standard_normal(30)
    fit = empirical_bayes(X, y, fit_intercept=False, tol=1e-14, max_iter=10_000)
    noise_sd, prior_sd = _fixed_point_reference(X, y, 0, 0, 0, 0)
    assert fit.noise_sd == pytest.approx(noise_sd, rel=1e-8)
    assert fit.prior_sd == pytest.approx(prior_sd, rel=1e-8)


def test_empirical_bayes_maximizes_evidence():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 10))
    y = X @ rng.normal(0, 0.5, 10) + 0.3 * rng.standard_normal(40) + 2.0
    fit = empirical_bayes(X, y, tol=1e-14, max_iter=10_000)
    best = gaussian_posterior(X, y, fit.noise_sd, fit.prior_sd).log_evidence
    for ds, dt in [(1.02, 1), (0.98, 1), (1, 1.02), (1, 0.98)]:
        assert gaussian_posterior(X, y, fit.noise_sd * ds, fit.prior_sd * dt).log_evidence < best


def test_empirical_bayes_on_d2l_against_sklearn(d2l):
    # Same Gamma(1e-6, 1e-6) hyperpriors as BayesianRidge's defaults, no intercept so both count n rows.
    X, y = d2l.X_train, d2l.y_train
    ours = empirical_bayes(X, y, fit_intercept=False, hyperprior=(1e-6,) * 4, tol=1e-14, max_iter=10_000)
    ref = BayesianRidge(fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, y)
    assert ours.noise_sd == pytest.approx(1 / np.sqrt(ref.alpha_), rel=1e-6)
    assert ours.prior_sd == pytest.approx(1 / np.sqrt(ref.lambda_), rel=1e-6)
    # p ≫ n: the evidence pins σ² + pτ² (the marginal variance of y) far better than the split.
    assert ours.noise_sd**2 + 200 * ours.prior_sd**2 == pytest.approx(np.var(y) + np.mean(y) ** 2, rel=0.5)


def test_bad_scales():
    X, y = np.ones((3, 2)), np.ones(3)
    with pytest.raises(ValueError, match="noise_sd"):
        gaussian_posterior(X, y, 0.0, 1.0)
    with pytest.raises(ValueError, match="prior_sd"):
        gaussian_posterior(X, y, 1.0, -1.0)
