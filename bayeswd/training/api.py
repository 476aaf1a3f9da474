"""``train``: gradient-descent weight decay in JAX, on the PyMC model's own objective.

Minimizes, by minibatch gradient descent, the canonical objective (:mod:`bayeswd.objective`)

    J(w, b) = Σᵢ ‖xᵢ·w + b − yᵢ‖² / (2n) + (λ/2)‖w‖²     (``penalty="l2"``)
    J(w, b) = Σᵢ ‖xᵢ·w + b − yᵢ‖² / (2n) + λ‖w‖₁         (``penalty="l1"``)

compiled from :mod:`bayeswd.models` through :mod:`bayeswd.backend`. ``train`` composes the pieces
of this package: a :class:`~bayeswd.training.config.TrainConfig` (checked once), the update as an
optax transformation (:mod:`~bayeswd.training.optimizers`), the coordinates trained
(:mod:`~bayeswd.training.coordinates`), the compiled program (:mod:`~bayeswd.training.program`) and
an executor (:mod:`~bayeswd.training.executor`); what is left here is checking the sweep's size and
reading the result.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from bayeswd import _jax_setup  # noqa: F401  (float64 before this module makes a JAX array)
import jax
import numpy as np
import xarray as xr

from bayeswd._validate import as_count, as_flag, as_penalty, as_positive_int
from bayeswd.data import Dataset, feature_names
from bayeswd.exceptions import BudgetError, TrainingDiverged
from bayeswd.training import coordinates
from bayeswd.training.config import MAX_EPOCHS, Spec, TrainConfig
from bayeswd.training.executor import SWEEP_DIMS, annotate_store, executor_for
from bayeswd.training.program import SweepInputs

__all__ = ["TrainRun", "train", "stability_bound", "full_batch_schedule", "MAX_SWEEP_BYTES", "DIVERGENCE_FACTOR"]

MAX_SWEEP_BYTES = 4 * 2**30        # the arrays one sweep holds: histories, weights, minibatch orders
# A run whose training objective exceeds this multiple of its starting value has diverged.
DIVERGENCE_FACTOR = 1e6


@dataclass(frozen=True, eq=False)
class TrainRun:
    """A training run or a sweep of runs.

    ``result`` is an xarray Dataset with ``w`` (…, feature[, target]), ``b`` and the per-epoch
    history: ``train_mse``/``val_mse`` (Σ‖r‖²/n, no penalty), ``train_objective``/``val_objective``
    (J: Σ‖r‖²/(2n) plus the penalty), ``w_norm`` (‖w‖) and ``l2_penalty`` (‖w‖²/2, what d2l prints
    as "L2 norm"). Leading dims are those of ``lam``, ``seed``, ``init_sd`` given as lists.
    ``config`` is the :class:`TrainConfig` as plain values; ``traces`` counts the compiled programs
    this call traced (0 when every shape was cached).

    Attributes
    ----------
    result : xarray.Dataset
        Weights, intercept and per-epoch history.
    w0, b0 : ndarray
        The starts.
    steps : int
        Steps taken per run.
    device : str
        The JAX device used.
    config : dict
        The configuration as plain values.
    traces : int
        Programs traced by this call.
    """

    result: xr.Dataset
    w0: np.ndarray
    b0: np.ndarray
    steps: int
    device: str
    config: dict
    traces: int = 0

    @property
    def w(self) -> np.ndarray:
        return self.result["w"].values

    @property
    def b(self) -> np.ndarray:
        return self.result["b"].values

    @property
    def history(self) -> xr.Dataset:
        return self.result[list(coordinates.METRICS)]


def stability_bound(X, lam: float = 0.0) -> float:
    """Largest stable full-batch step 2/(h_max + λ), h_max the top eigenvalue of the
    Hessian of the data term in (w, b): [X, 1]ᵀ[X, 1]/n.

    Parameters
    ----------
    X : array_like, (n, p)
        Training inputs.
    lam : float
        λ of J = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖².

    Returns
    -------
    float
    """
    Xa = np.column_stack([np.asarray(X, dtype=np.float64), np.ones(len(X))])
    # [X, 1][X, 1]ᵀ has the same non-zero eigenvalues; take the smaller Gram matrix
    gram = Xa @ Xa.T if Xa.shape[0] < Xa.shape[1] else Xa.T @ Xa
    h_max = np.linalg.eigvalsh(gram / len(X))[-1]
    return float(2.0 / (h_max + lam))


def full_batch_schedule(X, lam: float, contraction: float = 1e-13) -> tuple[float, int, bool]:
    """The fastest constant step for full-batch GD on J(w, b), and how many steps it needs.

    μ and L are the extreme eigenvalues of J's Hessian in (w, b), [X, 1]ᵀ[X, 1]/n + λ·diag(1, …, 1, 0).
    The step 2/(μ + L) shrinks the distance to the minimizer by (L − μ)/(L + μ) per step; the
    returned steps shrink it by ``contraction``. Returns (step, steps, reached): without a linear
    rate (μ = 0, as at λ = 0 with p > n) or past MAX_EPOCHS the steps are capped and ``reached`` is False.

    Parameters
    ----------
    X : array_like, (n, p)
        Training inputs.
    lam : float
        λ of J = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖².
    contraction : float
        The distance's required shrink factor.

    Returns
    -------
    step : float
    steps : int
    reached : bool
    """
    X = np.asarray(X, dtype=np.float64)
    n, p = X.shape
    Xa = np.column_stack([X, np.ones(n)])
    eig = np.linalg.eigvalsh(Xa.T @ Xa / n + as_penalty(lam) * np.diag(np.r_[np.ones(p), 0.0]))
    mu, L = max(eig[0], 0.0), eig[-1]
    rate = (L - mu) / (L + mu)
    steps = MAX_EPOCHS if rate >= 1 else min(MAX_EPOCHS, int(np.ceil(np.log(contraction) / np.log(rate))) + 1)
    return float(2.0 / (mu + L)), steps, bool(rate < 1 and rate**steps <= contraction)


def train(dataset: Dataset, lam=0.0, *, lr: float | None = None, epochs: int = 10, batch_size: int | None = 5,
          init_sd=0.01, seed=0, init: str = "normal", optimizer="sgd", momentum: float = 0.9,
          decay: str = "coupled", penalty: str = "l2", l1_method: str = "subgradient",
          decay_bias: bool = False, shuffle: bool = True, w0=None, b0=None,
          check_finite: bool = True, objective: str = "pymc", fast_path: bool | None = None,
          client=None, store: str | os.PathLike | None = None, workers: int | None = None,
          progress: bool = False, model=None) -> TrainRun:
    """Train by gradient descent on J(w, b) = Σ‖r‖²/(2n) + (λ/2)‖w‖² (or + λ‖w‖₁ for ``penalty="l1"``).

    ``lam``, ``seed`` and ``init_sd`` each take one value or any iterable of values (a sweep: every λ
    against every (seed, init_sd) pair, compiled once). ``batch_size=None`` is full batch.
    ``optimizer`` is a shorthand — ``"sgd"``, ``"momentum"`` (heavy ball, β = ``momentum``),
    ``"nesterov"``, ``"adam"`` — at ``lr`` (default 0.01), or any optax ``GradientTransformation``,
    which carries its own learning rate (``train(data, lam, optimizer=optax.adamw(1e-3))``; λ stays
    the penalty in J). ``decay="coupled"`` puts the penalty in the objective (L2 regularization);
    ``"decoupled"`` applies w ← w − ηλw beside the shorthand's update (AdamW for Adam).
    ``l1_method`` is ``"subgradient"`` (λ·sign(w) in the gradient, d2l exercise 3) or ``"proximal"``
    (a soft-threshold step after each plain SGD step: exact zeros). ``init`` is ``"normal"``
    (N(0, init_sd²) weights, zero bias) or ``"torch"`` (PyTorch's ``nn.Linear`` default U(±1/√p) on
    weights and bias; init_sd is ignored). ``shuffle=False`` takes the minibatches in row order.
    ``w0``/``b0`` override the random start. ``objective="reference"`` swaps the PyMC-compiled J for
    the hand-typed JAX one (for benchmarks and cross-checks).

    ``fast_path`` (default: wherever exact) trains the r + 1 coordinates of the row space of X and
    the start's null-space direction instead of all p weights (:mod:`bayeswd.training.coordinates`);
    exact for L2 with SGD, momentum or Nesterov shorthands (and decoupled SGD or momentum), never for
    Adam, L1 or a passed transformation. ``False`` forces the full computation; they agree to rounding.

    ``model`` (a ``pm.Model`` such as :func:`bayeswd.models.regression` returns, changed as you like:
    free ``w`` and ``b``, data ``pm.Data("X")``, ``pm.Data("y")``; :func:`bayeswd.models.check_model`)
    trains on that model's own log-density instead: J_model = −log p(y_b | w, b)/n_b − log p(w, b)/n,
    through the same PyTensor → JAX path, on the full path. Its prior is the penalty, so ``lam`` stays 0;
    J_model is J/σ² for a Gaussian likelihood, so scale ``lr`` by σ². The history's ``*_objective``
    columns are then the MSE halved (λ = 0), not J_model.

    Scale: ``workers`` threads run parts of the sweep (default: one per core on the CPU).
    ``client`` (a ``dask.distributed.Client``) runs the sweep as blocks of equal shape on its
    workers (``workers`` threads each, default 1); ``store`` (a path ending in ``.zarr``) has each
    block write its region of a new Zarr store, and the result is read lazily from it — for
    sweeps larger than memory (``w0``/``b0`` then live in ``result`` too). ``progress=True`` prints a
    line on stderr as each Dask block finishes (the tasks are named ``bayeswd-train-block-…``).

    Parameters
    ----------
    dataset : Dataset
        Training and validation rows.
    lam : float or iterable of float
        λ ≥ 0 of J.
    lr : float, optional
        The shorthand's step (default 0.01).
    epochs : int
        Passes over the training rows.
    batch_size : int or None
        Minibatch size; None is full batch.
    init_sd : float or iterable of float
        The start's weight sd.
    seed : int or iterable of int
        Seeds (each init and minibatch order its own stream).
    init : {"normal", "torch"}
        The start's law.
    optimizer : str or optax.GradientTransformation
        A shorthand or a transformation.
    momentum : float
        β of the momentum shorthands.
    decay : {"coupled", "decoupled"}
        Where an L2 penalty acts.
    penalty : {"l2", "l1"}
        The penalty (the Gaussian or Laplace prior).
    l1_method : {"subgradient", "proximal"}
        How an L1 penalty acts.
    decay_bias : bool
        Whether the bias is penalized too.
    shuffle : bool
        Shuffle the rows each epoch.
    w0, b0 : array_like, optional
        A fixed start.
    check_finite : bool
        Stop with :class:`~bayeswd.exceptions.TrainingDiverged` when the run blows up.
    objective : {"pymc", "reference"}
        Which compiled J to differentiate.
    fast_path : bool, optional
        None (wherever exact), True (required) or False.
    client : dask.distributed.Client, optional
        Run on a Dask cluster.
    store : str or os.PathLike, optional
        A new ``.zarr`` store for the result.
    workers : int, optional
        Threads per process.
    progress : bool
        Print a line per finished Dask block.
    model : pymc.Model, optional
        Train on this model's log-density.

    Returns
    -------
    TrainRun
    """
    if not isinstance(dataset, Dataset):
        raise ValueError("train takes a bayeswd.Dataset; build one with bayeswd.d2l_data() or bayeswd.load(path)")
    if model is not None:
        from bayeswd.models import check_model

        if objective != "pymc":
            raise ValueError("give model= or objective=, not both: the model is the objective")
        objective = check_model(model, dataset.num_inputs)
    config = TrainConfig(lr=lr, epochs=epochs, batch_size=batch_size, init=init, optimizer=optimizer,
                         momentum=momentum, decay=decay, penalty=penalty, l1_method=l1_method,
                         decay_bias=decay_bias, shuffle=shuffle, check_finite=check_finite, objective=objective,
                         fast_path=fast_path)
    (lams, seeds, init_sds), given = zip(*(_as_values(v, name, check) for v, name, check in (
        (lam, "lam", as_penalty), (seed, "seed", _as_seed), (init_sd, "init_sd", _as_init_sd))))
    if model is not None and any(value != 0 for value in lams):
        raise ValueError("with model=, the model's prior is the penalty: leave lam at 0 and set the prior's "
                         "width in the model")
    if workers is not None:
        workers = as_positive_int(workers, "workers")
    executor = executor_for(client, _check_store(store), workers, as_flag(progress, "progress"))
    _check_request(dataset, config, lams, seeds, init_sds, executor.block_models)

    inputs = _sweep_inputs(dataset, config, init_sds, w0, b0)
    out, traces, diverged = executor.run(inputs, lams, seeds, factor=DIVERGENCE_FACTOR)
    steps_per_epoch = -(-inputs.spec.n // inputs.spec.batch_size)
    if diverged is not None:
        if executor.store is not None:      # the executor made it; a diverged sweep's store goes too
            shutil.rmtree(executor.store, ignore_errors=True)
        _raise_diverged(diverged, config, dataset, steps_per_epoch)
    device = str(jax.devices()[0].platform) + ":" + jax.devices()[0].device_kind
    described = {**config.describe(), "batch_size": inputs.spec.batch_size,
                 "fast_path": inputs.spec.coordinates == "row_space"}
    return _result(out, executor.store, (lams, seeds, init_sds), given, dataset, inputs.spec,
                   epochs * steps_per_epoch, device, described, traces)


def _sweep_inputs(dataset: Dataset, config: TrainConfig, init_sds, w0, b0) -> SweepInputs:
    """The program's inputs: its spec (row-space coordinates wherever exact and smaller), the data, the start."""
    n, p = dataset.X_train.shape
    k = dataset.y_train.shape[1] if dataset.y_train.ndim == 2 else None
    basis = None
    if config.row_space_exact and config.fast_path is not False:
        basis = coordinates.row_space_basis(dataset.X_train)
        if config.fast_path is None and basis.shape[1] + 1 >= p:
            basis = None       # no null space to skip: the full computation is as small
    spec = Spec.build(config, n, p if basis is None else basis.shape[1] + 1, k, fixed_start=w0 is not None,
                      coordinates="full" if basis is None else "row_space")
    data = (dataset.X_train, dataset.y_train, dataset.X_val, dataset.y_val)
    return SweepInputs(spec, 0.0 if config.lr is None else config.lr, _start_params(p, k, w0, b0), data, basis,
                       np.asarray(init_sds, dtype=np.float64), config.check_finite)


