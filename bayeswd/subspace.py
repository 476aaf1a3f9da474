"""Row space and null space of the training inputs (THEORY.md §4).

Every gradient of the data term is a combination of the training rows as they
are (uncentred, because the bias column is part of the model). So gradient
descent moves w only inside the row space of X; the null-space part of the
initialization is untouched at λ = 0 and only shrunk by the decay at λ > 0.
All functions here concern J(w, b) = Σ‖r‖²/(2n) + (λ/2)‖w‖².
"""

from __future__ import annotations

import numpy as np

from bayeswd._validate import as_design, as_penalty, as_positive

__all__ = ["decompose", "row_space_projector", "null_space_factor", "gd_trajectory", "interpolant_from"]


def row_space_projector(X) -> np.ndarray:
    """P = X⁺X, the orthogonal projector onto the span of the rows of ``X`` (p×p)."""
    X = as_design(X)
    _, d, Vt = np.linalg.svd(X, full_matrices=False)
    V = Vt[d > d.max() * max(X.shape) * np.finfo(float).eps].T
    return V @ V.T


def decompose(w, X) -> tuple[np.ndarray, np.ndarray]:
    """Split ``w`` (p,) or (p, k) into (row-space part P w, null-space part (I − P) w)."""
    X = as_design(X)
    w = np.asarray(w, dtype=np.float64)
    if w.shape[0] != X.shape[1]:
        raise ValueError(f"w has {w.shape[0]} entries but X has {X.shape[1]} columns; pass w for these features")
    row = row_space_projector(X) @ w
    return row, w - row


def null_space_factor(lr: float, lam: float, steps: int, momentum: float = 0.0) -> float:
    """The factor c with (I − P) w_T = c · (I − P) w₀ after ``steps`` SGD steps with coupled L2.

    Plain SGD: c = (1 − ηλ)^T, for any minibatch order. Heavy-ball momentum β (optax
    ``trace``: v ← βv + g, w ← w − ηv) runs the null part through the linear recurrence
    (u, v) ← [[1 − ηλ, −ηβ], [λ, β]] (u, v) from v₀ = 0, so c = (M^T)₀₀; it equals
    (1 − ηλ)^T only when λ = 0 (then c = 1) or β = 0.
    """
    lr, lam = as_positive(lr, "lr"), as_penalty(lam)
    M = np.array([[1 - lr * lam, -lr * momentum], [lam, momentum]])
    return float(np.linalg.matrix_power(M, int(steps))[0, 0])


def gd_trajectory(X, y, lam: float, lr: float, steps: int, w0, b0: float = 0.0):
    """The full-batch GD iterates on J in closed form: θ_t = θ* + (I − ηH)^t (θ₀ − θ*).

    θ = (w, b), H = [X, 1]ᵀ[X, 1]/n + λ·diag(1, …, 1, 0). At λ = 0, θ* is the
    minimum-norm interpolant and the component of θ₀ outside the row space of
    [X, 1] stays, exactly. Returns (w_t, b_t) for t = 0 … steps, shapes (steps+1, p) and (steps+1,).
    """
    X = as_design(X)
    y = np.asarray(y, dtype=np.float64)
    n, p = X.shape
    lam, lr = as_penalty(lam), as_positive(lr, "lr")
    Xa = np.column_stack([X, np.ones(n)])
    H = Xa.T @ Xa / n + lam * np.diag(np.r_[np.ones(p), 0.0])
    g0 = Xa.T @ y / n                                    # ∇J = Hθ − Xaᵀy/n
    evals, evecs = np.linalg.eigh(H)
    theta0 = np.r_[np.asarray(w0, dtype=np.float64), b0]
    coef0 = evecs.T @ theta0
    target = evecs.T @ g0
    positive = evals > evals.max() * 1e-12
    star = np.where(positive, target / np.where(positive, evals, 1.0), 0.0)
    t = np.arange(steps + 1)[:, None]
    decay = (1 - lr * evals) ** t
    # Along zero-curvature directions GD does not move (the gradient has no component there).
    coef = np.where(positive, star + decay * (coef0 - star), coef0)
    theta = coef @ evecs.T
    return theta[:, :p], theta[:, p]


def interpolant_from(X, y, w0, b0: float = 0.0) -> tuple[np.ndarray, float]:
    """Where λ = 0 gradient descent from (w₀, b₀) converges: the min-norm solution of
    [X, 1]θ = y plus the part of (w₀, b₀) outside the row space of [X, 1]."""
    X = as_design(X)
    Xa = np.column_stack([X, np.ones(len(X))])
    theta0 = np.r_[np.asarray(w0, dtype=np.float64), b0]
    pinv = np.linalg.pinv(Xa)
    theta = pinv @ np.asarray(y, dtype=np.float64) + theta0 - pinv @ (Xa @ theta0)
    return theta[:-1], float(theta[-1])
