"""Benchmark: gradient-descent weight decay, one model at a time vs one vmapped sweep.

    uv run python benchmarks/train_sweep.py [--lams 4096] [--loop-lams 11] [--models 0]

(a) the seeds' approach: a Python loop calling a jitted SGD step per minibatch
    (d2l: 10 epochs, batch 5, a validation pass per epoch), over 11 λ values;
(b) bayeswd.train: the PyMC-compiled objective, one vmapped program over 4096 λ;
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


def seeds_loop(data, lams, epochs=10, batch_size=5, lr=0.01, init_sd=0.01):
    """d2l's way: one model per λ, a Python loop over minibatches calling a jitted step."""

    @jax.jit
    def step(params, X, y, lam):
        def J(p):
            r = X @ p["w"] + p["b"] - y
            return jnp.mean(r**2) / 2 + lam / 2 * jnp.sum(p["w"] ** 2)
        grads = jax.grad(J)(params)
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
    seeds_loop(data, loop_lams[:1])  # compile
    t_a = best_of(lambda: seeds_loop(data, loop_lams), repeat=3) / args.loop_lams

    lams = np.linspace(0, 10, args.lams)
    for objective in ("pymc", "reference"):
        jax.block_until_ready(train(data, lams, objective=objective).w)  # compile once
    t_b = best_of(lambda: train(data, lams).w, repeat=5) / args.lams
    t_c = best_of(lambda: train(data, lams, objective="reference").w, repeat=5) / args.lams
    device = train(data, 0.0, epochs=1).device

    print(f"machine: {machine()}; device {device}")
    print(f"(a) Python loop of jitted steps, {args.loop_lams} λ: {t_a*1e3:.3f} ms per model")
    print(f"(b) bayeswd.train, PyMC objective, {args.lams} λ vmapped: {t_b*1e6:.3f} µs per model")
    print(f"(c) same sweep, hand-written JAX objective: {t_c*1e6:.3f} µs per model")
    print(f"ratio (b)/(c) = {t_b/t_c:.3f} (target ≤ 1.2); (a)/(b) = {t_a/t_b:,.0f} (target ≥ 10,000)")

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
