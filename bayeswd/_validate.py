"""Input checks done once, at the public boundary.

Every failure is a ``ValueError`` whose message names the problem and the fix.
"""

from __future__ import annotations

import numpy as np


def as_design(X, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite, non-empty float64 matrix of shape (n, p)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}; "
            f"reshape a single feature with {name}.reshape(-1, 1)"
        )
    if X.size == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}); pass at least one row and one column")
    _check_finite(X, name)
    return X


def as_target(y, n_rows: int, name: str = "y") -> np.ndarray:
    """Return ``y`` as finite float64 of shape (n,) or (n, k) matching ``n_rows``."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D (n,) or 2-D (n, k), got shape {y.shape}")
    if y.size == 0:
        raise ValueError(f"{name} is empty; pass one target per row of X")
    if y.shape[0] != n_rows:
        raise ValueError(
            f"X has {n_rows} rows but {name} has {y.shape[0]}; pass one target per row of X"
        )
    _check_finite(y, name)
    return y


def as_Xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = as_design(X)
    return X, as_target(y, X.shape[0])


def as_penalty(lam, name: str = "lam") -> float:
    """Return λ as a float, rejecting negative or non-finite values."""
    try:
        value = float(lam)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {lam!r}") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {lam!r}; use 0 for no penalty")
    return value


def as_penalties(lams, name: str = "lams") -> np.ndarray:
    lams = np.atleast_1d(np.asarray(lams, dtype=np.float64))
    if lams.ndim != 1 or lams.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of penalties")
    if not np.all(np.isfinite(lams)) or np.any(lams < 0):
        raise ValueError(f"{name} must be finite and >= 0; got min {np.nanmin(lams)!r}")
    return lams


def as_positive(value, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def as_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or int(value) != value or int(value) <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def as_choice(value, name: str, allowed) -> str:
    """``value`` if it is one of ``allowed``, else a ValueError listing them."""
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; choose one of {tuple(allowed)}")
    return value


def nonzero_singular(d: np.ndarray, shape: tuple) -> np.ndarray:
    """Mask of the singular values above the numerical-rank cutoff d_max·max(n, p)·eps."""
    return d > d.max() * max(shape) * np.finfo(float).eps


def _check_finite(a: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(
            f"{name} contains {bad} NaN or infinite value(s); drop or impute those rows first"
        )
