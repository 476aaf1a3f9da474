"""d2l exercises 4 (Frobenius norm) and 6 (the prior), tied to numbers from the runs."""

from __future__ import annotations

import numpy as np

import bayeswd
from bayeswd.conventions import lam_from_prior, lasso_alpha_from_laplace_scale, prior_sd_from_lam
from bayeswd.data import multioutput_data
from bayeswd.inference import map_estimate
from bayeswd.engine import train

from analyses._common import Context, Real, defaults, Section, Table, command, fmt, script_main

NAME = "exercises"
TITLE = "9. Exercises 4 and 6"
QUESTION = "What is the matrix version of the penalty, and which prior is d2l's λ = 3?"
SETTINGS = {"wd": Real(3.0, low=0, high=1e4, positive=True, help="the λ whose prior is asked for")}
DEFAULTS = defaults(SETTINGS)
QUICK = {}


def run(ctx: Context) -> Section:
    data, p = ctx.dataset, ctx.params
    n, sigma = data.n_train, ctx.noise_sd
    multi = multioutput_data(seed=ctx.seed)
    W = train(multi, 0.05, epochs=5, batch_size=33, lr=0.01).w           # a trained 6×3 weight matrix
    frob = {"sum_of_squares": float(np.sum(W**2)), "trace_WtW": float(np.trace(W.T @ W)),
            "singular_values_sq": float(np.sum(np.linalg.svd(W, compute_uv=False) ** 2))}
    tau_d2l = prior_sd_from_lam(p["wd"], sigma, n)
    tau_true = float(np.sqrt(np.mean(data.w_true**2))) if ctx.has_truth else float("nan")
    lam_true = lam_from_prior(sigma, tau_true, n) if ctx.has_truth else float("nan")
    est = map_estimate(data, "gaussian", tau_d2l, noise_sd=sigma)
    map_vs_ridge = float(np.abs(est.w - bayeswd.ridge(data.X_train, data.y_train, p["wd"]).w).max())
    numbers = {"frobenius": frob, "tau_for_d2l_lambda": tau_d2l, "tau_true": tau_true, "lam_for_true_tau": lam_true,
               "map_vs_ridge_at_d2l_lambda": map_vs_ridge,
               "lasso_alpha_for_laplace_true_scale": lasso_alpha_from_laplace_scale(tau_true / np.sqrt(2), sigma, n)
               if ctx.has_truth else float("nan")}
    if ctx.has_truth:
        truth_clause = (f", {fmt(tau_true / tau_d2l)}× tighter than the τ = {fmt(tau_true)} the data were made "
                        f"with.")
        truth_text = (f"the weights were drawn with τ = {fmt(tau_true)}, whose λ is {fmt(lam_true)}, the "
                      f"Bayes-optimal choice.")
    else:
        truth_clause = "; this dataset's true weights are unknown, so which τ made the data cannot be checked."
        truth_text = ("the true weights of this dataset are unknown, so the prior that made them (and its "
                      "Bayes-optimal λ) cannot be compared.")
    answer = (f"For a weight matrix the penalty is (λ/2)‖W‖²_F = (λ/2)·tr(WᵀW) ({fmt(frob['sum_of_squares'], 6)} = "
              f"{fmt(frob['trace_WtW'], 6)} here); d2l's λ = {p['wd']:g} is a N(0, τ²) prior with τ = "
              f"{fmt(tau_d2l)}{truth_clause}")
    text = f"""
**Exercise 4 — the matrix penalty.** With k outputs the weights form a p×k matrix W and weight decay penalizes (λ/2)‖W‖²_F, the Frobenius norm: the sum of squares of all entries, which equals tr(WᵀW) and the sum of the squared singular values. For the 6×3 matrix of the seed-002 model after 5 epochs: Σw² = {fmt(frob['sum_of_squares'], 8)}, tr(WᵀW) = {fmt(frob['trace_WtW'], 8)}, Σσᵢ² = {fmt(frob['singular_values_sq'], 8)}. Its gradient is λW, entry by entry, which is the notebook's update (section 6). As a prior it is independent N(0, τ²) on every entry.

**Exercise 6 — the prior.** Posterior ∝ likelihood × prior; taking −log and multiplying by σ²/n turns it into Σr²/(2n) + (λ/2)‖w‖² with λ = σ²/(nτ²). With σ = {fmt(sigma)} and n = {n}, d2l's λ = {p['wd']:g} is the prior sd τ = σ/√(nλ) = {fmt(tau_d2l)}; {truth_text} PyMC's MAP under that prior equals the ridge solution at λ = {p['wd']:g} to {fmt(map_vs_ridge)}. A Laplace prior with scale s gives the L1 penalty α‖w‖₁ with α = σ²/(ns) (section 3).
"""
    rows = [["d2l λ", p["wd"]], ["prior sd τ for that λ", tau_d2l]]
    if ctx.has_truth:
        rows += [["true τ", tau_true], ["λ for the true τ", lam_true]]
    table = Table("λ ↔ prior.", ["spelling", "value"], rows + [["|MAP − ridge| max", map_vs_ridge]])
    return Section(NAME, TITLE, QUESTION, answer, numbers, text, [], [table], command(NAME, ctx))


if __name__ == "__main__":
    script_main(__import__(__name__))
