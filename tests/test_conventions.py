"""Each spelling of docs/theory.md §1 is proven by solving both objectives."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.linear_model import Ridge

from bayeswd import conventions as cv
from bayeswd import gaussian_posterior, ridge


def test_prior_and_lambda_round_trip():
    lam = cv.lam_from_prior(0.01, 0.01, 20)
    assert lam == pytest.approx(0.05)  # docs/theory.md §1: the d2l data with the true τ
    assert cv.prior_sd_from_lam(3.0, 0.01, 20) == pytest.approx(0.0013, abs=1e-4)  # d2l's λ = 3
    assert cv.prior_sd_from_lam(lam, 0.01, 20) == pytest.approx(0.01)


def test_bayes_posterior_mean_is_canonical_minimizer(d2l):
    lam = cv.lam_from_prior(0.01, 0.02, 20)
    post = gaussian_posterior(d2l.X_train, d2l.y_train, 0.01, 0.02)
    np.testing.assert_allclose(post.mean, ridge(d2l.X_train, d2l.y_train, lam).w, atol=1e-12)


def test_sklearn_alpha(d2l):
    alpha = cv.sklearn_alpha_from_lam(0.7, 20)
    ref = Ridge(alpha=alpha).fit(d2l.X_train, d2l.y_train)
    np.testing.assert_allclose(ridge(d2l.X_train, d2l.y_train, 0.7).w, ref.coef_, atol=1e-12)
    assert cv.lam_from_sklearn_alpha(alpha, 20) == pytest.approx(0.7)


def test_laplace_scale_round_trip():
    alpha = cv.lasso_alpha_from_laplace_scale(0.5, 0.01, 20)
    assert alpha == pytest.approx(1e-4 / 10)
    assert cv.laplace_scale_from_lasso_alpha(alpha, 0.01, 20) == pytest.approx(0.5)


# The frameworks' losses written literally, as each framework computes them (r = Xw + b − y).
def _framework_loss(name, wd):
    def loss(params, X, Y):
        r = X @ params["w"] + params["b"] - Y
        if name in ("mxnet", "jax", "jax-book"):
            return jnp.mean(r**2 / 2)
        if name in ("pytorch", "pytorch-all"):
            return jnp.mean(r**2)
        if name == "tensorflow":
            return jnp.mean(r**2) + wd * jnp.sum(params["w"] ** 2)
        if name == "scratch":
            return jnp.sum(r**2) / (2 * X.shape[0]) + wd / 2 * jnp.sum(params["w"] ** 2)
        raise AssertionError(name)

    return loss


def _framework_sgd(name, wd, lr, params, X, Y, steps):
    grad = jax.jit(jax.grad(_framework_loss(name, wd)))
    optimizer_decay = name in ("mxnet", "jax", "jax-book", "pytorch", "pytorch-all")
    for _ in range(steps):
        g = grad(params, X, Y)
        if optimizer_decay:  # the optimizer adds wd·param to the gradient
            g = {"w": g["w"] + wd * params["w"],
                 "b": g["b"] + (wd * params["b"] if cv.FRAMEWORKS[name].decays_bias else 0.0)}
        params = {k: params[k] - lr * g[k] for k in params}
    return params


def _canonical_sgd(lam, lr, decay_bias, params, X, Y, steps):
    def J(p):
        r = X @ p["w"] + p["b"] - Y
        penalty = jnp.sum(p["w"] ** 2) + (jnp.sum(p["b"] ** 2) if decay_bias else 0.0)
        return jnp.sum(r**2) / (2 * X.shape[0]) + lam / 2 * penalty

    grad = jax.jit(jax.grad(J))
    for _ in range(steps):
        g = grad(params)
        params = {k: params[k] - lr * g[k] for k in params}
    return params


@pytest.mark.parametrize("name", ["scratch", "mxnet", "pytorch", "pytorch-all", "tensorflow", "jax", "jax-book"])
@pytest.mark.parametrize("k", [1, 3])
def test_framework_spelling_takes_the_same_steps(name, k):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 6))
    Y = rng.standard_normal((30, k))
    start = {"w": jnp.asarray(rng.normal(0, 0.1, (6, k))), "b": jnp.asarray(rng.normal(0, 0.1, k))}
    wd, lr = 0.3, 0.05
    theirs = _framework_sgd(name, wd, lr, start, X, Y, 40)
    lam, lr_c, decay_bias = cv.from_framework(name, wd, lr, n_targets=k)
    ours = _canonical_sgd(lam, lr_c, decay_bias, start, X, Y, 40)
    for key in ("w", "b"):
        np.testing.assert_allclose(theirs[key], ours[key], atol=1e-12)


@pytest.mark.parametrize("name", ["pytorch", "tensorflow", "mxnet"])
def test_framework_minimizer_is_ridge(name):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((40, 5)), rng.standard_normal((40, 1))
    wd = 0.2
    lam, _, _ = cv.from_framework(name, wd, 0.1)
    start = {"w": jnp.zeros((5, 1)), "b": jnp.zeros(1)}
    final = _framework_sgd(name, wd, 0.2, start, X, y, 3000)
    np.testing.assert_allclose(final["w"], ridge(X, y, lam).w, atol=1e-10)


def test_unknown_framework():
    with pytest.raises(ValueError, match="choose one of"):
        cv.from_framework("keras3", 1.0, 0.1)


def test_laplace_model_objective_is_the_lasso_objective(d2l):
    """−(σ²/n)·log p(w, b | y) of the PyMC Laplace model differs from sklearn's Lasso objective at
    α = σ²/(ns) by a constant: the same function, so the same minimizer."""
    import pymc as pm

    from bayeswd.sparse import lasso_objective
    from bayeswd.samplers import raw_model

    sigma, s, n = 0.01, 0.02, 20
    alpha = cv.lasso_alpha_from_laplace_scale(s, sigma, n)
    model = raw_model(d2l.X_train, d2l.y_train, "laplace", s, sigma)
    logp = model.compile_logp(jacobian=False)
    rng = np.random.default_rng(0)
    gaps = []
    for _ in range(5):
        w, b = rng.normal(0, 0.02, 200), rng.normal(0.05, 0.01)
        gaps.append(-sigma**2 / n * logp({"w": w, "b": b}) - lasso_objective(d2l.X_train, d2l.y_train, w, b, alpha))
    np.testing.assert_allclose(gaps, gaps[0], atol=1e-12)
    assert isinstance(model, pm.Model)