def _check_request(dataset: Dataset, config: TrainConfig, lams, seeds, init_sds, block_models) -> None:
    """Refuse, before any work, a start float64 cannot hold, a step that must diverge or a sweep past
    the memory budget; warn of a step above the full-batch stability bound."""
    n, p = dataset.X_train.shape
    # The start's loss is about init_sd²·‖X‖²_F/(2n): refuse a start whose loss float64 cannot hold.
    with np.errstate(over="ignore"):
        start_scale = np.float64(max(init_sds)) ** 2 * float(np.sum(dataset.X_train**2))
    if not np.isfinite(start_scale) or start_scale > 1e300:
        raise ValueError(f"init_sd={max(init_sds):g} makes the starting loss overflow float64 on these inputs; use "
                         f"an init_sd below {np.sqrt(1e300 / max(float(np.sum(dataset.X_train**2)), 1e-300)):.3g}")
    _check_decay_step(lams, config)
    k_out = dataset.y_train.shape[1] if dataset.y_train.ndim == 2 else 1
    if block_models is None:
        _check_memory(len(lams) * len(seeds) * len(init_sds), len(seeds) * len(init_sds), config.epochs, n, p * k_out)
    else:   # only one block is in memory at a time
        _check_memory(block_models, block_models, config.epochs, n, p * k_out)
    bound = stability_bound(dataset.X_train, max(lams) if config.penalty == "l2" else 0.0)
    if (config.batch_size is None or config.batch_size >= n) and config.optimizer == "sgd" and config.lr > bound:
        warnings.warn(f"lr={config.lr} is above the full-batch stability bound 2/(s_max + λ) = {bound:.4g}; "
                      "gradient descent will diverge — lower lr", RuntimeWarning, stacklevel=3)


