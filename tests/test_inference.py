import re
import warnings

import arviz as az
import numpy as np
import pytest
from sklearn.linear_model import Lasso

import bayeswd
from bayeswd import gaussian_posterior, ridge
from bayeswd.inference import (SamplingWarning, choose_lambda, full_bayes, map_estimate, posterior_predictive,
                               sample_posterior)
from bayeswd.sparse import lasso, lasso_objective
from stats_budget import MCMC_DOF, MIN_ESS, assert_z_within, rhat_bar, z_bar


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


def _assert_matches_exact(tree, exact, dof=MCMC_DOF):
    """Posterior mean and sd of all 200 weights against the exact posterior: K = 400 z-scores, one budget."""
    w = tree["posterior"]["w"]
    mean_err = (np.asarray(w.mean(("chain", "draw"))) - exact.mean) / np.asarray(az.mcse(tree, var_names=["w"])["w"])
    sd_mcse = np.asarray(az.mcse(tree, var_names=["w"], method="sd")["w"])
    sd_err = (np.asarray(w.std(("chain", "draw"))) - np.sqrt(np.diag(exact.cov))) / sd_mcse
    assert_z_within(np.concatenate([mean_err, sd_err]), what="(estimate − exact) / MCSE", dof=dof)


def _assert_converged(tree, n_params=201):
    """R-hat below its budget bar (bulk and folded: K = 2 × parameters) and bulk and tail ESS ≥ MIN_ESS."""
    ess = min(tree.attrs["min_ess_bulk"], tree.attrs["min_ess_tail"])   # R-hat's max includes the folded draws
    assert ess >= MIN_ESS, ess
    chains, draws = tree["posterior"].sizes["chain"], tree["posterior"].sizes["draw"]
    assert tree.attrs["max_rhat"] < rhat_bar(ess, chains, draws, 2 * n_params), (tree.attrs["max_rhat"], ess)
    assert tree.attrs["divergences"] == 0


def check_nuts_gaussian(d2l, sampler, prior_sd, seed):
    tree = sample_posterior(d2l, "gaussian", prior_sd, sampler=sampler, chains=4, draws=1000, tune=1000, seed=seed)
    _assert_converged(tree)
    assert tree["posterior"]["w"].shape[-1] == 200 and "b" in tree["posterior"]
    _assert_matches_exact(tree, gaussian_posterior(d2l.X_train, d2l.y_train, 0.01, prior_sd))


@pytest.mark.parametrize("sampler", ["pymc", "numpyro", "nutpie"])
@pytest.mark.parametrize("prior_sd", [0.01, 1.0])
def test_nuts_gaussian_converges_and_matches_exact(d2l, sampler, prior_sd):
    """NUTS in the SVD basis against the exact posterior (tolerances: tests/stats_budget.py).

    Seed sweep (benchmarks/stat_seed_sweep.py, 20 seeds each): 0 failures in 20 for every one of the six
    sampler × prior sd cases; the budget allows 1 in 1000.
    """
    check_nuts_gaussian(d2l, sampler, prior_sd, seed=1)


def check_exact_sampler(d2l, seed):
    tree = sample_posterior(d2l, "gaussian", 0.01, sampler="exact", chains=4, draws=5_000, seed=seed)
    _assert_matches_exact(tree, gaussian_posterior(d2l.X_train, d2l.y_train, 0.01, 0.01))


def test_exact_sampler_datatree(d2l):
    """I.i.d. conjugate draws. Seed sweep: 0 failures in 20 seeds."""
    check_exact_sampler(d2l, seed=0)


def gibbs_reference(d2l, seed):
    """The O(n²p) Bayesian-lasso Gibbs sampler: the reference the Laplace NUTS runs are checked against."""
    return sample_posterior(d2l, "laplace", 0.01, sampler="gibbs", draws=8000, tune=2000, seed=seed)


@pytest.fixture(scope="module")
def laplace_gibbs(d2l):
    return gibbs_reference(d2l, seed=2)


def _assert_means_agree(tree, reference):
    """Two samplers' posterior means of the 200 weights: z = difference / combined MCSE, one budget."""
    means, errors = [], []
    for t in (tree, reference):
        means.append(np.asarray(t["posterior"]["w"].mean(("chain", "draw"))))
        errors.append(np.asarray(az.mcse(t, var_names=["w"])["w"]))
    assert_z_within((means[0] - means[1]) / np.hypot(*errors), what="(NUTS − Gibbs) / MCSE", dof=MCMC_DOF)
    return means


def check_laplace_nutpie(d2l, gibbs, seed):
    """4 × 2000 nutpie draws in the SVD basis against the Gibbs reference."""
    nuts = sample_posterior(d2l, "laplace", 0.01, sampler="nutpie", draws=2000, tune=1000, seed=seed)
    _assert_converged(gibbs)
    _assert_converged(nuts)
    return _assert_means_agree(nuts, gibbs)


