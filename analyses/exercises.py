"""d2l's six exercises, each answered with a number: accuracy, the optimal λ, the L1 update, the matrix
penalty, other remedies for overfitting, and the prior."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

import bayeswd
from bayeswd.conventions import lam_from_prior, prior_sd_from_lam
from bayeswd.data import D2L_PROTOCOL, multioutput_data
from bayeswd.inference import map_estimate
from bayeswd.training import train

from bayeswd.training import stability_bound
from bayeswd.ridge import best_lam
from bayeswd.subspace import excess_risk

from bayeswd.analyses._common import (LOSS, Context, Count, Real, Results, Table, fmt, pct, ridge_on_validation,
                                      section, script_main)

NAME = "exercises"
TITLE = "F. The six exercises"
QUESTION = "What do d2l's six exercises ask, and what do the measured numbers answer?"
SETTINGS = {"wd": Real(3.0, low=0, high=1e4, positive=True, help="the λ whose prior is asked for"),
            "stop_epochs": Count(300, low=2, high=10**5, help="full-batch epochs of the early-stopping run")}
QUICK = {"stop_epochs": 100}
TYPICAL_SECONDS = {"quick": 8.0, "full": 9.0}
EN = D2L_PROTOCOL
FORUM_LAMS = tuple(float(v) for v in range(1, 11))          # the forum's exercise-1 grid
MORE_ROWS = 5                                               # exercise 5: this many times the training rows


@dataclass(frozen=True)
class ExercisesResults(Results):
    frobenius: dict             # "sum_of_squares", "trace_WtW", "singular_values_sq" of a trained weight matrix
    matrix_shape: list
    noise_sd: float             # known, or the empirical-Bayes estimate for a user's data
    n_train: int
    n_val: int
    tau_for_wd: float           # the prior sd that the setting wd is
    tau_true: float             # NaN without true weights
    lam_for_true_tau: float
    map_minus_ridge: float      # |PyMC MAP − ridge| at λ = wd, largest entry
    accuracy: dict              # exercise 1: "lams", "train_acc", "val_acc", "train_mse", "val_mse", "constant_val_acc"
    optimal: dict               # exercise 2: "val_lam", "loo_lam", "risk_lam", "risk_at_val_lam", "risk_at_risk_lam"
    remedies: dict              # exercise 5: validation MSE of each remedy (NaN where it cannot be run)


Results = ExercisesResults


def _accuracy(y_hat, y) -> float:
    """The forum's "relative accuracy" 1 − |mean(ŷ − y)/mean(y)| (it printed ×100): it only sees the mean error."""
    return float(1 - abs(np.mean(y_hat - y) / np.mean(y)))


def _exercise_1(data, seed: int) -> dict:
    runs = train(data, list(FORUM_LAMS), seed=seed, **EN)
    w, b = runs.w, runs.b
    fits = [(data.X_train @ w[i] + b[i], data.X_val @ w[i] + b[i]) for i in range(len(FORUM_LAMS))]
    return {"lams": list(FORUM_LAMS), "train_acc": [_accuracy(t, data.y_train) for t, _ in fits],
            "val_acc": [_accuracy(v, data.y_val) for _, v in fits],
            "train_mse": [float(np.mean((t - data.y_train) ** 2)) for t, _ in fits],
            "val_mse": [float(np.mean((v - data.y_val) ** 2)) for _, v in fits],
            "constant_val_acc": _accuracy(np.full(len(data.y_val), data.y_train.mean()), data.y_val)}


def _val_mse(fit, data) -> float:
    return float(np.mean((data.y_val - fit.predict(data.X_val)) ** 2))


def _exercise_2(data, has_truth: bool) -> dict:
    path, _ = ridge_on_validation(data)
    lams = path.lams
    val_lam = best_lam(data.X_train, data.y_train, "validation", X_val=data.X_val, y_val=data.y_val)
    at_val = bayeswd.ridge(data.X_train, data.y_train, val_lam)
    out = {"val_lam": val_lam, "loo_lam": best_lam(data.X_train, data.y_train, "loo"),
           "best_val_mse": _val_mse(at_val, data)}
    if has_truth:   # the true excess risk on fresh inputs x ~ N(0, I): what "optimal" should mean
        risk = np.array([excess_risk(path.w[i], path.b[i], data.w_true, data.b_true) for i in range(len(lams))])
        out.update(risk_lam=float(lams[risk.argmin()]),
                   risk_at_val_lam=excess_risk(at_val.w, at_val.b, data.w_true, data.b_true),
                   risk_at_risk_lam=float(risk.min()))
    else:
        out.update(risk_lam=float("nan"), risk_at_val_lam=float("nan"), risk_at_risk_lam=float("nan"))
    return out


