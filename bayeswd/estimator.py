"""``PriorRegressor``: the four answers as one scikit-learn estimator.

Fits J(w, b) = Σr²/(2n) + (λ/2)‖w‖² (``prior="gaussian"``, a N(0, τ²) prior with
λ = σ²/(nτ²)) or Σr²/(2n) + λ‖w‖₁ (``prior="laplace"``, scikit-learn's Lasso α, a
Laplace prior of scale s with λ = σ²/(ns)), by the closed form, gradient descent, the
MAP or the posterior mean. scikit-learn is an optional dependency (``bayeswd[sklearn]``),
imported only here.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["PriorRegressor"]

METHODS = ("closed_form", "gd", "map", "posterior")
LAM_RULES = ("auto", "loo")
# The keys of ``options`` each method reads.
OPTIONS = {"closed_form": (), "gd": ("epochs",), "map": (), "posterior": ("draws", "chains", "seed")}


class PriorRegressor(RegressorMixin, BaseEstimator):
    """Linear regression with a Gaussian (L2) or Laplace (L1) prior on the weights.

    Parameters
    ----------
    prior : "gaussian" or "laplace"
    lam : float, "auto" or "loo", default "auto"
        The penalty in the canonical objective: λ of (λ/2)‖w‖² (Gaussian) or α of α‖w‖₁
        (Laplace, scikit-learn's Lasso ``alpha``), or a rule that picks it from the training data:
        ``"auto"``, type-II maximum likelihood (empirical Bayes) as scikit-learn's ``BayesianRidge``
        with its default hyperpriors (for the Laplace prior: the Laplace scale of the same variance,
        s = τ/√2); ``"loo"``, the exact leave-one-out optimum as ``RidgeCV`` (Gaussian prior only),
        a continuous optimum (``bayeswd.best_lam``). The value used is ``lam_``. Give ``lam`` or
        ``scale``, not both (``scale`` overrides the default "auto").
    scale : float, optional
        The prior's scale instead: τ (Gaussian sd) or s (Laplace scale); λ = σ²/(nτ²) or σ²/(ns).
    noise_sd : float, optional
        σ. Needed to turn ``scale`` into λ and for the posterior; when None it is
        estimated by empirical Bayes (type-II maximum likelihood).
    method : "closed_form", "gd", "map" or "posterior"
        The closed form (ridge; the lasso by FISTA to a duality gap of 1e-12), full-batch
        gradient descent run to convergence (proximal for the Laplace prior), PyMC's MAP,
        or the posterior mean (exact for the Gaussian prior; Gibbs draws for the Laplace).
    options : dict, optional
        Passed to the method: ``epochs`` for "gd"; ``draws``, ``chains``, ``seed`` for a
        Laplace "posterior". (A dict, because scikit-learn estimators take no ``**kwargs``.)

    Attributes
    ----------
    coef_, intercept_ : the fitted weights and bias.
    lam_ : the λ (or α) used. noise_sd_ : σ used (given or estimated; NaN where unused).
    """

    def __init__(self, prior="gaussian", lam="auto", scale=None, noise_sd=None, method="closed_form", options=None):
        self.prior = prior
        self.lam = lam
        self.scale = scale
        self.noise_sd = noise_sd
        self.method = method
        self.options = options

    def _check_params(self):
        if self.prior not in ("gaussian", "laplace"):
            raise ValueError(f"prior must be 'gaussian' or 'laplace', got {self.prior!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        rule = isinstance(self.lam, str)
        if rule and self.lam not in LAM_RULES:
            raise ValueError(f"lam must be a number >= 0, 'auto' or 'loo', got {self.lam!r}")
        if self.lam == "loo" and self.prior == "laplace":
            raise ValueError("lam='loo' is the closed-form leave-one-out of the Gaussian prior; for "
                             "prior='laplace' give lam (scikit-learn's Lasso alpha), scale, or lam='auto'")
        if self.lam not in (None, "auto") and self.scale is not None:
            raise ValueError("give lam or scale, not both: scale is turned into lam through σ and n")
        for name in ("scale", "noise_sd") if rule else ("lam", "scale", "noise_sd"):
            value = getattr(self, name)
            # any real scalar, numpy's included (GridSearchCV hands over np.int64 and np.float64)
            if value is not None and not (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
                                          and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.scale is not None and self.scale == 0:
            raise ValueError("scale must be > 0 (a zero-width prior has no penalty form)")
        if self.options is not None and not isinstance(self.options, dict):
            raise ValueError(f"options must be a dict or None, got {type(self.options).__name__}")
        options = dict(self.options or {})
        allowed = OPTIONS[self.method]
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise ValueError(f"options {unknown} are not used by method={self.method!r}; it accepts "
                             f"{sorted(allowed) or 'none'}")
        return options

    def _empirical_bayes(self, X, y):
        """BayesianRidge's fit: centred data, n rows (it does not count the intercept's degree of freedom,
        as ``bayeswd.empirical_bayes`` does), its default hyperpriors; equal to scikit-learn's to 1e-10."""
        from bayeswd.gaussian import BAYESIAN_RIDGE_HYPERPRIOR, empirical_bayes

        return empirical_bayes(X - X.mean(axis=0), y - y.mean(), fit_intercept=False,
                               hyperprior=BAYESIAN_RIDGE_HYPERPRIOR)

    def _lam(self, X, y, sigma, eb) -> float:
        """λ (or α) from ``lam``, ``scale`` or the rule; ``eb`` is the empirical-Bayes fit (or None)."""
        n = X.shape[0]
        if self.scale is not None:
            return sigma**2 / (n * self.scale**2) if self.prior == "gaussian" else sigma**2 / (n * self.scale)
        if self.lam is None or self.lam == "auto":
            if eb.boundary:                 # no linear signal: the prior collapses onto 0
                return math.inf
            if self.prior == "gaussian":
                return eb.lam
            return sigma**2 / (n * eb.prior_sd / math.sqrt(2))   # the Laplace scale with the same variance
        if self.lam == "loo":
            from bayeswd.ridge import best_lam

            return best_lam(X, y, "loo")
        return float(self.lam)

    def fit(self, X, y):
        options = self._check_params()
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        n = X.shape[0]
        uses_rule = self.scale is None and isinstance(self.lam, str)
        needs_sigma = self.scale is not None or self.method in ("posterior", "map") or (uses_rule and
                                                                                          self.prior == "laplace")
        needs_eb = self.lam in (None, "auto") and self.scale is None or (needs_sigma and self.noise_sd is None)
        # Nothing to learn from (constant inputs or targets, or too few rows for what must be estimated):
        # every weight is 0 and the bias is the mean, whatever the method.
        learnable = (n > (2 if needs_eb or uses_rule else 1) and np.ptp(X, axis=0).max(initial=0.0) > 0
                     and np.ptp(y) > 0)
        eb = self._empirical_bayes(X, y) if learnable and needs_eb else None
        if self.noise_sd is not None:
            sigma = float(self.noise_sd)
        else:
            sigma = eb.noise_sd if (eb is not None and needs_sigma) else float("nan")
        lam = self._lam(X, y, sigma, eb) if learnable else (float(self.lam) if isinstance(self.lam, numbers.Real)
                                                             else math.inf)
        self.lam_, self.noise_sd_ = lam, sigma
        if not learnable or not math.isfinite(lam):
            w, b, state = np.zeros(X.shape[1]), float(y.mean()), None
        else:
            w, b, state = getattr(self, f"_fit_{self.method}")(X, y, lam, sigma, options)
        self.coef_, self.intercept_ = np.asarray(w, dtype=np.float64), float(b)
        self._posterior = state     # what predict(return_std=True) needs; None without a posterior
        return self

    # --- the four methods; each returns (w, b, the posterior for predictive sds or None) ---

    def _fit_closed_form(self, X, y, lam, sigma, options):
        if self.prior == "gaussian":
            from bayeswd.ridge import ridge

            fit = ridge(X, y, lam)
        else:
            from bayeswd.sparse import lasso

            fit = lasso(X, y, lam)
        return fit.w, fit.b, None

    def _fit_gd(self, X, y, lam, sigma, options):
        """bayeswd.train, full batch from zero: the step 2/(μ + L) for the Gaussian prior (run for a
        1e-14 contraction unless ``options["epochs"]``), the proximal step 1/L for the Laplace prior."""
        from bayeswd.data import Dataset
        from bayeswd.training import full_batch_schedule, stability_bound, train

        data, start = Dataset(X, y, X[:1], y[:1]), dict(w0=np.zeros(X.shape[1]), b0=0.0, batch_size=None)
        if self.prior == "gaussian":
            lr, steps, _ = full_batch_schedule(X, lam, contraction=1e-14)
            run = train(data, lam, lr=lr, epochs=options.get("epochs") or steps, **start)
        else:
            run = train(data, lam, penalty="l1", l1_method="proximal", lr=stability_bound(X) / 2,
                        epochs=options.get("epochs", 20_000), **start)
        return run.w, float(run.b), None

    def _fit_map(self, X, y, lam, sigma, options):
        from bayeswd.data import Dataset
        from bayeswd.inference import map_estimate

        if lam == 0:
            return self._fit_closed_form(X, y, lam, sigma, options)
        data = Dataset(X, y, X[:1], y[:1])
        scale = sigma / math.sqrt(len(y) * lam) if self.prior == "gaussian" else sigma**2 / (len(y) * lam)
        est = map_estimate(data, self.prior, scale, noise_sd=sigma)
        return est.w, est.b, None

    def _fit_posterior(self, X, y, lam, sigma, options):
        if lam == 0:
            raise ValueError("the posterior needs a proper prior: give lam > 0 or a finite scale")
        if self.prior == "gaussian":
            from bayeswd.gaussian import gaussian_posterior

            post = gaussian_posterior(X, y, sigma, sigma / math.sqrt(len(y) * lam))
            return post.mean, post.b_mean, post
        from bayeswd.data import Dataset
        from bayeswd.inference import sample_posterior

        tree = sample_posterior(Dataset(X, y, X[:1], y[:1]), "laplace", sigma**2 / (len(y) * lam), noise_sd=sigma,
                                sampler="gibbs", draws=options.get("draws", 1000), chains=options.get("chains", 4),
                                seed=options.get("seed", 0))
        w = tree["posterior"]["w"].values.reshape(-1, X.shape[1])
        b = tree["posterior"]["b"].values.reshape(-1)
        return w.mean(axis=0), float(b.mean()), (w, b, sigma)

    def predict(self, X, return_std=False):
        """Predictions; with ``return_std`` also the posterior predictive sd (``method="posterior"`` only)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        mean = X @ self.coef_ + self.intercept_
        if not return_std:
            return mean
        if self._posterior is None:
            raise ValueError("return_std needs method='posterior' (a predictive distribution); this fit used "
                             f"method={self.method!r}")
        if isinstance(self._posterior, tuple):      # Laplace: the spread of the draws' predictions plus the noise
            w, b, sigma = self._posterior
            return mean, np.sqrt((X @ w.T + b).var(axis=1) + sigma**2)
        return mean, self._posterior.predict(X)[1]
