"""Where a sweep runs: this process's threads, or Dask workers, with an optional Zarr store.

An executor holds the execution settings — ``workers`` (threads), ``client`` (a
``dask.distributed.Client``), ``store`` (a new Zarr store's path) — so that the configuration and the
program never see them. :class:`Local` runs the sweep as one block cut into one part per core (XLA runs
a program's loops on one core); :class:`Dask` cuts it into blocks of equal shape (so each worker
compiles once per shape) that run as tasks. With a ``store`` each block writes its slice of the store
instead of coming back to the caller. Each block is checked for divergence where it runs.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import uuid

from bayeswd import _jax_setup  # noqa: F401  (float64 before this module makes a JAX array)
import jax
import numpy as np
import xarray as xr

from bayeswd._jax_setup import enable_compilation_cache, program_store_folder
from bayeswd.objective import half_mse, penalty
from bayeswd.training.coordinates import METRICS
from bayeswd.training.program import MODELS_PER_BATCH, SweepInputs, program_for

__all__ = ["Local", "Dask", "executor_for", "run_block", "BLOCK_MODELS", "SWEEP_DIMS", "annotate_store"]

SWEEP_DIMS = ("lam", "seed", "init_sd")
# Models per Dask task (a multiple of MODELS_PER_BATCH): large enough to hide a task's overhead.
BLOCK_MODELS = 64 * MODELS_PER_BATCH


class Local:
    """This process: ``workers`` threads (default one per core on the CPU, one on an accelerator).

    With ``store`` (a new ``.zarr`` path) the sweep runs block by block, each writing its region, so
    only one block is in memory at a time.

    Parameters
    ----------
    workers : int, optional
        Threads.
    store : str, optional
        A new ``.zarr`` path.
    """

    def __init__(self, workers: int | None = None, store: str | None = None):
        self.workers, self.store = workers, store

    @property
    def block_models(self) -> int | None:
        """Models in memory at once: None for the whole sweep."""
        return None if self.store is None else BLOCK_MODELS

    def run(self, inputs: SweepInputs, lams, seeds, factor: float = np.inf):
        """Run the whole sweep; returns (arrays or None with a store, traces, first divergence or None)."""
        lams, seeds = np.asarray(lams, dtype=np.float64), np.asarray(seeds, dtype=np.int64)
        if self.in_blocks:
            return _run_blocks(self, inputs, lams, seeds, factor)
        return _block_task(inputs, lams, seeds, self._threads(), None, None, factor)    # one block, here

    @property
    def in_blocks(self) -> bool:
        """Whether the sweep is cut into blocks: here, only to write a store block by block."""
        return self.store is not None

    def _threads(self) -> int:
        return default_workers() if self.workers is None else self.workers

    def slots(self) -> int:
        return 1

    def map_blocks(self, inputs, tasks, factor):
        return [_block_task(inputs, bl, bs, self._threads(), self.store, region, factor) for bl, bs, region in tasks]


class Dask(Local):
    """A ``dask.distributed.Client``'s workers: one task per block of equal shape, named
    ``bayeswd-train-block-…`` on the dashboard; ``workers`` threads per task (default 1, since the
    worker's own thread pool is the parallelism). ``progress``: one line on stderr as each block
    finishes (``bayeswd: train block 3/16 done (12 s)``), plain text that a log or notebook keeps.

    Parameters
    ----------
    client : dask.distributed.Client
        The cluster.
    workers : int, optional
        Threads per task.
    store : str, optional
        A new ``.zarr`` path the blocks write into.
    progress : bool
        Print a line per finished block.
    """

    def __init__(self, client, workers: int | None = None, store: str | None = None, progress: bool = False):
        super().__init__(workers, store)
        self.client, self.progress = client, progress

    in_blocks = True      # the blocks are the tasks

    def slots(self) -> int:
        return sum(self.client.nthreads().values())

    def map_blocks(self, inputs, tasks, factor):
        threads = 1 if self.workers is None else self.workers
        shared = self.client.scatter(inputs, broadcast=True)
        cache_dir = jax.config.jax_compilation_cache_dir or None    # workers share this process's cache, if any
        programs = program_store_folder() is not None                  # and its store of traced sweeps, if on
        token = uuid.uuid4().hex[:8]        # named tasks: the dashboard shows "bayeswd-train-block", not a hash
        futures = [self.client.submit(_block_task, shared, bl, bs, threads, self.store, region, factor, cache_dir,
                                      programs, key=f"bayeswd-train-block-{token}-{i}", pure=False)
                   for i, (bl, bs, region) in enumerate(tasks)]
        if self.progress:
            from dask.distributed import as_completed

            start = time.perf_counter()
            for done, _ in enumerate(as_completed(futures), 1):
                print(f"bayeswd: train block {done}/{len(futures)} done ({time.perf_counter() - start:.0f} s)",
                      file=sys.stderr, flush=True)
        return self.client.gather(futures)


def executor_for(client=None, store: str | None = None, workers: int | None = None, progress: bool = False) -> Local:
    """The executor for ``train``'s execution settings (``progress`` is for Dask's blocks).

    Parameters
    ----------
    client : dask.distributed.Client, optional
        Run on Dask when given.
    store : str, optional
        A new ``.zarr`` path.
    workers : int, optional
        Threads.
    progress : bool
        Print a line per finished Dask block.

    Returns
    -------
    Local or Dask
    """
    return Local(workers, store) if client is None else Dask(client, workers, store, progress)


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

    Parameters
    ----------
    inputs : SweepInputs
        What every block shares.
    lams : ndarray
        The block's λ values.
    seeds : ndarray
        The block's seeds.
    workers : int
        Threads.

    Returns
    -------
    arrays : dict
        Runs and starts.
    traces : int
        Programs traced.
    """
    pair_seeds = np.repeat(np.asarray(seeds, dtype=np.int64), len(inputs.init_sds))
    pair_init_sds = np.tile(np.asarray(inputs.init_sds, dtype=np.float64), len(seeds))
    lam_grid = np.repeat(np.asarray(lams, dtype=np.float64)[:, None], len(pair_seeds), axis=1)
    program = program_for(inputs.spec)
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
    loss = half_mse(r, rows=len(y), axis=tuple(range(1, r.ndim)))
    size = penalty(inputs.spec.prior, 1.0, w0, axis=tuple(range(1, w0.ndim)))     # the penalty at λ = 1
    return loss[None, :] + np.asarray(lams)[:, None] * size[None, :]