def _result(out, store, values, given, dataset, spec, steps, device, config, traces) -> TrainRun:
    """The TrainRun: xarray in memory, or read lazily from the store; dims not given as lists dropped."""
    if store is not None:
        result = xr.open_zarr(store, consolidated=False)
    else:
        result = _to_xarray(out, tuple(len(v) for v in values), dict(zip(SWEEP_DIMS, values)), spec.epochs, spec.k)
    # Both layouts hold every dimension; the ones not given as lists are dropped the same way.
    result = result.isel({d: 0 for d, listed in zip(SWEEP_DIMS, given) if not listed}, drop=True)
    result = result.assign_coords(feature=feature_names(dataset))   # a CSV's column names survive
    if store is not None:      # lazy, larger than memory: the starts stay in the store's dataset
        annotate_store(store, config, feature_names(dataset), device)
        return TrainRun(result, result["w0"].data, result["b0"].data, steps, device, config, traces)
    return TrainRun(result.drop_vars(["w0", "b0"]), result["w0"].values, result["b0"].values, steps, device, config,
                    traces)


def _as_values(value, name, check):
    """(values, given as a sequence?): a list, tuple, array, range or any other iterable of values
    (a generator, a pandas Series) is a sweep; a single number, or a text, is one value."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Iterable, np.ndarray)):
        return [check(value, name)], False
    if not isinstance(value, (list, tuple, np.ndarray)):
        value = list(value)
    flat = np.ravel(value)
    if flat.size == 0:
        raise ValueError(f"{name} is an empty list; give at least one value")
    if check in (as_penalty, _as_init_sd) and flat.dtype.kind in "fiu":
        # one vectorized check instead of thousands of calls for a long λ grid
        floats = flat.astype(np.float64)
        if np.isfinite(floats).all() and (floats >= 0).all():
            return floats.tolist(), True
    return [check(v, name) for v in flat], True


def _as_seed(value, name):
    return as_count(value, name, low=0, high=2**32 - 1)


def _as_init_sd(value, name):
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def _check_store(store):
    """A new Zarr store's path, checked before any work: it must not exist, its folder must."""
    if store is None:
        return None
    path = os.fspath(store)
    if not path.endswith(".zarr"):
        raise ValueError(f"store={path!r}: give a path ending in .zarr")
    if os.path.exists(path):
        raise ValueError(f"store={path!r} already exists; bayeswd writes only new stores — remove it or pick "
                         "another path")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise ValueError(f"store={path!r}: the folder {parent} does not exist or is not writable")
    return path


