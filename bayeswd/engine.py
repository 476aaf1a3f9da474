"""Gradient-descent weight decay in JAX, on the PyMC model's own objective.

Minimizes, by minibatch SGD (or momentum / Adam), the canonical objective

    J(w, b) = Σᵢ ‖xᵢ·w + b − yᵢ‖² / (2n) + (λ/2)‖w‖²     (``penalty="l2"``)
    J(w, b) = Σᵢ ‖xᵢ·w + b − yᵢ‖² / (2n) + λ‖w‖₁         (``penalty="l1"``)

compiled from :mod:`bayeswd.models` through :mod:`bayeswd.backend`. Defaults follow
d2l: w₀ ~ N(0, init_sd²), b₀ = 0, rows reshuffled every epoch (seeded), plain SGD,
the penalty inside the objective, bias not decayed. Lists of ``lam``, ``seed`` and
``init_sd`` run as one jit-compiled, vmapped program (compiled once per shape); on the CPU a
large sweep is cut into equal parts that run on one thread per core.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import optax
import xarray as xr

from bayeswd._validate import as_choice, as_penalty, as_positive, as_positive_int
from bayeswd.backend import compile_objective, reference_objective
from bayeswd.data import Dataset
from bayeswd.exceptions import BudgetError, TrainingDiverged

__all__ = ["TrainRun", "TrainingDiverged", "train", "stability_bound", "full_batch_schedule", "OPTIMIZERS", "INITS",
           "MAX_EPOCHS",
           "MAX_SWEEP_BYTES", "DIVERGENCE_FACTOR"]

OPTIMIZERS = ("sgd", "momentum", "adam")
INITS = ("normal", "torch")
_SWEEP_DIMS = ("lam", "seed", "init_sd")
_HISTORY = ("train_loss", "train_objective", "val_loss", "val_objective", "w_norm", "l2_penalty")

# Budgets: work past them is refused before it starts, with a message naming the setting.
MAX_EPOCHS = 10**6
MAX_SWEEP_BYTES = 4 * 2**30        # the arrays one sweep holds: histories, weights, minibatch orders
# A run whose training objective exceeds this multiple of its starting value has diverged.
DIVERGENCE_FACTOR = 1e6


@dataclass(frozen=True, eq=False)
class TrainRun:
    """A training run or a sweep of runs.

    ``result`` is an xarray Dataset with ``w`` (…, feature[, target]), ``b`` and the
    per-epoch history ``train_loss``/``val_loss`` (Σr²/2n, no penalty),
    ``train_objective``/``val_objective`` (with the penalty, what d2l plots),
    ``w_norm`` (‖w‖) and ``l2_penalty`` (‖w‖²/2, what d2l prints as "L2 norm").
    Leading dims are those of ``lam``, ``seed``, ``init_sd`` given as lists.
    """

    result: xr.Dataset
    w0: np.ndarray
    b0: np.ndarray
    steps: int
    device: str
    config: dict

    @property
    def w(self) -> np.ndarray:
        return self.result["w"].values

    @property
    def b(self) -> np.ndarray:
        return self.result["b"].values

    @property
    def history(self) -> xr.Dataset:
        return self.result[list(_HISTORY)]


def stability_bound(X, lam: float = 0.0) -> float:
    """Largest stable full-batch step 2/(h_max + λ), h_max the top eigenvalue of the
    Hessian of the data term in (w, b): [X, 1]ᵀ[X, 1]/n."""
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
    """
    X = np.asarray(X, dtype=np.float64)
    n, p = X.shape
    Xa = np.column_stack([X, np.ones(n)])
    eig = np.linalg.eigvalsh(Xa.T @ Xa / n + as_penalty(lam) * np.diag(np.r_[np.ones(p), 0.0]))
    mu, L = max(eig[0], 0.0), eig[-1]
    rate = (L - mu) / (L + mu)
    steps = MAX_EPOCHS if rate >= 1 else min(MAX_EPOCHS, int(np.ceil(np.log(contraction) / np.log(rate))) + 1)
    return float(2.0 / (mu + L)), steps, bool(rate < 1 and rate**steps <= contraction)