def test_laplace_nuts_agrees_with_gibbs_and_mean_is_not_sparse(d2l, laplace_gibbs):
    """Seed sweep of the agreement check (new seeds for both samplers): 0 failures in 20 seeds."""
    gibbs_mean, _ = check_laplace_nutpie(d2l, laplace_gibbs, seed=3)
    assert np.count_nonzero(np.abs(gibbs_mean) < 1e-8) == 0          # the posterior mean is not sparse
    assert np.count_nonzero(lasso(d2l.X_train, d2l.y_train, map_estimate(d2l, "laplace", 0.01).penalty).w == 0) > 100


def check_laplace_pymc(d2l, gibbs, seed, full_stats=False):
    """PyMC's NUTS in the SVD basis, 4 × 500 draws by default, 4 × 1000 with --full-stats (then also
    numpyro's dense mass on the raw model, ≈ 200 s). The z-bar's MCSE scales with the size."""
    configs = [dict(sampler="pymc") if full_stats else dict(sampler="pymc", draws=500, tune=500)]
    if full_stats:
        configs.append(dict(sampler="numpyro", parameterization="raw", mass="dense"))
    for kwargs in configs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplingWarning)     # _assert_converged is the check here
            tree = sample_posterior(d2l, "laplace", 0.01, seed=seed, **kwargs)
        _assert_converged(tree)
        _assert_means_agree(tree, gibbs)


@pytest.mark.slow
def test_laplace_pymc_and_dense_numpyro_agree_with_gibbs(d2l, laplace_gibbs, full_stats):
    """Seed sweep at the default size: 0 failures in 20 seeds."""
    check_laplace_pymc(d2l, laplace_gibbs, seed=4, full_stats=full_stats)


def test_bad_configuration_is_flagged(d2l):
    with pytest.warns(SamplingWarning, match="did not converge"):
        tree = sample_posterior(d2l, "gaussian", 1.0, sampler="nutpie", parameterization="raw", chains=2,
                                draws=200, tune=200)
    assert tree.attrs["converged"] == 0 and tree.attrs["max_rhat"] > 1.01


def check_predictive(d2l, seed):
    """Predictive sd from 4 × 2000 i.i.d. draws against the exact sd on 100 rows (relative MCSE 1/√(2N)),
    and interval coverage: binomial on 100 rows (sd 0.03 at 90%, 0.05 at 50%), bars z_bar(2) ≈ 3.5 sds."""
    tree = sample_posterior(d2l, "gaussian", 0.01, sampler="exact", draws=2000, seed=seed)
    pred = posterior_predictive(tree, d2l.X_val, d2l.y_val, 0.01, seed=seed)
    _, exact_sd = gaussian_posterior(d2l.X_train, d2l.y_train, 0.01, 0.01).predict(d2l.X_val)
    n_draws = tree["posterior"].sizes["chain"] * tree["posterior"].sizes["draw"]
    assert_z_within((pred.sd - exact_sd) / (exact_sd / np.sqrt(2 * n_draws)), what="(sd − exact) / MCSE")
    bar = z_bar(2)
    assert abs(pred.coverage_90 - 0.9) < bar * np.sqrt(0.9 * 0.1 / 100)
    assert abs(pred.coverage_50 - 0.5) < bar * np.sqrt(0.5 * 0.5 / 100)


def test_predictive_coverage_matches_nominal(d2l):
    """Seed sweep (predictive sd and coverage): 0 failures in 20 seeds."""
    check_predictive(d2l, seed=0)


def test_three_ways_to_choose_lambda(d2l):
    tree = full_bayes(d2l, draws=1000, tune=1000, seed=0)
    choices = choose_lambda(d2l, posterior=tree)     # a run already made (the report shares one)
    np.testing.assert_array_equal(choices.lam_draws, np.asarray(tree["posterior"]["lam"]).reshape(-1))
    with pytest.warns(SamplingWarning, match="did not converge"):   # or its own: too short to trust, and said so
        assert choose_lambda(d2l, chains=1, draws=100, seed=0).lam_draws.shape == (100,)
    assert choices.empirical_bayes == pytest.approx(bayeswd.empirical_bayes(d2l.X_train, d2l.y_train).lam)
    path = bayeswd.ridge_path(d2l.X_train, d2l.y_train, choices.lams)
    # the continuous optimum, bracketed by the grid's best point and its neighbours
    assert choices.leave_one_out == bayeswd.best_lam(d2l.X_train, d2l.y_train, "loo")
    i = int(np.argmin(path.loo_mse))
    assert choices.lams[i - 1] <= choices.leave_one_out <= choices.lams[i + 1]
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


# ---- ArviZ-native trees --------------------------------------------------------------------------

