"""The one SVD of a design, centred or not, with its null directions dropped.

Every closed form (:mod:`bayeswd.ridge`, :mod:`bayeswd.gaussian`, :mod:`bayeswd.theory`), the NUTS
bases of :mod:`bayeswd.samplers` and the row-space path of training take their factorization here:

    X − x̄ = U diag(d) Vᵀ      (``centre=True``; x̄ = 0 when ``centre=False``)

with only the r singular values above the numerical-rank cutoff kept (``nonzero_singular``). ``full``
keeps V square (p × p): its first r columns span the row space, the others complete an orthonormal
basis (what a sampler in the SVD basis needs for the null directions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayeswd._validate import nonzero_singular

__all__ = ["Design", "design"]


@dataclass(frozen=True)
class Design:
    """U (n × r), d (r,), Vt (r × p, or p × p with ``full``), the column means removed, and — when targets
    were given — y's mean and the centred targets ``yc`` (y itself when not centred)."""

    n: int
    p: int
    U: np.ndarray
    d: np.ndarray
    Vt: np.ndarray
    x_mean: np.ndarray
    y_mean: float
    yc: np.ndarray | None
    centred: bool

    @property
    def rank(self) -> int:
        return self.d.size

    @property
    def V(self) -> np.ndarray:
        return self.Vt.T

    @property
    def n_eff(self) -> int:
        """Rows left once centring (a flat intercept prior) integrates one direction out."""
        return self.n - int(self.centred)


def design(X, y=None, *, centre: bool = True, full: bool = False) -> Design:
    """Factor ``X`` (float64, validated by the caller) as above; ``y`` (n,) is centred alongside."""
    X = np.asarray(X, dtype=np.float64)
    n, p = X.shape
    x_mean = X.mean(axis=0) if centre else np.zeros(p)
    U, d, Vt = np.linalg.svd(X - x_mean if centre else X, full_matrices=full)
    keep = nonzero_singular(d, X.shape)   # sorted singular values: the kept ones lead
    if full:
        r = int(np.sum(keep))
        U, d = U[:, :r], d[:r]
    else:   # copies, not views: later products then run on contiguous arrays (and round as they always did)
        U, d, Vt = U[:, keep], d[keep], Vt[keep]
    y_mean, yc = 0.0, None
    if y is not None:
        y_mean = float(y.mean()) if centre else 0.0
        yc = y - y_mean
    return Design(n, p, U, d, Vt, x_mean, y_mean, yc, centre)
