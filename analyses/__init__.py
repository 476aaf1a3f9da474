"""The analyses behind ``bayeswd report``: one module per question, each also a runnable script.

Each module defines NAME, TITLE, QUESTION, DEFAULTS (its size and setting knobs),
QUICK (smaller values for ``--quick``) and ``run(ctx) -> Section``.
"""

from __future__ import annotations

import importlib

# Report order. Module names, imported lazily: `bayeswd list` must stay fast.
MODULES = ("d2l_reproduced", "choosing_lambda", "two_priors", "subspace_init", "uncertainty",
           "seed002_multioutput", "seed004_mlp", "theory_vs_experiment", "exercises")


def load(name: str):
    if name not in MODULES:
        raise ValueError(f"unknown analysis {name!r}; run `bayeswd list` to see the {len(MODULES)} analyses")
    return importlib.import_module(f"analyses.{name}")


def all_modules():
    return [load(name) for name in MODULES]
