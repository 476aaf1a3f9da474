"""Choosing λ (d2l exercises 1–2): loss against λ for every method, and what the training data can say about λ."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

import bayeswd
from bayeswd.conventions import lam_from_prior, prior_sd_from_lam
from bayeswd.data import D2L_LAMBDA, D2L_PROTOCOL
from bayeswd.training import train
from bayeswd.gaussian import BAYESIAN_RIDGE_HYPERPRIOR, empirical_bayes, evidence_path
from bayeswd.inference import choose_lambda, full_bayes, map_estimate
from bayeswd.ridge import best_lam

from bayeswd.analyses._common import (LOSS, Context, Count, Results, Table, draw, fmt, log_grid, section,
                                      script_main)

NAME = "choosing_lambda"
TITLE = "3. Choosing λ"
QUESTION = "How do training and validation loss depend on λ, and which λ do validation, Bayes and LOO pick?"
SETTINGS = {"n_lams": Count(60, low=2, high=2000, help="λ grid points"),
            "gd_seeds": Count(8, high=256, help="gradient-descent seeds per λ"),
            "bayes_draws": Count(1000, low=100, high=20000, help="NUTS draws per chain for the full-Bayes λ"),
            "map_points": Count(3, high=50, help="λ values at which the MAP is checked against ridge")}
QUICK = {"n_lams": 20, "gd_seeds": 2, "map_points": 2}  # the full-Bayes model has 2 parameters: full size is cheap
TYPICAL_SECONDS = {"quick": 20.0, "full": 25.0}
SHARES = ("full_bayes",)   # ctx.once computations: run in one worker with the sections sharing them
EVIDENCE_POINTS = 200


@dataclass(frozen=True)
class ChoosingResults(Results):
    lams: np.ndarray
    ridge_train_mse: np.ndarray
    ridge_val_mse: np.ndarray
    gd_train_mse: np.ndarray        # 10 epochs of d2l's SGD, mean over seeds
    gd_val_mse: np.ndarray
    marks: dict                     # method → λ
    val_mse_at: dict                # method → validation MSE of the closed form at its λ
    best_val_lam: float             # the continuous minimizer of the validation MSE (bayeswd.ridge.best_lam)
    best_val_mse: float
    min_norm_val_mse: float
    map_minus_ridge_max: float
    posterior_mean_minus_ridge_max: float
    evidence_lams: np.ndarray
    log_evidence: np.ndarray        # σ maximized at each λ
    evidence_within_1nat: list      # [lowest, highest] λ of the grid within 1 nat of the maximum
    evidence_range_nats: float      # max − min of the profile evidence over the λ grid
    log_evidence_known: np.ndarray  # σ known (the data's true σ): one value per evidence_lams; empty without truth
    evidence_known_lam: float       # its continuous maximizer; NaN without a known σ
    evidence_known_drop: float      # nats from that maximum down to the evidence at d2l's λ; NaN without a known σ
    noise_sd_true: float            # NaN without known truth
    bayes_optimal_lam: float        # σ²/(nτ²) with the true σ and τ² = mean w*²; NaN without truth
    eb_noise_sd: float
    eb_prior_sd: float
    bayesian_ridge_lam: float       # type-II ML with BayesianRidge's default hyperpriors
    full_bayes_interval: list       # 90% interval of λ
    noise_sd_interval: list         # 90% interval of σ
    lam_draws: np.ndarray
    n_train: int


Results = ChoosingResults


def _mse(pred, y):
    return np.mean((pred - y) ** 2, axis=-1)


def compute(ctx: Context) -> ChoosingResults:
    data, p = ctx.dataset, ctx.params
    X, y, n = data.X_train, data.y_train, data.n_train
    sigma = ctx.noise_sd
    lams = log_grid(1e-3, 1e2, p["n_lams"])
    path = bayeswd.ridge_path(X, y, lams)
    gd = train(data, lams, seed=list(range(ctx.seed, ctx.seed + p["gd_seeds"])), **D2L_PROTOCOL)
    gd_final = gd.result.isel(epoch=-1).mean("seed")
    map_err, post_err = [], []
    for lam in log_grid(1e-2, 10, p["map_points"]):   # MAP and posterior mean are the ridge solution
        tau = prior_sd_from_lam(lam, sigma, n)
        fit = bayeswd.ridge(X, y, lam)
        map_err.append(float(np.abs(map_estimate(data, "gaussian", tau, noise_sd=sigma).w - fit.w).max()))
        post_err.append(float(np.abs(bayeswd.gaussian_posterior(X, y, sigma, tau).mean - fit.w).max()))
    draws = p["bayes_draws"]   # the uncertainty section makes the same run at the default: computed once
    posterior = ctx.once(full_bayes, data, chains=4, draws=draws, tune=max(draws, 1000), seed=ctx.seed)
    choices = choose_lambda(data, lams=log_grid(1e-4, 1e3, 400), posterior=posterior)
    eb = empirical_bayes(X, y)
    # At the boundary τ → 0 (no linear signal) empirical Bayes's λ is infinite: the mark is the grid's largest λ.
    marks = {"d2l's λ": D2L_LAMBDA, "leave-one-out": choices.leave_one_out,
             "empirical Bayes": eb.lam if not eb.boundary else float(lams.max()),
             "full Bayes (median)": choices.full_bayes_median}
    truth_lam = float("nan")
    if ctx.has_truth:
        truth_lam = lam_from_prior(data.noise_sd, float(np.sqrt(np.mean(data.w_true**2))), n)
        marks["Bayes-optimal σ²/(nτ²)"] = truth_lam
    val_at = {k: float(_mse(bayeswd.ridge(X, y, v).predict(data.X_val), data.y_val)) for k, v in marks.items()}
    ridge_val = _mse(path.predict(data.X_val), data.y_val)
    best_val_lam = best_lam(X, y, "validation", X_val=data.X_val, y_val=data.y_val)
    ev_lams = log_grid(lams[0], lams[-1], EVIDENCE_POINTS)   # closed forms: a fine grid costs nothing
    ev = evidence_path(X, y, ev_lams)
    near = ev.lams[ev.log_evidence >= ev.log_evidence.max() - 1]
    known = {"log_evidence_known": np.array([]), "evidence_known_lam": float("nan"), "evidence_known_drop": float("nan")}
    if ctx.has_truth:   # σ known: the evidence now separates the λ (it cannot trade noise for prior)
        ev_lam = best_lam(X, y, "evidence", noise_sd=data.noise_sd)
        at = evidence_path(X, y, [ev_lam, D2L_LAMBDA], noise_sd=data.noise_sd).log_evidence
        known = {"log_evidence_known": evidence_path(X, y, ev_lams, noise_sd=data.noise_sd).log_evidence,
                 "evidence_known_lam": ev_lam, "evidence_known_drop": float(at[0] - at[1])}
    results = ChoosingResults(
        **ctx.shared(), lams=lams, ridge_train_mse=_mse(path.predict(X), y), ridge_val_mse=ridge_val,
        gd_train_mse=gd_final.train_mse.values, gd_val_mse=gd_final.val_mse.values, marks=marks,
        val_mse_at=val_at, best_val_lam=best_val_lam, **known,
        best_val_mse=float(_mse(bayeswd.ridge(X, y, best_val_lam).predict(data.X_val), data.y_val)),
        min_norm_val_mse=float(_mse(bayeswd.ridge(X, y, 0.0).predict(data.X_val), data.y_val)),
        map_minus_ridge_max=max(map_err), posterior_mean_minus_ridge_max=max(post_err), evidence_lams=ev.lams,
        log_evidence=ev.log_evidence, evidence_within_1nat=[float(near.min()), float(near.max())],
        evidence_range_nats=float(np.ptp(ev.log_evidence)),
        noise_sd_true=float(data.noise_sd) if ctx.has_truth else float("nan"), bayes_optimal_lam=truth_lam,
        eb_noise_sd=eb.noise_sd, eb_prior_sd=eb.prior_sd,
        bayesian_ridge_lam=empirical_bayes(X, y, hyperprior=BAYESIAN_RIDGE_HYPERPRIOR).lam,
        full_bayes_interval=list(choices.full_bayes_interval),
        noise_sd_interval=[float(q) for q in np.quantile(choices.noise_sd_draws, [0.05, 0.95])],
        lam_draws=choices.lam_draws, n_train=n)
    # how far apart the chosen λ land in validation MSE: the largest over the smallest
    return replace(results, derived={"validation_spread": max(val_at.values()) / min(val_at.values())})


def _covers(interval, value) -> bool:
    return bool(interval[0] <= value <= interval[1])


def render(r: ChoosingResults):
    s = r.settings
    lo, hi = r.full_bayes_interval
    spread = r.derived["validation_spread"]
    ev_lo, ev_hi = r.evidence_within_1nat
    grid_lo, grid_hi = float(r.lams[0]), float(r.lams[-1])
    flat = (f"from λ = {fmt(ev_lo)} to {fmt(ev_hi)}" + (" (the whole grid)" if ev_lo == grid_lo and ev_hi == grid_hi
                                                          else ""))
    narrow_flat = ev_hi / ev_lo >= 10          # "flat" only where the 1-nat band spans a decade or more
    known = bool(np.isfinite(r.evidence_known_lam))

    def panels(axes):
        from bayeswd import plot

        # Validation and training apart: on one axis the training MSE's decades squash validation flat.
        plot.loss_vs_lambda(r.lams, {
            "closed form = converged GD = MAP = posterior mean": (r.ridge_val_mse, dict(color="tab:orange")),
            f"GD 10 epochs (mean of {s['gd_seeds']} seeds)": (r.gd_val_mse, dict(color="tab:orange", ls="--"))},
            axes[0], marks={**r.marks, "best on validation": r.best_val_lam}, ylabel=f"validation {LOSS}",
            title=f"Validation {LOSS} against λ")
        plot.loss_vs_lambda(r.lams, {
            "closed form": (r.ridge_train_mse, dict(color="tab:blue")),
            f"GD 10 epochs (mean of {s['gd_seeds']} seeds)": (r.gd_train_mse, dict(color="tab:blue", ls="--"))},
            axes[1], ylabel=f"training {LOSS}", title=f"Training {LOSS} against λ")
        plot.evidence_curve(r.evidence_lams, r.log_evidence, axes[2],
                            best=r.marks["empirical Bayes"] if r.eb_prior_sd > 0 else None,
                            known=r.log_evidence_known, known_best=r.evidence_known_lam if known else None)
        plot.lambda_posterior(r.lam_draws, axes[3], interval=r.full_bayes_interval,
                              truth=r.bayes_optimal_lam if r.has_truth else None)

    figure = draw("lambda_curves", f"First: validation {LOSS} against λ, vertical lines at the λ each method chose. "
                                   f"Second: training {LOSS}. Third: the marginal likelihood (evidence) relative to its "
                                   "maximum, "
                                   "σ fitted at each λ" + (" and σ known (clipped at −30 nats)" if known else "") + ". "
                                   "Last: the full-Bayes posterior of λ with its 90% interval.", panels, rows=4,
                  height=3.4)
    rows = [[k, v, r.val_mse_at[k]] for k, v in r.marks.items()]
    rows.append(["best on validation (uses the validation rows)", r.best_val_lam, r.best_val_mse])
    answer = (f"On the closed form the validation {LOSS} is lowest at λ = {fmt(r.best_val_lam)}; from the training "
              f"rows alone leave-one-out picks {fmt(r.marks['leave-one-out'])}, empirical Bayes "
              + (f"{fmt(r.marks['empirical Bayes'])}" if r.eb_prior_sd > 0 else
                 "finds no linear signal (its evidence peaks at τ → 0, λ → ∞; marked at the grid's largest λ)")
              + f" and full Bayes {fmt(r.marks['full Bayes (median)'])} (90% interval {fmt(lo)}–{fmt(hi)}). "
              + (f"With σ fitted the marginal likelihood (evidence) stays within 1 nat of its maximum {flat}: "
                 f"{r.n_train} rows pin down σ² + pτ², not the split between noise and prior. " if narrow_flat else
                 f"With σ fitted the marginal likelihood (evidence) falls by more than 1 nat outside {flat}. ")
              + (f"With σ known ({fmt(r.noise_sd_true)}) it peaks at λ = {fmt(r.evidence_known_lam)} "
                 f"(the data were made with λ = {fmt(r.bayes_optimal_lam)}) and puts d2l's λ = {D2L_LAMBDA:g} "
                 f"{fmt(r.evidence_known_drop)} nats lower." if known else
                 "Your data's noise sd is unknown, so only the σ-fitted evidence exists."))
    if r.has_truth:
        truth = (f"The data were made with σ = {fmt(r.noise_sd_true)} and τ² = mean of w*², so the Bayes-optimal "
                 f"λ = σ²/(nτ²) is {fmt(r.bayes_optimal_lam)}. Empirical Bayes fits σ = {fmt(r.eb_noise_sd)}, "
                 f"{fmt(r.eb_noise_sd / r.noise_sd_true)} times the truth; the full-Bayes 90% interval for σ, "
                 f"{fmt(r.noise_sd_interval[0])}–{fmt(r.noise_sd_interval[1])}, "
                 f"{'covers' if _covers(r.noise_sd_interval, r.noise_sd_true) else 'misses'} it, and its 90% "
                 f"interval for λ {'covers' if _covers(r.full_bayes_interval, r.bayes_optimal_lam) else 'misses'} "
                 f"the Bayes-optimal λ. With p ≫ n the data pin down σ² + pτ² (the variance of y) far better than "
                 f"the split between noise and signal, and λ is exactly that split.")
    else:
        truth = (f"Your data's true noise and weights are unknown, so whether these intervals cover the truth cannot "
                 f"be checked. Empirical Bayes fits σ = {fmt(r.eb_noise_sd)}; the full-Bayes 90% interval for σ is "
                 f"{fmt(r.noise_sd_interval[0])}–{fmt(r.noise_sd_interval[1])}.")
    if known:
        recovered = 0.5 <= r.evidence_known_lam / r.bayes_optimal_lam <= 2
        known_text = (f"With σ known the evidence has nothing to trade: it peaks at λ = {fmt(r.evidence_known_lam)} "
                      f"(green) and d2l's λ = {D2L_LAMBDA:g} is {fmt(r.evidence_known_drop)} nats lower. "
                      + (f"So with σ known the {r.n_train} rows do recover the prior the data were made with "
                         f"(λ = {fmt(r.bayes_optimal_lam)}); what they cannot do is tell noise from prior when both "
                         f"are free." if recovered else
                         f"Even so it lands more than a factor 2 from the λ the data were made with "
                         f"({fmt(r.bayes_optimal_lam)})."))
    else:
        known_text = "Your data's noise sd is unknown, so the σ-known curve cannot be drawn."
    text = f"""