def _check_decay_step(lams, config: TrainConfig) -> None:
    """Refuse an L2 step that multiplies the weights by (1 − ηλ) with ηλ ≥ 2: it diverges from any start."""
    if config.penalty != "l2" or config.lr is None or (config.optimizer == "adam" and config.decay == "coupled"):
        return  # L1's push is bounded, Adam normalizes a coupled penalty's gradient, a transformation's lr is its own
    worst = config.lr * max(lams)
    if worst >= 2:
        raise ValueError(f"lr·λ = {config.lr:g}·{max(lams):g} = {worst:g} ≥ 2: each step multiplies the weights by "
                         f"(1 − lr·λ) = {1 - worst:g}, which diverges; keep λ below {2 / config.lr:g} at "
                         f"lr={config.lr:g} (or lower lr)")


def _check_memory(models: int, pairs: int, epochs: int, n: int, weights: int) -> None:
    """Refuse a sweep whose arrays alone would pass MAX_SWEEP_BYTES."""
    history = models * epochs * len(coordinates.METRICS) * 8
    orders = pairs * epochs * n * 8
    params = models * (weights + 1) * 8 * 3
    need = history + orders + params
    if need > MAX_SWEEP_BYTES:
        raise BudgetError(f"this sweep would hold {need / 2**30:.1f} GiB ({models:,} models × {epochs:,} epochs of "
                          f"history), past the budget of {MAX_SWEEP_BYTES / 2**30:.0f} GiB; use fewer epochs, "
                          "λ values, seeds or init sds")


