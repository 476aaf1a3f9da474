"""Risk curves: asymptotic (Marchenko–Pastur) and exact early-stopping vs ridge (docs/theory.md §5).

Ridge here is in the canonical (mean) form: it minimizes J(w) = (1/2n)‖y − Xw‖² + (λ/2)‖w‖².
Excess risk means E_x[(x·(ŵ − w*))²] = ‖ŵ − w*‖² for isotropic x.
"""

from __future__ import annotations

import numpy as np

from bayeswd._design import design
from bayeswd._validate import as_design, as_penalty, as_positive
from bayeswd.streams import stream

__all__ = ["min_norm_risk", "ridge_risk_asymptotic", "optimal_lam", "ridge_risk_exact", "gradient_flow_risk_exact",
           "early_stopping_ratio_bound", "monte_carlo_risk"]


def min_norm_risk(gamma: float, r2: float, noise_var: float) -> float:
    """Asymptotic excess risk of the minimum-norm least-squares estimator, γ = p/n.

    σ²γ/(1 − γ) for γ < 1; r²(1 − 1/γ) + σ²/(γ − 1) for γ > 1 (Hastie et al. 2022).

    Parameters
    ----------
    gamma : float
        p/n.
    r2 : float
        ‖w*‖².
    noise_var : float
        σ².

    Returns
    -------
    float
    """
    gamma = as_positive(gamma, "gamma")
    if gamma < 1:
        return noise_var * gamma / (1 - gamma)
    if gamma == 1:
        return float("inf")
    return r2 * (1 - 1 / gamma) + noise_var / (gamma - 1)


def _stieltjes(gamma: float, lam: float) -> tuple[float, float]:
    """m(−λ) of the Marchenko–Pastur law with ratio γ and its derivative m′."""
    a = 1 - gamma + lam
    m = (-a + np.sqrt(a * a + 4 * gamma * lam)) / (2 * gamma * lam)
    m_prime = (gamma * m * m + m) / (2 * gamma * lam * m + a)
    return m, m_prime


def ridge_risk_asymptotic(gamma: float, lam: float, r2: float, noise_var: float) -> float:
    """R(λ) = r²λ²m′ + σ²γ(m − λm′) for ridge minimizing J = (1/2n)‖y − Xw‖² + (λ/2)‖w‖².

    Parameters
    ----------
    gamma : float
        p/n.
    lam : float
        λ.
    r2 : float
        ‖w*‖².
    noise_var : float
        σ².

    Returns
    -------
    float
    """
    lam = as_positive(lam, "lam")
    m, mp = _stieltjes(as_positive(gamma, "gamma"), lam)
    return float(r2 * lam**2 * mp + noise_var * gamma * (m - lam * mp))


def optimal_lam(gamma: float, r2: float, noise_var: float) -> float:
    """λ* = σ²γ/r², the Bayes-optimal penalty (= σ²/(nτ²) with τ² = r²/p).

    Parameters
    ----------
    gamma : float
        p/n.
    r2 : float
        ‖w*‖².
    noise_var : float
        σ².

    Returns
    -------
    float
    """
    return noise_var * gamma / r2


def _centred_spectrum(X):
    D = design(as_design(X))
    return D.n, D.d**2 / D.n, D.Vt


def ridge_risk_exact(X, w_true, noise_sd: float, lam: float) -> float:
    """E_ε‖ŵ_λ − w*‖² for fixed X (centred) and w*: bias² + variance, per eigen-direction.

    ŵ minimizes J = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖²; sᵢ are the eigenvalues of XcᵀXc/n.

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    w_true : array_like, (p,)
        w*.
    noise_sd : float
        σ.
    lam : float
        λ.

    Returns
    -------
    float
    """
    n, s, Vt = _centred_spectrum(X)
    lam = as_penalty(lam)
    proj = Vt @ w_true
    null_sq = float(w_true @ w_true - proj @ proj)
    bias = np.sum((lam / (s + lam)) ** 2 * proj**2) + null_sq
    var = noise_sd**2 / n * np.sum(s / (s + lam) ** 2)
    return float(bias + var)


def gradient_flow_risk_exact(X, w_true, noise_sd: float, t: float) -> float:
    """E_ε‖w(t) − w*‖² for gradient flow on (1/2n)‖y − Xw − b‖² from w = 0, at time t.

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    w_true : array_like, (p,)
        w*.
    noise_sd : float
        σ.
    t : float
        Time.

    Returns
    -------
    float
    """
    n, s, Vt = _centred_spectrum(X)
    proj = Vt @ w_true
    null_sq = float(w_true @ w_true - proj @ proj)
    decay = np.exp(-s * t)
    bias = np.sum(decay**2 * proj**2) + null_sq
    var = noise_sd**2 / n * np.sum((1 - decay) ** 2 / s)
    return float(bias + var)


def early_stopping_ratio_bound() -> float:
    """max over x > 0 of [(1 − e⁻ˣ)(1 + x)/x]² = 1.68591 at x ≈ 1.793 (Ali, Kolter & Tibshirani 2019 quote 1.6862).

    Returns
    -------
    float
    """
    from scipy.optimize import minimize_scalar

    ratio = lambda x: -(((1 - np.exp(-x)) * (1 + x) / x) ** 2)  # noqa: E731
    return float(-minimize_scalar(ratio, bounds=(0.1, 10.0), method="bounded", options={"xatol": 1e-12}).fun)


def monte_carlo_risk(gamma: float, n: int, lam: float | None, r2: float, noise_var: float, *, reps: int = 20,
                     seed: int = 0) -> tuple[float, float]:
    """Mean and standard error over ``reps`` draws of the excess risk ‖ŵ − w*‖².

    x ~ N(0, I_p), p = γn, w* uniform on the sphere of radius r, no intercept; ŵ is
    ridge (mean form, λ) or the minimum-norm solution when ``lam`` is None.

    Parameters
    ----------
    gamma : float
        p/n.
    n : int
        Rows.
    lam : float or None
        λ, or None for the minimum-norm solution.
    r2 : float
        ‖w*‖².
    noise_var : float
        σ².
    reps : int
        Draws.
    seed : int
        The run's seed.

    Returns
    -------
    mean : float
    se : float
    """
    rng = stream(seed, "simulation")
    p = int(round(gamma * n))
    risks = []
    for _ in range(reps):
        X = rng.standard_normal((n, p))
        w_true = rng.standard_normal(p)
        w_true *= np.sqrt(r2) / np.linalg.norm(w_true)
        y = X @ w_true + np.sqrt(noise_var) * rng.standard_normal(n)
        if lam is None:
            w = np.linalg.lstsq(X, y, rcond=None)[0]
        elif p > n:
            w = X.T @ np.linalg.solve(X @ X.T + n * lam * np.eye(n), y)
        else:
            w = np.linalg.solve(X.T @ X + n * lam * np.eye(p), X.T @ y)
        risks.append(np.sum((w - w_true) ** 2))
    risks = np.asarray(risks)
    return float(risks.mean()), float(risks.std(ddof=1) / np.sqrt(reps))
