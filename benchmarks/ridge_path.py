"""Benchmark: the ridge path with exact leave-one-out, and a big ridge fit, against scikit-learn.

    uv run python benchmarks/ridge_path.py [--lams 1000] [--n 2000] [--p 20000]

(a) our 1000-λ path with LOO on the d2l data vs ``RidgeCV`` on the same grid
    (target: ≥ 5× faster); (b) ``bayeswd.ridge`` at n = 2000, p = 20000 vs
    ``Ridge`` (target: not slower). Prints both times and the ratios.
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.linear_model import Ridge, RidgeCV

import bayeswd
from _timing import best_of, machine


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lams", type=int, default=1000)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--p", type=int, default=20000)
    args = parser.parse_args(argv)

    data = bayeswd.d2l_data()
    X, y, n = data.X_train, data.y_train, data.n_train
    lams = np.logspace(-4, 2, args.lams)
    ours = bayeswd.ridge_path(X, y, lams)
    ref = RidgeCV(alphas=n * lams, store_cv_results=True).fit(X, y)
    assert np.allclose(ours.loo_mse, ref.cv_results_.mean(axis=0), rtol=1e-8)
    t_ours = best_of(lambda: bayeswd.ridge_path(X, y, lams))
    t_ref = best_of(lambda: RidgeCV(alphas=n * lams).fit(X, y))
    print(f"machine: {machine()}")
    print(f"(a) ridge path + LOO, {args.lams} λ, d2l (20×200): bayeswd {t_ours*1e3:.2f} ms, "
          f"sklearn RidgeCV {t_ref*1e3:.2f} ms, ratio {t_ref/t_ours:.1f}× (target ≥ 5×)")

    rng = np.random.default_rng(0)
    Xb = rng.standard_normal((args.n, args.p))
    yb = Xb[:, :50].sum(axis=1) + rng.standard_normal(args.n)
    lam = 0.1
    fit = bayeswd.ridge(Xb, yb, lam)
    skl = Ridge(alpha=args.n * lam).fit(Xb, yb)
    assert np.allclose(fit.w, skl.coef_, atol=1e-8)
    t_ours = best_of(lambda: bayeswd.ridge(Xb, yb, lam), repeat=3)
    t_ref = best_of(lambda: Ridge(alpha=args.n * lam).fit(Xb, yb), repeat=3)
    print(f"(b) ridge n={args.n}, p={args.p}: bayeswd {t_ours:.3f} s, sklearn Ridge {t_ref:.3f} s, "
          f"ratio {t_ref/t_ours:.2f}× (target ≥ 1×)")


if __name__ == "__main__":
    main()
