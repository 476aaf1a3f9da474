"""Benchmark: a 10⁶-model d2l sweep on a Dask LocalCluster vs the local threads, into Zarr stores.

    uv run python benchmarks/sweep_cluster.py [--lams 4096] [--seeds 244] [--workers 2]

Both runs cut the sweep into the same blocks and write each block's region of a new Zarr
store (10⁶ models' weights are past the in-memory budget). Worker start-up (the cluster's
processes importing bayeswd) and compilation (the first block of each shape on each worker,
and locally) are timed apart from the sweep itself.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

import bayeswd
from bayeswd.training import train
from _timing import machine


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lams", type=int, default=4096)
    parser.add_argument("--seeds", type=int, default=244)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    from dask.distributed import Client, LocalCluster

    data = bayeswd.d2l_data()
    lams, seeds = np.linspace(0, 10, args.lams), list(range(args.seeds))
    warm_lams = lams[: 2 * 64]          # two blocks of the same shape as the big run's: one per worker
    models = len(lams) * len(seeds)
    with tempfile.TemporaryDirectory() as folder:
        def sweep(name, **kwargs):
            return lambda: train(data, lams, seed=seeds, store=f"{folder}/{name}.zarr", **kwargs)

        local_compile, _ = _timed(lambda: train(data, warm_lams, seed=seeds, store=f"{folder}/w.zarr"))
        local_run, _ = _timed(sweep("local"))
        start_up, (cluster, client) = _timed(lambda: _cluster(args.workers, LocalCluster, Client))
        with cluster, client:
            cluster_compile, _ = _timed(lambda: train(data, warm_lams, seed=seeds, client=client,
                                                      store=f"{folder}/cw.zarr"))
            cluster_run, run = _timed(sweep("cluster", client=client))
    print(f"machine: {machine()}; device {run.device}")
    print(f"{models:,} models ({len(lams)} λ × {len(seeds)} seeds, d2l, 10 epochs), each into a Zarr store")
    print(f"local threads ({os.cpu_count()}): first block shape (compile + {len(warm_lams) * len(seeds):,} models) "
          f"{local_compile:.2f} s; sweep {local_run:.2f} s = {local_run / models * 1e6:.2f} µs per model")
    print(f"LocalCluster ({args.workers} workers × 1 thread): start-up {start_up:.2f} s; first block shape "
          f"(compile on each worker + {len(warm_lams) * len(seeds):,} models) {cluster_compile:.2f} s; "
          f"sweep {cluster_run:.2f} s = {cluster_run / models * 1e6:.2f} µs per model")
    print(f"ratio cluster/local (sweep only) = {cluster_run / local_run:.2f}")


def _cluster(workers, LocalCluster, Client):
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=40)
    return cluster, Client(cluster)


if __name__ == "__main__":
    main()
