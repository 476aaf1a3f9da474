"""What every analysis shares: the run context, figure export, the script entry point."""

from __future__ import annotations

import argparse
import io
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import bayeswd  # noqa: E402
from bayeswd.data import Dataset  # noqa: E402
from bayeswd.report.section import Figure, Section, Table  # noqa: E402,F401

from analyses._settings import SEED, Count, Flag, Names, Real  # noqa: E402,F401

plt.rcParams.update({"figure.dpi": 110, "figure.constrained_layout.use": True, "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
                     "axes.spines.right": False, "font.size": 10})


@dataclass
class Context:
    """Inputs of one analysis run: the data, the seed, size knobs and whether this is a quick run."""

    dataset: Dataset
    seed: int = 0
    quick: bool = False
    params: dict = field(default_factory=dict)
    data_label: str = "built-in d2l data"

    @property
    def has_truth(self) -> bool:
        return self.dataset.w_true is not None

    @property
    def noise_sd(self) -> float:
        """The known noise sd, or the empirical-Bayes estimate for a user's data."""
        if self.dataset.noise is not None:
            return float(self.dataset.noise)
        return bayeswd.empirical_bayes(self.dataset.X_train, self.dataset.y_train).noise_sd


def resolve_params(module, quick: bool, overrides: dict | None = None) -> dict:
    """DEFAULTS, then QUICK when quick, then the user's overrides, each checked against its spec
    in the module's SETTINGS (type and range, the error naming ``[analysis] key``)."""
    params = dict(module.DEFAULTS)
    if quick:
        params.update(getattr(module, "QUICK", {}))
    for key, value in (overrides or {}).items():
        if key not in module.SETTINGS:
            raise ValueError(f"[{module.NAME}] has no setting {key!r}; its settings are {sorted(module.SETTINGS)}")
        params[key] = module.SETTINGS[key].check(value, f"[{module.NAME}] {key}")
    return params


def defaults(settings: dict) -> dict:
    """The default value of every setting."""
    return {key: spec.default for key, spec in settings.items()}


def png(fig, name: str, caption: str) -> Figure:
    """Render a Matplotlib figure to PNG bytes (deterministic metadata) and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return Figure(name, caption, buffer.getvalue())


def command(name: str, ctx: Context) -> str:
    return f"uv run bayeswd run {name}" + (" --quick" if ctx.quick else "") + (f" --seed {ctx.seed}" if ctx.seed else "")


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
        ctx = Context(bayeswd.d2l_data(seed=seed), seed, args.quick, resolve_params(module, args.quick, overrides))
        start = time.perf_counter()
        section = module.run(ctx)
    except (ValueError, FloatingPointError) as err:
        print(f"{Path(sys.argv[0]).name}: error: {err}", file=sys.stderr)
        sys.exit(2)
    print(f"{section.title}\n{section.question}\n→ {section.answer}\n\n{section.text}\n"
          f"({time.perf_counter() - start:.1f} s)")
    sys.exit(0)


def fmt(x: float, digits: int = 3) -> str:
    """Numbers in prose: 3 significant digits, scientific only when needed."""
    return f"{x:.{digits}g}"


def log_grid(lo: float, hi: float, n: int) -> np.ndarray:
    return np.logspace(np.log10(lo), np.log10(hi), n)
