"""Input checks done once, at the public boundary.

Every failure is a ``ValueError`` whose message names the problem and the fix.
"""

from __future__ import annotations

import numpy as np


def _real_array(a, name: str) -> np.ndarray:
    """float64 array of ``a``; complex, text or object input is a ValueError naming ``name``."""
    if np.iscomplexobj(a):
        raise ValueError(f"{name} is complex; pass real numbers (take .real or abs first)")
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers, got {type(a).__name__}") from None


def as_design(X, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite, non-empty float64 matrix of shape (n, p)."""
    X = _real_array(X, name)
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
    y = _real_array(y, name)
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


def _real_number(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_, str, bytes)) or np.iscomplexobj(value):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None


def as_penalty(lam, name: str = "lam") -> float:
    """Return λ as a float, rejecting negative or non-finite values."""
    value = _real_number(lam, name)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {lam!r}; use 0 for no penalty")
    return value


def as_penalties(lams, name: str = "lams") -> np.ndarray:
    lams = np.atleast_1d(_real_array(lams, name))
    if lams.ndim != 1 or lams.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of penalties")
    if not np.all(np.isfinite(lams)) or np.any(lams < 0):
        raise ValueError(f"{name} must be finite and >= 0; got min {np.nanmin(lams)!r}")
    return lams


def as_positive(value, name: str) -> float:
    value = _real_number(value, name)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def as_positive_int(value, name: str) -> int:
    return as_count(value, name, low=1)


def as_count(value, name: str, low: int = 0, high: int | None = None) -> int:
    """An integer in [low, high]; None, text, floats with a fraction, inf and NaN are ValueErrors naming ``name``."""
    try:
        ok = not isinstance(value, (bool, np.bool_, str, bytes)) and int(value) == value
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or int(value) < low or (high is not None and int(value) > high):
        bound = ({1: "a positive integer", 0: "a non-negative integer"}.get(low, f"an integer ≥ {low}")
                 if high is None else f"an integer from {low} to {high:,}")
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return int(value)


def as_finite(value, name: str) -> float:
    """A finite real number."""
    value = _real_number(value, name)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def as_fraction(value, name: str) -> float:
    """A real number in [0, 1) (a momentum, a share of rows)."""
    value = as_finite(value, name)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return value


def as_flag(value, name: str) -> bool:
    """True or False only: 'no' or 0 would pass a plain truth test."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def finite_result(values, what: str, fix: str):
    """``values`` unchanged when all finite; else a ValueError saying what overflowed and what to change."""
    if not np.all(np.isfinite(np.asarray(values, dtype=np.float64))):
        raise ValueError(f"{what} overflowed to inf or NaN in float64; {fix}")
    return values


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