def _exercise_5(data, seed: int, epochs: int, more_rows) -> dict:
    """Three remedies on the same validation rows: weight decay, early stopping, more training rows."""
    X, y = data.X_train, data.y_train
    lr = stability_bound(X, 0.0) / 2          # 1/h_max: stable and fast
    # From w = 0, the closed forms' own start (a fair comparison), and from d2l's N(0, 0.01²) init.
    zero = train(data, 0.0, lr=lr, epochs=epochs, batch_size=None, w0=np.zeros(data.num_inputs), b0=0.0)
    run = train(data, 0.0, lr=lr, epochs=epochs, batch_size=None, init_sd=EN["init_sd"], seed=seed)
    val_curve = zero.result.val_mse.values
    init_curve = run.result.val_mse.values
    out = {"min_norm": _val_mse(bayeswd.ridge(X, y, 0.0), data),
           "early_stopping": float(val_curve.min()), "early_stopping_epoch": int(val_curve.argmin()) + 1,
           "gd_final": float(val_curve[-1]), "stop_lr": float(lr), "stop_epochs": epochs,
           "early_stopping_from_init": float(init_curve.min()),
           "early_stopping_from_init_epoch": int(init_curve.argmin()) + 1,
           "more_rows": float("nan"), "more_rows_best_ridge": float("nan"), "more_rows_n": 0}
    if more_rows is not None:
        _, val = ridge_on_validation(more_rows)
        out.update(more_rows=_val_mse(bayeswd.ridge(more_rows.X_train, more_rows.y_train, 0.0), more_rows),
                   more_rows_best_ridge=float(val.min()), more_rows_n=int(more_rows.n_train))
    return out


def compute(ctx: Context) -> ExercisesResults:
    data, p = ctx.dataset, ctx.params
    n, sigma = data.n_train, ctx.noise_sd
    W = train(multioutput_data(seed=ctx.seed), 0.05, epochs=5, batch_size=33, lr=0.01).w  # a trained p×k matrix
    frob = {"sum_of_squares": float(np.sum(W**2)), "trace_WtW": float(np.trace(W.T @ W)),
            "singular_values_sq": float(np.sum(np.linalg.svd(W, compute_uv=False) ** 2))}
    tau_wd = prior_sd_from_lam(p["wd"], sigma, n)
    tau_true = float(np.sqrt(np.mean(data.w_true**2))) if ctx.has_truth else float("nan")
    est = map_estimate(data, "gaussian", tau_wd, noise_sd=sigma)
    # a fresh d2l draw with more rows; a user's file cannot be redrawn
    more = (bayeswd.d2l_data(seed=ctx.seed + 1, n_train=MORE_ROWS * n, n_val=len(data.y_val),
                             num_inputs=data.num_inputs) if ctx.redraw is not None else None)
    results = ExercisesResults(**ctx.shared(), frobenius=frob, matrix_shape=list(W.shape), noise_sd=sigma, n_train=n, n_val=len(data.y_val),
                            tau_for_wd=tau_wd, tau_true=tau_true,
                            lam_for_true_tau=lam_from_prior(sigma, tau_true, n) if ctx.has_truth else float("nan"),
                            map_minus_ridge=float(np.abs(est.w - bayeswd.ridge(data.X_train, data.y_train,
                                                                               p["wd"]).w).max()),
                            accuracy=_exercise_1(data, ctx.seed), optimal=_exercise_2(data, ctx.has_truth),
                            remedies=_exercise_5(data, ctx.seed, p["stop_epochs"], more))
    return replace(results, derived=_derive(results))


