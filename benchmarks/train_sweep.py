"""Benchmark: gradient-descent weight decay, one model at a time vs one sweep.

    uv run python benchmarks/train_sweep.py [--lams 4096] [--loop-lams 11] [--models 65536 1000000]

(a) the seeds' approach: seed 000's d2l.Trainer loop, one model per λ, over 11 λ values.
    Per epoch it calls a jitted training step on each of the 4 shuffled minibatches of 5
    and a jitted validation loss on each of the 20 validation minibatches of 5, reading
    every loss back to Python as d2l's plot does. Kinder than d2l: the optax update is
    inside the jitted step (d2l applies it eagerly) and nothing is drawn.
(a') a leaner loop the seeds do not use: the same training steps, one full validation
    pass per epoch, no per-step read-back. Printed so the ratio is not read off (a) alone.
(b) bayeswd.train: the PyMC-compiled objective, 4096 λ, on the exact row-space fast path
    (21 coordinates instead of 200), in equal parts on one thread per core; (b full) the
    same with fast_path=False.
(c) a hand-written full-dimension JAX sweep with the same per-epoch history (training and
    validation loss and objective, ‖w‖, ‖w‖²/2): the best of one vmap over all λ and of
    lax.map over 64-model chunks.
Targets: (c)/(b) ≥ 2.5; (a)/(b) ≥ 10,000. ``--models`` also times (b) at those sizes (λ × seeds;
past memory the sweep goes to a Zarr store in a temporary folder, as a user would).
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import bayeswd
from bayeswd.training import train
from _timing import best_of, machine


def _penalized_loss(params, X, y, lam):
    # d2l's WeightDecayScratch.loss: mean squared error / 2 plus (λ/2)‖w‖², also on validation
    r = X @ params["w"] + params["b"] - y
    return jnp.mean(r**2) / 2 + lam / 2 * jnp.sum(params["w"] ** 2)


def d2l_trainer_loop(data, lams, epochs=10, batch_size=5, lr=0.01, init_sd=0.01):
    """(a) Seed 000's d2l.Trainer.fit, one model per λ: a jitted step per training minibatch
    and a jitted loss per validation minibatch, each loss read back (d2l plots every one)."""

    @jax.jit
    def training_step(params, X, y, lam):
        loss, grads = jax.value_and_grad(_penalized_loss)(params, X, y, lam)
        return jax.tree_util.tree_map(lambda a, g: a - lr * g, params, grads), loss

    validation_step = jax.jit(_penalized_loss)
    # d2l's data loaders hand NumPy minibatches to the jitted functions
    X, y, Xv, yv = (np.asarray(a) for a in (data.X_train, data.y_train, data.X_val, data.y_val))
    rng = np.random.default_rng(0)
    plotted = []
    for lam in lams:
        params = {"w": jnp.asarray(init_sd * rng.standard_normal(X.shape[1])), "b": jnp.asarray(0.0)}
        for _ in range(epochs):
            order = rng.permutation(len(X))
            for start in range(0, len(X), batch_size):
                idx = order[start:start + batch_size]
                params, loss = training_step(params, X[idx], y[idx], lam)
                plotted.append(float(loss))
            for start in range(0, len(Xv), batch_size):
                plotted.append(float(validation_step(params, Xv[start:start + batch_size],
                                                     yv[start:start + batch_size], lam)))
    return plotted


def lean_loop(data, lams, epochs=10, batch_size=5, lr=0.01, init_sd=0.01):
    """(a') One model per λ, a jitted step per minibatch, one validation pass per epoch."""

    @jax.jit
    def step(params, X, y, lam):
        grads = jax.grad(_penalized_loss)(params, X, y, lam)
        return jax.tree_util.tree_map(lambda a, g: a - lr * g, params, grads)

    @jax.jit
    def val_loss(params, X, y):
        return jnp.mean((X @ params["w"] + params["b"] - y) ** 2) / 2

    X, y, Xv, yv = (jnp.asarray(a) for a in (data.X_train, data.y_train, data.X_val, data.y_val))
    rng = np.random.default_rng(0)
    finals = []
    for lam in lams:
        params = {"w": jnp.asarray(init_sd * rng.standard_normal(X.shape[1])), "b": jnp.asarray(0.0)}
        for _ in range(epochs):
            order = rng.permutation(X.shape[0])
            for start in range(0, X.shape[0], batch_size):
                idx = order[start:start + batch_size]
                params = step(params, X[idx], y[idx], lam)
            finals.append(float(val_loss(params, Xv, yv)))
    return finals


def hand_written_sweep(data, lams, *, chunked: bool, epochs=10, batch_size=5, lr=0.01, init_sd=0.01, seed=0):
    """(c) every λ from one start and one minibatch order, full dimension, J typed by hand."""
    X, y, Xv, yv = (jnp.asarray(a) for a in (data.X_train, data.y_train, data.X_val, data.y_val))
    n, p = X.shape
    key = jax.random.PRNGKey(seed)
    w0 = init_sd * jax.random.normal(key, (p,))
    orders = jax.vmap(lambda k: jax.random.permutation(k, n))(jax.random.split(key, epochs))

    def run_one(lam):
        def step(params, idx):
            w, b = params
            r = X[idx] @ w + b - y[idx]
            return (w - lr * (X[idx].T @ r / batch_size + lam * w), b - lr * jnp.mean(r)), None

        def epoch(params, order):
            params, _ = jax.lax.scan(step, params, order.reshape(-1, batch_size))
            w, b = params
            train = jnp.sum((X @ w + b - y) ** 2) / (2 * n)
            val = jnp.sum((Xv @ w + b - yv) ** 2) / (2 * len(yv))
            sq = w @ w
            return params, (train, train + lam / 2 * sq, val, val + lam / 2 * sq, jnp.sqrt(sq), sq / 2)

        (w, b), history = jax.lax.scan(epoch, (w0, 0.0), orders)
        return w, b, history

    if chunked:
        return jax.jit(lambda l: jax.lax.map(run_one, l, batch_size=64))(lams)
    return jax.jit(jax.vmap(run_one))(lams)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lams", type=int, default=4096)
    parser.add_argument("--loop-lams", type=int, default=11)
    parser.add_argument("--models", type=int, nargs="*", default=[], help="also time (b) at these many models")
    args = parser.parse_args(argv)

    data = bayeswd.d2l_data()
    loop_lams = np.linspace(0, 10, args.loop_lams)
    loops = {}
    for name, loop in (("a", d2l_trainer_loop), ("lean", lean_loop)):
        loop(data, loop_lams[:1])  # compile
        loops[name] = best_of(lambda: loop(data, loop_lams), repeat=3) / args.loop_lams

    lams = np.linspace(0, 10, args.lams)
    for fast in (None, False):
        jax.block_until_ready(train(data, lams, fast_path=fast).w)  # compile once
    t_b = best_of(lambda: train(data, lams).w, repeat=5) / args.lams
    t_full = best_of(lambda: train(data, lams, fast_path=False).w, repeat=5) / args.lams
    t_c = {}
    for chunked in (False, True):
        jax.block_until_ready(hand_written_sweep(data, jnp.asarray(lams), chunked=chunked))
        t_c[chunked] = best_of(lambda: jax.block_until_ready(hand_written_sweep(data, jnp.asarray(lams),
                                                                                chunked=chunked)),
                               repeat=5) / args.lams
    best_c = min(t_c.values())
    run = train(data, 0.0, epochs=1)

    print(f"machine: {machine()}; device {run.device}")
    print(f"(a)  d2l.Trainer loop (seed 000), {args.loop_lams} λ: {loops['a']*1e3:.3f} ms per model")
    print(f"(a') lean loop, one validation pass per epoch, {args.loop_lams} λ: {loops['lean']*1e3:.3f} ms per model")
    print(f"(b)  bayeswd.train, PyMC objective, row-space fast path, {args.lams} λ: {t_b*1e6:.3f} µs per model")
    print(f"(b full) the same with fast_path=False: {t_full*1e6:.3f} µs per model")
    print(f"(c)  hand-written full-dimension JAX sweep: one vmap {t_c[False]*1e6:.3f}, 64-model chunks "
          f"{t_c[True]*1e6:.3f} µs per model (best {best_c*1e6:.3f})")
    print(f"ratio (c)/(b) = {best_c/t_b:.2f} (target ≥ 2.5); (a)/(b) = {loops['a']/t_b:,.0f} (target ≥ 10,000); "
          f"(a')/(b) = {loops['lean']/t_b:,.0f}; (b full)/(b) = {t_full/t_b:.2f}")

    for models in args.models:
        n_seeds = max(1, models // args.lams)
        seeds = list(range(n_seeds))
        total = n_seeds * args.lams
        # The second of two runs: the first compiles the shape.
        try:
            for _ in range(2):
                start = time.perf_counter()
                train(data, lams, seed=seeds)
                where = "in memory"
        except bayeswd.exceptions.BudgetError:
            import tempfile

            for _ in range(2):
                with tempfile.TemporaryDirectory() as folder:
                    start = time.perf_counter()
                    train(data, lams, seed=seeds, store=f"{folder}/sweep.zarr")
                    where = "into a Zarr store"
        elapsed = time.perf_counter() - start
        print(f"(b) at {total:,} models ({args.lams} λ × {n_seeds} seeds, {where}): {elapsed:.2f} s, "
              f"{elapsed/total*1e6:.3f} µs per model on {run.device}")


if __name__ == "__main__":
    main()