def first_divergence(out: dict, lams: np.ndarray, inputs: SweepInputs, factor: float):
    """The earliest (λ, epoch index, value, start value) at which a run's training objective
    overflowed or grew past ``factor`` × its start, or None."""
    objective = out["history"]["train_objective"]                       # (lam, pair, epoch)
    start = start_objective(out, lams, inputs)[:, :, None]
    y = inputs.data[1]
    # The floor keeps a start at (nearly) zero loss from flagging ordinary noise.
    floor = float(half_mse(y - y.mean(axis=0)))
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
                factor: float, cache_dir: str | None = None, programs: bool = False):
    """Run one block (on a Dask worker or here). With a store, write its region and return only
    the divergence summary; else return the arrays. ``cache_dir``: the submitting process's persistent
    compilation cache, which a Dask worker joins (None: leave the worker's JAX settings alone), with its
    store of traced sweeps when ``programs``."""
    if cache_dir:
        enable_compilation_cache(cache_dir, programs=programs)
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


def _run_blocks(executor: Local, inputs: SweepInputs, lams, seeds, factor: float):
    """The sweep as blocks of one shape: cut, run by ``executor``, joined (or written to its store)."""
    store = executor.store
    models = len(lams) * len(seeds) * len(inputs.init_sds)
    axis, length = _block_plan(len(lams), len(seeds), len(inputs.init_sds), block_target(models, executor.slots()))
    size = len(lams) if axis == "lam" else len(seeds)
    if store is not None:
        zarr_template(store, lams, seeds, inputs.init_sds, inputs.start["w"].shape, inputs.spec.epochs,
                      {axis: length})
    tasks = []
    for pick in _blocks(size, length):
        lo, hi = int(pick[0]), int(pick[-1]) + 1
        block_lams, block_seeds = (lams[pick], seeds) if axis == "lam" else (lams, seeds[pick])
        tasks.append((block_lams, block_seeds, (axis, lo, hi)))
    try:
        results = executor.map_blocks(inputs, tasks, factor)
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


