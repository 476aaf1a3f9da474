"""The false-failure budget of bayeswd's diagnostics and of its statistical tests, in one place.

The library warns about a sampler from these bars (``Diagnostics.failures``); the tests derive their
tolerances from them (tests/stats_budget.py). The reasoning:

A statistical test compares K estimates with exact answers through z-scores
z = (estimate − exact) / (Monte Carlo standard error). Each test function is allowed a
family-wise false-failure probability of ``FAMILY_ALPHA`` when the code is right, on any
CPU: the bar on max |z| is the Bonferroni bound Φ⁻¹(1 − α / (2K)), valid whatever the
dependence between the K z-scores. Over 200 weights and two statistics (mean and sd,
K = 400) the bar is 4.71 with exact standard errors and 5.31 with ArviZ's
estimated ones (see MCMC_DOF); a fixed bar of 4, as before, would fail about 2.5% of the time
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

__all__ = ["FAMILY_ALPHA", "MIN_ESS", "MCMC_DOF", "ESS_MARGIN", "EBFMI_BAR", "z_bar", "rhat_bar"]

FAMILY_ALPHA = 1e-3
MIN_ESS = 400
# For MCMC the standard error itself is estimated (from the autocorrelations of 4 chains), with a
# relative error of about 10% at these sizes (Vehtari et al. 2021): z = error / estimated MCSE is
# then Student-t like, with ν ≈ 1/(2·0.1²) = 50 degrees of freedom. I.i.d. draws have an exact MCSE.
MCMC_DOF = 50
# The same error in the worst ESS: the R-hat bar uses ESS × 0.8 (two relative standard errors).
ESS_MARGIN = 0.8
# E-BFMI below 0.3 flags a momentum resampling too weak for the energy's spread (Betancourt 2016).
EBFMI_BAR = 0.3


def z_bar(k: int, alpha: float = FAMILY_ALPHA, dof: float | None = None) -> float:
    """Bar on the largest of ``k`` two-sided |z| so that all pass with probability ≥ 1 − alpha; a Student-t
    quantile with ``dof`` degrees of freedom when the standard errors are themselves estimated."""
    tail = alpha / (2 * k)
    return float(stats.norm.isf(tail) if dof is None else stats.t.isf(tail, dof))


def rhat_bar(min_ess: float, chains: int, draws: int, k: int, alpha: float = FAMILY_ALPHA) -> float:
    """Bar on the largest of ``k`` split R-hats (bulk and folded count separately) of a converged sampler
    with ``chains`` chains of ``draws`` draws whose worst estimated ESS is ``min_ess``."""
    m, n_split = 2 * chains, draws // 2          # ArviZ splits each chain in two
    q = stats.chi2.isf(alpha / k, m - 1) / (m - 1)
    return float(np.sqrt(1 - 1 / n_split + q * m / max(ESS_MARGIN * min_ess, 1.0)))
