"""Weight decay is a prior: the derivation, the 2-D picture, four answers at one λ, and a live slider.

The lecture's core. The negative log posterior of y = Xw + b + N(0, σ²) with w ~ N(0, τ²I)
is n/σ² · J(w, b) plus a constant, J(w, b) = Σr²/(2n) + (λ/2)‖w‖², so λ = σ²/(nτ²); a
Laplace prior of scale s gives Σr²/(2n) + α‖w‖₁ with α = σ²/(ns).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import norm

import bayeswd
from bayeswd._validate import nonzero_singular
from bayeswd.conventions import prior_sd_from_lam
from bayeswd.training import full_batch_schedule, stability_bound, train
from bayeswd.gaussian import empirical_bayes, gaussian_posterior
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
PICTURE_CHECKS = ((0.5, 0.25), (0.02, 0.01), (3.0, 2.0), (0.1, 0.06), (0.2, 0.12))   # (τ, s) the browser test sets


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
    bishop: dict                    # the derivation's numbers: 1-D example, predictive variance split, shrinkage, γ


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


def _first_zero(gram, xty) -> float:
    """The exact α at which the 2-D lasso path first sets a weight to 0 (NaN if none before the origin).

    From least squares both weights are active, so w(α) = G⁻¹(c − α·sign w_ols) is linear in α;
    weight j reaches 0 at α_j = (G⁻¹c)_j / (G⁻¹ sign w_ols)_j. The first positive α_j is the hit, provided
    the other weight is still non-zero there (else both reach 0 together, at the origin).
    """
    ols = np.linalg.solve(gram, xty)
    slope = np.linalg.solve(gram, np.sign(ols))
    with np.errstate(divide="ignore", invalid="ignore"):
        hits = np.where(slope * ols > 0, ols / slope, np.inf)
    j = int(np.argmin(hits))
    if not np.isfinite(hits[j]) or np.all(ols - hits[j] * slope == 0):
        return float("nan")
    return float(hits[j])


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
    return {"n": n, "noise_sd": sigma, "prior_sd": tau, "laplace_scale": s, "lam": lam, "alpha": alpha,
            "gram": gram, "xty": xty, "yty": float(y @ y / n), "ols": ols,
            "ridge_map": _map_by_proximal_gradient(gram, xty, lam=lam),
            "lasso_map": _map_by_proximal_gradient(gram, xty, alpha=alpha),
            "lams": lams, "ridge_path": ridge_path_2d, "alphas": alphas, "lasso_path": lasso_path_2d,
            "alpha_first_zero": _first_zero(gram, xty),
            "checks": [{"tau": tau_k, "lam": sigma**2 / (n * tau_k**2), "s": s_k, "alpha": sigma**2 / (n * s_k),
                        "ridge_map": _map_by_proximal_gradient(gram, xty, lam=sigma**2 / (n * tau_k**2)),
                        "lasso_map": _map_by_proximal_gradient(gram, xty, alpha=sigma**2 / (n * s_k))}
                       for tau_k, s_k in PICTURE_CHECKS],
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
    """Where d2l's run stops being stable: λ = 2/η − h_max, the full-batch onset (appendix G checks it
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
    results = PriorResults(**ctx.shared(), n_train=n, num_inputs=data.num_inputs, noise_sd=sigma, prior_sd=tau,
                        answers=answers, gd_steps=steps, gd_lr=lr, gd_converged=converged,
                        draws_max_z=float(np.max(np.abs(w_draws.mean(axis=0) - post.mean) / mcse)),
                        draws_z_bar=float(norm.isf(0.005 / data.num_inputs)),  # Bonferroni, 1% family-wise
                        two_d=_two_d(ctx.seed), slider=payload, slider_reference=reference,
                        bishop=_bishop(data, post, sigma, tau, lam))
    # the three answers besides the closed form: their largest weight difference from it
    return replace(results, derived={"largest_difference": max(row["w_error"] for row in answers[1:4])})


