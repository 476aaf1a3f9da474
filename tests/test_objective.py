"""J, its penalty and the soft-threshold are written once (bayeswd.objective); each form is checked
against the others: NumPy against JAX, both against the PyMC model's compiled J, and the lasso's
objective and proximal map against their definitions."""

import jax.numpy as jnp
import numpy as np
import pytest

from bayeswd import objective as obj
from bayeswd.backend import compile_objective
from bayeswd.sparse import lasso, lasso_objective


def _problem(k=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (7,) if k is None else (7, k)
    params = {"w": rng.normal(0, 0.5, shape), "b": rng.normal(0, 0.5, shape[1:])}
    return params, rng.standard_normal((5, 7)), rng.standard_normal((5,) + shape[1:])


@pytest.mark.parametrize("prior", ["gaussian", "laplace"])
@pytest.mark.parametrize("decay_bias", [False, True])
@pytest.mark.parametrize("k", [None, 2])
def test_numpy_jax_and_pymc_give_one_J(prior, decay_bias, k):
    params, X, y = _problem(k)
    lam = 0.7
    numpy_J = obj.objective(params, X, y, lam, prior, decay_bias)
    jax_J = obj.objective({n: jnp.asarray(v) for n, v in params.items()}, X, y, lam, prior, decay_bias, jnp)
    pymc_J, _ = compile_objective(7, k, prior, decay_bias).value_and_grad(params, X, y, lam, 5.0)
    assert float(jax_J) == pytest.approx(float(numpy_J), rel=1e-14)
    assert float(pymc_J) == pytest.approx(float(numpy_J), rel=1e-12)
    # the definition, spelled out: Σ‖r‖²/(2n) plus (λ/2)‖·‖² or λ‖·‖₁
    r = X @ params["w"] + params["b"] - y
    parts = [params["w"], params["b"]] if decay_bias else [params["w"]]
    pen = sum(np.sum(v**2) for v in parts) * lam / 2 if prior == "gaussian" else lam * sum(np.abs(v).sum() for v in parts)
    assert float(numpy_J) == pytest.approx(np.sum(r**2) / 10 + pen, rel=1e-14)


def test_batched_penalty_and_mse_equal_one_at_a_time():
    rng = np.random.default_rng(1)
    W, R = rng.standard_normal((4, 7, 2)), rng.standard_normal((4, 5, 2))
    for prior in obj.PRIORS:
        batched = obj.penalty(prior, 0.3, W, axis=(1, 2))
        np.testing.assert_allclose(batched, [obj.penalty(prior, 0.3, w) for w in W], rtol=1e-15)
    np.testing.assert_allclose(obj.half_mse(R, rows=5, axis=(1, 2)), [obj.half_mse(r) for r in R], rtol=1e-15)
    assert obj.mse(R[0]) == pytest.approx(2 * obj.half_mse(R[0]), rel=1e-15)


def test_soft_threshold_is_the_proximal_map_in_numpy_and_jax():
    x, t = np.linspace(-2, 2, 401), 0.3
    # prox of t‖·‖₁: the minimizer of ½(z − x)² + t|z| on a fine grid, per x
    z = np.linspace(-2, 2, 40_001)
    brute = z[np.argmin(0.5 * (z[None, :] - x[:, None]) ** 2 + t * np.abs(z)[None, :], axis=1)]
    np.testing.assert_allclose(obj.soft_threshold(x, t), brute, atol=1e-4)
    np.testing.assert_array_equal(np.asarray(obj.soft_threshold(jnp.asarray(x), t, jnp)), obj.soft_threshold(x, t))


def test_the_lasso_certifies_the_same_J():
    params, X, y = _problem()
    fit = lasso(X, y, 0.1)
    assert fit.objective == pytest.approx(lasso_objective(X - X.mean(0), y - y.mean(), fit.w, 0.0, 0.1), rel=1e-14)
    assert lasso_objective(X, y, fit.w, fit.b, 0.1) == pytest.approx(
        obj.objective({"w": fit.w, "b": fit.b}, X, y, 0.1, "laplace"), rel=1e-15)
