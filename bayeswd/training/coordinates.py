"""The coordinates a sweep trains: all p weights, or the exact row-space path (docs/theory.md §4).

Every gradient of the data term is Xᵀ(residual)/n, a vector in the row space of the
training inputs. With coupled L2 (gradient λw) under SGD, momentum or Nesterov, and with
decoupled decay (w ← w − ηλw) under SGD or momentum, each update is a linear combination of
such vectors and of the iterates themselves. So from a start w₀ every iterate stays in
span(R) ⊕ span(u): R an orthonormal basis of the row space (rank r ≤ n), u the unit
null-space part of w₀ (one per output column). Writing w = R·a[:r] + u·a[r]:

    X·w = (X R)·a[:r]   (X u = 0),     ‖w‖² = ‖a‖²   (R, u orthonormal),

so J(w) is the same PyMC model's J on the reduced design [X R, 0] (n × (r + 1)) with the same
isotropic prior, and the iterates of the reduced problem map to the full ones exactly.
(:func:`~bayeswd.training.optimizers.keeps_row_space` says where this holds.)

A strategy has four steps, so the compiled program is one function for both:
``prepare(data, basis)`` (once per sweep: ``"X"`` the trained design, and what every start shares),
``start(shared, start, data, basis)`` (a start's trained coordinates and the frame evaluating them
needs), ``evaluate(shared, frame, params, lam, data)`` (one epoch's history) and
``expand(frame, coords, basis)`` (back to w).
"""

from __future__ import annotations

from bayeswd import _jax_setup  # noqa: F401  (float64 before this module makes a JAX array)
import jax.numpy as jnp
import numpy as np

from bayeswd._design import design
from bayeswd.objective import mse, penalty

__all__ = ["METRICS", "Full", "RowSpace", "for_spec", "history", "row_space_basis", "reduce_start", "expand"]

# Per-epoch history: the MSE Σ‖r‖²/n and J on both row sets, ‖w‖ and ‖w‖²/2 (what d2l prints).
METRICS = ("train_mse", "train_objective", "val_mse", "val_objective", "w_norm", "l2_penalty")
# Model-epochs per start from which the row-space path evaluates the validation loss through a QR factor.
COMPACT_VALIDATION_AFTER = 64


def history(train_residual, val_residual, w_sq, penalty_value, val_rows: int | None = None) -> dict:
    """One epoch's entries of :data:`METRICS` from the residuals, ‖w‖² and the penalty (in J's units).

    ``val_rows`` is the number of validation rows when ``val_residual`` is a shorter vector of the
    same norm (the row-space path's QR form).
    """
    train_mse, val_mse = mse(train_residual, jnp), mse(val_residual, jnp, val_rows)
    # J's data term is half the MSE: one reduction per row set
    return {"train_mse": train_mse, "train_objective": train_mse / 2 + penalty_value, "val_mse": val_mse,
            "val_objective": val_mse / 2 + penalty_value, "w_norm": jnp.sqrt(w_sq), "l2_penalty": w_sq / 2}


def _penalty(spec, params, lam):
    return penalty(spec.prior, lam, params["w"], params["b"] if spec.decay_bias else None, jnp)


class Full:
    """Train every weight: the design as given, the start as drawn.

    Parameters
    ----------
    spec : Spec
        The program's spec.
    """

    def __init__(self, spec):
        self.spec = spec

    def prepare(self, data, basis) -> dict:
        return {"X": data[0]}

    def start(self, shared, start: dict, data, basis):
        return start, None

    def evaluate(self, shared, frame, params, lam, data):
        _, y, X_val, y_val = data
        w, b = params["w"], params["b"]
        return history(shared["X"] @ w + b - y, X_val @ w + b - y_val, jnp.sum(w**2), _penalty(self.spec, params, lam))

    def expand(self, frame, coords, basis):
        return coords


