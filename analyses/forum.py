"""The d2l forum's questions and the seeds' Adam question, each answered with a measured number.

Every run here is d2l's English protocol unless said otherwise: SGD, lr 0.01, minibatches
of 5, 10 epochs, N(0, 0.01²) init, coupled L2 on J = Σr²/(2n) + (λ/2)‖w‖².
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

import bayeswd
from bayeswd.data import D2L_PROTOCOL
from bayeswd.training import stability_bound, train
from bayeswd.ridge import best_lam
from bayeswd.subspace import decompose, null_space_factor

from bayeswd.analyses._common import (LOSS, Context, Count, Real, Results, Table, draw, fmt, pct,
                                      section, script_main)

NAME = "forum"
TITLE = "G. The forum's questions, and Adam"
QUESTION = ("Why is the validation loss flat whatever λ, why does large λ diverge, where is the loss floor, and "
            "what changes under Adam?")
SETTINGS = {"wd": Real(3.0, positive=True, high=50, help="the chapter's λ, used for the penalty and Adam runs"),
            "div_points": Count(50, low=5, high=2000, help="λ values scanned for the onset of divergence"),
            "long_steps": Count(5000, low=10, high=10**6, help="full-batch steps of the long optimizer runs")}
QUICK = {"div_points": 20, "long_steps": 2000}
TYPICAL_SECONDS = {"quick": 10.0, "full": 12.0}
EN = {k: D2L_PROTOCOL[k] for k in ("lr", "batch_size", "epochs")}   # the start is chosen per run
LAMS = (0.0, 0.1, 1.0, 3.0, 10.0, 30.0, 50.0)     # the forum's "10–50 keeps helping" range, and below it
LONG = {"lr": 1e-3}                                # the long full-batch runs that show where Adam and AdamW settle


@dataclass(frozen=True)
class ForumResults(Results):
    n_train: int
    num_inputs: int
    steps: int                      # SGD steps of the English protocol
    lams: np.ndarray
    gd_val_mse: np.ndarray          # final validation MSE, N(0, 0.01²) init
    gd_val_plotted: np.ndarray      # what d2l plots: Σr²/(2n) + (λ/2)‖w‖² on the validation rows
    gd_w_norm: np.ndarray
    torch_val_mse: np.ndarray       # the same runs from PyTorch's U(±1/√p) init (the LazyLinear no-op)
    ridge_val_mse: np.ndarray       # the closed form at each λ (λ = 0: minimum norm)
    null_factor: np.ndarray         # (1 − ηλ)^T: what is left of the init's null-space part
    constant_val_mse: float         # predicting the training mean
    best_ridge_val_mse: float
    best_ridge_lam: float
    noise_var: float                # σ² when known, else NaN
    true_half_sq_norm: float        # ‖w*‖²/2, NaN without truth
    init_sd1: dict                  # "0" / "wd" → validation MSE of the English protocol from N(0, 1)
    div_lams: np.ndarray
    div_final_mse: np.ndarray       # final training MSE
    div_zero_mse: float             # the MSE of w = 0 with the best bias: Σ(y − ȳ)²/n
    div_onset: float                # first λ on the grid whose final loss exceeds 1.5× the w = 0 loss; NaN if none
    div_predicted: float            # 2/η − h_max: where full-batch GD starts to diverge
    div_null_limit: float           # 2/η: beyond it the unseen directions diverge too
    adam: dict                      # variant → {"val_mse", "w_norm", "law_error"} after d2l's run
    adam_long: dict                 # variant → {"max_from_ridge", "train_mse", "w_norm"} after LONG full-batch steps
    ridge_w_norm: float             # ‖w‖ and training MSE of the closed form at λ = wd
    ridge_train_mse: float


Results = ForumResults


def _null_law_error(w, w0, X, factor: float) -> float:
    """How far a run breaks the null-space law (I − P)w_T = c·(I − P)w₀, relative to ‖(I − P)w₀‖.

    P projects on the span of the training rows (the gradients of the data term lie in it);
    c = (1 − ηλ)^T for SGD with coupled L2. Zero up to rounding for SGD; Adam rescales each
    coordinate, so its steps leave the span.
    """
    (_, null_w), (_, null_w0) = decompose(w, X), decompose(w0, X)
    return float(np.linalg.norm(null_w - factor * null_w0) / np.linalg.norm(null_w0))


def compute(ctx: Context) -> ForumResults:
    data, p = ctx.dataset, ctx.params
    X, y, Xv, yv = data.X_train, data.y_train, data.X_val, data.y_val
    wd, lr, n = p["wd"], EN["lr"], data.n_train
    steps = EN["epochs"] * -(-n // EN["batch_size"])
    lams = np.array(sorted(set(LAMS) | {wd}))
    run = train(data, list(lams), seed=ctx.seed, init_sd=0.01, **EN).result.isel(epoch=-1)
    torch_run = train(data, list(lams), seed=ctx.seed, init="torch", **EN).result.isel(epoch=-1)
    best_val_lam = best_lam(X, y, "validation", X_val=Xv, y_val=yv)
    ridge_val = [float(np.mean((yv - bayeswd.ridge(X, y, lam).predict(Xv)) ** 2)) for lam in lams]
    sd1 = train(data, [0.0, wd], seed=ctx.seed, init_sd=1.0, **EN).result.isel(epoch=-1)
    # divergence: from the middle of the stable range up to (not reaching) lr·λ = 2
    div_lams = np.linspace(1.0 / lr, 1.99 / lr, p["div_points"])
    div = train(data, list(div_lams), seed=ctx.seed, init_sd=0.01, check_finite=False, **EN)
    final = div.result.train_mse.isel(epoch=-1).values
    zero_mse = float(np.mean((y - y.mean()) ** 2))
    blown = ~np.isfinite(final) | (final > 1.5 * zero_mse)
    h_max = 2.0 / stability_bound(X, 0.0)
    adam, adam_long = {}, {}
    ridge_wd = bayeswd.ridge(X, y, wd)
    for name, lam, kwargs in (("SGD, λ = 0", 0.0, {}), ("Adam, λ = 0", 0.0, dict(optimizer="adam")),
                              ("SGD + L2", wd, {}), ("Adam + L2", wd, dict(optimizer="adam")),
                              ("AdamW", wd, dict(optimizer="adam", decay="decoupled"))):
        r = train(data, lam, seed=ctx.seed, init_sd=0.01, **EN, **kwargs)
        adam[name] = {"val_mse": float(np.mean((yv - Xv @ r.w - r.b) ** 2)), "w_norm": float(np.linalg.norm(r.w)),
                      "law_error": _null_law_error(r.w, r.w0, X, null_space_factor(lr, lam, steps))}
        if lam > 0:   # where does each optimizer end up? full batch, small steps, long
            long = train(data, lam, seed=ctx.seed, init_sd=0.01, lr=LONG["lr"], epochs=p["long_steps"],
                         batch_size=None, **kwargs)
            adam_long[name] = {"max_from_ridge": float(np.abs(long.w - ridge_wd.w).max()),
                               "train_mse": float(np.mean((y - X @ long.w - long.b) ** 2)),
                               "w_norm": float(np.linalg.norm(long.w))}
    results = ForumResults(
        **ctx.shared(), n_train=n, num_inputs=data.num_inputs, steps=steps, lams=lams, gd_val_mse=run.val_mse.values,
        gd_val_plotted=run.val_objective.values, gd_w_norm=run.w_norm.values,
        torch_val_mse=torch_run.val_mse.values, ridge_val_mse=np.array(ridge_val),
        null_factor=np.array([null_space_factor(lr, lam, steps) for lam in lams]),
        constant_val_mse=float(np.mean((yv - y.mean()) ** 2)),
        best_ridge_val_mse=float(np.mean((yv - bayeswd.ridge(X, y, best_val_lam).predict(Xv)) ** 2)),
        best_ridge_lam=best_val_lam,
        noise_var=float(data.noise_sd**2) if data.noise_sd is not None else float("nan"),
        true_half_sq_norm=float(data.w_true @ data.w_true / 2) if ctx.has_truth else float("nan"),
        init_sd1={"0": float(sd1.val_mse.values[0]), "wd": float(sd1.val_mse.values[1])},
        div_lams=div_lams, div_final_mse=final, div_zero_mse=zero_mse,
        div_onset=float(div_lams[blown][0]) if blown.any() else float("nan"),
        div_predicted=2.0 / lr - h_max, div_null_limit=2.0 / lr, adam=adam, adam_long=adam_long,
        ridge_w_norm=float(np.linalg.norm(ridge_wd.w)),
        ridge_train_mse=float(np.mean((y - ridge_wd.predict(X)) ** 2)))
    return replace(results, derived=_derive(results))


def _indices(r: ForumResults) -> dict:
    """Grid positions of λ = 0, wd, 0.1, 1, 10 and 50 (wd is always on the grid: compute adds it)."""
    at = {key: int(np.argmin(np.abs(r.lams - lam))) for key, lam in (("0.1", 0.1), ("1", 1), ("10", 10), ("50", 50))}
    return {"0": 0, "wd": int(np.argmin(np.abs(r.lams - r.settings["wd"]))), **at}


def _derive(r: ForumResults) -> dict:
    """The ratios and differences the prose and the answer card quote."""
    i = _indices(r)
    flat, mse_wd, plotted_wd = r.torch_val_mse, r.gd_val_mse[i["wd"]], r.gd_val_plotted[i["wd"]]
    penalty_wd = plotted_wd - mse_wd / 2
    learned = r.best_ridge_val_mse / r.constant_val_mse
    torch_half_sq = 1 / 6                                   # U(±1/√p): variance 1/(3p) per weight
    return {"large_init_over_small": r.init_sd1["wd"] / mse_wd,
            "poster_change": abs(flat[i["0.1"]] - flat[i["0"]]) / flat[i["0"]],
            "penalty_at_wd": penalty_wd, "penalty_share_at_wd": penalty_wd / plotted_wd,
            "constant_val_loss_d2l_units": r.constant_val_mse / 2,
            "h_max": r.div_null_limit - r.div_predicted,
            # what the unfinished run (mostly the init's null part) adds to the closed form
            "run_minus_closed_form": r.gd_val_mse - r.ridge_val_mse,
            "best_over_constant": learned, "best_below_constant": 1 - learned,
            "torch_init_sd": 1 / math.sqrt(3 * r.num_inputs), "torch_init_half_sq": torch_half_sq,
            "torch_left_half_sq": r.null_factor[i["wd"]] ** 2 * torch_half_sq,
            "scratch_init_half_sq": r.num_inputs * 0.01**2 / 2}


def _at(r: ForumResults, values, lam: float) -> float:
    return float(np.asarray(values)[int(np.argmin(np.abs(r.lams - lam)))])


def render(r: ForumResults):
    wd, d = r.settings["wd"], r.derived
    i = _indices(r)
    i0, iwd, i01, i1, i10, i50 = (i[k] for k in ("0", "wd", "0.1", "1", "10", "50"))
    poster_change, penalty_wd, flat = d["poster_change"], d["penalty_at_wd"], r.torch_val_mse
    mse_0, mse_wd = r.gd_val_mse[i0], r.gd_val_mse[iwd]
    plotted_wd = r.gd_val_plotted[iwd]
    onset = r.div_onset
    stable_text = ("" if r.div_predicted > 0 else
                   f" Here h_max > 2/η already, so η = {EN['lr']:g} is unstable on these data even at λ = 0.")
    onset_text = (f"On d2l's minibatch runs the final training loss first exceeds 1.5× the loss of w = 0 at "
                  f"λ = {fmt(onset)} on a grid of {len(r.div_lams)} values from {fmt(r.div_lams[0])} to "
                  f"{fmt(r.div_lams[-1])}." if math.isfinite(onset) else
                  f"On d2l's minibatch runs no λ of the grid ({fmt(r.div_lams[0])} to {fmt(r.div_lams[-1])}) ends "
                  f"above 1.5× the loss of w = 0 within {r.steps} steps.")
    gap = d["run_minus_closed_form"]
    big = r.lams >= wd
    best_big = float(r.lams[big][np.argmin(r.gd_val_mse[big])])
    keeps = ("keeps going down all the way to λ = 50" if best_big == r.lams[-1] else
             f"is lowest at λ = {fmt(best_big)} among λ ≥ {wd:g} and rises after it")
    erase_text = (f" Large λ helps in this run by erasing the init within {r.steps} steps, which the data's own best "
                  f"λ ({fmt(r.best_ridge_lam)}) would not do." if gap[i10] < gap[iwd] else "")
    learned = d["best_over_constant"]
    torch_sd, torch_half_sq = d["torch_init_sd"], d["torch_init_half_sq"]
    torch_left, scratch_half_sq = d["torch_left_half_sq"], d["scratch_init_half_sq"]
    floor_claim = (f"no λ does much better than predicting the mean: the best is {pct(1 - learned)} lower"
                   if learned > 0.8 else f"the best λ is {pct(1 - learned)} below predicting the mean")
    a, long = r.adam, r.adam_long
    truth = ""
    if r.has_truth:
        truth = (f" The post's arithmetic holds: the true weights have ‖w*‖²/2 = {fmt(r.true_half_sq_norm)}. "
                 f"From N(0, 1) instead of N(0, 0.01²), λ = 0 ends at validation {LOSS} {fmt(r.init_sd1['0'])} and "
                 f"λ = {wd:g} at {fmt(r.init_sd1['wd'])}, against {fmt(mse_0)} and {fmt(mse_wd)} from the small init: "
                 + (f"decay removes the large init's null-space part within the run." if r.init_sd1["wd"] <= 2 * mse_wd
                    else f"decay shrinks the large init's null-space part, but within {r.steps} steps λ = {wd:g} still "
                         f"ends {fmt(d['large_init_over_small'])}× the small-init run, so decay does not rescue it."))
    floor_noise = (f" The noise alone would allow {fmt(r.noise_var)}." if math.isfinite(r.noise_var) else "")
    adamw_fits = long["AdamW"]["train_mse"] < 0.1 * r.ridge_train_mse
    adam_settles = long["Adam + L2"]["max_from_ridge"] < 0.1 * long["AdamW"]["max_from_ridge"]
    answer = (f"In {r.steps} SGD steps the gradient never touches the init's null-space part, so from PyTorch's init "
              f"the poster's λ = 0.1 changes the validation {LOSS} by only {pct(poster_change)}; d2l's plotted loss "
              f"includes the penalty; full-batch divergence starts at λ = 2/η − h_max = {fmt(r.div_predicted)}; and "
              f"under Adam the null-space law breaks (error {pct(a['Adam, λ = 0']['law_error'])} against "
              f"{fmt(a['SGD, λ = 0']['law_error'])} for SGD).")
    text = f"""
