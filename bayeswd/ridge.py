"""Closed-form ridge regression with an unpenalized intercept (docs/theory.md §2).

All functions minimize the canonical objective

    J(w, b) = (1/2n) ‖y − Xw − b‖² + (λ/2) ‖w‖²

(scikit-learn ``Ridge(alpha=n·λ)``). At λ = 0 the minimum-norm solution is returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayeswd._design import design
from bayeswd._validate import as_penalties, as_penalty, as_Xy, finite_result

__all__ = ["RidgeFit", "RidgePath", "ridge", "ridge_path", "min_norm", "best_lam", "CRITERIA"]

CRITERIA = ("validation", "loo", "evidence")
SEARCH_LAMS = np.logspace(-8, 6, 281)   # the grid that brackets the continuous optimum (20 points a decade)


@dataclass(frozen=True)
class RidgeFit:
    """``w`` is (p,) or (p, k); ``b`` is a float or (k,).

    Attributes
    ----------
    w : ndarray, (p,) or (p, k)
        The weights.
    b : float or ndarray, (k,)
        The intercept.
    lam : float
        λ of J = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖².
    """

    w: np.ndarray
    b: float | np.ndarray
    lam: float

    def predict(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.w + self.b


@dataclass(frozen=True)
class RidgePath:
    """The ridge solution at every λ of a grid, from one SVD.

    ``w`` is (L, p) or (L, p, k), ``b`` (L,) or (L, k). ``dof`` is tr H of the
    smoother including the intercept; ``loo_mse`` the exact leave-one-out mean
    squared error; ``gcv`` the generalized cross-validation score.

    Attributes
    ----------
    lams : ndarray, (L,)
        The grid of λ (canonical J).
    w : ndarray, (L, p) or (L, p, k)
        The weights at each λ.
    b : ndarray, (L,) or (L, k)
        The intercepts.
    dof : ndarray, (L,)
        Effective degrees of freedom, tr H, intercept included.
    loo_mse : ndarray, (L,)
        Exact leave-one-out MSE (inf where undefined: an interpolating fit).
    gcv : ndarray, (L,)
        Generalized cross-validation score.
    train_mse : ndarray, (L,)
        Training MSE, Σ‖r‖²/(nk).
    """

    lams: np.ndarray
    w: np.ndarray
    b: np.ndarray
    dof: np.ndarray
    loo_mse: np.ndarray
    gcv: np.ndarray
    train_mse: np.ndarray

    @property
    def best_loo_lam(self) -> float:
        return float(self.lams[np.argmin(self.loo_mse)])

    @property
    def best_gcv_lam(self) -> float:
        return float(self.lams[np.argmin(self.gcv)])

    def predict(self, X) -> np.ndarray:
        """Predictions (L, m) or (L, m, k) of every λ on the rows of ``X``."""
        X = np.asarray(X, dtype=np.float64)
        return np.einsum("mp,lp...->lm...", X, self.w) + self.b[:, None]


def _centre(X: np.ndarray, y: np.ndarray):
    x_mean, y_mean = X.mean(axis=0), y.mean(axis=0)
    return X - x_mean, y - y_mean, x_mean, y_mean


def ridge(X, y, lam: float) -> RidgeFit:
    """Minimize J(w, b) = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖² exactly.

    Solves the p×p primal system when n ≥ p and the n×n dual system when p > n;
    λ = 0 gives the minimum-norm least-squares solution. ``y`` may be (n, k).

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,) or (n, k)
        Targets.
    lam : float
        λ ≥ 0 in J(w, b) = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖².

    Returns
    -------
    RidgeFit
    """
    X, y = as_Xy(X, y)
    lam = as_penalty(lam)
    Xc, yc, x_mean, y_mean = _centre(X, y)
    n, p = X.shape
    with np.errstate(over="ignore", invalid="ignore"):   # an overflow is caught below and explained
        if lam == 0:
            w = np.linalg.lstsq(Xc, yc, rcond=None)[0]
        elif n >= p:
            w = np.linalg.solve(Xc.T @ Xc + n * lam * np.eye(p), Xc.T @ yc)
        else:
            w = Xc.T @ np.linalg.solve(Xc @ Xc.T + n * lam * np.eye(n), yc)
        b = y_mean - x_mean @ w
    finite_result(np.append(np.ravel(w), b), "the ridge solution",
                  "rescale X and y (standardize the columns) or use a smaller lam")
    return RidgeFit(w, b if np.ndim(b) else float(b), lam)


def min_norm(X, y) -> RidgeFit:
    """The minimum-norm interpolant: the λ → 0 limit of :func:`ridge`.

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,) or (n, k)
        Targets.

    Returns
    -------
    RidgeFit
        At λ = 0.
    """
    return ridge(X, y, 0.0)


def ridge_path(X, y, lams) -> RidgePath:
    """Ridge solutions, degrees of freedom, exact LOO error and GCV for every λ.

    One thin SVD of the centred X, Xc = U diag(d) Vᵀ, serves the whole grid:
    w_λ = V diag(d/(d² + nλ)) Uᵀyc, H_λ = 11ᵀ/n + U diag(d²/(d² + nλ)) Uᵀ,
    LOO residual eᵢ = (yᵢ − ŷᵢ)/(1 − Hᵢᵢ), GCV = n‖(I − H)y‖² / tr(I − H)².
    Objective: J(w, b) = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖² at each λ.

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,) or (n, k)
        Targets.
    lams : array_like, (L,)
        λ ≥ 0 values in the canonical convention.

    Returns
    -------
    RidgePath
    """
    X, y = as_Xy(X, y)
    lams = as_penalties(lams)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # overflow is caught and explained below
        return _ridge_path(X, y, lams)


def _ridge_path(X, y, lams) -> RidgePath:
    _, yc, x_mean, y_mean = _centre(X, y)
    n = X.shape[0]
    D = design(X)                                          # centring kills one direction; D drops it
    U, d, Vt = D.U, D.d, D.Vt
    c = U.T @ yc                                           # (r,) or (r, k)
    denom = d**2 + n * lams[:, None]                       # (L, r)
    shrink = d**2 / denom                                  # eigenvalues of the centred hat matrix
    coef = d / denom                                       # (L, r)
    if y.ndim == 1:
        w = (coef * c) @ Vt                                # (L, p)
        fitted = (shrink * c) @ U.T                        # (L, n)
    else:
        w = np.einsum("lr,rk,rp->lpk", coef, c, Vt)
        fitted = np.einsum("lr,rk,nr->lnk", shrink, c, U)
    b = y_mean - np.einsum("p,lp...->l...", x_mean, w)
    finite_result(w, "the ridge path", "rescale X and y (standardize the columns) or use smaller lams")
    resid = yc - fitted                                    # (L, n[, k])
    h_diag = 1.0 / n + shrink @ (U**2).T                   # (L, n)
    dof = 1.0 + shrink.sum(axis=1)
    extra = (slice(None), slice(None)) + (None,) * (y.ndim - 1)
    sq_axes = tuple(range(1, resid.ndim))
    rss = (resid**2).sum(axis=sq_axes)
    k = 1 if y.ndim == 1 else y.shape[1]
    # An interpolating fit (λ = 0, p ≥ n) has Hᵢᵢ = 1: leave-one-out and GCV are undefined there.
    leverage_gap = np.where(1.0 - h_diag > 1e-12, 1.0 - h_diag, np.nan)
    loo_mse = ((resid / leverage_gap[extra]) ** 2).mean(axis=sq_axes)
    dof_gap = np.where(n - dof > 1e-12, n - dof, np.nan)
    gcv = n * rss / k / dof_gap**2
    return RidgePath(lams, w, b, dof, np.where(np.isnan(loo_mse), np.inf, loo_mse),
                     np.where(np.isnan(gcv), np.inf, gcv), rss / (n * k))


def best_lam(X, y, criterion: str = "loo", *, X_val=None, y_val=None, noise_sd: float | None = None,
             lams=None) -> float:
    """The λ that optimizes a criterion, as a continuous optimum (not a grid point).

    Objective: J(w, b) = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖². Criteria: ``"validation"``, the MSE of the
    ridge fit on (``X_val``, ``y_val``); ``"loo"``, the exact leave-one-out MSE on the training rows;
    ``"evidence"``, the marginal likelihood (evidence) p(y | λ, σ) with σ = ``noise_sd`` known, or σ
    fitted at each λ when ``noise_sd`` is None (``bayeswd.evidence_path``). The grid ``lams`` (default
    1e-8 … 1e6, 281 points) brackets the best point; bounded Brent in log λ between its neighbours then
    finds the optimum. At a grid end the end is returned: the optimum lies at or beyond it.

    Parameters
    ----------
    X : array_like, (n, p)
        Training inputs.
    y : array_like, (n,) or (n, k)
        Training targets.
    criterion : {"loo", "validation", "evidence"}
        What to optimize.
    X_val, y_val : array_like, optional
        The validation rows (``criterion="validation"`` only).
    noise_sd : float, optional
        A known noise sd for ``criterion="evidence"``; fitted at each λ when None.
    lams : array_like, optional
        The bracketing grid.

    Returns
    -------
    float
        The best λ (canonical J).
    """
    from scipy.optimize import minimize_scalar

    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(map(repr, CRITERIA))}, got {criterion!r}")
    if criterion == "validation" and (X_val is None or y_val is None):
        raise ValueError("criterion='validation' needs X_val and y_val")
    lams = SEARCH_LAMS if lams is None else as_penalties(lams)
    if criterion == "evidence":
        from bayeswd.gaussian import evidence_path

        def loss(grid):
            return -evidence_path(X, y, grid, noise_sd=noise_sd).log_evidence
    elif criterion == "loo":
        def loss(grid):
            return ridge_path(X, y, grid).loo_mse
    else:
        X_val, y_val = as_Xy(X_val, y_val)

        def loss(grid):
            pred = ridge_path(X, y, grid).predict(X_val)
            return np.mean((pred - y_val) ** 2, axis=tuple(range(1, pred.ndim)))
    values = loss(lams)
    i = int(np.argmin(values))
    if i in (0, len(lams) - 1):
        return float(lams[i])
    found = minimize_scalar(lambda t: float(loss(np.array([np.exp(t)]))[0]), method="bounded",
                            bounds=(np.log(lams[i - 1]), np.log(lams[i + 1])), options={"xatol": 1e-12})
    return float(np.exp(found.x)) if found.fun <= values[i] else float(lams[i])
