"""Conjugate Gaussian posterior for linear regression with known noise (docs/theory.md §3).

Model: y = Xw + b + ε, ε ~ N(0, σ²I), w ~ N(0, τ²I), and b either absent or
with a flat prior (``fit_intercept=True``, the default, matching :func:`ridge`).
The posterior mean of w is the minimizer of
J(w, b) = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖² at λ = σ²/(nτ²).

Everything is computed from one thin SVD of the centred design, so p ≫ n costs
O(n²p); the p×p covariance is only formed when asked for.
"""

from __future__ import annotations

import warnings

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from bayeswd.exceptions import ConvergenceWarning
from bayeswd._design import Design, design
from bayeswd._validate import as_design, as_positive, as_Xy
from bayeswd.streams import stream

__all__ = ["GaussianPosterior", "gaussian_posterior", "EmpiricalBayesFit", "empirical_bayes",
           "BAYESIAN_RIDGE_HYPERPRIOR"]

# scikit-learn BayesianRidge's default Gamma(1e-6, 1e-6) hyperpriors on both precisions (alpha_1, alpha_2,
# lambda_1, lambda_2), for ``empirical_bayes(..., hyperprior=...)``; they keep σ finite on noiseless data.
BAYESIAN_RIDGE_HYPERPRIOR = (1e-6, 1e-6, 1e-6, 1e-6)

_LOG_2PI = np.log(2 * np.pi)


def _design(X, y, fit_intercept: bool) -> Design:
    X, y = as_Xy(X, y)
    if y.ndim != 1:
        raise ValueError("the Gaussian posterior takes one target y of shape (n,); fit each column separately")
    return design(X, y, centre=fit_intercept)


def _log_evidence(D: Design, noise_var: float, prior_var: float) -> float:
    """log N(y; 0, σ²I + τ²XXᵀ), in the SVD basis (restricted to 1⊥ with an intercept)."""
    c = D.U.T @ D.yc
    s = noise_var + prior_var * D.d**2
    resid_sq = D.yc @ D.yc - c @ c
    n_rest = D.n_eff - D.d.size
    return -0.5 * (D.n_eff * _LOG_2PI + np.log(s).sum() + n_rest * np.log(noise_var)
                   + (c**2 / s).sum() + resid_sq / noise_var)