def _start(value, shape, name):
    """A given start broadcast to ``shape``: numbers, finite, of a shape that broadcasts (named if not)."""
    array = np.asarray(value)
    if np.iscomplexobj(array) or array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values; give a finite start")
    try:
        return np.broadcast_to(array, shape)
    except ValueError:
        raise ValueError(f"{name} has shape {array.shape}; it must broadcast to {shape}") from None


def _start_params(p: int, k: int | None, w0, b0) -> dict:
    w_shape = (p,) if k is None else (p, k)
    b_shape = () if k is None else (k,)
    w0 = np.zeros(w_shape) if w0 is None else _start(w0, w_shape, "w0")
    b0 = np.zeros(b_shape) if b0 is None else _start(b0, b_shape, "b0")
    return {"w": np.array(w0, dtype=np.float64), "b": np.array(b0, dtype=np.float64)}


def _to_xarray(out, shape, coords, epochs: int, k: int | None) -> xr.Dataset:
    """The sweep's arrays with every dimension: runs (lam, seed, init_sd, ...), starts (seed, init_sd, ...)."""
    w_dims = ("feature",) if k is None else ("feature", "target")
    b_dims = w_dims[1:]

    def runs(a, trailing_dims):
        return SWEEP_DIMS + trailing_dims, a.reshape(shape + a.shape[2:])

    def starts(a, trailing_dims):
        return SWEEP_DIMS[1:] + trailing_dims, a.reshape(shape[1:] + a.shape[1:])

    data_vars = {"w": runs(out["w"], w_dims), "b": runs(out["b"], b_dims)}
    data_vars.update({name: runs(out["history"][name], ("epoch",)) for name in coordinates.METRICS})
    data_vars.update(w0=starts(out["w0"], w_dims), b0=starts(out["b0"], b_dims))
    return xr.Dataset(data_vars, coords={**coords, "epoch": np.arange(1, epochs + 1)})


