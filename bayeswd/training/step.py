"""One gradient step on J, in the optax/blackjax shape: a pure ``step(state, batch, lam)``.

The objective is the PyMC model's (compiled by :mod:`bayeswd.backend`; the same J as
:mod:`bayeswd.objective`). :func:`gradient_descent` builds a :class:`Trainer` —
``init(params) -> TrainState`` and ``step(state, batch, lam) -> TrainState`` — from a
:class:`~bayeswd.training.config.Spec` and a learning rate (a traced value: a new lr does not
recompile). Nothing here loops over epochs or models; :func:`fit` runs one model's epochs and
:mod:`bayeswd.training.program` maps it over a sweep.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from bayeswd import _jax_setup  # noqa: F401  (float64 before this module makes a JAX array)
import jax
import jax.numpy as jnp
import optax

from bayeswd.backend import Objective, compile_objective, model_objective, reference_objective
from bayeswd.objective import soft_threshold
from bayeswd.training.config import Spec
from bayeswd.training.optimizers import shorthand

__all__ = ["TrainState", "Batch", "Trainer", "gradient_descent", "fit", "objective_for"]


class TrainState(NamedTuple):
    """The parameters ``{"w", "b"}`` and the optimizer's state (momentum or Adam moments).

    Parameters
    ----------
    params : dict
        ``{"w": w, "b": b}``.
    opt_state : Any
        The optimizer's state.
    """

    params: dict
    opt_state: Any


class Batch(NamedTuple):
    """The minibatch's rows of the design and the targets.

    Parameters
    ----------
    X : jax.Array, (b, p)
        The minibatch's inputs.
    y : jax.Array, (b,) or (b, k)
        Its targets.
    """

    X: jax.Array
    y: jax.Array


class Trainer(NamedTuple):
    """A training step as blackjax shapes a kernel: ``init(params)`` gives the state, ``step(state, batch, lam)`` the next.

    Parameters
    ----------
    init : callable
        params → TrainState.
    step : callable
        (TrainState, Batch, λ) → TrainState.
    """

    init: Callable[[dict], TrainState]
    step: Callable[[TrainState, Batch, Any], TrainState]


def objective_for(spec: Spec) -> Objective:
    """J for ``spec``'s weight shape, compiled from the PyMC model (or the hand-typed JAX reference, or the
    user's model: its negative log-posterior per row)."""
    if not isinstance(spec.objective, str):
        return model_objective(spec.objective)
    build = compile_objective if spec.objective == "pymc" else reference_objective
    return build(spec.p, spec.k, spec.prior, spec.decay_bias)


def gradient_descent(spec: Spec, lr, objective: Objective | None = None) -> Trainer:
    """The training step for J: the optimizer's update of J's gradient.

    Coupled decay (L2 regularization) puts λ in J's gradient; decoupled decay applies w ← w − ηλw
    beside the optimizer (:func:`~bayeswd.training.optimizers.shorthand`); the proximal L1 step
    soft-thresholds after a plain step on the data term. A passed optax transformation is used as
    given, with λ in J's gradient.

    Parameters
    ----------
    spec : Spec
        What to train.
    lr : float or jax.Array
        The shorthand's step.
    objective : Objective, optional
        J (default: compiled for ``spec``).

    Returns
    -------
    Trainer
    """
    objective = objective_for(spec) if objective is None else objective
    lam_in_gradient = spec.decay == "coupled" and not spec.proximal

    def transformation(lam) -> optax.GradientTransformation:
        if not isinstance(spec.optimizer, str):
            return spec.optimizer
        return shorthand(spec.optimizer, lr, momentum=spec.momentum, decay=spec.decay, lam=lam,
                         decay_bias=spec.decay_bias)

    def init(params: dict) -> TrainState:
        # The optimizer state's structure does not depend on λ.
        return TrainState(params, transformation(0.0).init(params))

    def step(state: TrainState, batch: Batch, lam) -> TrainState:
        grads = objective.grad(state.params, batch.X, batch.y, lam if lam_in_gradient else 0.0, float(spec.n))
        updates, opt_state = transformation(lam).update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        if spec.proximal:
            params = {"w": soft_threshold(params["w"], lr * lam, jnp),
                      "b": soft_threshold(params["b"], lr * lam, jnp) if spec.decay_bias else params["b"]}
        return TrainState(params, opt_state)

    return Trainer(init, step)


def fit(trainer: Trainer, spec: Spec, params: dict, lam, orders, X, y, evaluate: Callable) -> tuple[dict, dict]:
    """Run ``spec.epochs`` epochs from ``params``; ``orders`` (epochs, n) gives each epoch's row order.

    ``evaluate(params, lam)`` gives the epoch's history entries. Returns (final params, history).

    Parameters
    ----------
    trainer : Trainer
        The step.
    spec : Spec
        Epochs, batch size and shapes.
    params : dict
        The start.
    lam : float or jax.Array
        λ of J = Σ‖r‖²/(2n) + (λ/2)‖w‖² (or + λ‖w‖₁).
    orders : jax.Array, (epochs, n)
        Row orders.
    X, y : jax.Array
        Training rows.
    evaluate : callable
        (params, λ) → the epoch's history entries.

    Returns
    -------
    params : dict
    history : dict
    """
    full, rest = divmod(spec.n, spec.batch_size)

    def one_step(state, idx):
        return trainer.step(state, Batch(X[idx], y[idx]), lam), None

    def epoch(state, order):
        state, _ = jax.lax.scan(one_step, state, order[: full * spec.batch_size].reshape(full, spec.batch_size))
        if rest:
            state, _ = one_step(state, order[full * spec.batch_size:])
        return state, evaluate(state.params, lam)

    state, history = jax.lax.scan(epoch, trainer.init(params), orders)
    return state.params, history
