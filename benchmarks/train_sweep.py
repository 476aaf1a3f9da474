"""Benchmark: gradient-descent weight decay, one model at a time vs one vmapped sweep.

    uv run python benchmarks/train_sweep.py [--lams 4096] [--loop-lams 11] [--models 0]

(a) the seeds' approach: seed 000's d2l.Trainer loop, one model per λ, over 11 λ values.
    Per epoch it calls a jitted training step on each of the 4 shuffled minibatches of 5
    and a jitted validation loss on each of the 20 validation minibatches of 5, reading
    every loss back to Python as d2l's plot does. Kinder than d2l: the optax update is
    inside the jitted step (d2l applies it eagerly) and nothing is drawn.
(a') a leaner loop the seeds do not use: the same training steps, one full validation
    pass per epoch, no per-step read-back. Printed so the ratio is not read off (a) alone.
(b) bayeswd.train: the PyMC-compiled objective, one vmapped program over 4096 λ (on the
    CPU in equal parts, one thread per core);
(c) the same sweep with the hand-written JAX objective.
Targets: (b)/(c) ≤ 1.2 per model; (a)/(b) per model ≥ 10,000.
``--models N`` also times (b) at N models (λ × seeds), e.g. 10⁶ on a GPU.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import bayeswd
from bayeswd.engine import train
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lams", type=int, default=4096)
    parser.add_argument("--loop-lams", type=int, default=11)
    parser.add_argument("--models", type=int, default=0, help="also time (b) at this many models")
    args = parser.parse_args(argv)

    data = bayeswd.d2l_data()
    loop_lams = np.linspace(0, 10, args.loop_lams)
    loops = {}
    for name, loop in (("a", d2l_trainer_loop), ("lean", lean_loop)):
        loop(data, loop_lams[:1])  # compile
        loops[name] = best_of(lambda: loop(data, loop_lams), repeat=3) / args.loop_lams

    lams = np.linspace(0, 10, args.lams)
    for objective in ("pymc", "reference"):
        jax.block_until_ready(train(data, lams, objective=objective).w)  # compile once
    t_b = best_of(lambda: train(data, lams).w, repeat=5) / args.lams
    t_c = best_of(lambda: train(data, lams, objective="reference").w, repeat=5) / args.lams
    device = train(data, 0.0, epochs=1).device

    print(f"machine: {machine()}; device {device}")
    print(f"(a)  d2l.Trainer loop (seed 000), {args.loop_lams} λ: {loops['a']*1e3:.3f} ms per model")
    print(f"(a') lean loop, one validation pass per epoch, {args.loop_lams} λ: {loops["lean"]*1e3:.3f} ms per model")
    print(f"(b)  bayeswd.train, PyMC objective, {args.lams} λ vmapped: {t_b*1e6:.3f} µs per model")
    print(f"(c)  same sweep, hand-written JAX objective: {t_c*1e6:.3f} µs per model")
    print(f"ratio (b)/(c) = {t_b/t_c:.3f} (target ≤ 1.2); (a)/(b) = {loops['a']/t_b:,.0f} (target ≥ 10,000); "
          f"(a')/(b) = {loops["lean"]/t_b:,.0f}")

    if args.models:
        n_seeds = max(1, args.models // args.lams)
        seeds = list(range(n_seeds))
        jax.block_until_ready(train(data, lams, seed=seeds).w)
        start = time.perf_counter()
        jax.block_until_ready(train(data, lams, seed=seeds).w)
        elapsed = time.perf_counter() - start
        total = n_seeds * args.lams
        print(f"(b) at {total:,} models ({args.lams} λ × {n_seeds} seeds): {elapsed:.2f} s, "
              f"{elapsed/total*1e6:.3f} µs per model on {device}")


if __name__ == "__main__":
    main()