def _bishop(data, post, sigma: float, tau: float, lam: float) -> dict:
    """The numbers of the derivation, in Bishop's order (PRML §3.3, §3.5), on the run's data."""
    X, y, n = data.X_train, data.y_train, data.n_train
    # a 1-D example: the first input alone, centred, no other weights
    x, yc = X[:, 0] - X[:, 0].mean(), y - y.mean()
    precision = 1 / tau**2 + x @ x / sigma**2
    one_d = {"sum_xx": float(x @ x), "sum_xy": float(x @ yc), "post_mean": float(x @ yc / sigma**2 / precision),
             "post_sd": float(precision ** -0.5), "ridge": float((x @ yc) / (x @ x + n * lam)),
             "least_squares": float((x @ yc) / (x @ x))}
    # the predictive variance of the first validation row: noise + the posterior's spread, and the part
    # of that spread in directions no training row sees (the prior's, untouched)
    row = data.X_val[:1]
    _, sd_total = post.predict(row, include_noise=True)
    xc = row[0] - X.mean(axis=0)
    null = xc - row_space_projector(X - X.mean(axis=0)) @ xc
    # per-direction shrinkage of the centred design; its sum (+1 for the bias) is the ridge dof, and at the
    # evidence optimum MacKay's effective number of parameters γ
    d = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    d = d[nonzero_singular(d, X.shape)]
    shrink = d**2 / (d**2 + n * lam)
    eb = empirical_bayes(X, y)
    return {"one_d": one_d, "pred_var": float(sd_total[0] ** 2), "noise_var": sigma**2,
            "null_var": float(tau**2 * null @ null), "shrink_top": shrink[:3].tolist(),
            "shrink_bottom": float(shrink[-1]), "directions": int(d.size), "dof": float(1 + shrink.sum()),
            "gamma_eb": float(eb.effective_params), "lam_eb": float(eb.lam), "eb_boundary": bool(eb.boundary),
            "lam_10n": lam / 10}


# --- the page ------------------------------------------------------------------------------------