**"What is scratch?"** d2l writes each model twice: *from scratch*, with the penalty typed into the loss by hand, and *concise*, with a framework's built-in `weight_decay` option. Section 5 runs both and prints them side by side.

**"The validation loss is constant whatever λ."** The forum's code builds `nn.LazyLinear(1)` and then calls `weight.data.normal_(0, 0.01)`. On a lazy layer that call acts on a tensor that does not exist yet, so it does nothing, and the weights start from PyTorch's default U(±1/√p), whose sd 1/√(3p) = {fmt(torch_sd)} is larger than d2l's 0.01. The gradient only moves w inside the span of the {r.n_train} training rows, and the decay shrinks the rest by (1 − ηλ)^T after T = {r.steps} steps: {fmt(_at(r, r.null_factor, 0.1))} at λ = 0.1, {fmt(_at(r, r.null_factor, 1))} at λ = 1. From that init the final validation {LOSS} is {fmt(flat[i0])} at λ = 0 and {fmt(flat[i01])} at the poster's λ = 0.1, a change of {pct(poster_change)}; only from λ = 1 ({fmt(flat[i1])}) does λ visibly matter. The untouched null-space part of the init sets the loss, not λ. The same init explains why the concise PyTorch run at λ = {wd:g} prints about what the scratch run prints at λ = 0 (section 5): it starts from E‖w₀‖²/2 = p/(6p) = {fmt(torch_half_sq)}, mostly in the null space, and the decay multiplies that part by {fmt(r.null_factor[iwd])}, so about {fmt(torch_left)} is left, against the scratch start's p·0.01²/2 = {fmt(scratch_half_sq)}.

