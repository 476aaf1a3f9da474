"""bayeswd.PriorRegressor: a scikit-learn estimator whose four methods agree where theory says they must."""

import warnings

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import bayeswd
from bayeswd.estimator import PriorRegressor


def test_passes_scikit_learns_estimator_checks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the checks provoke warnings on purpose
        check_estimator(PriorRegressor())


@pytest.fixture(scope="module")
def d2l():
    return bayeswd.d2l_data(seed=0)


def test_gaussian_methods_agree(d2l):
    X, y = d2l.X_train, d2l.y_train
    fits = {m: PriorRegressor(lam=3.0, noise_sd=0.01, method=m).fit(X, y)
            for m in ("closed_form", "gd", "map", "posterior")}
    ref = fits["closed_form"]
    np.testing.assert_allclose(ref.coef_, bayeswd.ridge(X, y, 3.0).w, rtol=0, atol=1e-15)
    for method in ("gd", "map"):                     # the minimizer of J, three ways
        np.testing.assert_allclose(fits[method].coef_, ref.coef_, rtol=0, atol=1e-6)
        assert fits[method].intercept_ == pytest.approx(ref.intercept_, abs=1e-6)
    # the Gaussian posterior mean is the ridge solution, exactly
    np.testing.assert_allclose(fits["posterior"].coef_, ref.coef_, rtol=0, atol=1e-10)
    mean, sd = fits["posterior"].predict(d2l.X_val, return_std=True)
    _, exact_sd = bayeswd.gaussian_posterior(X, y, 0.01, bayeswd.prior_sd_from_lam(3.0, 0.01, 20)).predict(d2l.X_val)
    np.testing.assert_allclose(sd, exact_sd, rtol=1e-12)
    np.testing.assert_allclose(mean, ref.predict(d2l.X_val), rtol=0, atol=1e-10)


def test_scale_is_the_prior_and_sigma_is_estimated_when_missing(d2l):
    X, y = d2l.X_train, d2l.y_train
    by_scale = PriorRegressor(scale=0.01, noise_sd=0.01).fit(X, y)
    assert by_scale.lam_ == pytest.approx(0.01**2 / (20 * 0.01**2))
    np.testing.assert_allclose(by_scale.coef_, bayeswd.ridge(X, y, by_scale.lam_).w, atol=1e-15)
    estimated = PriorRegressor(method="posterior", lam=1.0).fit(X, y)
    # BayesianRidge's estimate: centred data, n rows, its default Gamma(1e-6, 1e-6) hyperpriors
    bayesian_ridge = bayeswd.empirical_bayes(X - X.mean(axis=0), y - y.mean(), fit_intercept=False,
                                             hyperprior=(1e-6,) * 4)
    assert estimated.noise_sd_ == pytest.approx(bayesian_ridge.noise_sd)


def test_laplace_closed_form_and_proximal_gd_agree():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8))
    y = X @ np.r_[1.0, -0.5, np.zeros(6)] + 0.1 * rng.standard_normal(60)
    exact = PriorRegressor(prior="laplace", lam=0.05).fit(X, y)
    gd = PriorRegressor(prior="laplace", lam=0.05, method="gd").fit(X, y)
    np.testing.assert_allclose(gd.coef_, exact.coef_, rtol=0, atol=1e-6)
    assert np.count_nonzero(exact.coef_ == 0) == np.count_nonzero(gd.coef_ == 0) > 0


def test_works_in_pipelines_and_searches(d2l):
    X, y = d2l.X_train, d2l.y_train
    search = GridSearchCV(PriorRegressor(), {"lam": [0.01, 0.1, 1.0, 10.0]}, cv=4).fit(X, y)
    assert search.best_params_["lam"] in (0.01, 0.1, 1.0, 10.0)
    scores = cross_val_score(make_pipeline(StandardScaler(), PriorRegressor(lam=1.0)), X, y, cv=4)
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("kwargs, match", [
    (dict(prior="cauchy"), "prior must be"), (dict(method="vi"), "method must be"),
    (dict(lam=1.0, scale=0.1), "not both"), (dict(lam=-1.0), "lam must be"),
])
def test_bad_parameters_say_what_to_give(d2l, kwargs, match):
    with pytest.raises(ValueError, match=match):
        PriorRegressor(**kwargs).fit(d2l.X_train, d2l.y_train)