def _contours(ax, t: dict, kind: str) -> None:
    from bayeswd import plot

    G, c, ols = np.asarray(t["gram"]), np.asarray(t["xty"]), np.asarray(t["ols"])
    # The view holds the whole likelihood ellipse through the origin ((w − ŵ)ᵀG(w − ŵ) ≤ ŵᵀGŵ), which
    # holds every MAP; square, so circles stay round (the page's picture uses the same box).
    half = np.sqrt(ols @ G @ ols * np.diag(np.linalg.inv(G)))
    lo, hi = np.minimum(ols - half, 0.0), np.maximum(ols + half, 0.0)
    centre, side = (lo + hi) / 2, 1.15 * np.max(hi - lo)
    grid = tuple(np.linspace(m - side / 2, m + side / 2, 241) for m in centre)
    W1, W2 = np.meshgrid(*grid)
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
    worst = r.derived["largest_difference"]
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
    b = r.bishop
    o = b["one_d"]
    top = ", ".join(fmt(v) for v in b["shrink_top"])
    gamma_text = ("" if b["eb_boundary"] else
                  f" At the λ that maximizes the marginal likelihood (the evidence: the probability of the training "
                  f"targets with the weights integrated out; section 3), λ = {fmt(b['lam_eb'])}, the same sum is "
                  f"MacKay's effective number of parameters γ = {fmt(b['gamma_eb'])}: how many directions the data "
                  f"actually determine.")
    text = f"""
Weight decay is taught as a penalty added to the loss; read as Bayes, it is a prior belief that the weights are small. Here is the derivation in the order of Bishop's PRML §3.3, each step checked on this run's data (σ = {fmt(r.noise_sd)}, n = {r.n_train}, p = {r.num_inputs}).

**1. Prior × likelihood.** Each target is a weighted sum of the inputs plus noise, and each weight is a priori small:

$$y_i = x_i^\\top w + b + \\varepsilon_i,\\quad \\varepsilon_i \\sim \\mathcal{{N}}(0, \\sigma^2),\\quad w_j \\sim \\mathcal{{N}}(0, \\tau^2),$$

with a flat prior on the bias b. Bayes' rule: the posterior p(w | y) is proportional to likelihood × prior.

**2. Complete the square.** −log(likelihood × prior) is quadratic in w, so the posterior is Gaussian, N(m, S), with (x and y centred, which integrates the flat bias out)

$$S^{{-1}} = \\frac{{X^\\top X}}{{\\sigma^2}} + \\frac{{I}}{{\\tau^2}},\\qquad m = S\\,\\frac{{X^\\top y}}{{\\sigma^2}}.$$

**3. The posterior mean is the MAP, and the MAP minimizes J.** A Gaussian's mean is its mode, the MAP (maximum a posteriori: the most probable weights). Multiplying −log p(w, b | y) by σ²/n does not move its minimum and gives

$$\\frac{{1}}{{2n}}\\sum_{{i=1}}^{{n}} r_i^2 + \\frac{{\\lambda}}{{2}}\\|w\\|^2 = J(w, b),\\qquad \\lambda = \\frac{{\\sigma^2}}{{n\\tau^2}}.$$

So weight decay's solution, the MAP and the posterior mean are one point. Here λ = {lam:g} is the prior sd τ = σ/√(nλ) = {fmt(r.prior_sd)}.

**4. What the posterior adds: the predictive variance** σ² + xᵀSx (plus σ²/n for the bias). In directions no training row sees, S keeps the prior's variance, so that part is τ²‖(I − P)(x − x̄)‖², P the projector onto the rows' span. For the first validation row: predictive variance {fmt(b['pred_var'])}, of which noise {fmt(b['noise_var'])} and the unseen directions {fmt(b['null_var'])}.

**5. One weight, by hand.** Take the first input alone (centred): Σx² = {fmt(o['sum_xx'])}, Σxy = {fmt(o['sum_xy'])}. Least squares gives Σxy/Σx² = {fmt(o['least_squares'])}; the posterior mean (Σxy/σ²)/(1/τ² + Σx²/σ²) = Σxy/(Σx² + nλ) = {fmt(o['post_mean'])} (ridge: {fmt(o['ridge'])}), with posterior sd {fmt(o['post_sd'])}. The prior pulls the estimate toward 0 by the factor Σx²/(Σx² + nλ).

**6. Shrinkage per direction.** With many inputs the same factor acts along each singular direction of the centred inputs: the least-squares coefficient times d²/(d² + nλ), d the singular value. At λ = {lam:g} the {b['directions']} factors run from {top} down to {fmt(b['shrink_bottom'])}; their sum plus 1 (the bias) is ridge's degrees of freedom, {fmt(b['dof'])}.{gamma_text}

**7. More data, less decay.** For a fixed prior, λ = σ²/(nτ²) falls as 1/n: with ten times the rows the same prior is λ = {fmt(b['lam_10n'])}.

**8. The Laplace prior.** With p(w_j) = e^(−|w_j|/s)/(2s) the same steps give scikit-learn's Lasso objective, Σr²/(2n) + α‖w‖₁ with α = σ²/(ns). Its posterior is not Gaussian, so its mode (sparse) and its mean (not sparse) differ: section 4.

**The picture** at the top of the page is a two-input problem ({t['n']} rows, σ = {fmt(t['noise_sd'])}, no intercept). The likelihood's contours are ellipses around the least-squares point ×, the Gaussian prior's are circles and the Laplace prior's diamonds; the MAP sits where a likelihood ellipse touches a prior contour. As the prior narrows the MAP slides to the origin: the Gaussian path bends but never touches an axis (its smaller weight stays above {pct(t['ridge_path_min_share'])} of ‖w‖); {axis_text}. The diamond's corners lie on the axes: that is where an exact zero comes from.

<!--more-->
**Four answers, one point.** At λ = {lam:g}, gradient descent ({r.gd_steps:,} full-batch steps of 2/(μ + L) = {fmt(r.gd_lr)}; it {converged}), PyMC's find_MAP and the posterior mean all equal the closed form to {fmt(worst)} in every weight; {r.settings['draws']:,} exact draws have a mean within {fmt(r.draws_max_z)} Monte Carlo standard errors of it ({draws_verdict}).

**Move it yourself.** The sliders below recompute, in your browser from the SVD of the {r.n_train} × {r.num_inputs} training inputs, the ridge validation {LOSS}, ‖w‖, the degrees of freedom, the posterior sd of {len(r.slider['rows'])} validation predictions and the {LOSS} a d2l SGD run's initialization leaves in the null space. Python's values at {len(r.slider_reference)} settings are in the table; a test checks that the page shows the same.
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
    sec = section(__name__, r, answer, text, figures, [answers_table, slider_table])
    from bayeswd.report.widgets import prior_picture, ridge_slider

    return sec.with_html(ridge_slider(r.slider, lam, r.settings["init_sd"]), lead=prior_picture(r.two_d))


if __name__ == "__main__":
    script_main(__import__(__name__))
