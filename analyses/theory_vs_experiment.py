"""Theory vs experiment: the double-descent curve, and early stopping against ridge."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from bayeswd.streams import child_seed
from bayeswd.theory import (early_stopping_ratio_bound, gradient_flow_risk_exact, min_norm_risk, monte_carlo_risk,
                            optimal_lam, ridge_risk_asymptotic, ridge_risk_exact)

from bayeswd.analyses._common import (EXCESS, Context, Count, Results, Table, draw, fmt, log_grid, pct, section,
                                      script_main)

NAME = "theory_vs_experiment"
TITLE = "E. Theory vs experiment"
QUESTION = "Do the asymptotic risk formulas predict finite-sample ridge, and how close is early stopping to ridge?"
SETTINGS = {"n": Count(200, low=10, high=1000, help="rows of each Monte Carlo problem (p = γ·n)"),
            "reps": Count(10, low=2, high=200, help="Monte Carlo repetitions per γ (2 or more for an error bar)")}
QUICK = {"n": 50, "reps": 3}
TYPICAL_SECONDS = {"quick": 5.0, "full": 15.0}
R2, NOISE_VAR = 0.02, 1e-4   # the d2l values: ‖w*‖² = 200·0.01², σ² = 0.01²
D2L_GAMMA = 10.0
GAMMAS = (0.1, 0.25, 0.5, 0.8, 1.25, 2.0, 4.0, 10.0)


@dataclass(frozen=True)
class TheoryResults(Results):
    grid: np.ndarray
    theory_min_norm: np.ndarray
    theory_optimal: np.ndarray
    mc: list                    # one dict per γ: gamma, min_norm, min_norm_se, min_norm_theory, optimal, ...
    gap_away_from_peak: float   # largest relative gap, γ ≤ 0.5 or ≥ 2
    gap_near_peak: float
    bound: float
    times: np.ndarray           # empty without true weights
    ratio: np.ndarray


Results = TheoryResults


def compute(ctx: Context) -> TheoryResults:
    p = ctx.params
    # Dense toward γ = 1 on both sides, where the minimum-norm risk diverges: the peak must be drawn, not skipped.
    near_one = 10 ** -np.linspace(0.5, 3, 40)
    grid = np.unique(np.concatenate([log_grid(0.05, 0.7, 40), 1 - near_one, 1 + near_one, log_grid(1.35, 20, 40)]))
    mc = []
    for i, g in enumerate(GAMMAS):
        lam_opt = optimal_lam(g, R2, NOISE_VAR)
        mn, mn_se = monte_carlo_risk(g, p["n"], None, R2, NOISE_VAR, reps=p["reps"], seed=child_seed(ctx.seed, "repeat", i))
        op, op_se = monte_carlo_risk(g, p["n"], lam_opt, R2, NOISE_VAR, reps=p["reps"], seed=child_seed(ctx.seed, "repeat", 100 + i))
        mc.append({"gamma": g, "min_norm": mn, "min_norm_se": mn_se, "min_norm_theory": min_norm_risk(g, R2, NOISE_VAR),
                   "optimal": op, "optimal_se": op_se,
                   "optimal_theory": ridge_risk_asymptotic(g, lam_opt, R2, NOISE_VAR)})

    def gap(v):
        return max(abs(v["min_norm"] / v["min_norm_theory"] - 1), abs(v["optimal"] / v["optimal_theory"] - 1))

    # Near γ = 1 the min-norm risk diverges and finite-n fluctuations are largest: report those apart.
    far = max(gap(v) for v in mc if not 0.7 < v["gamma"] < 1.5)
    near = max(gap(v) for v in mc if 0.7 < v["gamma"] < 1.5)
    times, ratio = np.array([]), np.array([])
    if ctx.has_truth:
        data = ctx.dataset
        times = log_grid(1e-2, 1e4, 120)
        gf = np.array([gradient_flow_risk_exact(data.X_train, data.w_true, ctx.noise_sd, t) for t in times])
        rr = np.array([ridge_risk_exact(data.X_train, data.w_true, ctx.noise_sd, 1 / t) for t in times])
        ratio = gf / rr
    results = TheoryResults(**ctx.shared(), grid=grid,
                         theory_min_norm=np.array([min_norm_risk(g, R2, NOISE_VAR) for g in grid]),
                         theory_optimal=np.array([ridge_risk_asymptotic(g, optimal_lam(g, R2, NOISE_VAR), R2,
                                                                        NOISE_VAR) for g in grid]),
                         mc=mc, gap_away_from_peak=far, gap_near_peak=near, bound=early_stopping_ratio_bound(),
                         times=times, ratio=ratio)
    at_d2l = {"min_norm": min_norm_risk(D2L_GAMMA, R2, NOISE_VAR),
              "optimal": ridge_risk_asymptotic(D2L_GAMMA, optimal_lam(D2L_GAMMA, R2, NOISE_VAR), R2, NOISE_VAR)}
    return replace(results, derived={"d2l_min_norm": at_d2l["min_norm"], "d2l_optimal": at_d2l["optimal"],
                                     "relative_difference": at_d2l["min_norm"] / at_d2l["optimal"] - 1})


def render(r: TheoryResults):
    s = r.settings
    d = r.derived
    at_d2l, lam_matters = {"min_norm": d["d2l_min_norm"], "optimal": d["d2l_optimal"]}, d["relative_difference"]

    def panels(axes):
        from bayeswd import plot

        axes = axes if isinstance(axes, list) else [axes]

        plot.double_descent(r.grid, {"minimum-norm, asymptotic": r.theory_min_norm,
                                     "optimal ridge, asymptotic": r.theory_optimal},
                            {f"minimum-norm, Monte Carlo n = {s['n']}": ([v["gamma"] for v in r.mc],
                                                                         [v["min_norm"] for v in r.mc],
                                                                         [v["min_norm_se"] for v in r.mc]),
                             "optimal ridge, Monte Carlo": ([v["gamma"] for v in r.mc], [v["optimal"] for v in r.mc],
                                                            [v["optimal_se"] for v in r.mc])}, axes[0], mark=D2L_GAMMA)
        axes[0].set_title(f"Double descent (σ² = {NOISE_VAR:g}, ‖w*‖² = {R2:g}; d2l at γ = {D2L_GAMMA:g})")
        if r.has_truth:
            plot.risk_ratio(r.times, r.ratio, r.bound, axes[1])
            axes[1].set_title("Early stopping vs ridge on this dataset")

    rows = 2 if r.has_truth else 1
    caption = "Asymptotic risk (lines) against Monte Carlo (points, ± 2 standard errors)."
    if r.has_truth:
        caption += " Below: the exact risk ratio of gradient flow to ridge on this dataset."
    figure = draw("theory", caption, panels, rows=rows, height=3.6)
    if r.has_truth:
        max_ratio = float(np.max(r.ratio))
        early = (f"on this dataset gradient flow's risk is at most {max_ratio:.4f}× ridge's at λ = 1/t "
                 f"(bound {r.bound:.4f}).")
        early_text = (f"here it peaks at {fmt(max_ratio, 4)}. Stopping gradient descent early and weight decay are "
                      f"nearly the same regularizer — one answer to d2l exercise 5's \"other ways to deal with "
                      f"overfitting\" (the exercises section measures more).")
    else:
        early = "the early-stopping comparison needs the true weights, which this dataset does not have."
        early_text = ("computing the ratio for a given X needs the true weights, which this dataset does not have, so "
                      "it is not drawn.")
    answer = (f"At n = {s['n']} the Monte Carlo risks are within {pct(r.gap_away_from_peak)} of the asymptotic formulas "
              f"away from the interpolation peak (γ ≤ 0.5 or ≥ 2) and within {pct(r.gap_near_peak)} next to it; " + early)
    text = f"""
