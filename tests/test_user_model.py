"""The PyMC model is the user's: the public builder works with PyMC's own tools, and a changed model
(a Student-t likelihood) handed back to map_estimate, train and sample_posterior runs on its own
log-density. Optional NUTS back-ends are named when absent, never a crash."""

import warnings

import numpy as np
import pymc as pm
import pytest

import bayeswd
from bayeswd.data import Dataset
from bayeswd.models import regression

SIGMA, TAU = 0.3, 1.0


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    y = X @ rng.standard_normal(6) + 0.5 + SIGMA * rng.standard_t(4, 40)
    return Dataset(X, y, X[:5], y[:5], name="t-noise")


def _student_t(data, nu=4, free_nu=False):
    """The user's edit of the public model: the same priors, a Student-t likelihood."""
    public = regression(data.X_train, data.y_train, scale=TAU, noise_sd=SIGMA)
    with pm.Model(coords=public.coords) as model:
        X, y = pm.Data("X", data.X_train), pm.Data("y", data.y_train)
        w = pm.Normal("w", 0.0, TAU, dims="feature")
        b = pm.Normal("b", 0.0, 10.0)
        nu = pm.Exponential("nu", 0.1) if free_nu else nu
        pm.StudentT("obs", nu=nu, mu=X @ w + b, sigma=SIGMA, observed=y)
    return model


def test_public_model_has_proper_priors_for_pymcs_own_tools(data):
    model = regression(data.X_train, data.y_train, scale=TAU, noise_sd=SIGMA, features=[f"x{j}" for j in range(6)])
    with model:
        prior = pm.sample_prior_predictive(draws=200, random_seed=1)
    draws = prior["prior"]["w"].values.reshape(-1, 6)
    assert draws.std() == pytest.approx(TAU, rel=0.1)
    assert list(prior["prior"]["w"].coords["feature"].values) == [f"x{j}" for j in range(6)]
    assert prior["prior_predictive"]["obs"].shape[-1] == 40
    graph = pm.model_to_graphviz(model)
    assert "w" in graph.source and "obs" in graph.source
    # its MAP is the ridge solution at λ = σ²/(nτ²), up to the wide intercept prior's pull
    est = bayeswd.map_estimate(data, model=model)
    ridge = bayeswd.ridge(data.X_train, data.y_train, bayeswd.lam_from_prior(SIGMA, TAU, 40))
    np.testing.assert_allclose(est.w, ridge.w, rtol=0, atol=1e-5)
    assert est.b == pytest.approx(ridge.b, abs=1e-4) and np.isnan(est.penalty) and est.prior == "model"


def test_a_student_t_model_handed_back_to_map_train_and_nuts(data):
    model = _student_t(data)
    est = bayeswd.map_estimate(data, model=model)
    # its own log-density: the Student-t MAP differs from the Gaussian one
    gaussian = bayeswd.map_estimate(data, model=regression(data.X_train, data.y_train, scale=TAU, noise_sd=SIGMA))
    assert np.abs(est.w - gaussian.w).max() > 1e-3
    # GD on J_model = −log p(y|w,b)/n − log p(w,b)/n, through PyTensor → JAX, lands on the same MAP
    run = bayeswd.train(data, model=model, lr=0.05, epochs=4000, batch_size=None, w0=np.zeros(6), b0=0.0)
    np.testing.assert_allclose(run.w, est.w, rtol=0, atol=1e-6)
    assert run.b == pytest.approx(est.b, abs=1e-6) and run.config["fast_path"] is False
    # minibatches run too (the likelihood of each batch scaled to the whole data)
    mini = bayeswd.train(data, model=model, lr=0.01, epochs=20, batch_size=8)
    assert np.all(np.isfinite(mini.w))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bayeswd.inference.SamplingWarning)   # a short run's ESS
        tree = bayeswd.sample_posterior(data, model=model, draws=300, tune=300, chains=2, seed=3)
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data"} <= set(tree.children)
    assert tree["log_likelihood"]["obs"].shape == (2, 300, 40)
    assert list(tree["posterior"]["w"].dims) == ["chain", "draw", "feature"]
    # the posterior sits around the MAP (a few posterior sds at most)
    post = tree["posterior"]["w"]
    z = (post.mean(("chain", "draw")).values - est.w) / post.std(("chain", "draw")).values
    assert np.abs(z).max() < 1.5
    import arviz as az

    assert np.isfinite(az.loo(tree).elpd)


@pytest.mark.parametrize("call, match", [
    (lambda d, m: bayeswd.train(d, 0.1, model=m), "leave lam at 0"),
    (lambda d, m: bayeswd.train(d, model=m, penalty="l1"), "model's prior is the penalty"),
    (lambda d, m: bayeswd.train(d, model=m, fast_path=True), "fast path"),
    (lambda d, m: bayeswd.map_estimate(d, "gaussian", 1.0, model=m), "prior, scale belong in the model"),
    (lambda d, m: bayeswd.sample_posterior(d, model=m, sampler="gibbs"), "sampler must be NUTS"),
])
def test_model_settings_that_cannot_apply_are_refused(data, call, match):
    with pytest.raises(ValueError, match=match):
        call(data, _student_t(data))


def test_a_model_bayeswd_cannot_use_says_what_it_needs(data):
    with pytest.raises(ValueError, match="exactly the free variables 'w' and 'b'.*nu"):
        bayeswd.map_estimate(data, model=_student_t(data, free_nu=True))
    with pm.Model() as bounded:
        X, y = pm.Data("X", data.X_train), pm.Data("y", data.y_train)
        w = pm.HalfNormal("w", 1.0, shape=6)
        b = pm.Normal("b", 0.0, 1.0)
        pm.Normal("obs", X @ w + b, SIGMA, observed=y)
    with pytest.raises(ValueError, match="'w' on the whole real line"):
        bayeswd.train(data, model=bounded)
    wide = Dataset(np.ones((40, 7)), data.y_train, np.ones((5, 7)), data.y_val)
    with pytest.raises(ValueError, match="w has 6 entries but the dataset has 7"):
        bayeswd.map_estimate(wide, model=_student_t(data))
    with pytest.raises(ValueError, match="pymc.Model"):
        bayeswd.train(data, model="regression")


def test_an_absent_nuts_back_end_is_named_not_a_crash(data, monkeypatch):
    import importlib.util

    from bayeswd import analyses, inference
    from bayeswd.protocol.context import Context
    from bayeswd.protocol.settings import resolve

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("numpyro", "nutpie")
                        else real(name, *a))
    assert not inference.installed("nutpie") and inference.installed("pymc")
    with pytest.raises(ValueError, match=r"pip install 'bayeswd\[nutpie\]'"):
        bayeswd.sample_posterior(data, "gaussian", 1.0, noise_sd=SIGMA, sampler="nutpie")
    module = analyses.load("uncertainty")
    d2l = bayeswd.d2l_data()
    params = resolve(module, True, {"nuts_samplers": "numpyro", "draws": 100, "laplace_draws": 100})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = module.compute(Context(d2l, 0, True, params, "built-in d2l data", None))
    assert results.skipped_samplers == ["numpyro"]
    answer = module.render(results).answer
    assert "numpyro skipped: not installed" in answer and "bayeswd[samplers]" in answer
