"""The objective J, its penalty and the soft-threshold, written once for any array library.

The canonical objective of bayeswd (docs/theory.md §1), bias not penalized unless ``decay_bias``::

    J(w, b) = Σᵢ ‖xᵢ·w + b − yᵢ‖² / (2n) + (λ/2)‖w‖²     (prior "gaussian": L2)
    J(w, b) = Σᵢ ‖xᵢ·w + b − yᵢ‖² / (2n) + λ‖w‖₁         (prior "laplace": L1)

Each function takes ``xp``, the array namespace: ``numpy`` (the default) for the closed forms and
the checks made in NumPy, ``jax.numpy`` inside compiled programs. The PyMC model's own J
(:mod:`bayeswd.backend`) is compiled from the model, not from here; ``tests/test_objective.py``
checks the two against each other and the NumPy and JAX forms against each other.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PRIORS", "half_mse", "mse", "penalty", "objective", "soft_threshold"]

# The prior family, and the penalty it is (one table: docs/api.md, "Vocabulary").
PRIORS = {"gaussian": "l2", "laplace": "l1"}


def mse(residual, xp=np, rows=None, axis=None):
    """Σ‖r‖²/n: the mean squared error over ``rows`` rows (default: the residual's first axis).

    ``rows`` is given when ``residual`` is a shorter vector of the same norm (a QR-compressed form),
    or a batch of residuals summed over ``axis``.

    Parameters
    ----------
    residual : array
        Residuals.
    xp : module
        The array library.
    rows : int, optional
        The row count n.
    axis : int or tuple, optional
        Axes summed.

    Returns
    -------
    array
    """
    return xp.sum(residual**2, axis=axis) / (residual.shape[0] if rows is None else rows)


def half_mse(residual, xp=np, rows=None, axis=None):
    """Σ‖r‖²/(2n): J's data term.

    Parameters
    ----------
    residual : array
        Residuals.
    xp : module
        The array library (numpy, jax.numpy).
    rows : int, optional
        The row count n.
    axis : int or tuple, optional
        Axes summed.

    Returns
    -------
    array
    """
    return mse(residual, xp, rows, axis) / 2


def penalty(prior: str, lam, w, b=None, xp=np, axis=None):
    """(λ/2)(‖w‖² + ‖b‖²) for the Gaussian prior, λ(‖w‖₁ + ‖b‖₁) for the Laplace prior.

    ``b`` is penalized only when given (``decay_bias``). ``axis`` sums over those axes only (a
    batch of weight vectors along the others); the default sums everything.

    Parameters
    ----------
    prior : {"gaussian", "laplace"}
        The prior family.
    lam : float or array
        λ.
    w : array
        Weights.
    b : array, optional
        The bias, when penalized.
    xp : module
        The array library.
    axis : int or tuple, optional
        Axes summed.

    Returns
    -------
    array
    """
    parts = [w] if b is None else [w, b]
    if prior == "laplace":
        return lam * sum(xp.sum(xp.abs(v), axis=axis) for v in parts)
    return lam / 2 * sum(xp.sum(v**2, axis=axis) for v in parts)


def objective(params: dict, X, y, lam, prior: str = "gaussian", decay_bias: bool = False, xp=np):
    """J(w, b) at ``params = {"w", "b"}`` on the rows (X, y); λ is the canonical strength.

    Parameters
    ----------
    params : dict
        ``{"w": w, "b": b}``.
    X : array, (n, p)
        Inputs.
    y : array, (n,) or (n, k)
        Targets.
    lam : float or array
        λ.
    prior : {"gaussian", "laplace"}
        The prior family.
    decay_bias : bool
        Whether b is penalized.
    xp : module
        The array library.

    Returns
    -------
    array
        J, a scalar.
    """
    w, b = params["w"], params["b"]
    return half_mse(X @ w + b - y, xp) + penalty(prior, lam, w, b if decay_bias else None, xp)


def soft_threshold(x, t, xp=np):
    """The proximal map of t‖x‖₁: sign(x)·max(|x| − t, 0), elementwise.

    Parameters
    ----------
    x : array
        Values.
    t : float or array
        The threshold.
    xp : module
        The array library.

    Returns
    -------
    array
    """
    return xp.sign(x) * xp.maximum(xp.abs(x) - t, 0.0)
