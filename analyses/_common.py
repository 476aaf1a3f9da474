"""What every analysis shares: figure rendering, number formatting, the Section builder, the script entry.

An analysis module defines NAME, TITLE, QUESTION, SETTINGS, QUICK, a Results subclass,
``compute(ctx) -> Results`` and ``render(results) -> Section``. Nothing here touches
global matplotlib state: figures are drawn inside ``bayeswd.plot.style()``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from bayeswd import plot
from bayeswd.protocol.context import Context
from bayeswd.protocol.results import Results
from bayeswd.report.section import Figure, Section, Table
from bayeswd.protocol.settings import SEED, Count, Flag, Names, Real, defaults, resolve

__all__ = ["Context", "Results", "Section", "Table", "Count", "Flag", "Names", "Real", "defaults", "draw",
           "fmt", "log_grid", "ridge_on_validation", "section", "script_main", "LOSS", "EXCESS", "VALIDATION_LAMS",
           "implied_numbers"]

# One loss unit everywhere: the mean squared error over rows (d2l's printed loss is half of it).
LOSS = "MSE"
EXCESS = "excess MSE"


def draw(name: str, caption: str, panels, rows: int = 1, height: float = 3.6, cols: int = 1, **subplots) -> Figure:
    """A report figure: ``panels(axes)`` draws on ``rows`` stacked Axes (or a rows × cols grid);
    PNG and SVG come back."""
    with plot.style():
        fig, axes = plot.figure(rows, height, cols, **subplots)
        panels(axes)
        png, svg = plot.export(fig)
    return Figure(name, caption, png, svg)


def fmt(x, digits: int = 3) -> str:
    """Numbers in prose: 3 significant digits, scientific only when needed; a missing number is a dash."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return f"{int(x):,}" if abs(x) >= 10_000 else str(int(x))
    return f"{float(x):.{digits}g}"


def pct(x, digits: int = 3) -> str:
    return fmt(100 * x, digits) + "%"


def log_grid(lo: float, hi: float, n: int) -> np.ndarray:
    return np.logspace(np.log10(lo), np.log10(hi), n)


# The λ grid of every "best λ on the validation rows" search.
VALIDATION_LAMS = log_grid(1e-4, 1e4, 161)


def ridge_on_validation(data, lams=VALIDATION_LAMS):
    """The closed-form ridge path on the training rows (one SVD) and its validation MSE at every λ."""
    from bayeswd.ridge import ridge_path

    path = ridge_path(data.X_train, data.y_train, lams)
    return path, np.mean((data.y_val[None, :] - path.predict(data.X_val)) ** 2, axis=1)


def command(name: str, results: Results) -> str:
    return f"bayeswd run {name}" + (" --quick" if results.quick else "") + (f" --seed {results.seed}"
                                                                            if results.seed else "")


def implied_numbers(result) -> dict:
    """What a section quotes from ``bayeswd.implied_prior``: the weights' and the bias's priors and the run's
    decay facts (None where the converter has no value, e.g. τ without a known noise sd)."""
    weight, bias = result.groups["weight"], result.groups["bias"]
    return {"framework": result.settings["framework"], "weight_decay": result.settings["weight_decay"],
            "family": weight.family, "lam": weight.lam, "prior_sd": weight.prior_sd,
            "bias_family": bias.family, "bias_prior_sd": bias.prior_sd if bias.family == "gaussian" else None,
            "decay_per_step": result.decay_per_step, "null_space_survival": result.null_space_survival,
            "steps": result.steps, "noise_sd": result.noise_sd,
            "sklearn_alpha": weight.equivalents["sklearn"]["value"] if "sklearn" in weight.equivalents else None}


def section(module_name: str, results: Results, answer: str, text: str, figures=(), tables=()) -> Section:
    """The Section of the analysis ``module_name`` built from ``results``: its numbers are the Results
    themselves, ``derived`` included (what compute derived for the prose), so results.json holds every
    number the report quotes."""
    module = sys.modules[module_name]
    numbers = results.to_json()
    return Section(module.NAME, module.TITLE, module.QUESTION, answer, numbers, text.strip(),
                   list(figures), list(tables), command(module.NAME, results))


def _script_value(spec):
    """argparse type for a setting: booleans read as true/false/1/0/yes/no, numbers as numbers."""
    if isinstance(spec, Flag):
        def flag(text):
            table = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
            if text.lower() not in table:
                raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
            return table[text.lower()]
        return flag
    return type(spec.default)


def script_main(module) -> None:
    """``python analyses/NAME.py [--quick] [--seed N] [--SETTING VALUE ...]``: run one analysis, print its section.

    Bad settings end with one line naming the fix and exit status 2, as with ``bayeswd run``.
    """
    import bayeswd

    parser = argparse.ArgumentParser(description=f"{module.TITLE}: {module.QUESTION}")
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--seed", type=int, default=0)
    for key, spec in module.SETTINGS.items():
        parser.add_argument(f"--{key.replace('_', '-')}", type=_script_value(spec), default=None,
                            help=f"{spec.help} (default {spec.default})".strip())
    args = parser.parse_args()
    overrides = {k: getattr(args, k) for k in module.SETTINGS if getattr(args, k) is not None}
    try:
        seed = SEED.check(args.seed, "--seed")
        ctx = Context(bayeswd.d2l_data(seed=seed), seed, args.quick, resolve(module, args.quick, overrides),
                      redraw=lambda s: bayeswd.d2l_data(seed=s))
        start = time.perf_counter()
        sec = module.render(module.compute(ctx).round_trip())
    except (ValueError, FloatingPointError) as err:
        print(f"{Path(sys.argv[0]).name}: error: {err}", file=sys.stderr)
        sys.exit(2)
    print(f"{sec.title}\n{sec.question}\n→ {sec.answer}\n\n{sec.text}\n({time.perf_counter() - start:.1f} s)")
    sys.exit(0)
