"""The analyses behind ``bayeswd report``: one module per question, each also a runnable script.

Each module defines NAME, TITLE, QUESTION, SETTINGS (typed, bounded knobs), QUICK (smaller
values for ``--quick``), a Results dataclass, ``compute(ctx) -> Results`` and
``render(results) -> Section``; optionally TYPICAL_SECONDS (the first run's progress estimate) and
SHARES (the names of what ``compute`` makes through ``ctx.once``: a costly computation another
section makes too, which the report then runs in one worker and makes once). In a source checkout
this folder is ``analyses/``; the wheel installs it as ``bayeswd.analyses``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

# Report order. Module names, imported lazily: `bayeswd list` must stay fast.
# The main path a class follows (sections 1–5), then the appendices (A–H), collapsed on the page.
MAIN = ("weight_decay_is_a_prior", "subspace_init", "choosing_lambda", "two_priors", "d2l_reproduced")
APPENDICES = ("gd_sampler", "uncertainty", "seed002_multioutput", "seed004_mlp", "theory_vs_experiment", "exercises",
              "forum", "when_decay_matters")
MODULES = MAIN + APPENDICES


def load(name: str):
    if name not in MODULES:
        raise ValueError(f"unknown analysis {name!r}; run `bayeswd list` to see the {len(MODULES)} analyses")
    return importlib.import_module(f"{__name__}.{name}")


def compute(name: str, ctx):
    """The Results of the analysis ``name`` on ``ctx``: what a worker process runs (a name pickles)."""
    return load(name).compute(ctx)


def answer_card(numbers: dict) -> list[dict]:
    """The answer card (see ``_card``) from each section's results.json numbers."""
    from bayeswd.analyses._card import answer_card as build

    return build(numbers)


def all_modules():
    return [load(name) for name in MODULES]


def questions() -> dict[str, str]:
    """Each analysis's QUESTION, read from its source without importing it (no PyMC, no JAX)."""
    out = {}
    for name in MODULES:
        source = Path(importlib.util.find_spec(f"{__name__}.{name}").origin).read_text(encoding="utf-8")
        tree = ast.parse(source)
        out[name] = next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                         and any(getattr(t, "id", None) == "QUESTION" for t in node.targets))
    return out