def _raise_diverged(diverged, config: TrainConfig, dataset: Dataset, steps_per_epoch: int) -> None:
    lam, epoch_i, value, start = diverged
    grew = "overflowed to " + str(value) if not np.isfinite(value) else f"grew from {start:.3g} to {value:.3g}"
    what = (f"lr={config.lr:g}, λ={lam:g}, optimizer={config.optimizer}" if config.lr is not None
            else f"λ={lam:g} and the optax transformation passed")
    raise TrainingDiverged(f"training diverged by epoch {epoch_i + 1} (step {(epoch_i + 1) * steps_per_epoch}): the "
                           f"objective {grew} with {what}. {_bounds_text(dataset, lam, config)}")


def _bounds_text(dataset: Dataset, lam: float, config: TrainConfig) -> str:
    if config.optimizer == "adam" or not isinstance(config.optimizer, str):
        return "Adam has no simple step bound: lower lr." if config.optimizer == "adam" else "Lower its learning rate."
    lam_l2 = lam if config.prior == "gaussian" else 0.0
    beta = config.momentum
    # On a quadratic with curvature h the step is stable for η·h < 2·scale (heavy ball: scale 1 + β;
    # Nesterov: (1 + β)/(1 + 2β)).
    scale, label = {"momentum": (1 + beta, "2(1 + β)"),
                    "nesterov": ((1 + beta) / (1 + 2 * beta), "2(1 + β)/(1 + 2β)")}.get(config.optimizer, (1.0, "2"))
    full = scale * stability_bound(dataset.X_train, lam_l2)
    rows = np.column_stack([dataset.X_train, np.ones(len(dataset.X_train))])
    any_batch = scale * 2 / (float((rows**2).sum(axis=1).max()) + lam_l2)
    return (f"Stable steps: lr < {full:.4g} for full batches ({label}/(s_max + λ)), "
            f"and any minibatch is stable below lr = {any_batch:.4g} (a sufficient condition); lower lr.")