def test_trees_are_arviz_native_and_compare_the_two_priors():
    import arviz as az
    from scipy import stats

    data = bayeswd.d2l_data(seed=0)
    g = sample_posterior(data, "gaussian", 0.01, sampler="exact", chains=2, draws=500, predictive=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)   # the structure is tested here, not convergence
        lap = sample_posterior(data, "laplace", 0.01, sampler="gibbs", chains=2, draws=500, tune=200)
    for tree in (g, lap):
        assert {"posterior", "log_likelihood", "observed_data"} <= set(tree.children)
        assert tree["posterior"]["w"].dims == ("chain", "draw", "feature")
        np.testing.assert_array_equal(tree["observed_data"]["y"].values, data.y_train)
    assert "posterior_predictive" in g.children and "posterior_predictive" not in lap.children
    # the pointwise log-likelihood is log N(yᵢ; xᵢ·w + b, σ²) of each draw
    w, b = g["posterior"]["w"].values[1, 7], g["posterior"]["b"].values[1, 7]
    np.testing.assert_allclose(g["log_likelihood"]["y"].values[1, 7],
                               stats.norm.logpdf(data.y_train, data.X_train @ w + b, 0.01), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                    # p ≫ n: Pareto k is high, and ArviZ says so
        ranking = az.compare({"gaussian": g, "laplace": lap})
    assert set(ranking.index) == {"gaussian", "laplace"}


def test_nuts_tree_uses_the_csvs_column_names(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([0.5, -0.2, 0.0]) + 0.1 * rng.standard_normal(40)
    path = tmp_path / "mine.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="height,width,depth,price", comments="")
    data = bayeswd.load(path, target="price", noise_sd=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = sample_posterior(data, "gaussian", 1.0, sampler="pymc", chains=2, draws=200, tune=200)
    assert list(tree["posterior"]["w"].coords["feature"].values) == ["height", "width", "depth"]
    assert tree["log_likelihood"]["y"].shape == (2, 200, data.n_train)


def test_models_are_built_with_coords():
    from bayeswd.samplers import raw_model, svd_model

    data = bayeswd.d2l_data(seed=0)
    names = [f"x{i}" for i in range(data.num_inputs)]
    for build in (svd_model, raw_model):
        model = build(data.X_train, data.y_train, "gaussian", 0.01, 0.01, features=names)
        assert model.named_vars_to_dims["w"] == ("feature",)
        assert list(model.coords["feature"]) == names


@pytest.mark.parametrize("n, p", [(8, 20), (40, 6)])
def test_gibbs_weight_step_draws_its_gaussian_in_either_dimension(n, p):
    """w | v ~ N(A⁻¹Φᵀα, A⁻¹), A = ΦᵀΦ + diag(1/v), by the n×n route and the p×p one: mean and covariance of
    20,000 draws against the closed form, within 5 Monte Carlo standard errors (each entry; ~1e-6 false
    failures per entry under normality)."""
    from bayeswd.samplers import _draw_weights

    rng = np.random.default_rng(3)
    Phi, alpha, v = rng.standard_normal((n, p)), rng.standard_normal(n), rng.uniform(0.2, 2.0, p)
    A = Phi.T @ Phi + np.diag(1 / v)
    cov = np.linalg.inv(A)
    mean = cov @ Phi.T @ alpha
    K = 20_000
    for gram in (None, (Phi.T @ Phi, Phi.T @ alpha)):
        draws = np.array([_draw_weights(rng, Phi, alpha, v, gram) for _ in range(K)])
        sd = np.sqrt(np.diag(cov))
        assert np.all(np.abs(draws.mean(axis=0) - mean) <= 5 * sd / np.sqrt(K))
        # var of a sample covariance entry: (Σ_ij² + Σ_ii Σ_jj)/K
        se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / K)
        assert np.all(np.abs(np.cov(draws.T) - cov) <= 5 * se)


def test_diagnostics_bars_come_from_the_budget_and_the_advice_fits_the_sampler(d2l):
    from bayeswd.budget import rhat_bar
    from bayeswd.inference import ADVICE, Diagnostics, _record

    # 201 parameters, 4 × 1000 draws, ESS 1,500: R-hat 1.015 is chance (the old fixed 1.01 cried wolf)
    ok = Diagnostics(1.015, 1500.0, 1500.0, 0, 0, 0.0, chains=4, draws=1000, params=201)
    assert ok.failures() == [] and ok.rhat_bar() == pytest.approx(rhat_bar(1500.0, 4, 1000, 402))
    bad = Diagnostics(1.2, 1500.0, 300.0, 2, 0, 0.0, chains=4, draws=1000, params=201, min_ebfmi=0.2)
    assert [f.split()[0] for f in bad.failures()] == ["R-hat", "tail", "2", "E-BFMI"]
    import xarray as xr

    for advice in ("raw", "svd", "gibbs", "hierarchical"):
        tree = xr.DataTree()
        with pytest.warns(SamplingWarning, match=re.escape(ADVICE[advice])):
            _record(tree, bad, advice=advice)
        assert tree.attrs["converged"] == 0 and tree.attrs["rhat_bar"] == bad.rhat_bar()


def test_full_bayes_tree_is_arviz_native(d2l):
    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)   # a short run: its structure is what is tested
        tree = full_bayes(d2l, draws=300, tune=300, chains=2, seed=1)
    assert list(tree["posterior"]["w"].dims) == ["chain", "draw", "feature"]
    assert "log_likelihood" in tree.children and np.isfinite(tree.attrs["min_ebfmi"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # PSIS's own warnings about k are not what is tested
        assert np.isfinite(float(az.loo(tree).elpd))
