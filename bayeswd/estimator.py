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
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["PriorRegressor"]

METHODS = ("closed_form", "gd", "map", "posterior")
LAM_RULES = ("auto", "loo")
# The keys of ``options`` each method reads.
OPTIONS = {"closed_form": (), "gd": ("epochs",), "map": (), "posterior": ("draws", "chains", "seed")}


def _sample_weight(sample_weight, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim == 0:
        weights = np.full(n, float(weights))
    if weights.shape != (n,):
        raise ValueError(f"sample_weight must have one weight per row, shape ({n},); got shape {weights.shape}")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("sample_weight must be finite and >= 0")
    if not weights.sum() > 0:
        raise ValueError("sample_weight is zero for every row: give some row a weight > 0")
    return weights


@dataclass(frozen=True)
class _Reduced:
    """The fit as a problem without an intercept. With weights s, and x̄, ȳ their weighted means (0 when
    ``fit_intercept=False``): X̃ = √s (X − x̄), Ỹ = √s (Y − ȳ), J = Σ(ỹ − X̃w)²/(2N) + penalty with N = Σs,
    and b = ȳ − x̄·w. (The intercept's exact minimizer for each w is ȳ − x̄·w, so this is the same J.)"""

    X: np.ndarray
    Y: np.ndarray          # (rows, k)
    x_mean: np.ndarray
    y_mean: np.ndarray     # (k,)
    n_obs: float
    centred: bool          # unweighted with an intercept: the columns of X̃ sum to 0 already

    @classmethod
    def of(cls, X, Y, weights, fit_intercept: bool, centred: bool) -> _Reduced:
        x_mean = np.average(X, axis=0, weights=weights) if fit_intercept else np.zeros(X.shape[1])
        y_mean = np.average(Y, axis=0, weights=weights) if fit_intercept else np.zeros(Y.shape[1])
        root = np.sqrt(weights)[:, None]
        return cls(root * (X - x_mean), root * (Y - y_mean), x_mean, y_mean, float(weights.sum()), centred)

    def solver_data(self, j: int) -> _SolverData:
        return _SolverData(self.X, self.Y[:, j], self.n_obs, reflected=not self.centred)


@dataclass(frozen=True)
class _SolverData:
    """One target of the reduced problem as bayeswd's solvers take it. They all fit an intercept, which
    comes out 0 on centred data. Data that are not centred are reflected, (X̃, ỹ) stacked on (−X̃, −ỹ): that
    centres them, leaves Σr²/(2 × rows) unchanged, and counts each residual twice in a likelihood, so σ is
    given × √2 there."""

    X_reduced: np.ndarray
    y_reduced: np.ndarray
    n_obs: float
    reflected: bool

    @property
    def X(self) -> np.ndarray:
        return np.vstack([self.X_reduced, -self.X_reduced]) if self.reflected else self.X_reduced

    @property
    def y(self) -> np.ndarray:
        return np.concatenate([self.y_reduced, -self.y_reduced]) if self.reflected else self.y_reduced

    @property
    def noise_factor(self) -> float:
        return math.sqrt(2.0) if self.reflected else 1.0

    def lam(self, lam: float) -> float:
        """λ on the solvers' J, whose data term Σr̃²/(2 × rows) is N/rows times the weighted one."""
        return lam * self.n_obs / self.X_reduced.shape[0]

    def dataset(self):
        """``train`` and the samplers take a Dataset; its one validation row is never used here."""
        from bayeswd.data import Dataset

        X, y = self.X, self.y
        return Dataset(X, y, X[:1], y[:1])


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
    fit_intercept : bool, default True
        Fit an unpenalized bias b (a flat prior on it); False fits the line through the origin.
    options : dict, optional
        Passed to the method: ``epochs`` for "gd"; ``draws``, ``chains``, ``seed`` for a
        Laplace "posterior". (A dict, because scikit-learn estimators take no ``**kwargs``.)

    Attributes
    ----------
    coef_ : ndarray of shape (p,) or (k, p)
        The fitted weights (one row per target when ``y`` has k columns).
    intercept_ : float or ndarray of shape (k,)
        The fitted bias (0 with ``fit_intercept=False``).
    lam_ : float or ndarray of shape (k,)
        The λ (or α) used, per target.
    noise_sd_ : float or ndarray of shape (k,)
        σ used (given or estimated; NaN where unused).

    Notes
    -----
    ``fit(X, y, sample_weight)`` takes frequency weights: a weight of 2 equals the row given twice, and the
    n of λ = σ²/(nτ²) is the sum of the weights (scikit-learn's ``Ridge`` and ``Lasso`` agree;
    ``BayesianRidge`` treats weights as precisions with n the row count, so ``lam="auto"`` equals it
    unweighted only).
    """

    def __init__(self, prior="gaussian", lam="auto", scale=None, noise_sd=None, method="closed_form",
                 fit_intercept=True, options=None):
        self.prior = prior
        self.lam = lam
        self.scale = scale
        self.noise_sd = noise_sd
        self.method = method
        self.fit_intercept = fit_intercept
        self.options = options

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

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
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise ValueError(f"fit_intercept must be True or False, got {self.fit_intercept!r}")
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

    def fit(self, X, y, sample_weight=None):
        """Fit to ``X`` (n × p) and ``y`` (n,) or (n, k) — k targets, each fitted on its own with its own λ
        when a rule picks it. ``sample_weight`` (n,), ≥ 0, are frequency weights: a weight of 2 equals the
        row given twice, and n in λ = σ²/(nτ²) is their sum (scikit-learn's ``Ridge``/``Lasso`` convention)."""
        options = self._check_params()
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64, multi_output=True)
        weights = _sample_weight(sample_weight, X.shape[0])
        uniform = sample_weight is None or np.all(weights == weights[0])
        if self.lam == "loo" and not (uniform and self.fit_intercept):
            raise ValueError("lam='loo' is RidgeCV's unweighted leave-one-out with an intercept: drop "
                             "sample_weight and keep fit_intercept=True, or give lam or use lam='auto'")
        keep = weights > 0                          # a zero weight is a row left out
        X, Y, weights = X[keep], (y[keep] if y.ndim == 2 else y[keep, None]), weights[keep]
        problem = _Reduced.of(X, Y, weights, self.fit_intercept, centred=uniform and self.fit_intercept)
        fits = [self._fit_target(problem, j, X, Y[:, j], options) for j in range(Y.shape[1])]
        coef = np.array([f[0] for f in fits])
        intercept = problem.y_mean - coef @ problem.x_mean
        lam, sigma = np.array([f[1] for f in fits]), np.array([f[2] for f in fits])
        one = y.ndim == 1
        self.coef_ = coef[0] if one else coef
        self.intercept_ = float(intercept[0]) if one else intercept
        self.lam_, self.noise_sd_ = (float(lam[0]), float(sigma[0])) if one else (lam, sigma)
        # what predict(return_std=True) needs; None without a posterior
        self._posterior = [f[3] for f in fits] if self.method == "posterior" else None
        self._reduced = problem
        return self

    def _fit_target(self, problem: _Reduced, j: int, X, y, options):
        """(w, λ, σ, the posterior or None) for target column j of the reduced problem."""
        Xr, yr, N = problem.X, problem.Y[:, j], problem.n_obs
        n = Xr.shape[0]
        uses_rule = self.scale is None and isinstance(self.lam, str)
        needs_sigma = self.scale is not None or self.method in ("posterior", "map") or (uses_rule and
                                                                                          self.prior == "laplace")
        needs_eb = self.lam in (None, "auto") and self.scale is None or (needs_sigma and self.noise_sd is None)
        # Nothing to learn from (constant inputs or targets, or too few rows for what must be estimated):
        # every weight is 0 and the bias is the mean, whatever the method.
        spread = np.ptp(X, axis=0) if self.fit_intercept else np.abs(X).max(axis=0)
        targets = np.ptp(y) if self.fit_intercept else np.abs(y).max()
        learnable = n > (2 if needs_eb or uses_rule else 1) and spread.max(initial=0.0) > 0 and targets > 0
        eb = self._empirical_bayes(Xr, yr, N) if learnable and needs_eb else None
        if self.noise_sd is not None:
            sigma = float(self.noise_sd)
        else:
            sigma = eb.noise_sd if (eb is not None and needs_sigma) else float("nan")
        lam = self._lam(X, y, N, sigma, eb) if learnable else (float(self.lam) if isinstance(self.lam, numbers.Real)
                                                                else math.inf)
        if not learnable or not math.isfinite(lam):
            return np.zeros(Xr.shape[1]), lam, sigma, None
        w, post = getattr(self, f"_fit_{self.method}")(problem.solver_data(j), lam, sigma, options)
        return np.asarray(w, dtype=np.float64), lam, sigma, post

    def _empirical_bayes(self, Xr, yr, n_obs):
        """BayesianRidge's fit on the reduced (centred) data, n counted as it does (without the intercept's
        degree of freedom, unlike ``bayeswd.empirical_bayes`` by default), its default hyperpriors; equal to
        scikit-learn's to 1e-10 unweighted."""
        from bayeswd.gaussian import BAYESIAN_RIDGE_HYPERPRIOR, empirical_bayes

        return empirical_bayes(Xr, yr, fit_intercept=False, hyperprior=BAYESIAN_RIDGE_HYPERPRIOR, n_obs=n_obs)

    def _lam(self, X, y, n, sigma, eb) -> float:
        """λ (or α) from ``lam``, ``scale`` or the rule; n the observation count, ``eb`` the empirical-Bayes
        fit (or None)."""
        from bayeswd.conventions import lam_from_prior, lasso_alpha_from_laplace_scale

        if self.scale is not None:
            return (lam_from_prior(sigma, self.scale, n) if self.prior == "gaussian"
                    else lasso_alpha_from_laplace_scale(self.scale, sigma, n))
        if self.lam is None or self.lam == "auto":
            if eb.boundary:                 # no linear signal: the prior collapses onto 0
                return math.inf
            if self.prior == "gaussian":
                return eb.lam
            return lasso_alpha_from_laplace_scale(eb.prior_sd / math.sqrt(2), sigma, n)   # the same variance
        if self.lam == "loo":
            from bayeswd.ridge import best_lam

            return best_lam(X, y, "loo")
        return float(self.lam)

    # --- the four methods on the reduced problem (no intercept; see _Reduced); each returns (w, posterior) ---

    def _fit_closed_form(self, data: _SolverData, lam, sigma, options):
        if self.prior == "gaussian":
            from bayeswd.ridge import ridge

            return ridge(data.X, data.y, data.lam(lam)).w, None
        from bayeswd.sparse import lasso

        return lasso(data.X, data.y, data.lam(lam)).w, None

    def _fit_gd(self, data: _SolverData, lam, sigma, options):
        """bayeswd.train, full batch from zero: the step 2/(μ + L) for the Gaussian prior (run for a
        1e-14 contraction unless ``options["epochs"]``), the proximal step 1/L for the Laplace prior."""
        from bayeswd.training import full_batch_schedule, stability_bound, train

        lam, X = data.lam(lam), data.X
        start = dict(w0=np.zeros(X.shape[1]), b0=0.0, batch_size=None)
        if self.prior == "gaussian":
            from bayeswd._design import design
            from bayeswd.exceptions import ConvergenceWarning

            # From w = 0, GD never leaves the row space of X: its rate is J's curvature there, not the
            # λ alone of the null directions it never visits (which at λ ≈ 0 would take forever).
            row_space = design(X, centre=False).Vt.T
            lr, steps, reached = full_batch_schedule(X @ row_space, lam, contraction=1e-14)
            if not reached:
                warnings.warn(f"method='gd' stopped after {steps:,} steps before reaching the minimizer to 1e-14 "
                              "(J is nearly flat in the row space); method='closed_form' gives it exactly",
                              ConvergenceWarning, stacklevel=3)
            run = train(data.dataset(), lam, lr=lr, epochs=options.get("epochs") or steps, **start)
        else:
            run = train(data.dataset(), lam, penalty="l1", l1_method="proximal", lr=stability_bound(X) / 2,
                        epochs=options.get("epochs", 20_000), **start)
        return run.w, None

    def _fit_map(self, data: _SolverData, lam, sigma, options):
        from bayeswd.inference import map_estimate

        if lam == 0:
            return self._fit_closed_form(data, lam, sigma, options)
        est = map_estimate(data.dataset(), self.prior, self._prior_width(lam, sigma, data.n_obs),
                           noise_sd=sigma * data.noise_factor)
        return est.w, None

    def _fit_posterior(self, data: _SolverData, lam, sigma, options):
        if lam == 0:
            raise ValueError("the posterior needs a proper prior: give lam > 0 or a finite scale")
        width = self._prior_width(lam, sigma, data.n_obs)
        if self.prior == "gaussian":
            from bayeswd.gaussian import gaussian_posterior

            post = gaussian_posterior(data.X_reduced, data.y_reduced, sigma, width, fit_intercept=False)
            return post.mean, post
        from bayeswd.inference import sample_posterior

        tree = sample_posterior(data.dataset(), "laplace", width, noise_sd=sigma * data.noise_factor,
                                sampler="gibbs", draws=options.get("draws", 1000), chains=options.get("chains", 4),
                                seed=options.get("seed", 0))
        w = tree["posterior"]["w"].values.reshape(-1, data.X.shape[1])
        return w.mean(axis=0), (w, sigma)

    def _prior_width(self, lam, sigma, n):
        """τ (Gaussian sd) or s (Laplace scale) from λ, σ and the observation count."""
        from bayeswd.conventions import laplace_scale_from_lasso_alpha, prior_sd_from_lam

        return (prior_sd_from_lam if self.prior == "gaussian" else laplace_scale_from_lasso_alpha)(lam, sigma, n)

    def predict(self, X, return_std=False):
        """Predictions, (m,) or (m, k); with ``return_std`` also the posterior predictive sd
        (``method="posterior"`` only): Var[x·w] + Var[b] (σ²/n with an intercept) + σ²."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        mean = X @ self.coef_.T + self.intercept_
        if not return_std:
            return mean
        if self._posterior is None:
            raise ValueError("return_std needs method='posterior' (a predictive distribution); this fit used "
                             f"method={self.method!r}")
        problem = self._reduced
        Xc = X - problem.x_mean
        sds = []
        for post, sigma in zip(self._posterior, np.atleast_1d(self.noise_sd_)):
            if post is None:                        # nothing was learnt: the weights are 0 for certain
                var = np.zeros(len(X))
            elif isinstance(post, tuple):           # Laplace: the spread of the draws' predictions
                var = (Xc @ post[0].T).var(axis=1)
            else:
                var = post.predict(Xc, include_noise=False)[1] ** 2
            var = var + sigma**2 * (1.0 + (1.0 / problem.n_obs if self.fit_intercept else 0.0))
            sds.append(np.sqrt(var))
        return mean, (sds[0] if mean.ndim == 1 else np.column_stack(sds))
