"""The exact row-space fast path: train r + 1 coordinates instead of p (docs/theory.md §4).

Every gradient of the data term is Xᵀ(residual)/n, a vector in the row space of the
training inputs. With coupled L2 (gradient λw) under SGD, momentum or Nesterov, and with
decoupled decay (w ← w − ηλw) under SGD or momentum, each update is a linear combination of
such vectors and of the iterates themselves. So from a start w₀ every iterate stays in
span(R) ⊕ span(u): R an orthonormal basis of the row space (rank r ≤ n), u the unit
null-space part of w₀ (one per output column). Writing w = R·a[:r] + u·a[r]:

    X·w = (X R)·a[:r]   (X u = 0),     ‖w‖² = ‖a‖²   (R, u orthonormal),

so J(w) is the same PyMC model's J on the reduced design [X R, 0] (n × (r + 1)) with the same
isotropic prior, and the iterates of the reduced problem map to the full ones exactly. Not
for Adam (its per-coordinate scaling is not rotation-invariant) nor for L1 (neither |w|
nor its proximal map is).
"""

from __future__ import annotations

from bayeswd import _jax_setup  # noqa: F401  (float64 before this module makes a JAX array)
import jax.numpy as jnp
import numpy as np

from bayeswd._validate import nonzero_singular

__all__ = ["is_exact", "row_space_basis", "reduce_start", "expand"]


def is_exact(optimizer: str, decay: str, penalty: str, proximal: bool) -> bool:
    """Whether every iterate provably stays in span(R) ⊕ span(u) for these settings."""
    if penalty != "l2" or proximal:
        return False
    if decay == "coupled":
        return optimizer in ("sgd", "momentum", "nesterov")
    return optimizer in ("sgd", "momentum")   # decoupled: w ← w − η(m + λw), still linear in the iterates


def row_space_basis(X) -> np.ndarray:
    """An orthonormal basis R (p × r) of the row space of X, r its numerical rank."""
    X = np.asarray(X, dtype=np.float64)
    _, d, Vt = np.linalg.svd(X, full_matrices=False)
    return np.ascontiguousarray(Vt[nonzero_singular(d, X.shape)].T)


def reduce_start(R, w0):
    """(u, a₀): the unit null-space direction of each column of w₀ (zero where w₀ has none) and
    w₀'s coordinates in [R, u], so that ``expand(R, u, a₀)`` = w₀. Traceable by JAX."""
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
    """w = R·a[:r] + u·a[r] (per output column)."""
    return R @ a[:-1] + u * a[-1]
