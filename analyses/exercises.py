"""d2l exercises 4 (Frobenius norm) and 6 (the prior), tied to numbers from the runs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import bayeswd
from bayeswd.conventions import lam_from_prior, prior_sd_from_lam
from bayeswd.data import multioutput_data
from bayeswd.inference import map_estimate
from bayeswd.engine import train

from bayeswd.analyses._common import Context, Real, Results, Table, fmt, section, script_main

NAME = "exercises"
TITLE = "10. Exercises 4 and 6"
QUESTION = "What is the matrix version of the penalty, and which prior is d2l's λ = 3?"
SETTINGS = {"wd": Real(3.0, low=0, high=1e4, positive=True, help="the λ whose prior is asked for")}
QUICK = {}
TYPICAL_SECONDS = {"quick": 5.0, "full": 5.0}


@dataclass(frozen=True)
class ExercisesResults(Results):
    frobenius: dict             # "sum_of_squares", "trace_WtW", "singular_values_sq" of a trained weight matrix
    matrix_shape: list
    noise_sd: float             # known, or the empirical-Bayes estimate for a user's data
    n_train: int
    tau_for_wd: float           # the prior sd that the setting wd is
    tau_true: float             # NaN without true weights
    lam_for_true_tau: float
    map_minus_ridge: float      # |PyMC MAP − ridge| at λ = wd, largest entry


Results = ExercisesResults


def compute(ctx: Context) -> ExercisesResults:
    data, p = ctx.dataset, ctx.params
    n, sigma = data.n_train, ctx.noise_sd
    W = train(multioutput_data(seed=ctx.seed), 0.05, epochs=5, batch_size=33, lr=0.01).w  # a trained p×k matrix
    frob = {"sum_of_squares": float(np.sum(W**2)), "trace_WtW": float(np.trace(W.T @ W)),
            "singular_values_sq": float(np.sum(np.linalg.svd(W, compute_uv=False) ** 2))}
    tau_wd = prior_sd_from_lam(p["wd"], sigma, n)
    tau_true = float(np.sqrt(np.mean(data.w_true**2))) if ctx.has_truth else float("nan")
    est = map_estimate(data, "gaussian", tau_wd, noise_sd=sigma)
    return ExercisesResults(**ctx.shared(), frobenius=frob, matrix_shape=list(W.shape), noise_sd=sigma, n_train=n,
                            tau_for_wd=tau_wd, tau_true=tau_true,
                            lam_for_true_tau=lam_from_prior(sigma, tau_true, n) if ctx.has_truth else float("nan"),
                            map_minus_ridge=float(np.abs(est.w - bayeswd.ridge(data.X_train, data.y_train,
                                                                               p["wd"]).w).max()))


def render(r: ExercisesResults):
    wd, f = r.settings["wd"], r.frobenius
    rows_, cols_ = r.matrix_shape
    if r.has_truth:
        tighter = r.tau_true / r.tau_for_wd
        truth_clause = (f", {fmt(tighter)}× {'tighter' if tighter > 1 else 'wider'} than the τ = {fmt(r.tau_true)} "
                        f"the data were made with.")
        truth_text = (f"the weights were drawn with τ = {fmt(r.tau_true)}, whose λ is {fmt(r.lam_for_true_tau)}, the "
                      f"Bayes-optimal choice.")
        sigma_text = f"the data's noise sd σ = {fmt(r.noise_sd)}"
    else:
        truth_clause = "; this dataset's true weights are unknown, so which τ made the data cannot be checked."
        truth_text = ("the true weights of this dataset are unknown, so the prior that made them (and its "
                      "Bayes-optimal λ) cannot be compared.")
        sigma_text = f"σ = {fmt(r.noise_sd)} (estimated by empirical Bayes: the noise sd is not known)"
    answer = (f"For a weight matrix the penalty is (λ/2)‖W‖²_F = (λ/2)·tr(WᵀW) ({fmt(f['sum_of_squares'], 6)} = "
              f"{fmt(f['trace_WtW'], 6)} here); λ = {wd:g} is a N(0, τ²) prior with τ = {fmt(r.tau_for_wd)}"
              f"{truth_clause}")
    text = f"""
**Exercise 4 — the matrix penalty.** With k outputs the weights form a p×k matrix W and weight decay penalizes (λ/2)‖W‖²_F, the Frobenius norm: the sum of squares of all entries, which equals tr(WᵀW) and the sum of the squared singular values. For the {rows_}×{cols_} matrix of the several-outputs model (section 7) after 5 epochs: Σw² = {fmt(f['sum_of_squares'], 8)}, tr(WᵀW) = {fmt(f['trace_WtW'], 8)}, Σσᵢ² = {fmt(f['singular_values_sq'], 8)}. Its gradient is λW, entry by entry, which is the notebook's update (section 7). As a prior it is an independent N(0, τ²) on every entry.

**Exercise 6 — the prior.** Posterior ∝ likelihood × prior; taking −log and multiplying by σ²/n turns it into Σr²/(2n) + (λ/2)‖w‖² with λ = σ²/(nτ²). With {sigma_text} and n = {r.n_train}, λ = {wd:g} is the prior sd τ = σ/√(nλ) = {fmt(r.tau_for_wd)}; {truth_text} PyMC's MAP under that prior equals the ridge solution at λ = {wd:g} to {fmt(r.map_minus_ridge)}. A Laplace prior with scale s gives the L1 penalty α‖w‖₁ with α = σ²/(ns) (section 4).
"""
    rows = [["λ", wd], ["prior sd τ for that λ", r.tau_for_wd]]
    if r.has_truth:
        rows += [["true τ", r.tau_true], ["λ for the true τ", r.lam_for_true_tau]]
    table = Table("λ ↔ prior.", ["quantity", "value"], rows + [["largest |MAP − ridge|", r.map_minus_ridge]])
    return section(__name__, r, answer, text, [], [table])


if __name__ == "__main__":
    script_main(__import__(__name__))
