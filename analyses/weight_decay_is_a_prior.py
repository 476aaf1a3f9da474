"""Weight decay is a prior: the derivation, the 2-D picture, four answers at one λ, and a live slider.

The lecture's core. The negative log posterior of y = Xw + b + N(0, σ²) with w ~ N(0, τ²I)
is n/σ² · J(w, b) plus a constant, J(w, b) = Σr²/(2n) + (λ/2)‖w‖², so λ = σ²/(nτ²); a
Laplace prior of scale s gives Σr²/(2n) + α‖w‖₁ with α = σ²/(ns).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

import bayeswd
from bayeswd._validate import nonzero_singular
from bayeswd.conventions import prior_sd_from_lam
from bayeswd.engine import full_batch_schedule, stability_bound, train
from bayeswd.gaussian import gaussian_posterior
from bayeswd.inference import map_estimate
from bayeswd.ridge import ridge_path
from bayeswd.streams import stream
from bayeswd.subspace import null_space_factor, row_space_projector

from bayeswd.analyses._common import (LOSS, Context, Count, Real, Results, Table, draw, fmt, pct, section,
                                      script_main)

NAME = "weight_decay_is_a_prior"
TITLE = "1. Weight decay is a prior"
QUESTION = "Why is L2 weight decay a Gaussian prior and L1 a Laplace prior, and do the four answers agree?"
SETTINGS = {"lam": Real(3.0, positive=True, high=1e4, help="the λ at which the four answers are compared"),
            "draws": Count(4000, low=100, high=10**6, help="exact posterior draws for the sampled mean"),
            "init_sd": Real(0.01, positive=True, high=10, help="the slider's starting init sd (d2l's)")}
QUICK = {"draws": 1000}
TYPICAL_SECONDS = {"quick": 5.0, "full": 6.0}

# The 2-D teaching problem: two correlated inputs, no intercept, a small second weight (so the
# Laplace path reaches an axis). Its numbers are constants of the picture, not of the data.
TWO_D = {"n": 20, "rho": 0.5, "w_true": (1.0, 0.25), "noise_sd": 1.0, "prior_sd": 0.5, "laplace_scale": 0.25}
# The slider's GD run is d2l's: SGD, lr 0.01, minibatches of 5, 10 epochs.
GD = {"lr": 0.01, "batch": 5, "epochs": 10}
SLIDER_LAMS = (1e-3, 10**-1.5, 1.0, 10**0.5, 30.0)        # where Python's numbers are embedded for checking
SLIDER_INIT_SDS = (0.01, 0.1, 1.0, 10**-1.5, 3.0)
PREDICTED_ROWS = 3                                         # validation rows whose posterior sd the slider shows


@dataclass(frozen=True)
class PriorResults(Results):
    n_train: int
    num_inputs: int
    noise_sd: float
    prior_sd: float                 # τ = σ/√(nλ) at the setting lam
    answers: list                   # one dict per answer: name, w_error, b_error, val_mse, w_norm
    gd_steps: int
    gd_lr: float
    gd_converged: bool
    draws_max_z: float              # largest |sampled mean − exact mean| / MCSE over the weights
    draws_z_bar: float              # the largest |z| of p independent normals stays below this 99% of the time
    two_d: dict                     # the 2-D problem: gram, xty, yty, n, σ, τ, s, λ, α, paths and MAP points
    slider: dict                    # the SVD payload the page's JavaScript computes from
    slider_reference: list          # Python's numbers at SLIDER_LAMS × SLIDER_INIT_SDS, for the browser test


Results = PriorResults


# --- the 2-D picture -------------------------------------------------------------------------------

def _two_d_problem(seed: int):
    rng = stream(seed, "simulation")
    cov = np.array([[1.0, TWO_D["rho"]], [TWO_D["rho"], 1.0]])
    X = rng.standard_normal((TWO_D["n"], 2)) @ np.linalg.cholesky(cov).T
    y = X @ np.array(TWO_D["w_true"]) + TWO_D["noise_sd"] * rng.standard_normal(TWO_D["n"])
    return X, y


def _map_by_proximal_gradient(gram, xty, lam: float = 0.0, alpha: float = 0.0) -> np.ndarray:
    """argmin ½wᵀGw − wᵀc + (λ/2)‖w‖² + α‖w‖₁ by proximal gradient, run to its fixed point.

    The objective is J without an intercept (G = XᵀX/n, c = Xᵀy/n). With the step 2/(μ + L)
    (μ, L the extreme eigenvalues of G + λI) the iteration contracts by (L − μ)/(L + μ) per
    step, so it stops once a step changes w by tens of ulps (the error left is a few times that).
    """
    eig = np.linalg.eigvalsh(gram) + lam
    step = 2.0 / (eig[0] + eig[-1])
    w = np.zeros(2)
    for _ in range(20_000):
        z = w - step * (gram @ w - xty + lam * w)
        new = np.sign(z) * np.maximum(np.abs(z) - step * alpha, 0.0)
        if np.max(np.abs(new - w)) <= 1e-14 * max(np.max(np.abs(new)), 1e-300):   # tens of ulps
            return new
        w = new
    return w


def _two_d(seed: int) -> dict:
    X, y = _two_d_problem(seed)
    n, sigma, tau, s = TWO_D["n"], TWO_D["noise_sd"], TWO_D["prior_sd"], TWO_D["laplace_scale"]
    gram, xty = X.T @ X / n, X.T @ y / n
    lam, alpha = sigma**2 / (n * tau**2), sigma**2 / (n * s)
    ols = np.linalg.solve(gram, xty)
    lams = np.r_[0.0, np.logspace(-3, 2, 60)]
    alphas = np.linspace(0, np.abs(xty).max(), 61)          # α ≥ max|c| puts the lasso at 0
    ridge_path_2d = np.array([_map_by_proximal_gradient(gram, xty, lam=v) for v in lams])
    lasso_path_2d = np.array([_map_by_proximal_gradient(gram, xty, alpha=v) for v in alphas])
    one_zero = (lasso_path_2d == 0).sum(axis=1) == 1
    return {"n": n, "noise_sd": sigma, "prior_sd": tau, "laplace_scale": s, "lam": lam, "alpha": alpha,
            "gram": gram, "xty": xty, "yty": float(y @ y / n), "ols": ols,
            "ridge_map": _map_by_proximal_gradient(gram, xty, lam=lam),
            "lasso_map": _map_by_proximal_gradient(gram, xty, alpha=alpha),
            "lams": lams, "ridge_path": ridge_path_2d, "alphas": alphas, "lasso_path": lasso_path_2d,
            "alpha_first_zero": float(alphas[one_zero][0]) if one_zero.any() else float("nan"),
            # how close the Gaussian path comes to an axis: its smallest |wⱼ|/‖w‖ (0 would be an exact zero)
            "ridge_path_min_share": float((np.abs(ridge_path_2d).min(axis=1)
                                           / np.linalg.norm(ridge_path_2d, axis=1)).min())}


# --- the slider's payload and Python's reference numbers ----------------------------------------

def _slider_payload(data, sigma: float) -> dict:
    """What the page needs to recompute everything: the SVD of the centred training design."""
    X, y = data.X_train, data.y_train
    x_mean, y_mean = X.mean(axis=0), float(y.mean())
    U, d, Vt = np.linalg.svd(X - x_mean, full_matrices=False)
    keep = nonzero_singular(d, X.shape)
    U, d, Vt = U[:, keep], d[keep], Vt[keep]
    Xv = data.X_val - x_mean
    rows = list(range(min(PREDICTED_ROWS, len(data.y_val))))
    n = len(y)
    steps = GD["epochs"] * -(-n // GD["batch"])
    # The init's part that SGD cannot touch lies outside the span of the RAW rows (the bias is trained):
    # tr(X_val (I − P) X_valᵀ) with that P.
    val_null = data.X_val - data.X_val @ row_space_projector(X)
    return {"n": n, "n_val": len(data.y_val), "rank": int(d.size), "noise_sd": sigma, "lr": GD["lr"], "steps": steps,
            "d": d, "z": U.T @ (y - y_mean), "A": Xv @ Vt.T, "yv": data.y_val - y_mean,
            "val_null_sq": float(np.sum(val_null**2)), "stable_below": _sgd_stable_below(X),
            "rows": rows, "row_sq": np.sum(Xv[rows] ** 2, axis=1)}


def _sgd_stable_below(X) -> float:
    """Where d2l's run stops being stable: λ = 2/η − h_max, the full-batch onset (section 12 checks it
    against the measured minibatch onset). Past it the page says so instead of printing (1 − ηλ)^T of a
    diverged run."""
    h_max = 2.0 / stability_bound(X, 0.0)
    return max(0.0, 2.0 / GD["lr"] - h_max)


def _slider_numbers(data, sigma: float, lam: float, init_sd: float, steps: int) -> dict:
    """The slider's quantities from the library's own functions (not from the SVD formulas the page uses)."""
    X, y, Xv, yv = data.X_train, data.y_train, data.X_val, data.y_val
    fit = bayeswd.ridge(X, y, lam)
    tau = prior_sd_from_lam(lam, sigma, len(y))
    rows = list(range(min(PREDICTED_ROWS, len(yv))))
    _, sd = gaussian_posterior(X, y, sigma, tau).predict(Xv[rows], include_noise=False)
    null = np.eye(X.shape[1]) - row_space_projector(X)   # the raw rows' span: the bias is trained
    c = null_space_factor(GD["lr"], lam, steps)
    return {"lam": lam, "init_sd": init_sd, "val_mse": float(np.mean((yv - fit.predict(Xv)) ** 2)),
            "w_norm": float(np.linalg.norm(fit.w)), "dof": float(ridge_path(X, y, [lam]).dof[0]),
            "pred_sd": sd.tolist(),
            "init_part": float(init_sd**2 * c**2 * np.trace(Xv @ null @ Xv.T) / len(yv))}


# --- the four answers ---------------------------------------------------------------------------

def _gd_to_convergence(data, lam: float):
    """Full-batch GD at the optimal constant step 2/(μ + L), for a 1e-13 contraction."""
    lr, steps, converged = full_batch_schedule(data.X_train, lam, contraction=1e-13)
    run = train(data, lam, lr=lr, epochs=steps, batch_size=None, init_sd=0.01)
    return run.w, float(run.b), steps, lr, converged


def compute(ctx: Context) -> PriorResults:
    data, p = ctx.dataset, ctx.params
    lam, sigma, n = p["lam"], ctx.noise_sd, data.n_train
    tau = prior_sd_from_lam(lam, sigma, n)
    ridge_fit = bayeswd.ridge(data.X_train, data.y_train, lam)
    gd_w, gd_b, steps, lr, converged = _gd_to_convergence(data, lam)
    mapped = map_estimate(data, "gaussian", tau, noise_sd=sigma)
    post = gaussian_posterior(data.X_train, data.y_train, sigma, tau)
    w_draws, b_draws = post.sample(p["draws"], seed=ctx.seed)
    mcse = w_draws.std(axis=0, ddof=1) / np.sqrt(p["draws"])
    candidates = [("closed form (bayeswd.ridge)", ridge_fit.w, ridge_fit.b),
                  (f"GD to convergence ({steps:,} full-batch steps)", gd_w, gd_b),
                  ("MAP (PyMC find_MAP)", mapped.w, mapped.b),
                  ("posterior mean (conjugate formula)", post.mean, post.b_mean),
                  (f"posterior mean of {p['draws']:,} exact draws", w_draws.mean(axis=0), float(b_draws.mean()))]
    answers = [{"name": name, "w_error": float(np.abs(w - ridge_fit.w).max()), "b_error": abs(float(b) - ridge_fit.b),
                "val_mse": float(np.mean((data.y_val - data.X_val @ w - b) ** 2)),
                "w_norm": float(np.linalg.norm(w))} for name, w, b in candidates]
    payload = _slider_payload(data, sigma)
    reference = [_slider_numbers(data, sigma, lam_k, sd_k, payload["steps"])
                 for lam_k, sd_k in zip(SLIDER_LAMS, SLIDER_INIT_SDS)]
    return PriorResults(**ctx.shared(), n_train=n, num_inputs=data.num_inputs, noise_sd=sigma, prior_sd=tau,
                        answers=answers, gd_steps=steps, gd_lr=lr, gd_converged=converged,
                        draws_max_z=float(np.max(np.abs(w_draws.mean(axis=0) - post.mean) / mcse)),
                        draws_z_bar=float(norm.isf(0.005 / data.num_inputs)),  # Bonferroni, 1% family-wise
                        two_d=_two_d(ctx.seed), slider=payload, slider_reference=reference)


# --- the page ------------------------------------------------------------------------------------

def _contours(ax, t: dict, kind: str) -> None:
    from bayeswd import plot

    G, c = np.asarray(t["gram"]), np.asarray(t["xty"])
    lim = 1.15 * max(np.abs(t["ols"]).max(), 0.4)
    grid = np.linspace(-0.35 * lim, lim, 241)
    W1, W2 = np.meshgrid(grid, grid)
    W = np.stack([W1, W2], axis=-1)
    # −log likelihood and −log prior, both in units of n/σ² (so they add up to J)
    data_term = 0.5 * np.einsum("...i,ij,...j->...", W, G, W) - W @ c + t["yty"] / 2
    if kind == "gaussian":
        prior_term = t["lam"] / 2 * (W**2).sum(axis=-1)
        mode, path, path_label = np.asarray(t["ridge_map"]), np.asarray(t["ridge_path"]), "MAP path as λ grows"
    else:
        prior_term = t["alpha"] * np.abs(W).sum(axis=-1)
        mode, path, path_label = np.asarray(t["lasso_map"]), np.asarray(t["lasso_path"]), "MAP path as α grows"
    plot.prior_picture(grid, data_term, prior_term, np.asarray(t["ols"]), mode, path, ax=ax, kind=kind,
                       path_label=path_label)


def render(r: PriorResults):
    t, a = r.two_d, {row["name"].split(" (")[0]: row for row in r.answers}
    lam = r.settings["lam"]
    worst = max(row["w_error"] for row in r.answers[1:4])
    gd = r.answers[1]
    converged = ("contracts its distance to the minimum by 1e-13 or more" if r.gd_converged else
                 f"does not reach a 1e-13 contraction within {r.gd_steps:,} steps, so its row is not the limit")
    hit = t["alpha_first_zero"]
    draws_verdict = (f"below the bar of {fmt(r.draws_z_bar)} that {r.num_inputs} independent errors stay under 99% "
                     f"of the time" if r.draws_max_z < r.draws_z_bar else
                     f"above the bar of {fmt(r.draws_z_bar)}: the draws disagree with the formula")
    axis_text = (f"the Laplace path reaches an axis at α = {fmt(hit)} and keeps that weight exactly 0 from there on"
                 if math.isfinite(hit) else "on this problem the Laplace path never reaches an axis before the origin")
    answer = (f"Minimizing J = Σr²/(2n) + (λ/2)‖w‖² is maximizing the posterior under w ~ N(0, τ²I) with "
              f"λ = σ²/(nτ²) (here λ = {lam:g} ⇔ τ = {fmt(r.prior_sd)}); the closed form, GD, the MAP and the "
              f"posterior mean agree to {fmt(worst)} in every weight.")
    text = f"""