@dataclass(frozen=True, eq=False)
class GaussianPosterior:
    """Posterior of (w, b) given σ (``noise_sd``) and τ (``prior_sd``).

    ``mean`` is E[w | y]; ``cov`` is Cov[w | y] (p×p, formed on first use);
    ``b_mean``/``b_sd`` describe the intercept (flat prior), 0 without one.

    Parameters
    ----------
    noise_sd : float
        The noise sd σ.
    prior_sd : float
        The prior sd τ of each weight.
    """

    noise_sd: float
    prior_sd: float
    _D: Design

    @property
    def lam(self) -> float:
        """The canonical λ = σ²/(nτ²) whose ridge solution is the posterior mean."""
        return self.noise_sd**2 / (self._D.n * self.prior_sd**2)

    @cached_property
    def _eig(self) -> np.ndarray:
        """Posterior variances along the right singular vectors: 1/(1/τ² + d²/σ²)."""
        return 1.0 / (1.0 / self.prior_sd**2 + self._D.d**2 / self.noise_sd**2)

    @cached_property
    def mean(self) -> np.ndarray:
        D = self._D
        return D.Vt.T @ (self._eig * D.d * (D.U.T @ D.yc)) / self.noise_sd**2

    @property
    def b_mean(self) -> float:
        return float(self._D.y_mean - self._D.x_mean @ self.mean)

    @cached_property
    def cov(self) -> np.ndarray:
        D = self._D
        prior_var = self.prior_sd**2
        return prior_var * np.eye(D.p) + (D.Vt.T * (self._eig - prior_var)) @ D.Vt

    @cached_property
    def log_evidence(self) -> float:
        """log p(y | σ, τ); with an intercept, the density of y projected off the constant."""
        return float(_log_evidence(self._D, self.noise_sd**2, self.prior_sd**2))

    def sample(self, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` i.i.d. posterior draws: (w of shape (n, p), b of shape (n,))."""
        D = self._D
        rng = stream(seed, "posterior_draws")
        z_row = rng.standard_normal((n, D.d.size))
        z_all = rng.standard_normal((n, D.p))
        # Along V the sd is √eig; in the null space of Xc the prior sd τ is untouched.
        null_part = z_all - (z_all @ D.Vt.T) @ D.Vt
        w = self.mean + (z_row * np.sqrt(self._eig)) @ D.Vt + self.prior_sd * null_part
        if D.centred:
            b = D.y_mean - w @ D.x_mean + self.noise_sd / np.sqrt(D.n) * rng.standard_normal(n)
        else:
            b = np.zeros(n)
        return w, b

    def predict(self, X, include_noise: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and sd at the rows of ``X``: N(m·x + b̄, σ² + Var[x·w + b])."""
        X = as_design(X)
        D = self._D
        Xc = X - D.x_mean
        proj = Xc @ D.Vt.T
        var = (proj**2 * self._eig).sum(axis=1) + self.prior_sd**2 * ((Xc**2).sum(axis=1) - (proj**2).sum(axis=1))
        if D.centred:
            var = var + self.noise_sd**2 / D.n
        if include_noise:
            var = var + self.noise_sd**2
        return X @ self.mean + self.b_mean, np.sqrt(np.maximum(var, 0.0))


def gaussian_posterior(X, y, noise_sd: float, prior_sd: float, *, fit_intercept: bool = True) -> GaussianPosterior:
    """Exact posterior of w ~ N(0, τ²I) under y = Xw + b + N(0, σ²I).

    Its mean minimizes J(w, b) = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖² at λ = σ²/(nτ²).

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,)
        Targets.
    noise_sd : float
        The noise sd σ.
    prior_sd : float
        The prior sd τ.
    fit_intercept : bool
        Whether the model has an intercept (flat prior, integrated out by centring).

    Returns
    -------
    GaussianPosterior
    """
    sigma, tau = as_positive(noise_sd, "noise_sd"), as_positive(prior_sd, "prior_sd")
    for name, value in (("noise_sd", sigma), ("prior_sd", tau)):
        square = np.float64(value) ** 2 if 1e-150 < value < 1e150 else 0.0
        if not square > 0.0:
            raise ValueError(f"{name}={value!r} is too extreme for float64 (its square under- or overflows); "
                             "rescale y or choose a value nearer 1")
    return GaussianPosterior(sigma, tau, _design(X, y, fit_intercept))


@dataclass(frozen=True)
class EvidencePath:
    """The evidence at each λ with σ set to its best value there (the profile over σ)."""

    lams: np.ndarray
    log_evidence: np.ndarray   # nats, log p(y | λ, σ̂(λ))
    noise_sd: np.ndarray       # σ̂(λ)


def evidence_path(X, y, lams, *, noise_sd: float | None = None, fit_intercept: bool = True) -> EvidencePath:
    """The marginal likelihood (evidence) log p(y | λ, σ) for each λ (canonical J convention, λ = σ²/(nτ²)).

    With ``noise_sd`` given, σ is known and τ = σ/√(nλ): the evidence then tells the λ apart sharply.
    Without it, σ is maximized at each λ (the profile below), and with p ≫ n the curve is nearly flat:
    the data pin down σ² + pτ², not the split between them.

    With τ² = σ²/(nλ) the covariance is σ²(I + XXᵀ/(nλ)), so σ has the closed form
    σ̂² = Q/n_eff, Q = Σ cᵢ²/(1 + dᵢ²/(nλ)) + ‖y − UUᵀy‖², and the profile is
    −½[n_eff(log 2πσ̂² + 1) + Σ log(1 + dᵢ²/(nλ))]. The flatness of this curve says how
    much the training data alone can tell apart the λ values.

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,)
        Targets.
    lams : array_like, (L,)
        λ > 0 values in J = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖².
    noise_sd : float, optional
        A known σ; profiled out when None.
    fit_intercept : bool
        Whether a flat intercept is integrated out.

    Returns
    -------
    EvidencePath
        ``lams``, ``log_evidence`` (nats) and ``noise_sd`` (σ used at each λ).
    """
    D = _design(X, y, fit_intercept)
    lams = np.atleast_1d(np.asarray(lams, dtype=float))
    if np.any(~np.isfinite(lams)) or np.any(lams <= 0):
        raise ValueError("evidence_path needs finite λ > 0 (λ = 0 is a flat prior, whose evidence is zero)")
    if noise_sd is not None:
        sigma = as_positive(noise_sd, "noise_sd")
        log_ev = np.array([_log_evidence(D, sigma**2, sigma**2 / (D.n * lam)) for lam in lams])
        return EvidencePath(lams, log_ev, np.full(lams.shape, sigma))
    c = D.U.T @ D.yc
    resid_sq = D.yc @ D.yc - c @ c
    ratio = 1.0 + D.d[None, :] ** 2 / (D.n * lams[:, None])
    q = (c**2 / ratio).sum(axis=1) + resid_sq
    noise_var = q / D.n_eff
    log_ev = -0.5 * (D.n_eff * (_LOG_2PI + np.log(noise_var) + 1) + np.log(ratio).sum(axis=1))
    return EvidencePath(lams, log_ev, np.sqrt(noise_var))


@dataclass(frozen=True)
class EmpiricalBayesFit:
    """Type-II maximum-likelihood noise sd and prior sd, and the λ they imply.

    Attributes
    ----------
    noise_sd, prior_sd : float
        σ and τ at the evidence's maximum.
    lam : float
        λ = σ²/(nτ²) in J = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖² (inf at the boundary).
    log_evidence : float
        log p(y | σ, τ) there.
    effective_params : float
        g, the number of well-determined directions.
    n_iter : int
        Fixed-point iterations taken.
    converged : bool
        Whether the tolerance was met.
    boundary : bool
        True when the evidence peaks at τ → 0.
    """

    noise_sd: float
    prior_sd: float
    lam: float
    log_evidence: float
    effective_params: float
    n_iter: int
    converged: bool = True
    boundary: bool = False      # the evidence peaks at τ → 0: no linear signal found (prior_sd 0, λ = ∞)


def _boundary_fit(D: Design, yy: float, it: int, a1: float, a2: float) -> EmpiricalBayesFit:
    noise_var = (yy + 2 * a2) / (D.n_eff + 2 * a1)
    return EmpiricalBayesFit(float(np.sqrt(noise_var)), 0.0, float("inf"),
                             float(_log_evidence(D, noise_var, 0.0)), 0.0, it, True, boundary=True)


def empirical_bayes(X, y, *, fit_intercept: bool = True, max_iter: int = 1000, tol: float = 1e-10,
                    hyperprior: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
                    n_obs: float | None = None) -> EmpiricalBayesFit:
    """MacKay's fixed point for the prior precision a = 1/τ² and noise precision β = 1/σ².

    g = Σ βdᵢ²/(a + βdᵢ²); a ← (g + 2l₁)/(‖m‖² + 2l₂); β ← (n − g + 2a₁)/(‖y − Xm‖² + 2a₂),
    with Gamma(a₁, a₂) on β and Gamma(l₁, l₂) on a (``hyperprior = (a₁, a₂, l₁, l₂)``,
    scikit-learn ``BayesianRidge``'s alpha_1, alpha_2, lambda_1, lambda_2; zeros = pure
    type-II ML). n counts rows less one when the flat intercept is integrated out.
    The implied λ = σ²/(nτ²) is in the canonical convention of J. When the evidence peaks at the
    boundary τ → 0 (no linear signal: pure noise, a weak or absent effect) the result says so
    (``boundary=True``, ``prior_sd = 0``, ``lam = inf``, σ from the spread of y) instead of NaN.
    A constant y raises a ValueError. ``n_obs`` counts the observations when the rows of ``X`` and ``y``
    were scaled by √weight for frequency weights (their sum; the row count by default).

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,)
        Targets.
    fit_intercept : bool
        Whether a flat intercept is integrated out.
    max_iter : int
        Iteration limit.
    tol : float
        Relative change that stops the iteration.
    hyperprior : tuple of 4 floats
        (a₁, a₂, l₁, l₂); zeros give pure type-II maximum likelihood.
    n_obs : float, optional
        The observation count when rows were scaled by √weight.

    Returns
    -------
    EmpiricalBayesFit
    """
    D = _design(X, y, fit_intercept)
    if n_obs is not None:
        D = replace(D, n=as_positive(n_obs, "n_obs"))
    a1, a2, l1, l2 = hyperprior
    c = D.U.T @ D.yc
    d2 = D.d**2
    yy = D.yc @ D.yc
    if not yy > 0:
        raise ValueError("y is constant: there is no variation to explain, so no noise sd or prior sd can be "
                         "estimated; check the target column")
    y_var = max(float(np.var(D.yc)), np.finfo(float).tiny)
    a, beta = 1.0, 1.0 / y_var  # the same start as scikit-learn
    for it in range(1, max_iter + 1):
        m_coord = beta * D.d * c / (a + beta * d2)           # posterior mean in the V basis
        g = float((beta * d2 / (a + beta * d2)).sum())
        rss = yy - 2 * (m_coord * D.d * c).sum() + (m_coord**2 * d2).sum()
        a_new = (g + 2 * l1) / ((m_coord**2).sum() + 2 * l2)
        beta_new = (D.n_eff - g + 2 * a1) / (rss + 2 * a2)
        if not (np.isfinite(a_new) and np.isfinite(beta_new)) or g < 1e-10 * len(d2):
            # The evidence grows as τ → 0: the data look like noise around their mean. Return that
            # boundary (σ² = ‖y − ȳ‖²/n_eff, τ = 0) instead of iterating into overflow.
            return _boundary_fit(D, yy, it, a1, a2)
        converged = abs(a_new - a) <= tol * a and abs(beta_new - beta) <= tol * beta
        a, beta = a_new, beta_new
        if converged:
            break
    if not converged:
        # MacKay's iteration creeps toward τ → 0 when the evidence is largest there. The boundary is a
        # maximum when the evidence falls as τ² leaves 0 (σ² at its boundary value σ₀²): its derivative
        # there is Σ dⱼ²(cⱼ² − σ₀²)/(2σ₀⁴) ≤ 0; take it when it also beats where the iteration stopped.
        edge = _boundary_fit(D, yy, it, a1, a2)
        falls = float((d2 * (c**2 - edge.noise_sd**2)).sum()) <= 0.0
        if falls and edge.log_evidence >= _log_evidence(D, 1 / beta, 1 / a) - 1e-9 * abs(edge.log_evidence):
            return edge
        warnings.warn(f"empirical_bayes did not converge: the prior and noise precisions still moved by more "
                      f"than tol={tol:g} (relative) after max_iter={max_iter:,} iterations; raise max_iter or tol",
                      ConvergenceWarning, stacklevel=2)
    noise_sd, prior_sd = 1 / np.sqrt(beta), 1 / np.sqrt(a)
    return EmpiricalBayesFit(float(noise_sd), float(prior_sd), float(noise_sd**2 / (D.n * prior_sd**2)),
                             float(_log_evidence(D, 1 / beta, 1 / a)), g, it, converged)