The double-descent curve is for isotropic features x ~ N(0, I) with n rows and p = γn inputs, as n and p grow together (Hastie, Montanari, Rosset & Tibshirani 2022; Dobriban & Wager 2018): the minimum-norm interpolator's {EXCESS} explodes at γ = p/n = 1, where the rows can just barely be fitted exactly, and falls again beyond it, while ridge at the optimal λ* = σ²γ/‖w*‖² stays bounded. At the d2l point, γ = {D2L_GAMMA:g} with σ² = {NOISE_VAR:g} and ‖w*‖² = {R2:g}, the two are {fmt(at_d2l['min_norm'], 5)} and {fmt(at_d2l['optimal'], 5)} ({pct(lam_matters, 2)} apart): with so little noise the risk is the part of w* the rows cannot see, ‖w*‖²(1 − 1/γ), and λ can do little about it.

Gradient flow is gradient descent with infinitesimal steps; stopped at time t it is compared with ridge at λ = 1/t, exactly (expectation over the noise, for this X and w*). Ali, Kolter & Tibshirani (2019) prove the ratio of their risks never exceeds max over x of [(1 − e⁻ˣ)(1 + x)/x]² = {fmt(r.bound, 5)} for any X; {early_text}
"""
    table = Table(f"Monte Carlo vs theory ({EXCESS}).", ["γ", "minimum-norm, Monte Carlo", "theory",
                                                          "optimal ridge, Monte Carlo", "theory"],
                  [[v["gamma"], v["min_norm"], v["min_norm_theory"], v["optimal"], v["optimal_theory"]] for v in r.mc])
    return section(__name__, r, answer, text, [figure], [table])


if __name__ == "__main__":
    script_main(__import__(__name__))
