import warnings

import arviz as az
import numpy as np
import pytest
from sklearn.linear_model import Lasso

import bayeswd
from bayeswd import gaussian_posterior, ridge
from bayeswd.inference import (SamplingWarning, choose_lambda, map_estimate, posterior_predictive,
                               sample_posterior)
from bayeswd.sparse import lasso, lasso_objective


def test_gaussian_map_is_ridge(d2l):
    for prior_sd in (0.01, 1.0):
        est = map_estimate(d2l, "gaussian", prior_sd)
        fit = ridge(d2l.X_train, d2l.y_train, est.penalty)
        np.testing.assert_allclose(est.w, fit.w, atol=1e-8, rtol=0)
        assert est.b == pytest.approx(fit.b, abs=1e-8)


@pytest.mark.parametrize("shape", [(20, 200), (80, 10)])
@pytest.mark.parametrize("alpha", [1e-3, 5e-3, 0.05])
def test_lasso_matches_sklearn_objective_and_support(shape, alpha):
    rng = np.random.default_rng(shape[0])
    X = rng.standard_normal(shape)
    y = X[:, :3] @ np.array([1.0, -0.5, 0.25]) * 0.05 + 0.01 * rng.standard_normal(shape[0]) + 0.3
    ours = lasso(X, y, alpha)
    ref = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y)
    theirs = lasso_objective(X, y, ref.coef_, ref.intercept_, alpha)
    assert ours.objective <= theirs * (1 + 1e-10)
    assert lasso_objective(X, y, ours.w, ours.b, alpha) == pytest.approx(theirs, rel=1e-10)
    np.testing.assert_array_equal(ours.support, np.flatnonzero(ref.coef_))


def test_laplace_find_map_has_no_exact_zeros_but_the_lasso_does(d2l):
    est = map_estimate(d2l, "laplace", 0.01)
    assert est.exact_zeros == 0
    assert np.count_nonzero(est.lasso.w == 0) > 100
    assert est.lasso.objective <= est.objective  # the quasi-Newton MAP stalls above the optimum


def _assert_matches_exact(tree, exact, n_sd=4.0):
    w = tree["posterior"]["w"]
    mean_err = (np.asarray(w.mean(("chain", "draw"))) - exact.mean) / np.asarray(az.mcse(tree, var_names=["w"])["w"])
    sd_mcse = np.asarray(az.mcse(tree, var_names=["w"], method="sd")["w"])
    sd_err = (np.asarray(w.std(("chain", "draw"))) - np.sqrt(np.diag(exact.cov))) / sd_mcse
    assert np.abs(mean_err).max() < n_sd
    assert np.abs(sd_err).max() < n_sd


@pytest.mark.parametrize("sampler", ["pymc", "numpyro", "nutpie"])
@pytest.mark.parametrize("prior_sd", [0.01, 1.0])
def test_nuts_gaussian_converges_and_matches_exact(d2l, sampler, prior_sd):
    tree = sample_posterior(d2l, "gaussian", prior_sd, sampler=sampler, chains=4, draws=1000, tune=1000, seed=1)
    assert tree.attrs["max_rhat"] < 1.01
    assert tree.attrs["min_ess_bulk"] >= 1000
    assert tree.attrs["divergences"] == 0 and tree.attrs["converged"] == 1
    assert tree["posterior"]["w"].shape[-1] == 200 and "b" in tree["posterior"]
    _assert_matches_exact(tree, gaussian_posterior(d2l.X_train, d2l.y_train, 0.01, prior_sd))


def test_exact_sampler_datatree(d2l):
    tree = sample_posterior(d2l, "gaussian", 0.01, sampler="exact", chains=4, draws=5_000)
    _assert_matches_exact(tree, gaussian_posterior(d2l.X_train, d2l.y_train, 0.01, 0.01))


@pytest.fixture(scope="module")
def laplace_gibbs(d2l):
    """The O(n²p) Bayesian-lasso Gibbs sampler: the reference the Laplace NUTS runs are checked against."""
    return sample_posterior(d2l, "laplace", 0.01, sampler="gibbs", draws=8000, tune=2000, seed=2)


