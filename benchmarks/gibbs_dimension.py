"""The Bayesian lasso's Gibbs step w | v in the cheaper dimension: n×n solve (the old route) against the
p×p Cholesky on scikit-learn's diabetes data (n = 442 ≥ p = 10), in one run; prints each and the ratio.

    uv run python benchmarks/gibbs_dimension.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import load_diabetes

from bayeswd.samplers import _draw_weights


def per_draw(route, Phi, alpha, v, repeats: int) -> float:
    rng = np.random.default_rng(0)
    gram = (Phi.T @ Phi, Phi.T @ alpha) if route == "p×p" else None
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            _draw_weights(rng, Phi, alpha, v, gram)
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def main() -> None:
    X, y = load_diabetes(return_X_y=True)
    sigma = 54.0   # about the diabetes residual sd; the cost does not depend on it
    Phi, alpha = (X - X.mean(axis=0)) / sigma, (y - y.mean()) / sigma
    v = np.full(X.shape[1], 1.0)
    old = per_draw("n×n", Phi, alpha, v, repeats=20)
    new = per_draw("p×p", Phi, alpha, v, repeats=2000)
    print(f"diabetes {X.shape[0]}×{X.shape[1]}: n×n route {old * 1e3:.2f} ms/draw, p×p route {new * 1e3:.4f} "
          f"ms/draw, speed-up {old / new:.0f}×")


if __name__ == "__main__":
    main()