class RowSpace:
    """Train a = (R·, u·) coordinates: r + 1 per output instead of p (``compact``: validation by QR).

    Parameters
    ----------
    spec : Spec
        The program's spec (``p`` = r + 1).
    compact : bool
        Evaluate validation rows through a QR of their projection.
    """

    def __init__(self, spec, compact: bool = False):
        self.spec, self.compact = spec, compact

    def prepare(self, data, basis) -> dict:
        X, X_val = data[0], data[2]
        # The reduced design [X R, 0]: the null column is exactly zero since X u = 0.
        return {"X": jnp.concatenate([X @ basis, jnp.zeros((X.shape[0], 1))], axis=1), "val_rows": X_val @ basis}

    def start(self, shared, start: dict, data, basis):
        X_val, y_val = data[2], data[3]
        u, a0 = reduce_start(basis, start["w"])
        val_rows, val_null = shared["val_rows"], X_val @ u
        frame = {"u": u, "val_null": val_null}
        if self.compact:
            # ‖[X_val R, X_val u, 1, y_val]·z‖ = ‖T z‖ with T the QR factor: (r + 3)² flops per
            # epoch instead of m·(r + 1), as stable as the residual itself (Q is orthogonal).
            design = jnp.concatenate([val_rows, val_null[:, None], jnp.ones((len(y_val), 1)), y_val[:, None]], 1)
            frame["T"] = jnp.linalg.qr(design, mode="r")
        return {"w": a0, "b": start["b"]}, frame

    def evaluate(self, shared, frame, params, lam, data):
        y, y_val = data[1], data[3]
        a, b = params["w"], params["b"]
        if self.compact:
            val_residual = frame["T"] @ jnp.concatenate([a, b[None], -jnp.ones(1)])
        else:
            val_residual = shared["val_rows"] @ a[:-1] + frame["val_null"] * a[-1] + b - y_val
        return history(shared["X"] @ a + b - y, val_residual, jnp.sum(a**2), _penalty(self.spec, params, lam),
                       val_rows=len(y_val))

    def expand(self, frame, coords, basis):
        return expand(basis, frame["u"], coords)


def for_spec(spec, n_lam: int):
    """The strategy of ``spec.coordinates``; the row-space path compresses validation when one output
    and many λ·epochs per start make the per-start QR pay for itself."""
    if spec.coordinates == "row_space":
        return RowSpace(spec, compact=spec.k is None and n_lam * spec.epochs >= COMPACT_VALIDATION_AFTER)
    return Full(spec)


def row_space_basis(X) -> np.ndarray:
    """An orthonormal basis R (p × r) of the row space of X, r its numerical rank.

    Parameters
    ----------
    X : array_like, (n, p)
        Training inputs (centred or not, as the program trains them).

    Returns
    -------
    ndarray, (p, r)
    """
    return np.ascontiguousarray(design(X, centre=False).V)


def reduce_start(R, w0):
    """(u, a₀): the unit null-space direction of each column of w₀ (zero where w₀ has none) and
    w₀'s coordinates in [R, u], so that ``expand(R, u, a₀)`` = w₀. Traceable by JAX.

    Parameters
    ----------
    R : array, (p, r)
        The row-space basis.
    w0 : array, (p,) or (p, k)
        The start.

    Returns
    -------
    u : array
        The unit null-space direction.
    a0 : array
        The start's coordinates.
    """
    row = R.T @ w0
    first = w0 - R @ row
    null = first - R @ (R.T @ first)
    # A second pass keeps u orthogonal to R ("twice is enough"). If it shrank the vector a lot,
    # the first was rounding noise (no null part above rounding, or no null space at all): no u.
    norm_first, norm = (jnp.sqrt(jnp.sum(v**2, axis=0)) for v in (first, null))
    genuine = norm > 0.5 * norm_first
    u = jnp.where(genuine, null / jnp.where(genuine, norm, 1.0), 0.0)
    a0 = jnp.concatenate([row, jnp.sum(u * w0, axis=0)[None]], axis=0)
    return u, a0


def expand(R, u, a):
    """w = R·a[:r] + u·a[r] (per output column).

    Parameters
    ----------
    R : array, (p, r)
        The row-space basis.
    u : array, (p,) or (p, k)
        The start's unit null-space direction.
    a : array, (r + 1,) or (r + 1, k)
        Coordinates.

    Returns
    -------
    array, (p,) or (p, k)
        The weights.
    """
    return R @ a[:-1] + u * a[-1]