**Exercise 2** asks whether the validation-optimal λ ({fmt(r.best_val_lam)}) is really optimal. It is an oracle: it was chosen with the validation rows, so its validation {LOSS} is optimistic. Three choices use only the {r.n_train} training rows: exact leave-one-out cross-validation (refit without each row, predict it), **empirical Bayes** (type-II maximum likelihood: choose σ and τ that make the training targets most probable, integrating the weights out; the probability is the **evidence**) and **full Bayes** (put broad priors on σ and τ and report the posterior of λ = σ²/(nτ²)).

**What the evidence can and cannot say.** The marginal likelihood (evidence) p(y | λ) is the probability of the training targets with the weights integrated out. With σ fitted at each λ (figure, third panel, purple) it moves by {fmt(r.evidence_range_nats)} nats over the whole grid, λ = {fmt(grid_lo)} to {fmt(grid_hi)}{'; empirical Bayes therefore lands wherever that flat curve happens to peak' if narrow_flat else ''}, and with scikit-learn BayesianRidge's default Gamma(1e-6, 1e-6) hyperpriors the same fit moves to λ = {fmt(r.bayesian_ridge_lam)}. {truth} {known_text}

<!--more-->
**Exercise 1** asks for the training and validation loss as a function of λ. The closed-form curves are exact; gradient descent run to convergence lands on them for every λ > 0 (a test checks this to 1e-8), and so do the MAP estimate (largest difference from ridge {fmt(r.map_minus_ridge_max)} over {s['map_points']} λ values) and the posterior mean ({fmt(r.posterior_mean_minus_ridge_max)}). The dashed curves are d2l's actual protocol, 10 epochs of SGD from a N(0, 0.01²) init: at small λ they sit above the closed form because the init's null-space part has not been removed (section 2).

Over the whole grid the closed-form validation {LOSS} ranges from {fmt(float(np.min(r.ridge_val_mse)))} to {fmt(float(np.max(r.ridge_val_mse)))}; the minimum-norm solution (λ → 0) scores {fmt(r.min_norm_val_mse)}. Section 2 shows that the initialization moves it much further.
"""
    table = Table(f"Validation {LOSS} of the closed form at each chosen λ.", ["method", "λ", f"validation {LOSS}"], rows)
    return section(__name__, r, answer, text, [figure], [table])


if __name__ == "__main__":
    script_main(__import__(__name__))