def _as_list(value, name, check):
    if not isinstance(value, (list, tuple, np.ndarray)):
        return [check(value, name)], False
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
    if isinstance(value, bool) or int(value) != value or int(value) < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _as_init_sd(value, name):
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def train(dataset: Dataset, lam=0.0, *, lr: float = 0.01, epochs: int = 10, batch_size: int | None = 5,
          init_sd=0.01, seed=0, init: str = "normal", optimizer: str = "sgd", momentum: float = 0.9,
          decay: str = "coupled", penalty: str = "l2", l1_method: str = "subgradient",
          decay_bias: bool = False, shuffle: bool = True, w0=None, b0=None,
          check_finite: bool = True, objective: str = "pymc") -> TrainRun:
    """Train by gradient descent on J(w, b) = Σ‖r‖²/(2n) + (λ/2)‖w‖² (or + λ‖w‖₁ for ``penalty="l1"``).

    ``batch_size=None`` is full batch. ``decay="coupled"`` puts the penalty in the
    objective (L2 regularization); ``"decoupled"`` applies w ← w − ηλw beside the
    optimizer (optax ``add_decayed_weights``; AdamW for Adam). ``l1_method`` is
    ``"subgradient"`` (λ·sign(w) in the gradient, d2l exercise 3) or ``"proximal"``
    (a soft-threshold step after each plain SGD step: exact zeros). ``init`` is
    ``"normal"`` (N(0, init_sd²) weights, zero bias) or ``"torch"`` (PyTorch's
    ``nn.Linear`` default U(±1/√p) on weights and bias; init_sd is ignored).
    ``shuffle=False`` takes the minibatches in row order (seed 002's notebook).
    ``w0``/``b0`` override the random start. ``objective="reference"`` swaps the
    PyMC-compiled J for the hand-typed JAX one (for benchmarks and cross-checks).
    """
    if not isinstance(dataset, Dataset):
        raise ValueError("train takes a bayeswd.Dataset; build one with bayeswd.d2l_data() or bayeswd.load(path)")
    lams, lam_is_list = _as_list(lam, "lam", as_penalty)
    seeds, seed_is_list = _as_list(seed, "seed", _as_seed)
    init_sds, init_is_list = _as_list(init_sd, "init_sd", _as_init_sd)
    lr = as_positive(lr, "lr")
    epochs = as_positive_int(epochs, "epochs")
    if epochs > MAX_EPOCHS:
        raise BudgetError(f"epochs={epochs:,} is past the budget of {MAX_EPOCHS:,} epochs per run; use fewer epochs")
    n, p = dataset.X_train.shape
    batch_size = n if batch_size is None else as_positive_int(batch_size, "batch_size")
    batch_size = min(batch_size, n)
    for name, value, allowed in (("optimizer", optimizer, OPTIMIZERS), ("init", init, INITS),
                                 ("objective", objective, ("pymc", "reference")),
                                 ("decay", decay, ("coupled", "decoupled")), ("penalty", penalty, ("l1", "l2")),
                                 ("l1_method", l1_method, ("subgradient", "proximal"))):
        as_choice(value, name, allowed)
    if penalty == "l1" and decay == "decoupled":
        raise ValueError("decoupled decay is an L2 notion; use penalty='l2' or decay='coupled'")
    if penalty == "l1" and l1_method == "proximal" and optimizer != "sgd":
        raise ValueError("the proximal L1 step is defined for plain SGD; use optimizer='sgd'")

    _check_decay_step(lams, lr, penalty, optimizer, decay)
    k_out = dataset.y_train.shape[1] if dataset.y_train.ndim == 2 else 1
    _check_memory(len(lams) * len(seeds) * len(init_sds), len(seeds) * len(init_sds), epochs, n, p * k_out)
    bound = stability_bound(dataset.X_train, max(lams) if penalty == "l2" else 0.0)
    if batch_size == n and optimizer == "sgd" and lr > bound:
        warnings.warn(f"lr={lr} is above the full-batch stability bound 2/(s_max + λ) = {bound:.4g}; "
                      "gradient descent will diverge — lower lr", RuntimeWarning, stacklevel=2)

    k = dataset.y_train.shape[1] if dataset.y_train.ndim == 2 else None
    static = _Static(n=n, p=p, k=k, batch_size=batch_size, epochs=epochs, optimizer=optimizer, decay=decay,
                     prior="laplace" if penalty == "l1" else "gaussian",
                     proximal=penalty == "l1" and l1_method == "proximal", decay_bias=bool(decay_bias),
                     init=init, momentum=float(momentum), fixed_start=w0 is not None, shuffle=bool(shuffle),
                     objective=objective)
    program = _compiled(static)
    start = _start_params(static, w0, b0)
    # every (seed, init_sd) pair, seed-major, against every λ
    pair_seeds = np.repeat(np.asarray(seeds, dtype=np.int64), len(init_sds))
    pair_init_sds = np.tile(np.asarray(init_sds, dtype=np.float64), len(seeds))
    lam_grid = np.repeat(np.asarray(lams, dtype=np.float64)[:, None], len(pair_seeds), axis=1)
    data = (dataset.X_train, dataset.y_train, dataset.X_val, dataset.y_val)
    out = _run_in_parts(program, lam_grid, pair_seeds, pair_init_sds, lr, start, data)
    device = str(jax.devices()[0].platform) + ":" + jax.devices()[0].device_kind
    steps_per_epoch = -(-n // batch_size)

    shape = (len(lams), len(seeds), len(init_sds))
    flags = (lam_is_list, seed_is_list, init_is_list)
    coords = dict(zip(_SWEEP_DIMS, (lams, seeds, init_sds)))
    result = _to_xarray(out, shape, flags, coords, static)
    if check_finite:
        start_objective = _start_objective(out, lam_grid, dataset, static)
        _raise_if_diverged(result, start_objective, shape, lams, lr, static, dataset, steps_per_epoch)
    config = dict(lr=lr, epochs=epochs, batch_size=batch_size, init=init, optimizer=optimizer, decay=decay,
                  penalty=penalty, l1_method=l1_method, decay_bias=bool(decay_bias), momentum=float(momentum),
                  shuffle=bool(shuffle))
    w0_out = out["w0"].reshape(shape[1:] + out["w0"].shape[1:])
    b0_out = out["b0"].reshape(shape[1:] + out["b0"].shape[1:])
    squeeze = tuple(i for i, flag in enumerate(flags[1:]) if not flag)
    return TrainRun(result, np.squeeze(w0_out, axis=squeeze), np.squeeze(b0_out, axis=squeeze),
                    epochs * steps_per_epoch, device, config)


@dataclass(frozen=True)
class _Static:
    """Everything that changes the compiled program's shape or code."""

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


# Models per vmapped batch (see program); a tuning knob, not a semantic one.
MODELS_PER_BATCH = 64

# Counts traces of the training program, so tests can prove a sweep compiles once.
TRACE_COUNT = {"program": 0}


def _run_in_parts(program, lam_grid, pair_seeds, pair_init_sds, lr, start, data) -> dict:
    """Run the sweep, in equal parts on parallel threads when the CPU has cores to spare.

    XLA runs one program's loops on a single core, so a large sweep is cut along its longer
    axis (λ, or the (seed, init_sd) pairs) into one part per core; the last part is padded
    with copies of the final entry so every part has one shape and the program compiles once.
    """
    n_lam, n_pairs = lam_grid.shape
    along_lam = n_lam >= n_pairs
    size = n_lam if along_lam else n_pairs
    workers = 1 if jax.default_backend() != "cpu" else min(os.cpu_count() or 1, size // MODELS_PER_BATCH)
    if workers <= 1:
        return _interruptible([lambda: _to_numpy(program(lam_grid, pair_seeds, pair_init_sds, lr, start, *data))])[0]

    part = -(-size // workers)
    picks = np.minimum(np.arange(part * workers), size - 1).reshape(workers, part)

    def run_part(pick):
        if along_lam:
            inputs = (lam_grid[pick], pair_seeds, pair_init_sds)
        else:
            inputs = (lam_grid[:, pick], pair_seeds[pick], pair_init_sds[pick])
        return lambda: _to_numpy(program(*inputs, lr, start, *data))

    parts = _interruptible([run_part(pick) for pick in picks])
    axis = 0 if along_lam else 1  # runs are (lam, pair, ...); starts are (pair, ...)

    def join(*pieces, axis):
        return np.take(np.concatenate(pieces, axis=axis), np.arange(size), axis=axis)

    runs = [{k: p[k] for k in ("w", "b", "history")} for p in parts]
    out = jax.tree_util.tree_map(lambda *pieces: join(*pieces, axis=axis), *runs)
    for k in ("w0", "b0"):
        out[k] = parts[0][k] if along_lam else join(*(p[k] for p in parts), axis=0)
    return out


def _to_numpy(tree):
    return jax.tree_util.tree_map(np.asarray, tree)


def _interruptible(calls: list) -> list:
    """Run each call on its own daemon thread and wait in short slices, so that Ctrl-C reaches the
    caller within a fraction of a second even while XLA runs a long compiled loop (a compiled call
    cannot be interrupted; it finishes in the background and its result is dropped)."""
    results, errors = [None] * len(calls), [None] * len(calls)

    def target(i):
        try:
            results[i] = calls[i]()
        except BaseException as err:  # handed to the caller below
            errors[i] = err

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.1)
    for err in errors:
        if err is not None:
            raise err
    return results


def _check_decay_step(lams, lr, penalty, optimizer, decay) -> None:
    """Refuse an L2 step that multiplies the weights by (1 − ηλ) with ηλ ≥ 2: it diverges from any start."""
    if penalty != "l2" or (optimizer == "adam" and decay == "coupled"):
        return  # L1's push is bounded, and Adam normalizes a coupled penalty's gradient
    worst = lr * max(lams)
    if worst >= 2:
        raise ValueError(f"lr·λ = {lr:g}·{max(lams):g} = {worst:g} ≥ 2: each step multiplies the weights by "
                         f"(1 − lr·λ) = {1 - worst:g}, which diverges; keep λ below {2 / lr:g} at lr={lr:g} "
                         "(or lower lr)")


def _check_memory(models: int, pairs: int, epochs: int, n: int, weights: int) -> None:
    """Refuse a sweep whose arrays alone would pass MAX_SWEEP_BYTES."""
    history = models * epochs * len(_HISTORY) * 8
    orders = pairs * epochs * n * 8
    params = models * (weights + 1) * 8 * 3
    need = history + orders + params
    if need > MAX_SWEEP_BYTES:
        raise BudgetError(f"this sweep would hold {need / 2**30:.1f} GiB ({models:,} models × {epochs:,} epochs of "
                          f"history), past the budget of {MAX_SWEEP_BYTES / 2**30:.0f} GiB; use fewer epochs, "
                          "λ values, seeds or init sds")


def _start_params(static: _Static, w0, b0):
    w_shape = (static.p,) if static.k is None else (static.p, static.k)
    b_shape = () if static.k is None else (static.k,)
    w0 = np.zeros(w_shape) if w0 is None else np.broadcast_to(np.asarray(w0, dtype=np.float64), w_shape)
    b0 = np.zeros(b_shape) if b0 is None else np.broadcast_to(np.asarray(b0, dtype=np.float64), b_shape)
    return {"w": np.array(w0, dtype=np.float64), "b": np.array(b0, dtype=np.float64)}


def _optimizer(static: _Static, lam, lr):
    base = {"sgd": optax.identity(), "momentum": optax.trace(decay=static.momentum),
            "adam": optax.scale_by_adam()}[static.optimizer]
    parts = [base]
    if static.decay == "decoupled":
        mask = {"w": True, "b": static.decay_bias}
        parts.append(optax.masked(optax.add_decayed_weights(lam), mask))
    parts.append(optax.scale(-lr))
    return optax.chain(*parts)


@lru_cache(maxsize=64)
def _compiled(static: _Static):
    build = compile_objective if static.objective == "pymc" else reference_objective
    objective = build(static.p, static.k, static.prior, static.decay_bias)
    n, bs = static.n, static.batch_size
    full, rest = divmod(n, bs)

    def run_one(lam, orders, params, lr, X, y, X_val, y_val):
        # Coupled decay lives in the objective; decoupled decay lives in the optimizer.
        lam_in_objective = jnp.where(static.decay == "coupled" and not static.proximal, lam, 0.0)
        opt = _optimizer(static, lam, lr)
        opt_state = opt.init(params)

        def step(carry, idx):
            params, opt_state = carry
            grads = objective.grad(params, X[idx], y[idx], lam_in_objective, float(n))
            updates, opt_state = opt.update(grads, opt_state, params)
            params = optax.apply_updates(params, updates)
            if static.proximal:  # soft-threshold: the proximal map of lr·λ‖w‖₁
                params = {**params, "w": _soft_threshold(params["w"], lr * lam)}
                if static.decay_bias:
                    params = {**params, "b": _soft_threshold(params["b"], lr * lam)}
            return (params, opt_state), None

        def epoch(carry, order):
            carry, _ = jax.lax.scan(step, carry, order[: full * bs].reshape(full, bs))
            if rest:
                carry, _ = step(carry, order[full * bs:])
            params = carry[0]
            return carry, _metrics(params, lam, X, y, X_val, y_val, static)

        (params, _), history = jax.lax.scan(epoch, (params, opt_state), orders)
        return {"w": params["w"], "b": params["b"], "history": history}

    def per_seed(lams, seed, init_sd, lam_chunk, lr, start, X, y, X_val, y_val):
        key = jax.random.PRNGKey(seed)
        initial = _initial(static, key, init_sd, start)
        # The start and the minibatch orders do not depend on λ: drawn once per seed, outside
        # the λ loop (shuffling inside it cost a quarter of a d2l sweep).
        if static.shuffle and bs < n:
            keys = jax.random.split(jax.random.fold_in(key, 1), static.epochs)
            orders = jax.vmap(lambda k: jax.random.permutation(k, n))(keys)
        else:
            orders = jnp.broadcast_to(jnp.arange(n), (static.epochs, n))

        def one(lam):
            return run_one(lam, orders, initial, lr, X, y, X_val, y_val)

        out = jax.lax.map(one, lams, batch_size=lam_chunk)
        return {**out, "w0": initial["w"], "b0": initial["b"]}

    def program(lam_grid, seeds, init_sds, lr, start, X, y, X_val, y_val):
        TRACE_COUNT["program"] += 1
        n_lam, n_pairs = lam_grid.shape
        # Models run in vmapped batches of about MODELS_PER_BATCH, small enough that a batch's
        # parameters stay in cache for all its steps. λ values fill a batch first: they share a
        # seed's minibatches, so each step is one matrix product; different seeds do not.
        lam_chunk = min(n_lam, MODELS_PER_BATCH)
        pair_chunk = max(1, min(n_pairs, MODELS_PER_BATCH // lam_chunk))

        def pair(inputs):
            lams, seed, init_sd = inputs
            return per_seed(lams, seed, init_sd, lam_chunk, lr, start, X, y, X_val, y_val)

        out = jax.lax.map(pair, (lam_grid.T, seeds, init_sds), batch_size=pair_chunk)
        # Put λ first: (lam, seed·init_sd, ...) for the runs, (seed·init_sd, ...) for the starts.
        runs = {k: jnp.swapaxes(out[k], 0, 1) for k in ("w", "b")}
        runs["history"] = jax.tree_util.tree_map(lambda a: jnp.swapaxes(a, 0, 1), out["history"])
        return {**runs, "w0": out["w0"], "b0": out["b0"]}

    return jax.jit(program)


def _initial(static: _Static, key, init_sd, start):
    if static.fixed_start:
        return start
    key_w, key_b = jax.random.split(key)
    w_shape, b_shape = start["w"].shape, start["b"].shape
    if static.init == "torch":
        bound = 1.0 / np.sqrt(static.p)
        return {"w": jax.random.uniform(key_w, w_shape, minval=-bound, maxval=bound),
                "b": jax.random.uniform(key_b, b_shape, minval=-bound, maxval=bound)}
    return {"w": init_sd * jax.random.normal(key_w, w_shape), "b": jnp.zeros(b_shape)}


def _soft_threshold(x, t):
    return jnp.sign(x) * jnp.maximum(jnp.abs(x) - t, 0.0)


def _metrics(params, lam, X, y, X_val, y_val, static: _Static):
    def loss(Xs, ys):
        r = Xs @ params["w"] + params["b"] - ys
        return jnp.sum(r**2) / (2 * Xs.shape[0])

    w_sq = jnp.sum(params["w"] ** 2)
    if static.prior == "laplace":
        pen = lam * (jnp.sum(jnp.abs(params["w"])) + (jnp.sum(jnp.abs(params["b"])) if static.decay_bias else 0.0))
    else:
        pen = lam / 2 * (w_sq + (jnp.sum(params["b"] ** 2) if static.decay_bias else 0.0))
    train_loss, val_loss = loss(X, y), loss(X_val, y_val)
    return {"train_loss": train_loss, "train_objective": train_loss + pen, "val_loss": val_loss,
            "val_objective": val_loss + pen, "w_norm": jnp.sqrt(w_sq), "l2_penalty": w_sq / 2}


def _to_xarray(out, shape, flags, coords, static: _Static) -> xr.Dataset:
    n_lam, n_seed, n_init = shape
    w_dims = ("feature",) if static.k is None else ("feature", "target")
    b_dims = () if static.k is None else ("target",)

    def reshape(a, trailing_dims):
        a = a.reshape((n_lam, n_seed, n_init) + a.shape[2:])
        dims = _SWEEP_DIMS + trailing_dims
        keep = tuple(i for i, flag in enumerate(flags) if not flag)
        return np.squeeze(a, axis=keep), tuple(d for i, d in enumerate(dims) if i >= 3 or flags[i])

    data_vars = {}
    for name, trailing in (("w", w_dims), ("b", b_dims)):
        values, dims = reshape(out[name], trailing)
        data_vars[name] = (dims, values)
    for name in _HISTORY:
        values, dims = reshape(out["history"][name], ("epoch",))
        data_vars[name] = (dims, values)
    used = {d: coords[d] for d, flag in zip(_SWEEP_DIMS, flags) if flag}
    used["epoch"] = np.arange(1, static.epochs + 1)
    return xr.Dataset(data_vars, coords=used)


def _start_objective(out, lam_grid, dataset: Dataset, static: _Static) -> np.ndarray:
    """J at each model's start, shaped (lam, pair) like the runs."""
    X, y = dataset.X_train, dataset.y_train
    w0, b0 = out["w0"], out["b0"]                           # (pair, p[, k]), (pair[, k])
    r = (np.tensordot(w0, X, axes=([1], [1])) if static.k is None
         else np.einsum("np,qpk->qnk", X, w0)) + (b0[:, None] if static.k is None else b0[:, None, :])
    r = r - (y[None, :] if static.k is None else y[None, :, :])
    loss = (r**2).reshape(len(w0), -1).sum(axis=1) / (2 * len(y))
    if static.prior == "laplace":
        size = np.abs(w0).reshape(len(w0), -1).sum(axis=1)
    else:
        size = (w0**2).reshape(len(w0), -1).sum(axis=1) / 2
    return loss[None, :] + lam_grid * size[None, :]


def _raise_if_diverged(result: xr.Dataset, start_objective, shape, lams, lr, static: _Static, dataset: Dataset,
                       steps_per_epoch: int) -> None:
    """Raise TrainingDiverged if any run's objective overflowed or grew past DIVERGENCE_FACTOR × its start."""
    objective = result["train_objective"].transpose(*[d for d in _SWEEP_DIMS if d in result.dims], "epoch").values
    objective = objective.reshape(shape[0], shape[1] * shape[2], -1)     # (lam, pair, epoch)
    start = start_objective[:, :, None]
    # The floor keeps a start at (nearly) zero loss from flagging ordinary noise.
    floor = float(np.sum((dataset.y_train - dataset.y_train.mean(axis=0)) ** 2) / (2 * len(dataset.y_train)))
    bad = ~np.isfinite(objective) | (objective > DIVERGENCE_FACTOR * np.maximum(start, floor + 1e-300))
    if not bad.any():
        return
    where = np.argwhere(bad)                                   # (lam, pair, epoch) of every bad entry
    lam_i, pair_i, epoch_i = (int(i) for i in where[np.argmin(where[:, 2])])
    lam = float(lams[lam_i])
    value = objective[lam_i, pair_i, epoch_i]
    grew = "overflowed to " + str(value) if not np.isfinite(value) else (
        f"grew from {start[lam_i, pair_i, 0]:.3g} to {value:.3g}")
    raise TrainingDiverged(
        f"training diverged by epoch {epoch_i + 1} (step {(epoch_i + 1) * steps_per_epoch}): the objective {grew} "
        f"with lr={lr:g}, λ={lam:g}, optimizer={static.optimizer}. {_bounds_text(dataset, lam, static)}")


def _bounds_text(dataset: Dataset, lam: float, static: _Static) -> str:
    if static.optimizer == "adam":
        return "Adam has no simple step bound: lower lr."
    lam_l2 = lam if static.prior == "gaussian" else 0.0
    scale = 1 + static.momentum if static.optimizer == "momentum" else 1.0   # heavy ball: η(s + λ) < 2(1 + β)
    full = scale * stability_bound(dataset.X_train, lam_l2)
    rows = np.column_stack([dataset.X_train, np.ones(len(dataset.X_train))])
    any_batch = scale * 2 / (float((rows**2).sum(axis=1).max()) + lam_l2)
    return (f"Stable steps: lr < {full:.4g} for full batches (2{'(1 + β)' if scale != 1 else ''}/(s_max + λ)), "
            f"and any minibatch is stable below lr = {any_batch:.4g} (a sufficient condition); lower lr.")
