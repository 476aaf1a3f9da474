"""Tolerances of the statistical tests: the library's false-failure budget (bayeswd.budget), and the
assertion the tests make with it."""

from __future__ import annotations

import numpy as np

from bayeswd.budget import ESS_MARGIN, FAMILY_ALPHA, MCMC_DOF, MIN_ESS, rhat_bar, z_bar  # noqa: F401  (re-exported)


def assert_z_within(z, alpha: float = FAMILY_ALPHA, what: str = "z", dof: float | None = None) -> None:
    """All |z| below the Bonferroni bar for their count; the message names the worst."""
    z = np.abs(np.ravel(np.asarray(z, dtype=float)))
    bar = z_bar(z.size, alpha, dof)
    worst = int(np.argmax(z))
    assert z[worst] < bar, f"max |{what}| = {z[worst]:.3f} at index {worst} ≥ {bar:.3f} (K = {z.size}, α = {alpha})"