def _derive(r: ExercisesResults) -> dict:
    """The ranges, the validation choice's extra risk and early stopping's distance the prose quotes."""
    acc, opt, rem = r.accuracy, r.optimal, r.remedies
    extra = opt["risk_at_val_lam"] / opt["risk_at_risk_lam"] - 1 if r.has_truth else float("nan")
    return {"val_acc_range": [min(acc["val_acc"]), max(acc["val_acc"])],
            "val_mse_range": [min(acc["val_mse"]), max(acc["val_mse"])], "validation_choice_extra_risk": extra,
            "early_stopping_vs_decay": abs(rem["early_stopping"] / opt["best_val_mse"] - 1)}


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
    acc, opt, rem = r.accuracy, r.optimal, r.remedies
    (acc_lo, acc_hi), (mse_lo, mse_hi) = r.derived["val_acc_range"], r.derived["val_mse_range"]
    loss = r.derived["validation_choice_extra_risk"]
    if r.has_truth:
        ex2 = (f"The λ that minimizes the validation {LOSS} is {fmt(opt['val_lam'])}; the λ that minimizes the true "
               f"excess {LOSS} on fresh inputs (computable here because the true weights are known) is "
               f"{fmt(opt['risk_lam'])}. The validation choice costs {pct(loss)} more excess {LOSS} than the true "
               f"optimum: it is optimal for these {r.n_val} validation rows, "
               f"{'and close to optimal' if loss < 0.1 else 'not'} for new data. Leave-one-out on the training "
               f"rows picks λ = {fmt(opt['loo_lam'])} without using the validation rows at all (section 3).")
    else:
        ex2 = (f"The λ that minimizes the validation {LOSS} is {fmt(opt['val_lam'])}, and leave-one-out on the "
               f"training rows picks {fmt(opt['loo_lam'])}. Whether either is optimal for new data needs the true "
               f"weights, which a user's file does not have.")
    more = (f"A fresh d2l draw with {rem['more_rows_n']} training rows ({MORE_ROWS}× as many; its own validation "
            f"rows) gives {fmt(rem['more_rows'])} at λ = 0 and {fmt(rem['more_rows_best_ridge'])} at its best λ."
            if rem["more_rows_n"] else "More training rows cannot be drawn for a user's file, so that remedy is "
                                       "not measured here.")
    es_gap = r.derived["early_stopping_vs_decay"]
    es_vs_decay = (f", within {pct(es_gap)} of weight decay at its best λ, as appendix E's \"early stopping is "
                   f"nearly the same regularizer\" predicts" if es_gap < 0.1 else
                   f", {pct(es_gap)} from weight decay at its best λ")
    answer = (f"The forum's accuracy moves between {pct(acc_lo)} and {pct(acc_hi)} over λ = 1…10 while the "
              f"validation {LOSS} moves between {fmt(mse_lo)} and {fmt(mse_hi)}; early stopping from w = 0 "
              f"reaches {fmt(rem['early_stopping'])} against weight decay's {fmt(opt['best_val_mse'])} (both from 0); the matrix penalty is "
              f"(λ/2)·tr(WᵀW); λ = {wd:g} is a N(0, τ²) prior with τ = {fmt(r.tau_for_wd)}{truth_clause}")
    text = f"""
**Exercise 1 — λ against accuracy and loss.** The forum measured a "relative accuracy" 100·(1 − |mean(ŷ − y)/mean(y)|). It only sees the *average* error, so a model can score well on it while predicting badly: predicting the training mean for every row scores {pct(acc['constant_val_acc'])} on the validation rows. Over the forum's λ = 1…10 (d2l's run: SGD, lr 0.01, 10 epochs) the validation accuracy spans {pct(acc_lo)}…{pct(acc_hi)} and the validation {LOSS} {fmt(mse_lo)}…{fmt(mse_hi)}; the table lists both. Section 3 has the full λ sweep of training and validation loss.

**Exercise 2 — is the validation-optimal λ optimal?** {ex2}

**Exercise 3 — the update with ‖w‖₁.** With the penalty α‖w‖₁ the gradient of |wⱼ| is sign(wⱼ) away from 0, so the subgradient update is

$$w \\leftarrow w - \\eta\\,\\bigl(\\nabla_w L(w, b) + \\alpha\\,\\mathrm{{sign}}(w)\\bigr),$$

which moves every weight by a constant ηα towards 0 and overshoots it, so weights jitter around 0 and rarely land on it. The proximal update takes the plain gradient step and then soft-thresholds:

$$w \\leftarrow S_{{\\eta\\alpha}}\\bigl(w - \\eta\\,\\nabla_w L(w, b)\\bigr),\\qquad S_t(v)_j = \\mathrm{{sign}}(v_j)\\max(|v_j| - t, 0),$$

which sets a weight exactly to 0 once its step is smaller than ηα. Section 4 runs both (`bayeswd.train(..., penalty="l1", l1_method=...)`) and counts the exact zeros.

**Exercise 4 — the matrix penalty.** With k outputs the weights form a p×k matrix W and weight decay penalizes (λ/2)‖W‖²_F, the Frobenius norm: the sum of squares of all entries, which equals tr(WᵀW) and the sum of the squared singular values. For the {rows_}×{cols_} matrix of the several-outputs model (appendix C) after 5 epochs: Σw² = {fmt(f['sum_of_squares'], 8)}, tr(WᵀW) = {fmt(f['trace_WtW'], 8)}, Σσᵢ² = {fmt(f['singular_values_sq'], 8)}. Its gradient is λW, entry by entry, which is the notebook's update (appendix C). As a prior it is an independent N(0, τ²) on every entry.

**Exercise 5 — other remedies, measured on the same data.** With λ = 0 the minimum-norm fit reaches a validation {LOSS} of {fmt(rem['min_norm'])}. Weight decay at the best λ on the validation rows reaches {fmt(opt['best_val_mse'])}. Early stopping (full-batch GD at λ = 0, step 1/h_max, h_max the largest eigenvalue of the data term's Hessian, = {fmt(rem['stop_lr'])}, the best of {rem['stop_epochs']} epochs on the validation rows), started like the closed forms from w = 0, reaches {fmt(rem['early_stopping'])} at epoch {rem['early_stopping_epoch']}, against {fmt(rem['gd_final'])} if it runs to the end{es_vs_decay}. Started instead from d2l's N(0, 0.01²) init it reaches {fmt(rem['early_stopping_from_init'])} (epoch {rem['early_stopping_from_init_epoch']}): that run keeps the init's null-space part (section 2), which no start at 0 has. {more}
**Exercise 6 — the prior.** Posterior ∝ likelihood × prior; taking −log and multiplying by σ²/n turns it into Σr²/(2n) + (λ/2)‖w‖² with λ = σ²/(nτ²). With {sigma_text} and n = {r.n_train}, λ = {wd:g} is the prior sd τ = σ/√(nλ) = {fmt(r.tau_for_wd)}; {truth_text} PyMC's MAP under that prior equals the ridge solution at λ = {wd:g} to {fmt(r.map_minus_ridge)}. A Laplace prior with scale s gives the L1 penalty α‖w‖₁ with α = σ²/(ns) (section 4).
"""
    rows = [["λ", wd], ["prior sd τ for that λ", r.tau_for_wd]]
    if r.has_truth:
        rows += [["true τ", r.tau_true], ["λ for the true τ", r.lam_for_true_tau]]
    table = Table("λ ↔ prior.", ["quantity", "value"], rows + [["largest |MAP − ridge|", r.map_minus_ridge]])
    acc_table = Table(f"Exercise 1: the forum's relative accuracy and the {LOSS} after d2l's run, for λ = 1…10.",
                      ["λ", "training accuracy", "validation accuracy", f"training {LOSS}",
                       f"validation {LOSS}"],
                      [list(row) for row in zip(acc["lams"], acc["train_acc"], acc["val_acc"], acc["train_mse"],
                                                acc["val_mse"])])
    remedies = Table(f"Exercise 5: validation {LOSS} of each remedy.", ["remedy", f"validation {LOSS}"],
                     [["none (λ = 0, minimum norm)", rem["min_norm"]], ["weight decay, best λ", opt["best_val_mse"]],
                      ["early stopping from w = 0, best epoch", rem["early_stopping"]],
                      ["early stopping from N(0, 0.01²), best epoch", rem["early_stopping_from_init"]],
                      [f"{MORE_ROWS}× training rows, λ = 0", rem["more_rows"]],
                      [f"{MORE_ROWS}× training rows, best λ", rem["more_rows_best_ridge"]]])
    return section(__name__, r, answer, text, [], [acc_table, remedies, table])


if __name__ == "__main__":
    script_main(__import__(__name__))
