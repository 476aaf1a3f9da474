"""The lasso by proximal gradient (FISTA): the Laplace-prior MAP with exact zeros.

Minimizes scikit-learn's ``Lasso`` objective, intercept unpenalized,

    L(w, b) = (1/2n) ‖y − Xw − b‖² + α ‖w‖₁,

which is the MAP of a Laplace(0, s) prior with α = σ²/(n s) (docs/theory.md §1, §6).
Stops on a relative duality gap, so the objective is certified, not just stalled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import warnings

from bayeswd._validate import as_penalty, as_positive_int, as_Xy
from bayeswd.exceptions import ConvergenceWarning
from bayeswd.objective import objective, soft_threshold

__all__ = ["LassoFit", "lasso", "lasso_objective"]


@dataclass(frozen=True)
class LassoFit:
    """The lasso solution and how it was reached.

    Attributes
    ----------
    w : ndarray, (p,)
        The weights, with exact zeros.
    b : float
        The intercept.
    alpha : float
        α of J = (1/2n)‖y − Xw − b‖² + α‖w‖₁.
    objective : float
        J at (w, b).
    duality_gap : float
        The final duality gap (an upper bound on J − min J).
    n_iter : int
        FISTA iterations taken.
    converged : bool
        Whether the gap fell below its tolerance before ``max_iter``.
    """

    w: np.ndarray
    b: float
    alpha: float
    objective: float
    duality_gap: float
    n_iter: int
    converged: bool = True

    @property
    def support(self) -> np.ndarray:
        return np.flatnonzero(self.w)

    def predict(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.w + self.b


def lasso_objective(X, y, w, b, alpha: float) -> float:
    """(1/2n)‖y − Xw − b‖² + α‖w‖₁: J of :mod:`bayeswd.objective` with the Laplace prior.

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,)
        Targets.
    w : array_like, (p,)
        Weights.
    b : float
        Intercept.
    alpha : float
        The L1 strength α.

    Returns
    -------
    float
    """
    return float(objective({"w": w, "b": b}, X, y, alpha, prior="laplace"))


def lasso(X, y, alpha: float, *, tol: float = 1e-12, max_iter: int = 200_000) -> LassoFit:
    """Minimize (1/2n)‖y − Xw − b‖² + α‖w‖₁ by FISTA with adaptive restart.

    The intercept is removed by centring; the loop stops when the duality gap is
    below ``tol`` × the objective. α = 0 is ordinary least squares (minimum norm).
    Reaching ``max_iter`` first gives a :class:`~bayeswd.exceptions.ConvergenceWarning`
    and ``converged=False``.

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,)
        Targets.
    alpha : float
        α ≥ 0 in J = (1/2n)‖y − Xw − b‖² + α‖w‖₁ (scikit-learn ``Lasso(alpha)``).
    tol : float
        Relative duality-gap tolerance.
    max_iter : int
        Iteration limit; reaching it warns (:class:`~bayeswd.exceptions.ConvergenceWarning`).

    Returns
    -------
    LassoFit
    """
    X, y = as_Xy(X, y)
    if y.ndim != 1:
        raise ValueError("lasso takes one target y of shape (n,); fit each column separately")
    alpha = as_penalty(alpha, "alpha")
    max_iter = as_positive_int(max_iter, "max_iter")
    n, p = X.shape
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    if alpha == 0:
        w = np.linalg.lstsq(Xc, yc, rcond=None)[0]
        return LassoFit(w, float(y_mean - x_mean @ w), 0.0, lasso_objective(Xc, yc, w, 0.0, 0.0), 0.0, 0)
    step = n / np.linalg.norm(Xc, 2) ** 2          # 1/L, L the Lipschitz constant of the smooth part
    w = np.zeros(p)
    z, t = w.copy(), 1.0
    gap, primal = np.inf, np.inf
    for it in range(1, max_iter + 1):
        grad = Xc.T @ (Xc @ z - yc) / n
        w_new = soft_threshold(z - step * grad, step * alpha)
        t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
        momentum = (t - 1) / t_new
        if (z - w_new) @ (w_new - w) > 0:          # O'Donoghue–Candès restart: the step went uphill
            momentum, t_new = 0.0, 1.0
        z = w_new + momentum * (w_new - w)
        w, t = w_new, t_new
        if it % 10 == 0 or it == max_iter:
            gap, primal = _duality_gap(Xc, yc, w, alpha)
            if gap <= tol * max(primal, np.finfo(float).tiny):
                break
    converged = bool(gap <= tol * max(primal, np.finfo(float).tiny))
    if not converged:
        warnings.warn(f"lasso did not converge: duality gap {gap:.3g} is above tol·objective = "
                      f"{tol * primal:.3g} after max_iter={max_iter:,} iterations; raise max_iter or tol",
                      ConvergenceWarning, stacklevel=2)
    primal = lasso_objective(Xc, yc, w, 0.0, alpha)
    return LassoFit(w, float(y_mean - x_mean @ w), alpha, primal, float(gap), it, converged)


def _duality_gap(Xc, yc, w, alpha):
    """Primal minus the dual value at the rescaled residual (a feasible dual point)."""
    n = len(yc)
    r = yc - Xc @ w
    primal = r @ r / (2 * n) + alpha * np.abs(w).sum()
    scale = min(1.0, n * alpha / max(np.abs(Xc.T @ r).max(), np.finfo(float).tiny))
    theta = scale * r / n
    dual = theta @ yc - n * theta @ theta / 2
    return primal - dual, primal