**How to read this section.** Weight decay is usually taught as a penalty added to the loss. Read as Bayes, it is a prior belief that the weights are small. The derivation below shows the two are the same computation, the picture shows why L2 shrinks every weight a little while L1 sets some to exactly zero, and the table checks it on the d2l data.

**Step 1, the model.** Each target is a weighted sum of the inputs plus noise, and each weight is a priori small:

$$y_i = x_i^\\top w + b + \\varepsilon_i,\\qquad \\varepsilon_i \\sim \\mathcal{{N}}(0, \\sigma^2),\\qquad w_j \\sim \\mathcal{{N}}(0, \\tau^2),$$

with a flat prior on the bias $b$.

**Step 2, the negative log posterior.** Bayes' rule multiplies likelihood and prior; taking −log turns the product into a sum:

$$-\\log p(w, b \\mid y) = \\frac{{1}}{{2\\sigma^2}}\\sum_{{i=1}}^{{n}} (y_i - x_i^\\top w - b)^2 + \\frac{{1}}{{2\\tau^2}}\\|w\\|^2 + \\text{{const}}.$$

**Step 3, multiply by σ²/n.** Scaling by a positive constant does not move the minimum:

$$\\frac{{\\sigma^2}}{{n}}\\bigl(-\\log p(w, b \\mid y)\\bigr) = \\underbrace{{\\frac{{1}}{{2n}}\\sum_{{i=1}}^{{n}} r_i^2 + \\frac{{\\lambda}}{{2}}\\|w\\|^2}}_{{J(w, b)}} + \\text{{const}},\\qquad \\lambda = \\frac{{\\sigma^2}}{{n\\tau^2}}.$$

