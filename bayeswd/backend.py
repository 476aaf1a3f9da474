"""PyMC → PyTensor → JAX: the model's negative log-posterior as the objective J.

For a minibatch of n_b rows out of n, with λ the canonical penalty (or α for L1)::

    J(w, b) = (σ²/n_b)·(−log p(y_b | w, b)) + (σ²/n)·(−log p(w)) + const
            = Σ_b ‖r‖²/(2 n_b) + (λ/2)‖w‖²          (Gaussian prior, strength n λ/σ²)
            = Σ_b ‖r‖²/(2 n_b) + α ‖w‖₁             (Laplace prior, rate n α/σ²)

The constants are removed by subtracting the same log-densities at zero residual
and at w = 0, so J is exactly the textbook objective. The result is a pure JAX
function of (params, X_batch, y_batch, λ, n) that works under jit, scan and vmap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.sampling.jax import get_jaxified_graph
from pytensor.compile.mode import JAX
from pytensor.graph import FunctionGraph
from pytensor.link.jax.dispatch import jax_funcify
from pytensor.graph.replace import clone_replace
from pytensor.graph.rewriting.basic import in2out, node_rewriter
from pytensor.tensor import math as pt_math

from bayeswd._jax_setup import assert_x64
from bayeswd.models import _engine_model

__all__ = ["Objective", "compile_objective", "model_objective", "reference_objective"]


@dataclass(frozen=True)
class Objective:
    """``value_and_grad(params, X, y, lam, n) -> (J, {"w": dJ/dw, "b": dJ/db})``; params = {"w", "b"}.

    ``grad`` returns the gradient alone (what a training step needs; no value graph).
    """

    value_and_grad: Callable
    grad: Callable
    prior: str
    decay_bias: bool
    w_shape: tuple
    b_shape: tuple


@lru_cache(maxsize=32)
def compile_objective(num_inputs: int, num_targets: int | None = None, prior: str = "gaussian",
                      decay_bias: bool = False) -> Objective:
    """Compile J and its PyTensor gradient for weights of shape (num_inputs[, num_targets]).

    J = Σ‖r‖²/(2 n_b) + (λ/2)‖w‖² (Gaussian) or + λ‖w‖₁ (Laplace), bias penalized
    only when ``decay_bias``; λ = 0 drops the prior term (and its constant) exactly.
    """
    y_template = np.zeros((2,) if num_targets is None else (2, num_targets))
    model = _engine_model(np.zeros((2, num_inputs)), y_template, prior=prior, decay_bias=decay_bias,
                          noise_sd=1.0)
    w, b = model["w"], model["b"]
    w_value, b_value = model.rvs_to_values[w], model.rvs_to_values[b]

    X_in = pt.matrix("X_batch", dtype="float64")
    y_in = (pt.vector if num_targets is None else pt.matrix)("y_batch", dtype="float64")
    lam_in = pt.scalar("lam", dtype="float64")
    n_in = pt.scalar("n_total", dtype="float64")
    noise_sd = 1.0  # σ cancels from J; the model's own value is used
    has_prior = pt.gt(lam_in, pt.constant(0.0, dtype="float64"))  # a bare 0.0 compares in float32
    # At λ = 0 the prior is flat: its density is −∞ and its gradient 0·∞. Give the graph a
    # harmless strength there and drop the term with the switch, so neither branch is NaN.
    strength = pt.switch(has_prior, n_in * lam_in / noise_sd**2, pt.constant(1.0, dtype="float64"))

    loglik = model.logp(vars=[model["obs"]], jacobian=False)
    prior_vars = [w, b] if decay_bias else [w]
    logprior = model.logp(vars=prior_vars, jacobian=False)
    replace = {model["X"]: X_in, model["y"]: y_in, model["strength"]: strength,
               model["noise_sd"]: pt.constant(noise_sd, dtype="float64")}
    loglik, logprior = clone_replace([loglik, logprior], replace=replace)
    # Subtract each density at its peak: zero residual for the likelihood, w = 0 for the prior.
    n_b = pt.cast(y_in.size, "float64")
    peak_loglik = n_b * pm.logp(pm.Normal.dist(0.0, noise_sd), 0.0)
    at_zero = {w_value: pt.zeros_like(w_value), b_value: pt.zeros_like(b_value)}
    peak_logprior = clone_replace(logprior, replace=at_zero)
    n_rows = pt.cast(X_in.shape[0], "float64")
    data_term = -(noise_sd**2 / n_rows) * (loglik - peak_loglik)
    prior_term = pt.switch(has_prior, -(noise_sd**2 / n_in) * (logprior - peak_logprior), 0.0)
    J = data_term + prior_term
    grads = pt.grad(J, [w_value, b_value])
    inputs = [w_value, b_value, X_in, y_in, lam_in, n_in]
    fn = get_jaxified_graph(inputs=inputs, outputs=[J, *grads])
    grad_fn = _jaxify_fast(inputs, grads)
    assert_x64()

    def value_and_grad(params, X, y, lam, n):
        value, grad_w, grad_b = fn(params["w"], params["b"], X, y, lam, n)
        return value, {"w": grad_w, "b": grad_b}

    def grad(params, X, y, lam, n):
        grad_w, grad_b = grad_fn(params["w"], params["b"], X, y, lam, n)
        return {"w": grad_w, "b": grad_b}

    w_shape = (num_inputs,) if num_targets is None else (num_inputs, num_targets)
    b_shape = () if num_targets is None else (num_targets,)
    return Objective(value_and_grad, grad, prior, decay_bias, w_shape, b_shape)


@lru_cache(maxsize=8)
def model_objective(model: pm.Model) -> Objective:
    """A user's model (``model=``; checked by :func:`bayeswd.models.check_model`) as the objective of
    training: its negative log-posterior per row,

        J_model(w, b) = −log p(y_b | w, b, X_b)/n_b − log p(w, b)/n,

    the likelihood of the minibatch's n_b rows scaled to one row, the prior's share of n rows. For
    :func:`bayeswd.models.regression` it is J/σ² plus constants (and the intercept prior's share),
    so its minimizer is the MAP; ``lam`` is not used (the model's prior is the penalty).
    """
    from bayeswd.models import check_model

    check_model(model)
    w, b = model["w"], model["b"]
    w_value, b_value = model.rvs_to_values[w], model.rvs_to_values[b]
    X_in = pt.matrix("X_batch", dtype="float64")
    y_in = (pt.vector if model["y"].ndim == 1 else pt.matrix)("y_batch", dtype="float64")
    lam_in = pt.scalar("lam", dtype="float64")
    n_in = pt.scalar("n_total", dtype="float64")
    loglik = model.logp(vars=model.observed_RVs, jacobian=False)
    logprior = model.logp(vars=[w, b], jacobian=False)
    loglik, logprior = clone_replace([loglik, logprior], replace={model["X"]: X_in, model["y"]: y_in})
    J = -loglik / pt.cast(X_in.shape[0], "float64") - logprior / n_in
    grads = pt.grad(J, [w_value, b_value])
    inputs = [w_value, b_value, X_in, y_in, lam_in, n_in]
    fn = get_jaxified_graph(inputs=inputs, outputs=[J, *grads])
    grad_fn = get_jaxified_graph(inputs=inputs, outputs=grads)
    assert_x64()

    def value_and_grad(params, X, y, lam, n):
        value, grad_w, grad_b = fn(params["w"], params["b"], X, y, lam, n)
        return value, {"w": grad_w, "b": grad_b}

    def grad(params, X, y, lam, n):
        grad_w, grad_b = grad_fn(params["w"], params["b"], X, y, lam, n)
        return {"w": grad_w, "b": grad_b}

    point = model.initial_point()
    return Objective(value_and_grad, grad, "model", False, point["w"].shape, point["b"].shape)


@node_rewriter([pt_math.true_div])
def _scalar_division_to_product(fgraph, node):
    """x / s with s broadcast from a scalar → x · (1/s): one reciprocal instead of one
    division per element (division is several times slower on CPUs; within 1 ulp)."""
    numerator, denominator = node.inputs
    if all(denominator.type.broadcastable) and not all(numerator.type.broadcastable):
        return [numerator * pt.reciprocal(denominator)]
    return None


@node_rewriter([pt_math.Dot])
def _transposed_matrix_times_column(fgraph, node):
    """Aᵀ·c with c a column (n, 1) → (c[:, 0]·A)[:, None]: the same numbers, but under ``jax.vmap``
    the batch stays the leading axis of a plain vector-matrix product instead of forcing a
    transpose and a copy of the (batch × p) gradient at every step."""
    left, right = node.inputs
    transpose = left.owner
    if (transpose is None or right.type.broadcastable != (False, True)
            or getattr(transpose.op, "new_order", None) != (1, 0)):
        return None
    return [pt.dot(right[:, 0], transpose.inputs[0])[:, None]]


def _jaxify_fast(inputs, outputs):
    """``get_jaxified_graph`` plus one last rewrite: the Normal logp's gradient divides
    w by the prior sd twice per step; after PyTensor's JAX rewrites, make those products."""
    fgraph = FunctionGraph(inputs=inputs, outputs=outputs, clone=True)
    JAX.optimizer.rewrite(fgraph)
    in2out(_scalar_division_to_product, _transposed_matrix_times_column).rewrite(fgraph)
    return jax_funcify(fgraph)


@lru_cache(maxsize=32)
def reference_objective(num_inputs: int, num_targets: int | None = None, prior: str = "gaussian",
                        decay_bias: bool = False) -> Objective:
    """J of :mod:`bayeswd.objective` in JAX, differentiated by ``jax.value_and_grad``: the independent
    check of :func:`compile_objective` and the anchor of the sweep benchmark.

    J = Σ‖r‖²/(2 n_b) + (λ/2)‖w‖² (Gaussian) or + λ‖w‖₁ (Laplace); bias penalized
    only when ``decay_bias``.
    """
    import jax
    import jax.numpy as jnp

    from bayeswd.objective import objective

    def J(params, X, y, lam, n):
        return objective(params, X, y, lam, prior, decay_bias, jnp)

    w_shape = (num_inputs,) if num_targets is None else (num_inputs, num_targets)
    b_shape = () if num_targets is None else (num_targets,)
    return Objective(jax.value_and_grad(J), jax.grad(J), prior, decay_bias, w_shape, b_shape)