def test_return_std_needs_a_posterior(d2l):
    fit = PriorRegressor().fit(d2l.X_train, d2l.y_train)
    with pytest.raises(ValueError, match="method='posterior'"):
        fit.predict(d2l.X_val, return_std=True)


# ---- λ from the data: "auto" is BayesianRidge's fit, "loo" RidgeCV's criterion ----------------------

@pytest.fixture(scope="module")
def diabetes():
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True)


def test_auto_lambda_is_bayesian_ridge(diabetes):
    from sklearn.linear_model import BayesianRidge

    X, y = diabetes
    theirs = BayesianRidge(tol=1e-14, max_iter=100_000).fit(X, y)          # run to its fixed point
    ours = PriorRegressor().fit(X, y)                                       # lam="auto" is the default
    assert ours.lam_ == pytest.approx(theirs.lambda_ / theirs.alpha_ / len(y), rel=1e-6)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-6)
    # noiseless data: the hyperpriors keep σ finite (BayesianRidge's guard), and every method still fits
    from bayeswd.exceptions import ConvergenceWarning

    Xn = np.random.default_rng(0).standard_normal((30, 4))
    for method in ("closed_form", "map", "posterior"):
        with warnings.catch_warnings():   # noiseless: the fixed point creeps (σ → 0), and bayeswd says so
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit = PriorRegressor(method=method).fit(Xn, Xn @ np.r_[1.0, 2.0, 0.0, -1.0])
        assert np.isfinite(fit.noise_sd_ if method != "closed_form" else 0) and np.all(np.isfinite(fit.coef_))


def test_loo_lambda_is_ridgecv_criterion_at_its_continuous_optimum(diabetes):
    from sklearn.linear_model import RidgeCV

    X, y = diabetes
    n = len(y)
    ours = PriorRegressor(lam="loo").fit(X, y)
    alphas = n * ours.lam_ * np.logspace(-1, 1, 201)                       # a fine grid around our optimum
    theirs = RidgeCV(alphas=alphas, store_cv_results=True).fit(X, y)
    assert theirs.alpha_ / (n * ours.lam_) == pytest.approx(1, abs=2 * (alphas[1] / alphas[0] - 1))
    loo = bayeswd.ridge_path(X, y, alphas / n).loo_mse
    np.testing.assert_allclose(loo, theirs.cv_results_.mean(axis=0), rtol=1e-10)
    at_ours = RidgeCV(alphas=[n * ours.lam_]).fit(X, y)                    # same λ → same coefficients
    np.testing.assert_allclose(ours.coef_, at_ours.coef_, rtol=1e-6)
    with pytest.raises(ValueError, match="lam='loo'.*Gaussian prior"):
        PriorRegressor(prior="laplace", lam="loo").fit(X, y)
    with pytest.raises(ValueError, match="'auto' or 'loo'"):
        PriorRegressor(lam="best").fit(X, y)


def test_grid_search_over_numpy_grids(diabetes):
    X, y = diabetes
    for grid in (np.arange(1, 4), np.logspace(-6, -2, 5), np.array([1e-5, 1e-4], dtype=np.float32)):
        search = GridSearchCV(PriorRegressor(), {"lam": grid}, cv=3).fit(X, y)
        assert search.best_params_["lam"] in grid and np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("method", ["closed_form", "gd", "map", "posterior"])
