"""Many training runs as one compiled program: vmapping, chunking, threads, Dask blocks, xarray.

A sweep is every λ against every (seed, init_sd) pair, seed-major. One jit-compiled
:class:`Program` per shape trains a block of them — λ values fill vmapped batches of
:data:`MODELS_PER_BATCH` first, since they share a seed's start and minibatches — each model
through :func:`bayeswd.step.fit`. Locally the block is cut into one part per core (XLA runs a
program's loops on one core); given a ``dask.distributed.Client`` the sweep is cut into
blocks of equal shape (so each worker compiles once per shape) that run as tasks, and with
``store`` each block writes its slice of a Zarr store instead of coming back to the caller.
"""

from __future__ import annotations

import os
import uuid
import shutil
import threading
from dataclasses import dataclass
from functools import lru_cache

from bayeswd import _jax_setup  # noqa: F401  (float64 before this module makes a JAX array)
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from bayeswd import rowspace
from bayeswd.step import METRICS, Spec, fit, gradient_descent, metrics, objective_for, penalty

__all__ = ["Program", "program_for", "SweepInputs", "run", "MODELS_PER_BATCH", "BLOCK_MODELS",
           "enable_compilation_cache"]

SWEEP_DIMS = ("lam", "seed", "init_sd")
# Models per vmapped batch: small enough that a batch's parameters stay in cache for all its
# steps. A tuning knob, not a semantic one.
MODELS_PER_BATCH = 64
# Models per Dask task (a multiple of MODELS_PER_BATCH): large enough to hide a task's overhead.
BLOCK_MODELS = 64 * MODELS_PER_BATCH
# Model-epochs per start from which the fast path evaluates the validation loss through a QR factor.
COMPACT_VALIDATION_AFTER = 64


@dataclass(frozen=True, eq=False)
class SweepInputs:
    """What every block shares: the spec, the data, the start and the row-space basis (None: full path)."""

    spec: Spec
    lr: float
    start: dict
    data: tuple            # X, y, X_val, y_val (the full design; reduced inside the program)
    basis: np.ndarray | None
    init_sds: np.ndarray
    check_finite: bool


class Program:
    """The jit-compiled sweep for one :class:`Spec`; ``traces`` counts how often JAX traced it
    (once per new input shape), so a test can prove that a sweep compiled once."""

    def __init__(self, spec: Spec, fast: bool):
        self.spec, self.fast, self.traces = spec, fast, 0
        # Compiled here, not while tracing: PyTensor's JAX constants made inside a trace would be
        # tracers, and the cached objective would leak them into the next trace.
        self.objective = objective_for(spec)
        self._lock = threading.Lock()
        self._jitted = jax.jit(self._trace)

    def __call__(self, lam_grid, seeds, init_sds, lr, start, data, basis):
        return self._jitted(lam_grid, seeds, init_sds, lr, start, data, basis)

    def _trace(self, lam_grid, seeds, init_sds, lr, start, data, basis):
        with self._lock:
            self.traces += 1
        return _sweep_program(self.spec, self.fast, self.objective, lam_grid, seeds, init_sds, lr, start, data, basis)


@lru_cache(maxsize=64)
def program_for(spec: Spec, fast: bool) -> Program:
    return Program(spec, fast)


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


def _row_orders(spec: Spec, key):
    # The start and the minibatch orders do not depend on λ: drawn once per seed, outside the
    # λ loop (shuffling inside it cost a quarter of a d2l sweep).
    if spec.shuffle and spec.batch_size < spec.n:
        keys = jax.random.split(jax.random.fold_in(key, 1), spec.epochs)
        return jax.vmap(lambda k: jax.random.permutation(k, spec.n))(keys)
    return jnp.broadcast_to(jnp.arange(spec.n), (spec.epochs, spec.n))


