"""bayeswd: weight decay as a prior.

L2 weight decay is a Gaussian prior, L1 a Laplace prior. bayeswd puts side by side
the closed-form ridge solution, gradient-descent weight decay in JAX, the MAP
estimate and posterior samples, all in the canonical convention

    J(w, b) = (1/2n) Σᵢ (xᵢ·w + b − yᵢ)² + (λ/2) ‖w‖²    (bias not penalized).
"""

from pathlib import Path as _Path

# No JAX here: the closed forms, the converter and the CLI's start do not need it (a second of start-up).
# The modules that compute in JAX import bayeswd._jax_setup, which switches JAX to float64.
from bayeswd.conventions import bayes_optimal_lam, lam_from_prior, prior_sd_from_lam
from bayeswd.data import Dataset, d2l_data, load
from bayeswd.gaussian import empirical_bayes, gaussian_posterior
from bayeswd.implied import implied_prior, settings_for_prior
from bayeswd.ridge import best_lam, ridge, ridge_path

__version__ = "0.1.0"

# PyMC-backed names import PyMC (seconds); load them on first use.
_LAZY = {
    "train": "bayeswd.training",
    "map_estimate": "bayeswd.inference",
    "lasso": "bayeswd.sparse",
    "sample_posterior": "bayeswd.inference",
    "decompose": "bayeswd.subspace",
    "PriorRegressor": "bayeswd.estimator",   # needs scikit-learn: pip install bayeswd[sklearn]
}

__all__ = [
    "Dataset", "d2l_data", "load", "ridge", "ridge_path", "best_lam", "gaussian_posterior", "empirical_bayes",
    "lam_from_prior", "prior_sd_from_lam", "bayes_optimal_lam", "implied_prior", "settings_for_prior", *_LAZY,
    "__version__",
]


# A source checkout keeps the analyses in ../analyses; the wheel installs them as bayeswd/analyses
# (hatch's ``sources`` mapping). Let ``bayeswd.analyses`` resolve in both; nothing is imported here.
_CHECKOUT = _Path(__file__).resolve().parent.parent
if not (_CHECKOUT / "bayeswd" / "analyses").exists() and (_CHECKOUT / "analyses" / "__init__.py").is_file() \
        and (_CHECKOUT / "pyproject.toml").is_file():
    __path__.append(str(_CHECKOUT))


_EXTRAS = {"sklearn": "sklearn"}   # an optional dependency's module → the extra that installs it


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        try:
            return getattr(importlib.import_module(_LAZY[name]), name)
        except ModuleNotFoundError as err:
            missing = (err.name or "").split(".")[0]
            if missing not in _EXTRAS:
                raise
            raise ImportError(f"bayeswd.{name} needs {missing}: pip install 'bayeswd[{_EXTRAS[missing]}]'") from None
    raise AttributeError(f"module 'bayeswd' has no attribute {name!r}")
