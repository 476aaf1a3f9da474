"""Tolerances of the statistical tests, derived from a stated false-failure budget.

A statistical test compares K estimates with exact answers through z-scores
z = (estimate − exact) / (Monte Carlo standard error). Each test function is allowed a
family-wise false-failure probability of ``FAMILY_ALPHA`` when the code is right, on any
CPU: the bar on max |z| is the Bonferroni bound Φ⁻¹(1 − α / (2K)), valid whatever the
dependence between the K z-scores. Over 201 coordinates and two statistics (mean and sd,
K = 402) the bar is 4.71; a fixed bar of 4, as before, would fail about 2.5% of the time
by chance alone (the largest of 402 |z| exceeds 4 that often), more where the sampler's
stream differs.

R-hat has the same kind of bar. Split each of the chains in two (m split chains of N draws);
let E be the worst parameter's ESS (the smaller of bulk and tail ESS: ArviZ's R-hat is the
larger of the bulk and the folded one), so each split chain holds nₑ = E/m effective draws.
For a converged sampler the between-chain variance B/N ≈ W·χ²(m − 1)/((m − 1)·nₑ), so
R̂² = (N − 1)/N + B/(N·W) ≈ 1 − 1/N + q/nₑ with q the χ²(m − 1)/(m − 1) quantile at 1 − α/K;
the bar is that R̂. Small ESS widens it, so every such check also requires
E ≥ ``MIN_ESS`` (400, the recommendation of Vehtari et al. 2021), which a sampler that
did not mix fails.

``benchmarks/stat_seed_sweep.py`` reruns each statistical test over 20+ seeds and counts
failures; the counts are in each test's docstring and in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

FAMILY_ALPHA = 1e-3
MIN_ESS = 400


def z_bar(k: int, alpha: float = FAMILY_ALPHA) -> float:
    """Bar on the largest of ``k`` two-sided |z| so that all pass with probability ≥ 1 − alpha."""
    return float(stats.norm.isf(alpha / (2 * k)))


def rhat_bar(min_ess: float, chains: int, draws: int, k: int, alpha: float = FAMILY_ALPHA) -> float:
    """Bar on the largest of ``k`` split R-hats (bulk and folded count separately) of a converged sampler
    with ``chains`` chains of ``draws`` draws whose worst ESS is ``min_ess``."""
    m, n_split = 2 * chains, draws // 2          # ArviZ splits each chain in two
    q = stats.chi2.isf(alpha / k, m - 1) / (m - 1)
    return float(np.sqrt(1 - 1 / n_split + q * m / max(min_ess, 1.0)))


def assert_z_within(z, alpha: float = FAMILY_ALPHA, what: str = "z") -> None:
    """All |z| below the Bonferroni bar for their count; the message names the worst."""
    z = np.abs(np.ravel(np.asarray(z, dtype=float)))
    bar = z_bar(z.size, alpha)
    worst = int(np.argmax(z))
    assert z[worst] < bar, f"max |{what}| = {z[worst]:.3f} at index {worst} ≥ {bar:.3f} (K = {z.size}, α = {alpha})"
