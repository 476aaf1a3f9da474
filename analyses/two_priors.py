"""Two priors: Gaussian ↔ L2 and Laplace ↔ L1 (d2l exercise 3)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

import bayeswd
from bayeswd.conventions import lam_from_prior, lasso_alpha_from_laplace_scale
from bayeswd.training import train
from bayeswd.inference import map_estimate, sample_posterior
from bayeswd.sparse import lasso

from bayeswd.analyses._common import (LOSS, Context, Count, Real, Results, Table, draw, fmt, log_grid, pct, section,
                                      script_main)

NAME = "two_priors"
TITLE = "4. Two priors: Gaussian (L2) and Laplace (L1)"
QUESTION = "What changes when the Gaussian prior becomes a Laplace prior — at the mode and in the posterior?"
SETTINGS = {"laplace_scale": Real(0.01, positive=True, high=10, help="the Laplace prior's scale s"),
            "gibbs_draws": Count(4000, low=100, high=10**5, help="Bayesian-lasso Gibbs draws"),
            "path_points": Count(30, low=2, high=500, help="points on the lasso path"),
            "l1_epochs": Count(200, high=10**5, help="epochs of the L1 gradient runs")}
QUICK = {"gibbs_draws": 500, "path_points": 12, "l1_epochs": 50}
TYPICAL_SECONDS = {"quick": 25.0, "full": 40.0}
NEAR_OPTIMUM = 0.01  # methods are compared on sparsity only when within 1% of the lasso optimum


@dataclass(frozen=True)
class TwoPriorsResults(Results):
    laplace_scale: float
    alpha: float
    gaussian_lam: float                 # λ of the Gaussian prior with the Laplace's variance 2s²
    n_train: int
    num_inputs: int
    support_ceiling: int                # rank of the centred design: a lasso solution never has more non-zeros
    alphas: np.ndarray
    nonzeros_on_path: np.ndarray
    lasso_path: np.ndarray              # (alpha, feature)
    ridge_lams: np.ndarray
    ridge_path: np.ndarray              # (lam, first 40 features)
    lasso_nonzeros: int
    lasso_objective: float
    find_map_zeros: int
    find_map_objective: float
    posterior_mean_zeros: int
    smallest_abs_posterior_mean: float
    gibbs_max_rhat: float
    posterior_mean: np.ndarray
    lasso_w: np.ndarray
    true_zeros: int                     # exactly-zero true weights (-1 when unknown)
    true_weights_equal: bool
    val_mse_lasso: float
    val_mse_ridge: float
    l1_runs: dict                       # method → {"objective", "zeros", "gap"}, gap relative to the lasso optimum


Results = TwoPriorsResults


def compute(ctx: Context) -> TwoPriorsResults:
    data, p = ctx.dataset, ctx.params
    X, y, n = data.X_train, data.y_train, data.n_train
    sigma, s = ctx.noise_sd, p["laplace_scale"]
    alpha = lasso_alpha_from_laplace_scale(s, sigma, n)
    est = map_estimate(data, "laplace", s, noise_sd=sigma)
    gibbs = sample_posterior(data, "laplace", s, noise_sd=sigma, sampler="gibbs", draws=p["gibbs_draws"],
                             tune=max(500, p["gibbs_draws"] // 4), seed=ctx.seed)
    post_mean = np.asarray(gibbs["posterior"]["w"].mean(("chain", "draw")))
    lam_grid = log_grid(1e-3, 1e2, 80)
    alphas = log_grid(alpha / 30, alpha * 30, p["path_points"])
    path = np.array([lasso(X, y, a, tol=1e-10).w for a in alphas])  # a picture: 1e-10 duality gap is plenty
    l1_runs = {}
    for method in ("subgradient", "proximal"):
        run = train(data, alpha, penalty="l1", l1_method=method, epochs=p["l1_epochs"], lr=0.01, seed=ctx.seed)
        objective = float(run.result["train_objective"][-1])
        l1_runs[method] = {"objective": objective, "zeros": int(np.count_nonzero(run.w == 0)),
                           "gap": objective / est.lasso.objective - 1}
    gaussian_lam = lam_from_prior(sigma, s * np.sqrt(2), n)
    ridge_fit = bayeswd.ridge(X, y, gaussian_lam)
    centred = X - X.mean(axis=0)
    results = TwoPriorsResults(
        **ctx.shared(), laplace_scale=s, alpha=alpha, gaussian_lam=gaussian_lam, n_train=n,
        num_inputs=data.num_inputs, support_ceiling=int(np.linalg.matrix_rank(centred)), alphas=alphas,
        nonzeros_on_path=np.count_nonzero(path, axis=1).astype(float), lasso_path=path, ridge_lams=lam_grid,
        ridge_path=bayeswd.ridge_path(X, y, lam_grid).w[:, :40],
        lasso_nonzeros=int(np.count_nonzero(est.lasso.w)), lasso_objective=est.lasso.objective,
        find_map_zeros=est.exact_zeros, find_map_objective=est.objective,
        posterior_mean_zeros=int(np.count_nonzero(np.abs(post_mean) < 1e-12)),
        smallest_abs_posterior_mean=float(np.abs(post_mean).min()), gibbs_max_rhat=float(gibbs.attrs["max_rhat"]),
        posterior_mean=post_mean, lasso_w=est.lasso.w,
        true_zeros=int(np.count_nonzero(data.w_true == 0)) if ctx.has_truth else -1,
        true_weights_equal=bool(ctx.has_truth and np.ptp(data.w_true) == 0),
        val_mse_lasso=float(np.mean((est.lasso.predict(data.X_val) - data.y_val) ** 2)),
        val_mse_ridge=float(np.mean((ridge_fit.predict(data.X_val) - data.y_val) ** 2)), l1_runs=l1_runs)
    return replace(results, derived={"exact_zeros": results.num_inputs - results.lasso_nonzeros})   # the lasso's


def render(r: TwoPriorsResults):
    s, a = r.laplace_scale, r.alpha
    zeros = r.derived["exact_zeros"]
    at_ceiling = r.lasso_nonzeros >= r.support_ceiling
    path_max = int(np.max(r.nonzeros_on_path))

    def paths(axes):
        from bayeswd import plot

        plot.prior_densities(s, axes[0])
        plot.ridge_path(r.ridge_lams, r.ridge_path, axes[1])
        axes[1].set_title("Ridge path (first 40 weights): smooth shrinkage, no zeros")
        plot.lasso_path(r.alphas, r.lasso_path, axes[2], mark=a)
        plot.nonzeros_vs_alpha(r.alphas, r.nonzeros_on_path, r.support_ceiling, axes[3], mark=a, p=r.num_inputs)

    def posterior(ax):
        from bayeswd import plot

        plot.mode_vs_mean(r.posterior_mean, r.lasso_w, ax)

    figures = [draw("two_priors_paths", "From the top: equal-variance Gaussian and Laplace priors; the ridge path; the "
                                        "lasso path, whose weights hit exactly zero; and the lasso's number of "
                                        "non-zero weights against α, with the ceiling no lasso solution can exceed.",
                    paths, rows=4, height=3.0),
               draw("two_priors_mode_mean", f"Laplace prior, s = {fmt(s)}: the sparse MAP against the dense "
                                            f"posterior mean.", posterior, height=3.4)]
    if r.has_truth:
        dense = ("none of the true weights is zero" + (" (all equal)" if r.true_weights_equal else "")
                 if r.true_zeros == 0 else f"{r.true_zeros} of the true weights are zero")
        truth = (f"The data's true weights are not sparse: {dense}, so the Laplace prior is misspecified here and its "
                 f"zeros are not a discovery. ")
    else:
        truth = "Your data's true weights are unknown, so whether they are sparse cannot be checked. "
    ceiling_text = (f"That count is the ceiling, not an effect of the prior: with {r.n_train} rows the centred design "
                    f"has rank {r.support_ceiling}, and a lasso solution never has more non-zero weights than that, "
                    f"whatever α (along the path from α/30 to 30α the count never exceeds {path_max})."
                    if at_ceiling else
                    f"The ceiling for {r.n_train} rows is {r.support_ceiling} non-zero weights (the rank of the "
                    f"centred design); at this α the lasso keeps {r.lasso_nonzeros}, so α itself removes some "
                    f"(along the path from α/30 to 30α the count runs up to {path_max}).")
    runs = r.l1_runs
    near = {m: v["gap"] <= NEAR_OPTIMUM for m, v in runs.items()}
    if all(near.values()):
        ex3 = (f"Both runs reach within {pct(NEAR_OPTIMUM, 2)} of the lasso optimum, so their sparsity can be "
               f"compared: the subgradient run has {runs['subgradient']['zeros']} exact zeros, the proximal run "
               f"{runs['proximal']['zeros']}.")
    else:
        ex3 = ("Neither run is near the optimum yet" if not any(near.values()) else "Not both runs are near the "
               "optimum") + (f" after {r.settings['l1_epochs']} epochs: their objectives are "
                             f"{fmt(runs['subgradient']['objective'], 4)} (subgradient) and "
                             f"{fmt(runs['proximal']['objective'], 4)} (proximal) against the lasso optimum "
                             f"{fmt(r.lasso_objective, 4)}, {pct(runs['subgradient']['gap'])} and "
                             f"{pct(runs['proximal']['gap'])} above it. Their zero counts "
                             f"({runs['subgradient']['zeros']} and {runs['proximal']['zeros']}) compare two "
                             f"unfinished runs, not the two methods.")
    answer = (f"At the mode the Laplace prior (s = {fmt(s)}, α = {fmt(a)}) keeps {r.lasso_nonzeros} of "
              f"{r.num_inputs} weights non-zero" + (f" — the most any lasso can keep with {r.n_train} rows" if at_ceiling
                                                   else "") +
              f"; its posterior mean has {r.posterior_mean_zeros} exact zeros, and on validation rows the lasso "
              f"scores {LOSS} {fmt(r.val_mse_lasso)} against {fmt(r.val_mse_ridge)} for ridge with the same prior "
              f"variance.")
    text = f"""