So $-\\log p(w, b \\mid y) = \\frac{{n}}{{\\sigma^2}} J(w, b) + \\text{{const}}$: the weights that minimize the weight-decay objective are the most probable weights (the MAP). On these data σ = {fmt(r.noise_sd)} and n = {r.n_train}, so λ = {lam:g} is the prior sd τ = σ/√(nλ) = {fmt(r.prior_sd)}.

**Step 4, the Laplace prior.** With $p(w_j) = \\frac{{1}}{{2s}} e^{{-|w_j|/s}}$ the prior's −log is $\\|w\\|_1/s$, and the same scaling gives scikit-learn's Lasso objective:

$$\\frac{{1}}{{2n}}\\|y - Xw - b\\|^2 + \\alpha\\|w\\|_1,\\qquad \\alpha = \\frac{{\\sigma^2}}{{ns}}.$$

**The picture.** In two dimensions (a separate teaching problem with {t['n']} rows, σ = {fmt(t['noise_sd'])}, no intercept) the likelihood's contours are ellipses around the least-squares point. The Gaussian prior's contours are circles and the Laplace prior's are diamonds, and the posterior's contours are their sum (the dashed lines). The MAP (τ = {fmt(t['prior_sd'])}, so λ = {fmt(t['lam'])}; s = {fmt(t['laplace_scale'])}, so α = {fmt(t['alpha'])}) sits where a likelihood ellipse touches a prior contour. As the penalty grows the MAP moves to the origin: the Gaussian path bends but never touches an axis (along it the smaller weight is never less than {pct(t['ridge_path_min_share'])} of ‖w‖); {axis_text}. The diamond's corners lie on the axes, and that is where an exact zero comes from.

