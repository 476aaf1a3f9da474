"""One gradient step on J, in the optax/blackjax shape: a pure ``step(state, batch, lam)``.

The objective is the PyMC model's (compiled by :mod:`bayeswd.backend`),

    J(w, b) = Σᵢ ‖xᵢ·w + b − yᵢ‖² / (2n) + (λ/2)‖w‖²     (Gaussian prior, L2)
    J(w, b) = Σᵢ ‖xᵢ·w + b − yᵢ‖² / (2n) + λ‖w‖₁         (Laplace prior, L1)

with the bias penalized only when ``decay_bias``. :func:`gradient_descent` builds a
:class:`Trainer` — ``init(params) -> TrainState`` and ``step(state, batch, lam) ->
(TrainState, StepInfo)`` — from a :class:`Spec` (what shapes the code) and a learning rate
(a traced value: a new lr does not recompile). Nothing here loops over epochs or models;
:func:`fit` runs one model's epochs and :mod:`bayeswd.sweep` vmaps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from bayeswd import _jax_setup  # noqa: F401  (float64 before this module makes a JAX array)
import jax
import jax.numpy as jnp
import optax

from bayeswd.backend import Objective, compile_objective, reference_objective

__all__ = ["Spec", "TrainState", "StepInfo", "Batch", "Trainer", "gradient_descent", "fit", "METRICS"]

# Per-epoch history: Σr²/2n without and with the penalty on both row sets, ‖w‖ and ‖w‖²/2.
METRICS = ("train_loss", "train_objective", "val_loss", "val_objective", "w_norm", "l2_penalty")


@dataclass(frozen=True)
class Spec:
    """Everything that changes the compiled program's shape or code (hashable: it keys the caches).

    ``p`` is the number of coordinates trained: the inputs, or r + 1 on the row-space fast path.
    """

    n: int
    p: int
    k: int | None
    batch_size: int
    epochs: int
    optimizer: str
    decay: str
    prior: str
    proximal: bool
    decay_bias: bool
    init: str
    momentum: float
    fixed_start: bool
    shuffle: bool
    objective: str


class TrainState(NamedTuple):
    """The parameters ``{"w", "b"}`` and the optimizer's state (momentum or Adam moments)."""

    params: dict
    opt_state: Any


class StepInfo(NamedTuple):
    """What one step computed besides the new state: the gradient of J it used (λ included when coupled)."""

    grads: dict


class Batch(NamedTuple):
    """The minibatch's rows of the design and the targets."""

    X: jax.Array
    y: jax.Array


class Trainer(NamedTuple):
    init: Callable[[dict], TrainState]
    step: Callable[[TrainState, Batch, Any], tuple[TrainState, StepInfo]]


def objective_for(spec: Spec) -> Objective:
    """J for ``spec``'s weight shape, compiled from the PyMC model (or the hand-typed JAX reference)."""
    build = compile_objective if spec.objective == "pymc" else reference_objective
    return build(spec.p, spec.k, spec.prior, spec.decay_bias)


def _transformation(spec: Spec, lam, lr) -> optax.GradientTransformation:
    base = {"sgd": optax.identity(), "momentum": optax.trace(decay=spec.momentum),
            "nesterov": optax.trace(decay=spec.momentum, nesterov=True),
            "adam": optax.scale_by_adam()}[spec.optimizer]
    parts = [base]
    if spec.decay == "decoupled":
        parts.append(optax.masked(optax.add_decayed_weights(lam), {"w": True, "b": spec.decay_bias}))
    parts.append(optax.scale(-lr))
    return optax.chain(*parts)


def soft_threshold(x, t):
    """The proximal map of t‖x‖₁."""
    return jnp.sign(x) * jnp.maximum(jnp.abs(x) - t, 0.0)


def gradient_descent(spec: Spec, lr, objective: Objective | None = None) -> Trainer:
    """The training step for J at learning rate ``lr``.

    Coupled decay (L2 regularization) puts λ in J's gradient; decoupled decay applies
    w ← w − ηλw beside the optimizer (optax ``add_decayed_weights``: AdamW for Adam);
    the proximal L1 step soft-thresholds after a plain step on the data term.
    """
    objective = objective_for(spec) if objective is None else objective
    lam_in_gradient = spec.decay == "coupled" and not spec.proximal

    def init(params: dict) -> TrainState:
        # The optimizer state's structure does not depend on λ.
        return TrainState(params, _transformation(spec, 0.0, lr).init(params))

    def step(state: TrainState, batch: Batch, lam) -> tuple[TrainState, StepInfo]:
        grads = objective.grad(state.params, batch.X, batch.y, lam if lam_in_gradient else 0.0, float(spec.n))
        updates, opt_state = _transformation(spec, lam, lr).update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        if spec.proximal:
            params = {"w": soft_threshold(params["w"], lr * lam),
                      "b": soft_threshold(params["b"], lr * lam) if spec.decay_bias else params["b"]}
        return TrainState(params, opt_state), StepInfo(grads)

    return Trainer(init, step)


def fit(trainer: Trainer, spec: Spec, params: dict, lam, orders, X, y, evaluate: Callable) -> tuple[dict, dict]:
    """Run ``spec.epochs`` epochs from ``params``; ``orders`` (epochs, n) gives each epoch's row order.

    ``evaluate(params, lam)`` gives the epoch's history entries. Returns (final params, history).
    """
    full, rest = divmod(spec.n, spec.batch_size)

    def one_step(state, idx):
        state, _ = trainer.step(state, Batch(X[idx], y[idx]), lam)
        return state, None

    def epoch(state, order):
        state, _ = jax.lax.scan(one_step, state, order[: full * spec.batch_size].reshape(full, spec.batch_size))
        if rest:
            state, _ = one_step(state, order[full * spec.batch_size:])
        return state, evaluate(state.params, lam)

    state, history = jax.lax.scan(epoch, trainer.init(params), orders)
    return state.params, history


def metrics(train_residual, val_residual, w_sq, penalty, val_rows: int | None = None) -> dict:
    """The history entries from the residuals, ‖w‖² and the penalty term (in J's units).

    ``val_rows`` is the number of validation rows when ``val_residual`` is a shorter vector of
    the same norm (see the fast path's QR form in :mod:`bayeswd.sweep`).
    """
    train_loss = jnp.sum(train_residual**2) / (2 * train_residual.shape[0])
    val_loss = jnp.sum(val_residual**2) / (2 * (val_residual.shape[0] if val_rows is None else val_rows))
    return {"train_loss": train_loss, "train_objective": train_loss + penalty, "val_loss": val_loss,
            "val_objective": val_loss + penalty, "w_norm": jnp.sqrt(w_sq), "l2_penalty": w_sq / 2}


def penalty(spec: Spec, params: dict, lam):
    """λ‖w‖₁ (Laplace) or (λ/2)‖w‖² (Gaussian), with the bias when ``decay_bias``."""
    penalized = [params["w"], params["b"]] if spec.decay_bias else [params["w"]]
    if spec.prior == "laplace":
        return lam * sum(jnp.sum(jnp.abs(v)) for v in penalized)
    return lam / 2 * sum(jnp.sum(v**2) for v in penalized)