A Gaussian prior N(0, τ²) is L2 decay with λ = σ²/(nτ²); a Laplace prior exp(−|w|/s)/(2s) is the L1 penalty α‖w‖₁ with α = σ²/(ns), scikit-learn's `Lasso(alpha)`. At equal variance (τ² = 2s²) the Laplace puts more mass near 0 and in the tails (top panel).

**The mode is sparse, the posterior is not.** The lasso MAP is computed by FISTA (a proximal-gradient method that soft-thresholds after each step, so weights can sit exactly at zero; its duality gap, the objective minus a lower bound from the dual problem, is zero exactly at the optimum and certifies it): {r.lasso_nonzeros} non-zero weights, {zeros} exact zeros. {ceiling_text} {truth}PyMC's `find_MAP` uses L-BFGS-B, a smooth method that cannot sit on the kinks at 0: it stops at {r.find_map_zeros} exact zeros and objective {fmt(r.find_map_objective, 5)} against {fmt(r.lasso_objective, 5)}. The posterior mean (Bayesian lasso, Gibbs sampler; largest R-hat {fmt(r.gibbs_max_rhat, 4)}, see appendix B for R-hat) averages over the posterior and is nowhere exactly zero (smallest |mean| {fmt(r.smallest_abs_posterior_mean)}).

