"""Benchmark: NUTS on the d2l Gaussian posterior, PyMC defaults vs bayeswd's configuration.

    uv run python benchmarks/sampling.py [--prior-sd 1.0] [--draws 1000]

Metric: the smallest bulk ESS over all 201 parameters per second of wall time
(compilation included, as a user sees it). The anchor is ``pm.sample`` with its
defaults on the raw parameterization (w ~ N(0, τ²), b flat, diagonal mass);
ours is ``bayeswd.sample_posterior`` (SVD basis, same PyMC sampler, 4 chains).
Target: ≥ 20×, and ours converging (R-hat < 1.01, ESS ≥ 1000) in ≤ 10 s.
"""

from __future__ import annotations

import argparse
import time
import warnings

import pymc as pm

import bayeswd
from bayeswd.inference import diagnose, sample_posterior
from bayeswd.samplers import raw_model
from _timing import machine


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prior-sd", type=float, default=1.0)
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args(argv)
    data = bayeswd.d2l_data()
    warnings.simplefilter("ignore")

    start = time.perf_counter()
    ours = sample_posterior(data, "gaussian", args.prior_sd, sampler="pymc", draws=args.draws, tune=args.draws)
    t_ours = time.perf_counter() - start

    model = raw_model(data.X_train, data.y_train, "gaussian", args.prior_sd, data.noise_sd)
    start = time.perf_counter()
    with model:
        default = pm.sample(draws=args.draws, progressbar=False, random_seed=0, compute_convergence_checks=False)
    t_default = time.perf_counter() - start
    d_default = diagnose(default, seconds=t_default)

    rate_ours = ours.attrs["min_ess_bulk"] / t_ours
    rate_default = d_default.min_ess_bulk / t_default
    print(f"machine: {machine()}")
    print(f"pm.sample defaults, raw model: {t_default:.1f} s, R-hat {d_default.max_rhat:.3f}, "
          f"min bulk ESS {d_default.min_ess_bulk:.0f} → {rate_default:.2f} ESS/s")
    print(f"bayeswd (SVD basis, pymc NUTS): {t_ours:.1f} s, R-hat {ours.attrs['max_rhat']:.4f}, "
          f"min bulk ESS {ours.attrs['min_ess_bulk']:.0f} → {rate_ours:.1f} ESS/s")
    print(f"ratio {rate_ours / rate_default:,.0f}× (target ≥ 20×); ours in {t_ours:.1f} s (target ≤ 10 s)")


if __name__ == "__main__":
    main()