def test_every_method_passes_scikit_learns_checks(method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the checks provoke warnings on purpose
        check_estimator(PriorRegressor(method=method))


# ---- fit_intercept, frequency weights and several targets ------------------------------------------

@pytest.fixture(scope="module")
def weighted():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5)) + 2.0                 # off-centre: the intercept matters
    Y = X @ rng.standard_normal((5, 2)) + 1.5 + 0.3 * rng.standard_normal((30, 2))
    return X, Y, rng.integers(0, 4, 30).astype(float)      # zeros included: a row left out


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_weights_and_intercept_as_ridge_and_lasso(weighted, fit_intercept):
    from sklearn.linear_model import Lasso, Ridge

    X, Y, s = weighted
    ours = PriorRegressor(lam=0.1, fit_intercept=fit_intercept).fit(X, Y, sample_weight=s)
    theirs = Ridge(alpha=0.1 * s.sum(), fit_intercept=fit_intercept).fit(X, Y, sample_weight=s)   # α = nλ, n = Σs
    assert ours.coef_.shape == (2, 5) and ours.intercept_.shape == (2,) and ours.lam_.shape == (2,)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-12)
    ours = PriorRegressor(prior="laplace", lam=0.05, fit_intercept=fit_intercept).fit(X, Y[:, 0], sample_weight=s)
    theirs = Lasso(alpha=0.05, fit_intercept=fit_intercept, tol=1e-14, max_iter=100_000).fit(X, Y[:, 0],
                                                                                              sample_weight=s)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-9)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, abs=1e-9)
    if not fit_intercept:
        assert ours.intercept_ == 0.0


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_a_weight_is_a_repeated_row_for_every_method(weighted, fit_intercept):
    """Frequency weights: weight k fits as the row given k times (and 0 as the row left out), for the
    minimizer of J by every method and for the posterior predictive sd."""
    X, Y, s = weighted
    repeated = np.repeat(np.arange(len(s)), s.astype(int))
    for method in ("closed_form", "gd", "map", "posterior"):
        settings = dict(lam=0.1, noise_sd=0.3, method=method, fit_intercept=fit_intercept)
        by_weight = PriorRegressor(**settings).fit(X, Y, sample_weight=s)
        by_rows = PriorRegressor(**settings).fit(X[repeated], Y[repeated])
        np.testing.assert_allclose(by_weight.coef_, by_rows.coef_, rtol=0, atol=1e-8)
        np.testing.assert_allclose(by_weight.intercept_, by_rows.intercept_, rtol=0, atol=1e-8)
    mean, sd = by_weight.predict(X[:4], return_std=True)
    np.testing.assert_allclose(sd, by_rows.predict(X[:4], return_std=True)[1], rtol=1e-10)
    assert mean.shape == sd.shape == (4, 2)
    # the empirical-Bayes λ counts n as Σ weights too
    auto_w = PriorRegressor(fit_intercept=fit_intercept).fit(X, Y[:, 1], sample_weight=s)
    auto_r = PriorRegressor(fit_intercept=fit_intercept).fit(X[repeated], Y[repeated, 1])
    assert auto_w.lam_ == pytest.approx(auto_r.lam_, rel=1e-8)


def test_several_targets_are_fitted_one_by_one(weighted):
    X, Y, _ = weighted
    both = PriorRegressor().fit(X, Y)                      # lam="auto": each target its own λ
    for j in range(2):
        one = PriorRegressor().fit(X, Y[:, j])
        np.testing.assert_allclose(both.coef_[j], one.coef_, rtol=0, atol=1e-12)
        assert both.lam_[j] == pytest.approx(one.lam_, rel=1e-12) and both.intercept_[j] == pytest.approx(one.intercept_, abs=1e-14)
    assert both.predict(X).shape == (30, 2) and both.score(X, Y) > 0.5


def test_weights_and_no_intercept_refuse_loo_and_bad_weights_say_so(weighted):
    X, Y, s = weighted
    with pytest.raises(ValueError, match="lam='loo'.*sample_weight"):
        PriorRegressor(lam="loo").fit(X, Y[:, 0], sample_weight=s)
    with pytest.raises(ValueError, match="fit_intercept=True"):
        PriorRegressor(lam="loo", fit_intercept=False).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="finite and >= 0"):
        PriorRegressor().fit(X, Y[:, 0], sample_weight=-s)
    with pytest.raises(ValueError, match="fit_intercept must be"):
        PriorRegressor(fit_intercept="yes").fit(X, Y[:, 0])