**The four answers at λ = {lam:g}.** The closed form solves J's normal equations. Gradient descent runs {r.gd_steps:,} full-batch steps at the step size 2/(μ + L) = {fmt(r.gd_lr)} and {converged}. PyMC's find_MAP maximizes the model's log posterior. The posterior mean comes from the conjugate formula, and also from {r.settings['draws']:,} exact draws, whose mean is within {fmt(r.draws_max_z)} Monte Carlo standard errors of the formula in every weight ({draws_verdict}). The GD row differs from the closed form by {fmt(gd['w_error'])} and the MAP row by {fmt(a['MAP']['w_error'])}.

**Move it yourself.** In the HTML report, the sliders below recompute the ridge validation {LOSS}, ‖w‖, the effective degrees of freedom, the posterior sd of {len(r.slider['rows'])} validation predictions and the {LOSS} that a d2l GD run's initialization leaves behind in the null space. The page does this in your browser from the SVD of the {r.n_train} × {r.num_inputs} training design. Python's values at {len(r.slider_reference)} settings are in the table; a test checks that the page's numbers equal them.
"""
    figures = [draw("prior_picture", "Top: the Gaussian prior (circles). Bottom: the Laplace prior (diamonds). Solid: "
                    "likelihood contours; dotted: prior; dashed: posterior; the line is the MAP path from least squares "
                    "(×) to 0; the dot is the MAP.",
                    lambda axes: [_contours(axes[0], t, "gaussian"), _contours(axes[1], t, "laplace")],
                    rows=2, height=4.2)]
    answers_table = Table(f"Four answers at λ = {lam:g} on the {r.data_label} (largest difference from the closed form).",
                          ["answer", "max |Δw|", "|Δb|", f"validation {LOSS}", "‖w‖"],
                          [[row["name"], row["w_error"], row["b_error"], row["val_mse"], row["w_norm"]]
                           for row in r.answers])
    slider_table = Table("The slider's numbers computed by Python (the page must show the same).",
                         ["λ", "init sd", f"validation {LOSS}", "‖w‖", "degrees of freedom",
                          "posterior sd, first row", f"init's null-space {LOSS}"],
                         [[row["lam"], row["init_sd"], row["val_mse"], row["w_norm"], row["dof"], row["pred_sd"][0],
                           row["init_part"]] for row in r.slider_reference])
    sec = section(__name__, r, answer, text, figures, [answers_table, slider_table],
                  derived={"largest_difference": worst})
    from bayeswd.report.widgets import ridge_slider

    return sec.with_html(ridge_slider(r.slider, lam, r.settings["init_sd"]))


if __name__ == "__main__":
    script_main(__import__(__name__))