**Prediction.** On the validation rows the lasso MAP scores {LOSS} {fmt(r.val_mse_lasso)}; ridge with the Gaussian prior of the same variance (λ = {fmt(r.gaussian_lam)}) scores {fmt(r.val_mse_ridge)}.

<!--more-->
**Exercise 3 (the L1 update).** Training by SGD on Σr²/(2n) + α‖w‖₁ can use the subgradient α·sign(w), whose weights chatter around 0 and land exactly on it only by accident, or the proximal step (soft-thresholding after each SGD step), which sets weights exactly to zero. {ex3}
"""
    rows = [["lasso MAP (FISTA)", zeros, r.lasso_objective], ["find_MAP (L-BFGS-B)", r.find_map_zeros,
                                                             r.find_map_objective],
            ["posterior mean (Gibbs)", r.posterior_mean_zeros, None],
            [f"SGD, subgradient, {r.settings['l1_epochs']} epochs", runs["subgradient"]["zeros"],
             runs["subgradient"]["objective"]],
            [f"SGD, proximal, {r.settings['l1_epochs']} epochs", runs["proximal"]["zeros"], runs["proximal"]["objective"]]]
    table = Table(f"Exact zeros among the {r.num_inputs} weights, and each estimate's lasso objective.",
                  ["estimate", "exact zeros", "objective"], rows)
    return section(__name__, r, answer, text, figures, [table])


if __name__ == "__main__":
    script_main(__import__(__name__))