**"With decay the validation loss looked higher."** d2l's `validation_step` plots `self.loss`, and in the scratch model that includes the penalty: the plotted number is Σr²/(2n) + (λ/2)‖w‖², not the data loss. At λ = {wd:g} the plotted validation value is {fmt(plotted_wd)}, of which the penalty is {fmt(penalty_wd)} ({pct(d['penalty_share_at_wd'])}). The data part alone is an {LOSS} of {fmt(mse_wd)} against {fmt(mse_0)} at λ = 0, so the data loss {'is lower' if mse_wd < mse_0 else 'is not lower'} with decay.{truth}

**"The loss never goes far below 0.01."** d2l prints Σr²/(2n), half the {LOSS}. Predicting the training mean gives a validation {LOSS} of {fmt(r.constant_val_mse)} (d2l's units: {fmt(r.constant_val_mse / 2)}), and the best ridge λ on the validation rows (λ = {fmt(r.best_ridge_lam)}) reaches {fmt(r.best_ridge_val_mse)}: with {r.n_train} rows and {r.num_inputs} weights, {floor_claim}.{floor_noise}

**"For extremely large λ the model fails to converge."** Each SGD step multiplies the weights' error by I − η(H + λI). It grows when η(h + λ) > 2 for some curvature h of the data term. For full-batch GD that starts at λ = 2/η − h_max = {fmt(r.div_predicted)} (h_max = {fmt(r.div_null_limit - r.div_predicted)}, η = {EN['lr']:g}). Directions no row sees (h = 0) diverge only past 2/η = {fmt(r.div_null_limit)}, which `bayeswd.train` refuses.{stable_text} {onset_text}

**"The error keeps going down for λ of 10–50."** In d2l's 10 epochs the decay is what removes the init's null-space part: (1 − ηλ)^T is {fmt(r.null_factor[iwd])} at λ = {wd:g}, {fmt(r.null_factor[i10])} at λ = 10 and {fmt(r.null_factor[i50])} at λ = 50. The GD validation {LOSS} is {fmt(mse_wd)}, {fmt(r.gd_val_mse[i10])} and {fmt(r.gd_val_mse[i50])} at those λ and {keeps}. The closed form at the same λ gives {fmt(r.ridge_val_mse[iwd])}, {fmt(r.ridge_val_mse[i10])} and {fmt(r.ridge_val_mse[i50])}, so what the unfinished run adds over it goes from {fmt(gap[iwd])} to {fmt(gap[i10])} and {fmt(gap[i50])}.{erase_text}

**Adam with L2 against AdamW** (the blog's and the notebook's question). Adam divides each coordinate's step by its own running gradient scale, so its steps leave the span of the training rows. After d2l's run, the null-space law (I − P)w_T = (1 − ηλ)^T (I − P)w₀ is off by {pct(a['Adam, λ = 0']['law_error'])} of ‖(I − P)w₀‖ for Adam at λ = 0, {pct(a['Adam + L2']['law_error'])} for Adam + L2 and {pct(a['AdamW']['law_error'])} for AdamW, against {fmt(a['SGD, λ = 0']['law_error'])} and {fmt(a['SGD + L2']['law_error'])} for SGD: the law is SGD's alone. Where they settle, after {r.settings['long_steps']:,} full-batch steps at lr {LONG['lr']:g} and λ = {wd:g}: Adam + L2 is within {fmt(long['Adam + L2']['max_from_ridge'])} of the ridge solution in every weight (‖w‖ = {fmt(long['Adam + L2']['w_norm'])} against ridge's {fmt(r.ridge_w_norm)}){', so it keeps the Gaussian-prior reading' if adam_settles else ''}. AdamW is {fmt(long['AdamW']['max_from_ridge'])} away, with ‖w‖ = {fmt(long['AdamW']['w_norm'])} and training {LOSS} {fmt(long['AdamW']['train_mse'])} against ridge's {fmt(r.ridge_train_mse)}{': its decay bypasses the preconditioner, and at its resting point the data gradient is nearly zero, so it fits the training rows instead of minimizing J' if adamw_fits else ''}.
"""

    def panels(axes):
        from bayeswd import plot

        top, bottom = axes
        plot.loss_vs_lambda(r.lams[1:], {"GD, N(0, 0.01²) init": (r.gd_val_mse[1:], dict(marker="o")),
                                         "GD, PyTorch's U(±1/√p) init": (r.torch_val_mse[1:], dict(marker="s")),
                                         "closed form (ridge)": (r.ridge_val_mse[1:], dict(color="k"))},
                            top, ylabel=f"validation {LOSS}", title=f"After d2l's {r.steps} SGD steps")
        bottom.semilogy(r.div_lams, r.div_final_mse, "o-", ms=3, label="final training MSE")
        bottom.axhline(r.div_zero_mse, color="0.4", ls=":", label="MSE of w = 0")
        bottom.axvline(r.div_predicted, color="tab:red", ls="--", label="2/η − h_max (full batch)")
        bottom.set(xlabel="λ", ylabel=f"training {LOSS}", title="Where large λ stops converging")
        bottom.legend(fontsize=8.5)

    figure = draw("forum_questions", "Top: validation MSE against λ after d2l's run, from two inits, and the closed form. "
                                     "Bottom: the final training loss as λ approaches 2/η; the dashed line is the "
                                     "predicted onset.", panels, rows=2, height=3.6)
    table = Table(f"d2l's protocol ({r.steps} SGD steps) at each λ.",
                  ["λ", f"validation {LOSS}, N(0, 0.01²) init", "d2l's plotted validation value (MSE/2 + penalty)",
                   f"validation {LOSS}, PyTorch init", f"closed form {LOSS}", "(1 − ηλ)^T"],
                  [[lam, v, pl, t, c, f] for lam, v, pl, t, c, f in zip(r.lams, r.gd_val_mse, r.gd_val_plotted,
                                                                       r.torch_val_mse, r.ridge_val_mse,
                                                                       r.null_factor)])
    adam_table = Table(f"Optimizers after d2l's run, and where they settle after {r.settings['long_steps']:,} "
                       f"full-batch steps.",
                       ["optimizer", f"validation {LOSS}", "‖w‖", "null-space law error", "settled: max |w − ridge|",
                        f"settled: training {LOSS}"],
                       [[k, v["val_mse"], v["w_norm"], v["law_error"], long.get(k, {}).get("max_from_ridge"),
                         long.get(k, {}).get("train_mse")] for k, v in a.items()])
    return section(__name__, r, answer, text, [figure], [table, adam_table])


if __name__ == "__main__":
    script_main(__import__(__name__))
