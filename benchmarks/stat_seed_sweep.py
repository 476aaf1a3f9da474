"""Rerun every statistical test of the suite over many seeds and count its failures.

Each test's tolerance comes from a family-wise false-failure budget of 1e-3
(tests/stats_budget.py), so over 20 seeds a correct implementation should fail none
(expected 0.02 failures per test). A test that fails on some seeds has a tolerance
that held by luck. Results are appended, one JSON line per (test, seed), to
``--out`` as they come, so a long sweep can be read while it runs.

    uv run python benchmarks/stat_seed_sweep.py --seeds 20 --out stat_sweep.jsonl
    uv run python benchmarks/stat_seed_sweep.py --summary stat_sweep.jsonl
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _checks():
    """(name, seed -> None) for every statistical test, cheapest first. Seeds never reuse the suite's own."""
    import test_gaussian
    import test_inference
    import test_subspace
    import bayeswd

    d2l = bayeswd.d2l_data()
    offset = 100  # the suite itself uses seeds 0-4

    def laplace_nutpie(seed):
        gibbs = test_inference.gibbs_reference(d2l, seed + offset)
        test_inference.check_laplace_nutpie(d2l, gibbs, seed + offset + 1000)

    def laplace_pymc(seed):
        gibbs = test_inference.gibbs_reference(d2l, seed + offset)
        test_inference.check_laplace_pymc(d2l, gibbs, seed + offset + 2000)

    checks = [("gaussian draws: mean and covariance", lambda s: test_gaussian.check_draws(d2l, s + offset)),
              ("gaussian draws: predictive mean and sd", lambda s: test_gaussian.check_predictive_draws(d2l, s + offset)),
              ("exact sampler tree", lambda s: test_inference.check_exact_sampler(d2l, s + offset)),
              ("predictive sd and coverage", lambda s: test_inference.check_predictive(d2l, s + offset)),
              ("init risk law (4 inits × 240 seeds)",   # disjoint blocks of 240 seeds, never the suite's 0-239
               lambda s: test_subspace.check_init_risk_law(d2l, list(range(240 * (s + 1), 240 * (s + 2)))))]
    for sampler in ("nutpie", "numpyro", "pymc"):
        for prior_sd in (0.01, 1.0):
            checks.append((f"NUTS {sampler}, Gaussian prior sd {prior_sd}",
                           lambda s, sampler=sampler, prior_sd=prior_sd:
                           test_inference.check_nuts_gaussian(d2l, sampler, prior_sd, s + offset)))
    checks += [("Laplace: nutpie vs Gibbs", laplace_nutpie), ("Laplace: PyMC 4 × 500 vs Gibbs", laplace_pymc)]
    return checks


def sweep(seeds: int, out: Path, only: str | None) -> None:
    done = set()
    if out.exists():
        done = {(r["test"], r["seed"]) for r in map(json.loads, out.read_text().splitlines())}
    for name, check in _checks():
        if only and only not in name:
            continue
        for seed in range(seeds):
            if (name, seed) in done:
                continue
            start = time.perf_counter()
            error = ""
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    check(seed)
                except AssertionError as err:
                    error = " ".join(str(err).split())[:300]
            row = {"test": name, "seed": seed, "failed": bool(error), "error": error,
                   "seconds": round(time.perf_counter() - start, 2)}
            with out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            print(f"{name:<45} seed {seed:>2}: {'FAIL ' + error if error else 'ok'} ({row['seconds']} s)", flush=True)


def summary(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print("| test | seeds | failures | mean s |\n|---|---|---|---|")
    for name in dict.fromkeys(r["test"] for r in rows):
        mine = [r for r in rows if r["test"] == name]
        print(f"| {name} | {len(mine)} | {sum(r['failed'] for r in mine)} | "
              f"{sum(r['seconds'] for r in mine) / len(mine):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("stat_sweep.jsonl"))
    parser.add_argument("--only", help="run only the checks whose name contains this text")
    parser.add_argument("--summary", type=Path, help="print the table of a finished sweep and exit")
    args = parser.parse_args()
    if args.summary:
        summary(args.summary)
    else:
        sweep(args.seeds, args.out, args.only)


if __name__ == "__main__":
    main()