def test_laplace_nuts_agrees_with_gibbs_and_mean_is_not_sparse(d2l, laplace_gibbs):
    # 4 × 2000 NUTS draws: at 4 × 1000 the max R-hat over 201 Laplace marginals sits at ≈ 1.01 by noise alone.
    gibbs = laplace_gibbs
    nuts = sample_posterior(d2l, "laplace", 0.01, sampler="nutpie", draws=2000, tune=1000, seed=3)
    assert nuts.attrs["converged"] == 1 and gibbs.attrs["max_rhat"] < 1.01
    means, errors = [], []
    for tree in (gibbs, nuts):
        means.append(np.asarray(tree["posterior"]["w"].mean(("chain", "draw"))))
        errors.append(np.asarray(az.mcse(tree, var_names=["w"])["w"]))
    z = (means[0] - means[1]) / np.hypot(*errors)
    assert np.abs(z).max() < 4
    assert np.count_nonzero(np.abs(means[0]) < 1e-8) == 0          # the posterior mean is not sparse
    assert np.count_nonzero(lasso(d2l.X_train, d2l.y_train, map_estimate(d2l, "laplace", 0.01).penalty).w == 0) > 100


@pytest.mark.slow
def test_laplace_pymc_and_dense_numpyro_agree_with_gibbs(d2l, laplace_gibbs, full_stats):
    """PyMC's NUTS in the SVD basis, 4 × 500 draws by default and 4 × 1000 with --full-stats, when
    numpyro's dense mass on the raw model (≈ 200 s) runs too. The z-test's MCSE scales with the size."""
    gibbs = laplace_gibbs
    g_mean = np.asarray(gibbs["posterior"]["w"].mean(("chain", "draw")))
    g_err = np.asarray(az.mcse(gibbs, var_names=["w"])["w"])
    configs = [dict(sampler="pymc") if full_stats else dict(sampler="pymc", draws=500, tune=500)]
    if full_stats:
        configs.append(dict(sampler="numpyro", parameterization="raw", mass="dense"))
    for kwargs in configs:
        with warnings.catch_warnings():
            if not full_stats:  # at 4 × 500 the max R-hat over 201 marginals is ≈ 1.02 from noise alone
                warnings.simplefilter("ignore", SamplingWarning)
            tree = sample_posterior(d2l, "laplace", 0.01, seed=4, **kwargs)
        assert tree.attrs["max_rhat"] < (1.01 if full_stats else 1.05) and tree.attrs["divergences"] == 0
        mean = np.asarray(tree["posterior"]["w"].mean(("chain", "draw")))
        err = np.asarray(az.mcse(tree, var_names=["w"])["w"])
        assert np.abs((mean - g_mean) / np.hypot(err, g_err)).max() < 4


def test_bad_configuration_is_flagged(d2l):
    with pytest.warns(SamplingWarning, match="did not converge"):
        tree = sample_posterior(d2l, "gaussian", 1.0, sampler="nutpie", parameterization="raw", chains=2,
                                draws=200, tune=200)
    assert tree.attrs["converged"] == 0 and tree.attrs["max_rhat"] > 1.01


def test_predictive_coverage_matches_nominal(d2l):
    tree = sample_posterior(d2l, "gaussian", 0.01, sampler="exact", draws=2000)
    pred = posterior_predictive(tree, d2l.X_val, d2l.y_val, 0.01)
    # 100 validation rows: binomial sd of a coverage is ≤ 0.05.
    assert abs(pred.coverage_90 - 0.9) < 0.15 and abs(pred.coverage_50 - 0.5) < 0.2
    exact_mean, exact_sd = gaussian_posterior(d2l.X_train, d2l.y_train, 0.01, 0.01).predict(d2l.X_val)
    np.testing.assert_allclose(pred.sd, exact_sd, rtol=0.1)


def test_three_ways_to_choose_lambda(d2l):
    choices = choose_lambda(d2l, draws=1000, seed=0)
    assert choices.empirical_bayes == pytest.approx(bayeswd.empirical_bayes(d2l.X_train, d2l.y_train).lam)
    path = bayeswd.ridge_path(d2l.X_train, d2l.y_train, choices.lams)
    assert choices.leave_one_out == path.best_loo_lam
    lo, hi = choices.full_bayes_interval
    assert lo < choices.full_bayes_median < hi and np.all(choices.lam_draws > 0)


@pytest.mark.parametrize("call, match", [
    (lambda d: map_estimate(d, "cauchy", 1.0), "unknown prior"),
    (lambda d: sample_posterior(d, "gaussian", 1.0, sampler="hmc"), "unknown sampler"),
    (lambda d: sample_posterior(d, "laplace", 1.0, sampler="exact"), "Gaussian prior only"),
    (lambda d: sample_posterior(d, "gaussian", -1.0), "scale"),
    (lambda d: map_estimate(bayeswd.Dataset(d.X_train, d.y_train, d.X_val, d.y_val), "gaussian", 1.0),
     "no known noise sd"),
])
def test_bad_input(d2l, call, match):
    with pytest.raises(ValueError, match=match):
        call(d2l)
