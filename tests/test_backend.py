"""The PyMC-compiled objective is exactly the hand-written J, and composes with jit/vmap/scan."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bayeswd.backend import compile_objective, reference_objective


def _hand_J(prior, decay_bias):
    """J typed out once more here, so neither library objective checks itself."""
    def J(params, X, y, lam, n):
        r = X @ params["w"] + params["b"] - y
        w, b = params["w"], params["b"]
        if prior == "gaussian":
            pen = lam / 2 * (jnp.sum(w**2) + (jnp.sum(b**2) if decay_bias else 0.0))
        else:
            pen = lam * (jnp.sum(jnp.abs(w)) + (jnp.sum(jnp.abs(b)) if decay_bias else 0.0))
        return jnp.sum(r**2) / (2 * X.shape[0]) + pen
    return J


@pytest.mark.parametrize("prior", ["gaussian", "laplace"])
@pytest.mark.parametrize("decay_bias", [False, True])
@pytest.mark.parametrize("k", [None, 3])
@pytest.mark.parametrize("lam", [0.0, 0.05, 3.0])
def test_objective_and_gradient_equal_hand_written(prior, decay_bias, k, lam):
    rng = np.random.default_rng(0)
    p = 12
    objective = compile_objective(p, k, prior, decay_bias)
    shape = (p,) if k is None else (p, k)
    params = {"w": jnp.asarray(rng.normal(0, 0.3, shape)), "b": jnp.asarray(rng.normal(0, 0.3, shape[1:]))}
    X = rng.standard_normal((5, p))
    y = rng.standard_normal((5,) + shape[1:])
    value, grads = objective.value_and_grad(params, X, y, lam, 20.0)
    J = _hand_J(prior, decay_bias)
    expected = J(params, X, y, lam, 20.0)
    expected_grads = jax.grad(J)(params, X, y, lam, 20.0)
    assert float(value) == pytest.approx(float(expected), abs=1e-12)
    for key in ("w", "b"):
        np.testing.assert_allclose(grads[key], expected_grads[key], atol=1e-12, rtol=0)


def test_objective_is_float64_and_works_under_jit_vmap_scan():
    objective = compile_objective(8)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((6, 8)), rng.standard_normal(6)
    params = {"w": jnp.zeros(8), "b": jnp.asarray(0.0)}

    @jax.jit
    def descend(lam):
        def step(p, _):
            _, g = objective.value_and_grad(p, X, y, lam, 6.0)
            return jax.tree_util.tree_map(lambda a, b: a - 0.1 * b, p, g), None
        return jax.lax.scan(step, params, None, length=5)[0]

    out = jax.vmap(descend)(jnp.array([0.0, 1.0]))
    assert out["w"].dtype == jnp.float64 and out["w"].shape == (2, 8)
    J = _hand_J("gaussian", False)
    manual = params
    for _ in range(5):
        manual = jax.tree_util.tree_map(lambda a, b: a - 0.1 * b, manual, jax.grad(J)(manual, X, y, 1.0, 6.0))
    np.testing.assert_allclose(out["w"][1], manual["w"], atol=1e-13)


def test_batch_size_can_vary():
    objective = compile_objective(4)
    params = {"w": jnp.ones(4), "b": jnp.asarray(0.5)}
    rng = np.random.default_rng(2)
    for rows in (1, 3, 7):
        X, y = rng.standard_normal((rows, 4)), rng.standard_normal(rows)
        value, _ = objective.value_and_grad(params, X, y, 0.0, 10.0)
        assert float(value) == pytest.approx(np.sum((X @ np.ones(4) + 0.5 - y) ** 2) / (2 * rows))


@pytest.mark.parametrize("prior", ["gaussian", "laplace"])
def test_reference_objective_matches_compiled(prior):
    rng = np.random.default_rng(3)
    params = {"w": jnp.asarray(rng.normal(0, 0.3, 7)), "b": jnp.asarray(0.2)}
    X, y = rng.standard_normal((4, 7)), rng.standard_normal(4)
    a = compile_objective(7, None, prior).value_and_grad(params, X, y, 0.7, 10.0)
    b = reference_objective(7, None, prior).value_and_grad(params, X, y, 0.7, 10.0)
    assert float(a[0]) == pytest.approx(float(b[0]), abs=1e-13)
    np.testing.assert_allclose(a[1]["w"], b[1]["w"], atol=1e-13)