def _sweep_program(spec, fast, objective, lam_grid, seeds, init_sds, lr, start, data, basis):
    X, y, X_val, y_val = data
    trainer = gradient_descent(spec, lr, objective)
    n_lam, n_pairs = lam_grid.shape
    lam_chunk = min(n_lam, MODELS_PER_BATCH)
    pair_chunk = max(1, min(n_pairs, MODELS_PER_BATCH // lam_chunk))
    # One output and many λ per start: the per-start QR of the validation design pays for itself.
    compact_val = fast and spec.k is None and n_lam * spec.epochs >= COMPACT_VALIDATION_AFTER
    if fast:
        # The reduced design [X R, 0]: the null column is exactly zero since X u = 0.
        X_fit = jnp.concatenate([X @ basis, jnp.zeros((X.shape[0], 1))], axis=1)
        val_rows = X_val @ basis

    def pair(inputs):
        lams, seed, init_sd = inputs
        key = jax.random.PRNGKey(seed)
        w0b0 = initial_params(spec, key, init_sd, start)
        orders = _row_orders(spec, key)
        if fast:
            u, a0 = rowspace.reduce_start(basis, w0b0["w"])
            val_null = X_val @ u
            params0, fit_X = {"w": a0, "b": w0b0["b"]}, X_fit
            if compact_val:
                # ‖[X_val R, X_val u, 1, y_val]·z‖ = ‖T z‖ with T the QR factor: (r + 3)² flops per
                # epoch instead of m·(r + 1), as stable as the residual itself (Q is orthogonal).
                design = jnp.concatenate([val_rows, val_null[:, None], jnp.ones((len(y_val), 1)), y_val[:, None]], 1)
                T = jnp.linalg.qr(design, mode="r")

            def evaluate(params, lam):
                a, b = params["w"], params["b"]
                if compact_val:
                    val_residual = T @ jnp.concatenate([a, b[None], -jnp.ones(1)])
                else:
                    val_residual = val_rows @ a[:-1] + val_null * a[-1] + b - y_val
                return metrics(X_fit @ a + b - y, val_residual, jnp.sum(a**2), penalty(spec, params, lam),
                               val_rows=len(y_val))

            def full_w(a):
                return rowspace.expand(basis, u, a)
        else:
            params0, fit_X = w0b0, X

            def evaluate(params, lam):
                w, b = params["w"], params["b"]
                return metrics(X @ w + b - y, X_val @ w + b - y_val, jnp.sum(w**2), penalty(spec, params, lam))

            def full_w(w):
                return w

        def one(lam):
            params, history = fit(trainer, spec, params0, lam, orders, fit_X, y, evaluate)
            return {"w": full_w(params["w"]), "b": params["b"], "history": history}

        out = jax.lax.map(one, lams, batch_size=lam_chunk)
        return {**out, "w0": w0b0["w"], "b0": w0b0["b"]}

    out = jax.lax.map(pair, (lam_grid.T, seeds, init_sds), batch_size=pair_chunk)
    # Put λ first: (lam, pair, ...) for the runs, (pair, ...) for the starts.
    runs = jax.tree_util.tree_map(lambda a: jnp.swapaxes(a, 0, 1), {k: out[k] for k in ("w", "b", "history")})
    return {**runs, "w0": out["w0"], "b0": out["b0"]}


# ----------------------------------------------------------------------------------------------
# Running a block of the sweep on this process's cores


def default_workers() -> int:
    """Threads for a local sweep: one per core on the CPU, one on an accelerator."""
    return 1 if jax.default_backend() != "cpu" else (os.cpu_count() or 1)


def run_block(inputs: SweepInputs, lams: np.ndarray, seeds: np.ndarray, workers: int) -> tuple[dict, int]:
    """Train every λ in ``lams`` against every (seed, init_sd) pair of ``seeds`` × ``inputs.init_sds``.

    Returns the arrays — runs (lam, pair, ...), starts (pair, ...) — and how many traces it caused.
    On the CPU the block is cut along its longer axis into ``workers`` equal parts on parallel
    threads; the last part is padded with copies of the final entry, so all share one shape.
    """
    pair_seeds = np.repeat(np.asarray(seeds, dtype=np.int64), len(inputs.init_sds))
    pair_init_sds = np.tile(np.asarray(inputs.init_sds, dtype=np.float64), len(seeds))
    lam_grid = np.repeat(np.asarray(lams, dtype=np.float64)[:, None], len(pair_seeds), axis=1)
    program = program_for(inputs.spec, inputs.basis is not None)
    before = program.traces
    shared = (inputs.lr, inputs.start, inputs.data, inputs.basis)

    n_lam, n_pairs = lam_grid.shape
    along_lam = n_lam >= n_pairs
    size = n_lam if along_lam else n_pairs
    workers = max(1, min(workers, size // MODELS_PER_BATCH))
    if workers == 1:
        out = _interruptible([lambda: _to_numpy(program(lam_grid, pair_seeds, pair_init_sds, *shared))])[0]
        return out, program.traces - before

    part = -(-size // workers)
    picks = np.minimum(np.arange(part * workers), size - 1).reshape(workers, part)

    def run_part(pick):
        if along_lam:
            args = (lam_grid[pick], pair_seeds, pair_init_sds)
        else:
            args = (lam_grid[:, pick], pair_seeds[pick], pair_init_sds[pick])
        return lambda: _to_numpy(program(*args, *shared))

    parts = _interruptible([run_part(pick) for pick in picks])
    axis = 0 if along_lam else 1

    def join(*pieces, axis):   # the padding is at the end: a slice drops it without a copy
        return np.concatenate(pieces, axis=axis)[(slice(None),) * axis + (slice(0, size),)]

    runs = [{k: p[k] for k in ("w", "b", "history")} for p in parts]
    out = jax.tree_util.tree_map(lambda *pieces: join(*pieces, axis=axis), *runs)
    for k in ("w0", "b0"):
        out[k] = parts[0][k] if along_lam else join(*(p[k] for p in parts), axis=0)
    return out, program.traces - before


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


# ----------------------------------------------------------------------------------------------
# Divergence: found per block, so a sweep larger than memory is checked where it runs


def start_objective(out: dict, lams: np.ndarray, inputs: SweepInputs) -> np.ndarray:
    """J at each model's start, shaped (lam, pair) like the runs."""
    X, y = inputs.data[0], inputs.data[1]
    w0, b0 = out["w0"], out["b0"]                           # (pair, p[, k]), (pair[, k])
    multi = w0.ndim == 3
    r = (np.einsum("np,qpk->qnk", X, w0) if multi else np.tensordot(w0, X, axes=([1], [1])))
    r = r + (b0[:, None, :] if multi else b0[:, None]) - y[None]
    loss = (r**2).reshape(len(w0), -1).sum(axis=1) / (2 * len(y))
    if inputs.spec.prior == "laplace":
        size = np.abs(w0).reshape(len(w0), -1).sum(axis=1)
    else:
        size = (w0**2).reshape(len(w0), -1).sum(axis=1) / 2
    return loss[None, :] + np.asarray(lams)[:, None] * size[None, :]


def first_divergence(out: dict, lams: np.ndarray, inputs: SweepInputs, factor: float):
    """The earliest (λ, epoch index, value, start value) at which a run's training objective
    overflowed or grew past ``factor`` × its start, or None."""
    objective = out["history"]["train_objective"]                       # (lam, pair, epoch)
    start = start_objective(out, lams, inputs)[:, :, None]
    y = inputs.data[1]
    # The floor keeps a start at (nearly) zero loss from flagging ordinary noise.
    floor = float(np.sum((y - y.mean(axis=0)) ** 2) / (2 * len(y)))
    bad = ~np.isfinite(objective) | (objective > factor * np.maximum(start, floor + 1e-300))
    if not bad.any():
        return None
    where = np.argwhere(bad)
    lam_i, pair_i, epoch_i = (int(i) for i in where[np.argmin(where[:, 2])])
    return float(lams[lam_i]), epoch_i, float(objective[lam_i, pair_i, epoch_i]), float(start[lam_i, pair_i, 0])


# ----------------------------------------------------------------------------------------------
# Blocks: the unit of work handed to Dask, or written to a Zarr store


def _block_plan(n_lam: int, n_seed: int, n_init: int, target: int = BLOCK_MODELS) -> tuple[str, int]:
    """Cut along λ or along seeds (whichever is longer), ``length`` entries per block, so that a
    block holds a multiple of MODELS_PER_BATCH models near ``target``; every block has one shape."""
    target = max(target, MODELS_PER_BATCH)
    if n_lam >= n_seed:
        other = n_seed * n_init
        length = max(MODELS_PER_BATCH, target // max(other, 1) // MODELS_PER_BATCH * MODELS_PER_BATCH)
        return "lam", min(length, n_lam)
    other = n_lam * n_init
    step = MODELS_PER_BATCH // int(np.gcd(MODELS_PER_BATCH, other))   # seeds per multiple of 64 models
    length = max(step, target // max(other, 1) // step * step)
    return "seed", min(length, n_seed)


def block_target(models: int, slots: int) -> int:
    """Models per block: at most BLOCK_MODELS, and few enough that every one of ``slots`` workers gets one."""
    return min(BLOCK_MODELS, -(-models // max(slots, 1)))


def _blocks(size: int, length: int) -> list[np.ndarray]:
    """Index arrays of ``length`` entries covering range(size); the last repeats the final entry."""
    starts = range(0, size, length)
    return [np.minimum(np.arange(s, s + length), size - 1) for s in starts]


def _block_task(inputs: SweepInputs, lams, seeds, workers: int, store: str | None, region: tuple | None,
                factor: float, cache_dir: str | None = None):
    """Run one block (on a Dask worker or here). With a store, write its region and return only
    the divergence summary; else return the arrays. ``cache_dir``: the submitting process's persistent
    compilation cache, which a Dask worker joins (None: leave the worker's JAX settings alone)."""
    if cache_dir:
        enable_compilation_cache(cache_dir)
    out, traces = run_block(inputs, lams, seeds, workers)
    diverged = first_divergence(out, lams, inputs, factor) if inputs.check_finite else None
    if store is None:
        return out, traces, diverged
    _write_region(store, out, region, len(lams), len(seeds), len(inputs.init_sds))
    return None, traces, diverged


def _write_region(store: str, out: dict, region: tuple, n_lam: int, n_seed: int, n_init: int) -> None:
    import zarr

    axis, lo, hi = region              # the block's rows [lo, hi) of the cut axis; padding dropped
    keep = hi - lo
    group = zarr.open_group(store, mode="r+")
    for name, values in [("w", out["w"]), ("b", out["b"])] + [(m, out["history"][m]) for m in METRICS]:
        values = values.reshape((n_lam, n_seed, n_init) + values.shape[2:])
        if axis == "lam":
            group[name][lo:hi] = values[:keep]
        else:
            group[name][:, lo:hi] = values[:, :keep]
    for name in ("w0", "b0"):
        values = out[name].reshape((n_seed, n_init) + out[name].shape[1:])
        if axis == "seed":
            group[name][lo:hi] = values[:keep]
        elif lo == 0:                  # cut along λ: every block has the same starts; the first writes them
            group[name][...] = values


def run(inputs: SweepInputs, lams, seeds, *, workers: int | None = None, client=None, store: str | None = None,
        factor: float = np.inf):
    """Run the whole sweep; returns (arrays or None, traces, first divergence or None).

    Without ``client`` and ``store`` the sweep is one block on this process's threads. With a
    ``client``, blocks are Dask tasks; with a ``store``, each block writes its region of the Zarr
    store at that path (see :func:`zarr_template`) and nothing is gathered here.
    """
    lams, seeds = np.asarray(lams, dtype=np.float64), np.asarray(seeds, dtype=np.int64)
    if client is None and store is None:      # one block, here
        return _block_task(inputs, lams, seeds, default_workers() if workers is None else workers, None, None,
                           factor)

    models = len(lams) * len(seeds) * len(inputs.init_sds)
    slots = 1 if client is None else sum(client.nthreads().values())
    axis, length = _block_plan(len(lams), len(seeds), len(inputs.init_sds), block_target(models, slots))
    size = len(lams) if axis == "lam" else len(seeds)
    if store is not None:
        zarr_template(store, lams, seeds, inputs.init_sds, inputs.start["w"].shape, inputs.spec.epochs,
                      {axis: length})
    try:
        results, tasks = _run_blocks(inputs, lams, seeds, axis, length, size, workers, client, store, factor)
    except BaseException:
        if store is not None:      # created above by this call: leave nothing half-written
            shutil.rmtree(store, ignore_errors=True)
        raise
    traces = sum(r[1] for r in results)
    found = [r[2] for r in results if r[2] is not None]
    diverged = min(found, key=lambda d: d[1]) if found else None
    if store is not None:
        return None, traces, diverged
    return _join_blocks([r[0] for r in results], [t[2] for t in tasks], len(inputs.init_sds)), traces, diverged


def _run_blocks(inputs, lams, seeds, axis, length, size, workers, client, store, factor):
    tasks = []
    for pick in _blocks(size, length):
        lo, hi = int(pick[0]), int(pick[-1]) + 1
        block_lams, block_seeds = (lams[pick], seeds) if axis == "lam" else (lams, seeds[pick])
        tasks.append((block_lams, block_seeds, (axis, lo, hi)))
    if client is None:
        threads = default_workers() if workers is None else workers
        return [_block_task(inputs, bl, bs, threads, store, region, factor) for bl, bs, region in tasks], tasks
    # Inside a Dask worker the threads of its own pool are the parallelism: one per task by default.
    threads = 1 if workers is None else workers
    shared = client.scatter(inputs, broadcast=True)
    cache_dir = jax.config.jax_compilation_cache_dir or None    # workers share this process's cache, if any
    token = uuid.uuid4().hex[:8]        # named tasks: the dashboard shows "bayeswd-train-block", not a hash
    futures = [client.submit(_block_task, shared, bl, bs, threads, store, region, factor, cache_dir,
                             key=f"bayeswd-train-block-{token}-{i}", pure=False)
               for i, (bl, bs, region) in enumerate(tasks)]
    return client.gather(futures), tasks


def _join_blocks(outs: list[dict], regions: list[tuple], n_init: int) -> dict:
    """Concatenate the blocks' arrays along the cut axis, dropping the last block's padding."""
    runs, w0, b0 = [], [], []
    for out, (axis, lo, hi) in zip(outs, regions):
        keep = hi - lo
        if axis == "lam":
            runs.append(jax.tree_util.tree_map(lambda a: a[:keep], {k: out[k] for k in ("w", "b", "history")}))
            w0, b0 = [out["w0"]], [out["b0"]]        # every λ block has the same starts
        else:                                         # a block's pairs are its seeds × every init sd
            pairs = keep * n_init
            runs.append(jax.tree_util.tree_map(lambda a: a[:, :pairs], {k: out[k] for k in ("w", "b", "history")}))
            w0.append(out["w0"][:pairs])
            b0.append(out["b0"][:pairs])
    axis = 0 if regions[0][0] == "lam" else 1
    joined = jax.tree_util.tree_map(lambda *pieces: np.concatenate(pieces, axis=axis), *runs)
    return {**joined, "w0": np.concatenate(w0), "b0": np.concatenate(b0)}


def zarr_template(store: str, lams, seeds, init_sds, weights_shape: tuple, epochs: int, axis_chunks: dict) -> None:
    """Create the store: every variable of the result, full size, chunked like the blocks, no data yet."""
    import dask.array as da

    n = (len(lams), len(seeds), len(init_sds))
    chunks = tuple(axis_chunks.get(d, s) for d, s in zip(SWEEP_DIMS, n))
    w_dims = ("feature",) + (("target",) if len(weights_shape) == 2 else ())
    b_dims = w_dims[1:]

    def zeros(trailing_shape, lead=n, lead_chunks=chunks):
        return da.zeros(lead + trailing_shape, chunks=lead_chunks + trailing_shape)

    data_vars = {"w": (SWEEP_DIMS + w_dims, zeros(weights_shape)),
                 "b": (SWEEP_DIMS + b_dims, zeros(weights_shape[1:])),
                 "w0": (SWEEP_DIMS[1:] + w_dims, zeros(weights_shape, n[1:], chunks[1:])),
                 "b0": (SWEEP_DIMS[1:] + b_dims, zeros(weights_shape[1:], n[1:], chunks[1:]))}
    for m in METRICS:
        data_vars[m] = (SWEEP_DIMS + ("epoch",), zeros((epochs,)))
    coords = dict(zip(SWEEP_DIMS, (np.asarray(lams), np.asarray(seeds), np.asarray(init_sds))))
    coords["epoch"] = np.arange(1, epochs + 1)
    # Trained float64 weights barely compress: store them raw, which writes several times faster.
    encoding = {name: {"compressors": None} for name in data_vars}
    xr.Dataset(data_vars, coords=coords).to_zarr(store, mode="w-", compute=False, consolidated=False,
                                                 encoding=encoding)


def annotate_store(store: str, config: dict, features: list, device: str) -> None:
    """Record in the store's attributes what made it: the training configuration, the feature names
    and the device, so a store opened later (``xr.open_zarr``) says how it was computed."""
    import json

    import zarr

    from bayeswd import __version__

    group = zarr.open_group(store, mode="r+")
    group.attrs.update({"bayeswd_version": __version__, "device": device,
                        "config": json.dumps(config), "features": json.dumps([str(f) for f in features])})


# ----------------------------------------------------------------------------------------------
# A persistent compilation cache, shared by every process of this user (Dask workers included)

_CACHE_LOCK = threading.Lock()


def enable_compilation_cache(where: str | None = None) -> str | None:
    """Point JAX's persistent compilation cache at ``where`` or bayeswd's cache folder (once per process).

    An opt-in: the ``bayeswd`` command calls it, a library call never does (``train`` leaves JAX's global
    settings as it found them). ``BAYESWD_COMPILE_CACHE`` names another folder (a shared file system for
    a cluster), or ``off`` to leave JAX's setting alone. Returns the folder in use, or None.
    """
    with _CACHE_LOCK:
        current = jax.config.jax_compilation_cache_dir
        if current:
            return current
        where = where or os.environ.get("BAYESWD_COMPILE_CACHE", "")
        if where.lower() == "off":
            return None
        if not where:
            import platformdirs

            where = os.path.join(platformdirs.user_cache_dir("bayeswd"), "jax")
        jax.config.update("jax_compilation_cache_dir", where)
        # Our programs compile in 0.3–3 s: cache them all (JAX's default skips those under 1 s).
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        return where
