"""Many training runs as one compiled program.

A sweep is every λ against every (seed, init_sd) pair, seed-major. One jit-compiled
:class:`Program` per :class:`~bayeswd.training.config.Spec` trains a block of them — λ values fill
mapped batches of :data:`MODELS_PER_BATCH` first, since they share a seed's start and minibatches —
each model through :func:`bayeswd.training.step.fit`, in the coordinates the spec names
(:mod:`bayeswd.training.coordinates`). Where the block runs is the executor's business
(:mod:`bayeswd.training.executor`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

from bayeswd import _jax_setup  # noqa: F401  (float64 before this module makes a JAX array)
import jax
import jax.numpy as jnp
import numpy as np

from bayeswd.training import coordinates, program_store
from bayeswd.training.config import Spec
from bayeswd.training.step import fit, gradient_descent, objective_for

__all__ = ["Program", "program_for", "SweepInputs", "initial_params", "MODELS_PER_BATCH"]

# Models per mapped batch: small enough that a batch's parameters stay in cache for all its
# steps. A tuning knob, not a semantic one.
MODELS_PER_BATCH = 64


@dataclass(frozen=True, eq=False)
class SweepInputs:
    """What every block shares: the spec, the learning rate, the start, the data and the row-space
    basis (None on the full path); ``init_sds`` and ``check_finite`` complete the sweep.

    Attributes
    ----------
    spec : Spec
        The program's spec.
    lr : float
        The step.
    start : dict
        A fixed start, or empty.
    data : tuple
        The training and validation arrays.
    basis : ndarray or None
        The row-space basis.
    init_sds : ndarray
        The start sds.
    check_finite : bool
        Detect divergence.
    """

    spec: Spec
    lr: float
    start: dict
    data: tuple            # X, y, X_val, y_val (the full design; reduced inside the program)
    basis: np.ndarray | None
    init_sds: np.ndarray
    check_finite: bool


class Program:
    """The jit-compiled sweep for one :class:`Spec`; ``traces`` counts how often JAX traced it
    (once per new input shape, none for a shape read back from :mod:`~bayeswd.training.program_store`),
    so a test can prove that a sweep compiled once.

    Parameters
    ----------
    spec : Spec
        What the program computes.
    """

    def __init__(self, spec: Spec):
        self.spec, self.traces = spec, 0
        # Compiled here, not while tracing: PyTensor's JAX constants made inside a trace would be
        # tracers, and the cached objective would leak them into the next trace.
        self.objective = objective_for(spec)
        self._lock = threading.Lock()
        self._jitted = jax.jit(self._trace)
        self._stored, self._store_lock = {}, threading.Lock()   # store key → the function read back or exported

    def __call__(self, lam_grid, seeds, init_sds, lr, start, data, basis):
        args = (lam_grid, seeds, init_sds, lr, start, data, basis)
        name = program_store.key(self.spec, args)
        if name is None:
            return self._jitted(*args)
        with self._store_lock:      # the parallel parts of a block share one shape: one of them exports it
            if name not in self._stored:
                self._stored[name] = program_store.load_or_export(name, self._jitted, args)
        return self._stored[name](*args)

    def _trace(self, lam_grid, seeds, init_sds, lr, start, data, basis):
        with self._lock:
            self.traces += 1
        return sweep(self.spec, self.objective, lam_grid, seeds, init_sds, lr, start, data, basis)


@lru_cache(maxsize=64)
def program_for(spec: Spec) -> Program:
    """The compiled program for ``spec``, one per spec and process (so equal shapes share one compilation).

    Parameters
    ----------
    spec : Spec
        What the program computes.

    Returns
    -------
    Program
    """

    return Program(spec)


def initial_params(spec: Spec, key, init_sd, start: dict) -> dict:
    """The start: ``start`` itself when fixed, else N(0, init_sd²) weights and zero bias
    (``init="normal"``) or PyTorch's U(±1/√p) on both (``init="torch"``)."""
    if spec.fixed_start:
        return start
    key_w, key_b = jax.random.split(key)
    w_shape, b_shape = start["w"].shape, start["b"].shape
    if spec.init == "torch":
        bound = 1.0 / np.sqrt(w_shape[0])
        return {"w": jax.random.uniform(key_w, w_shape, minval=-bound, maxval=bound),
                "b": jax.random.uniform(key_b, b_shape, minval=-bound, maxval=bound)}
    return {"w": init_sd * jax.random.normal(key_w, w_shape), "b": jnp.zeros(b_shape)}


def row_orders(spec: Spec, key):
    """Each epoch's row order, (epochs, n): reshuffled per epoch from ``key``, or row order."""
    # The start and the minibatch orders do not depend on λ: drawn once per seed, outside the
    # λ loop (shuffling inside it cost a quarter of a d2l sweep).
    if spec.shuffle and spec.batch_size < spec.n:
        keys = jax.random.split(jax.random.fold_in(key, 1), spec.epochs)
        return jax.vmap(lambda k: jax.random.permutation(k, spec.n))(keys)
    return jnp.broadcast_to(jnp.arange(spec.n), (spec.epochs, spec.n))


def sweep(spec, objective, lam_grid, seeds, init_sds, lr, start, data, basis):
    """Train every λ of ``lam_grid`` (lam, pair) from each pair's start: runs (lam, pair, ...), starts (pair, ...)."""
    trainer = gradient_descent(spec, lr, objective)
    n_lam, n_pairs = lam_grid.shape
    lam_chunk = min(n_lam, MODELS_PER_BATCH)
    pair_chunk = max(1, min(n_pairs, MODELS_PER_BATCH // lam_chunk))
    coords = coordinates.for_spec(spec, n_lam)
    shared = coords.prepare(data, basis)

    def pair(inputs):
        lams, seed, init_sd = inputs
        key = jax.random.PRNGKey(seed)
        drawn = initial_params(spec, key, init_sd, start)
        orders = row_orders(spec, key)
        params0, frame = coords.start(shared, drawn, data, basis)

        def evaluate(params, lam):
            return coords.evaluate(shared, frame, params, lam, data)

        def one(lam):
            params, history = fit(trainer, spec, params0, lam, orders, shared["X"], data[1], evaluate)
            return {"w": coords.expand(frame, params["w"], basis), "b": params["b"], "history": history}

        out = jax.lax.map(one, lams, batch_size=lam_chunk)
        return {**out, "w0": drawn["w"], "b0": drawn["b"]}

    out = jax.lax.map(pair, (lam_grid.T, seeds, init_sds), batch_size=pair_chunk)
    # Put λ first: (lam, pair, ...) for the runs, (pair, ...) for the starts.
    runs = jax.tree_util.tree_map(lambda a: jnp.swapaxes(a, 0, 1), {k: out[k] for k in ("w", "b", "history")})
    return {**runs, "w0": out["w0"], "b0": out["b0"]}
