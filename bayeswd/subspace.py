"""Row space and null space of the training inputs (docs/theory.md §4).

Every gradient of the data term is a combination of the training rows as they
are (uncentred, because the bias column is part of the model). So gradient
descent moves w only inside the row space of X; the null-space part of the
initialization is untouched at λ = 0 and only shrunk by the decay at λ > 0.
All functions here concern J(w, b) = Σ‖r‖²/(2n) + (λ/2)‖w‖².
"""

from __future__ import annotations

import numpy as np

from bayeswd._design import design
from bayeswd._validate import as_design, as_penalty, as_positive

__all__ = ["decompose", "row_space_projector", "null_space_factor", "gd_trajectory", "interpolant_from",
           "excess_risk", "init_risk", "explain_run"]


def row_space_projector(X) -> np.ndarray:
    """P = X⁺X, the orthogonal projector onto the span of the rows of ``X`` (p×p).

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.

    Returns
    -------
    ndarray, (p, p)
    """
    V = design(as_design(X), centre=False).V
    return V @ V.T


def decompose(w, X) -> tuple[np.ndarray, np.ndarray]:
    """Split ``w`` (p,) or (p, k) into (row-space part P w, null-space part (I − P) w).

    Parameters
    ----------
    w : array_like, (p,) or (p, k)
        Weights.
    X : array_like, (n, p)
        The inputs whose row space splits ``w``.

    Returns
    -------
    row : ndarray
        P w.
    null : ndarray
        (I − P) w.
    """
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

    Parameters
    ----------
    lr : float
        The step η on J.
    lam : float
        λ of J = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖² (coupled).
    steps : int
        Steps T.
    momentum : float
        Heavy-ball β (0: plain SGD).

    Returns
    -------
    float
        c.
    """
    lr, lam = as_positive(lr, "lr"), as_penalty(lam)
    M = np.array([[1 - lr * lam, -lr * momentum], [lam, momentum]])
    return float(np.linalg.matrix_power(M, int(steps))[0, 0])


def gd_trajectory(X, y, lam: float, lr: float, steps: int, w0, b0: float = 0.0):
    """The full-batch GD iterates on J in closed form: θ_t = θ* + (I − ηH)^t (θ₀ − θ*).

    θ = (w, b), H = [X, 1]ᵀ[X, 1]/n + λ·diag(1, …, 1, 0). At λ = 0, θ* is the
    minimum-norm interpolant and the component of θ₀ outside the row space of
    [X, 1] stays, exactly. Returns (w_t, b_t) for t = 0 … steps, shapes (steps+1, p) and (steps+1,).

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,)
        Targets.
    lam : float
        λ of J = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖².
    lr : float
        The step η.
    steps : int
        Steps.
    w0 : array_like, (p,)
        The start's weights.
    b0 : float
        The start's intercept.

    Returns
    -------
    w : ndarray, (steps + 1, p)
    b : ndarray, (steps + 1,)
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
    [X, 1]θ = y plus the part of (w₀, b₀) outside the row space of [X, 1].

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,)
        Targets.
    w0 : array_like, (p,)
        The start's weights.
    b0 : float
        The start's intercept.

    Returns
    -------
    w : ndarray, (p,)
    b : float
    """
    X = as_design(X)
    Xa = np.column_stack([X, np.ones(len(X))])
    theta0 = np.r_[np.asarray(w0, dtype=np.float64), b0]
    pinv = np.linalg.pinv(Xa)
    theta = pinv @ np.asarray(y, dtype=np.float64) + theta0 - pinv @ (Xa @ theta0)
    return theta[:-1], float(theta[-1])


def _augmented_projector(X) -> np.ndarray:
    Xa = np.column_stack([X, np.ones(len(X))])
    return np.linalg.pinv(Xa) @ Xa


def excess_risk(w, b, w_true, b_true) -> float:
    """E_x[(x·w + b − x·w* − b*)²] for x ~ N(0, I): ‖w − w*‖² + (b − b*)² (validation MSE − σ²).

    Parameters
    ----------
    w : array_like, (p,)
        Weights.
    b : float
        Intercept.
    w_true : array_like, (p,)
        True weights.
    b_true : float
        True intercept.

    Returns
    -------
    float
    """
    return float(np.sum((np.asarray(w) - w_true) ** 2) + (b - b_true) ** 2)


def init_risk(X, y, w_true, b_true, init_var_w: float, init_var_b: float = 0.0) -> tuple[float, float]:
    """Expected excess risk of λ = 0 gradient descent run to convergence from a random start.

    The limit is θ_mn + (I − P_a)θ₀ with P_a the row-space projector of [X, 1]; for
    θ₀ with independent zero-mean entries (variance s_w² on w, s_b² on b) the cross term
    vanishes in expectation, so E risk = R_min-norm + s_w²·tr[(I − P_a)_ww] + s_b²·(I − P_a)_bb
    — docs/theory.md §4: R_mn + s₀²(p − rank X), exactly, bias column included.
    Returns (R_min-norm, expected risk).

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,)
        Targets.
    w_true : array_like, (p,)
        True weights.
    b_true : float
        True intercept.
    init_var_w, init_var_b : float
        Variances of the start's weights and intercept.

    Returns
    -------
    min_norm_risk : float
    expected_risk : float
    """
    X = as_design(X)
    w_mn, b_mn = interpolant_from(X, y, np.zeros(X.shape[1]), 0.0)
    base = excess_risk(w_mn, b_mn, w_true, b_true)
    Q = np.eye(X.shape[1] + 1) - _augmented_projector(X)
    # (I − P_a) is a projector: E‖(I − P_a)θ₀‖² = Σ_j var_j (I − P_a)_jj, and its w-block feeds the risk
    # through both w and b coordinates of the limit.
    var = np.r_[np.full(X.shape[1], init_var_w), init_var_b]
    return base, float(base + np.sum(var * np.diag(Q)))


def explain_run(w, b, w0, X, w_true, b_true) -> dict:
    """Split a trained run's excess risk by where the error lives.

    Returns ‖P(w − w*)‖² (row space: what the data can fix), ‖(I − P)(w − w*)‖²
    (null space: only the init and the decay act there), ‖(I − P)w₀‖² and
    ‖(I − P)w*‖² (the part of the truth no gradient can reach), P = X⁺X.

    Parameters
    ----------
    w : array_like, (p,)
        Trained weights.
    b : float
        Trained intercept.
    w0 : array_like, (p,)
        The start.
    X : array_like, (n, p)
        Training inputs.
    w_true : array_like, (p,)
        True weights.
    b_true : float
        True intercept.

    Returns
    -------
    dict
        ``excess_risk``, ``row_error_sq``, ``null_error_sq``, ``bias_error_sq``, ``init_null_sq`` and
        ``truth_null_sq``.
    """
    P = row_space_projector(X)
    err = np.asarray(w) - w_true
    null_err = err - P @ err
    null_w0 = np.asarray(w0) - P @ np.asarray(w0)
    null_true = np.asarray(w_true) - P @ np.asarray(w_true)
    return {"excess_risk": excess_risk(w, b, w_true, b_true), "row_error_sq": float(np.sum((P @ err) ** 2)),
            "null_error_sq": float(null_err @ null_err), "bias_error_sq": float((b - b_true) ** 2),
            "init_null_sq": float(null_w0 @ null_w0), "truth_null_sq": float(null_true @ null_true)}
