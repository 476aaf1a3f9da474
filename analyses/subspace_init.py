"""Subspace and initialization: the forum's questions (seed 001), answered with numbers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

import bayeswd
from bayeswd.conventions import lam_from_prior
from bayeswd.subspace import explain_run, init_risk, interpolant_from, null_space_factor
from bayeswd.theory import min_norm_risk, optimal_lam, ridge_risk_asymptotic
from bayeswd.engine import train

from analyses._common import Context, Count, Real, defaults, Section, Table, command, fmt, png, script_main

NAME = "subspace_init"
TITLE = "4. Row space, null space and the initialization"
QUESTION = "Why does λ = 3 'help' in d2l, and how much of the validation loss is decided by the init?"
SETTINGS = {"wd": Real(3.0, low=0, high=50, help="the decay compared with λ = 0"),
            "mc_seeds": Count(200, low=2, high=5000, help="Monte Carlo seeds for the init law"),
            "zh_epochs": Count(100, high=10**5, help="epochs of the Chinese-edition runs")}
DEFAULTS = defaults(SETTINGS)
QUICK = {"mc_seeds": 40, "zh_epochs": 20}
INITS = (("normal", 0.01, "N(0, 0.01²) (d2l-en)"), ("normal", 0.1, "N(0, 0.1²)"),
         ("torch", 0.0, "U(±1/√p) (PyTorch default)"), ("normal", 1.0, "N(0, 1) (d2l-zh)"))


def run(ctx: Context) -> Section:
    data, p = ctx.dataset, ctx.params
    if not ctx.has_truth:
        return _without_truth(ctx)
    X, y, wt, bt = data.X_train, data.y_train, data.w_true, data.b_true
    configs = {"en": dict(init_sd=0.01, lr=0.01, epochs=10), "zh": dict(init_sd=1.0, lr=0.003, epochs=p["zh_epochs"])}
    explained, rows = {}, []
    for cfg, kw in configs.items():
        runs = train(data, [0.0, p["wd"]], seed=ctx.seed, batch_size=5, **kw)
        for i, lam in enumerate((0.0, p["wd"])):
            parts = explain_run(runs.w[i], runs.b[i], runs.w0, X, wt, bt)
            parts["null_factor"] = null_space_factor(kw["lr"], lam, runs.steps)
            parts["val_loss"] = float(runs.result["val_loss"][i, -1])
            explained[f"{cfg}_lam{lam:g}"] = parts
            rows.append([f"{cfg}, λ={lam:g}", parts["null_factor"], parts["row_error_sq"], parts["null_error_sq"],
                         parts["init_null_sq"], parts["truth_null_sq"], parts["excess_risk"], parts["val_loss"]])
    # The init law: formula vs Monte Carlo over seeds, each start taken to its λ = 0 limit.
    law = {}
    seeds = list(range(ctx.seed, ctx.seed + p["mc_seeds"]))
    for kind, sd, label in INITS:
        starts = train(data, 0.0, seed=seeds, init=kind, init_sd=sd, epochs=1)
        risks = [explain_run(*interpolant_from(X, y, w0, b0), w0, X, wt, bt)["excess_risk"]
                 for w0, b0 in zip(starts.w0, starts.b0)]
        var_w = sd**2 if kind == "normal" else 1 / (3 * data.num_inputs)
        var_b = 0.0 if kind == "normal" else var_w
        base, expected = init_risk(X, y, wt, bt, var_w, var_b)
        law[label] = {"formula": expected, "monte_carlo": float(np.mean(risks)),
                      "mc_se": float(np.std(risks, ddof=1) / np.sqrt(len(risks))), "ratio_to_min_norm": expected / base}
    base = init_risk(X, y, wt, bt, 0.0)[0]
    n, num_inputs = data.n_train, data.num_inputs
    tau = float(np.sqrt(np.mean(wt**2)))
    lam_star = lam_from_prior(data.noise, tau, n)
    val = {name: float(np.mean((bayeswd.ridge(X, y, lam).predict(data.X_val) - data.y_val) ** 2) / 2)
           for name, lam in (("min_norm", 0.0), ("bayes_optimal", lam_star), ("d2l_lambda", p["wd"]))}
    gamma, r2 = num_inputs / n, float(wt @ wt)
    asym = {"min_norm": min_norm_risk(gamma, r2, data.noise**2),
            "optimal_ridge": ridge_risk_asymptotic(gamma, optimal_lam(gamma, r2, data.noise**2), r2, data.noise**2)}

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    labels = list(explained)
    ticks = [k.replace("_lam", ", λ=") for k in labels]
    bottom = np.zeros(len(labels))
    for key, color, name in (("row_error_sq", "tab:blue", "row space ‖P(w − w*)‖²"),
                             ("null_error_sq", "tab:red", "null space ‖(I − P)(w − w*)‖²"),
                             ("bias_error_sq", "tab:gray", "bias (b − b*)²")):
        vals = np.array([explained[k][key] for k in labels])
        ax1.bar(ticks, vals, bottom=bottom, color=color, label=name)
        bottom += vals
    ax1.set_yscale("log")
    ax1.set(title="Where the excess risk of each d2l run lives", ylabel="excess risk")
    ax1.legend(fontsize=8)
    names = list(law)
    ax2.errorbar(range(len(names)), [law[k]["monte_carlo"] for k in names],
                 yerr=[4 * law[k]["mc_se"] for k in names], fmt="o", label="Monte Carlo over seeds (±4 s.e.)")
    ax2.plot(range(len(names)), [law[k]["formula"] for k in names], "x", ms=10, color="k",
             label="R_min-norm + s₀²·tr(I − P)")
    ax2.axhline(base, color="tab:green", ls=":", label="min-norm (init 0)")
    ax2.set_xticks(range(len(names)), names, rotation=15, fontsize=8)
    ax2.set(yscale="log", title="λ = 0 run to convergence: risk by init", ylabel="excess risk")
    ax2.legend(fontsize=8)
    figure = png(fig, "subspace_init", "Left: the excess risk of the d2l runs split into row-space, null-space and "
                                       "bias error. Right: the initialization law against Monte Carlo.")
    en0, en3 = explained["en_lam0"], explained[f"en_lam{p['wd']:g}"]
    zh0, zh3 = explained["zh_lam0"], explained[f"zh_lam{p['wd']:g}"]
    numbers = {"runs": explained, "init_law": law, "min_norm_risk": base, "bayes_optimal_lam": lam_star,
               "closed_form_val_loss": val, "asymptotic": asym}
    answer = (f"λ = {p['wd']:g} helps because it shrinks the init's null-space part by "
              f"{fmt(en3['null_factor'])} (null-space error {fmt(en0['null_error_sq'])} → {fmt(en3['null_error_sq'])}), "
              f"not by fitting less noise; run to convergence at λ = 0, init sd 0.01 costs "
              f"{fmt(law[INITS[0][2]]['ratio_to_min_norm'])}× the min-norm risk and init sd 1 "
              f"{fmt(law[INITS[3][2]]['ratio_to_min_norm'])}×.")
    text = f"""
Every gradient of the data term is a combination of the 20 training rows, so gradient descent moves w only inside their 20-dimensional row space. In the other 180 directions (the null space) nothing but the initialization and the decay act: with plain SGD and coupled L2, (I − P)w_T = (1 − ηλ)^T (I − P)w₀ exactly, whatever the minibatches (tested to 1e-10). The forum's suspicion (seed 001) is right, with numbers:

- **Why λ = {p['wd']:g} "helps".** In the d2l-en run (init sd 0.01, 40 steps of η = 0.01) the null-space factor is (1 − 0.01·{p['wd']:g})^40 = {fmt(en3['null_factor'])}. The init's null part, ‖(I − P)w₀‖² = {fmt(en0['init_null_sq'])}, is a random vector unrelated to the truth's null part ({fmt(en0['truth_null_sq'])}, which no gradient can reach); shrinking it cuts the null-space error from {fmt(en0['null_error_sq'])} to {fmt(en3['null_error_sq'])}, while the row-space error goes from {fmt(en0['row_error_sq'])} to {fmt(en3['row_error_sq'])}. The decay is cleaning up the init, not taming a noise fit.
- **Why the printed norms look alike.** ‖w‖²/2 at λ = 0 is mostly the init's: the null part is untouched and the row part moves little in 40 steps (section 1).
- **What init sd 1 does (d2l-zh).** ‖(I − P)w₀‖² ≈ 180, so the λ = 0 run keeps an excess risk of {fmt(zh0['excess_risk'])}; with λ = {p['wd']:g} and {p['zh_epochs']} epochs the factor is {fmt(zh3['null_factor'])} and the excess risk falls to {fmt(zh3['excess_risk'])}.
- **The init law.** Run to convergence at λ = 0 from w₀ with variance s₀², the expected excess risk is R_min-norm + s₀²·tr(I − P) (THEORY §4's s₀²(p − rank X), with the bias column counted exactly). Over {p['mc_seeds']} seeds the Monte Carlo means agree with it (figure, ±4 s.e.): {fmt(law[INITS[0][2]]['ratio_to_min_norm'])}× the min-norm risk for sd 0.01, {fmt(law[INITS[2][2]]['ratio_to_min_norm'])}× for PyTorch's default, {fmt(law[INITS[3][2]]['ratio_to_min_norm'])}× for sd 1.
- **The Bayes-optimal λ and how little it matters.** With τ² = ‖w*‖²/p the optimal λ* = σ²/(nτ²) = {fmt(lam_star)}. Closed-form validation losses: min-norm {fmt(val['min_norm'])}, λ* {fmt(val['bayes_optimal'])}, λ = {p['wd']:g} {fmt(val['d2l_lambda'])}. The asymptotic theory for γ = 10 gives {fmt(asym['min_norm'], 5)} (min-norm) and {fmt(asym['optimal_ridge'], 5)} (optimal ridge) in excess risk: λ barely matters here; the initialization does.
"""
    table = Table("Each d2l run split by subspace (excess risk = validation MSE − σ² for x ~ N(0, I)).",
                  ["run", "null factor", "row error²", "null error²", "‖(I−P)w₀‖²", "‖(I−P)w*‖²", "excess risk",
                   "val loss"], rows)
    law_table = Table("The init law at λ = 0, converged.", ["init", "formula", "Monte Carlo", "MC s.e.", "× min-norm"],
                      [[k, v["formula"], v["monte_carlo"], v["mc_se"], v["ratio_to_min_norm"]] for k, v in law.items()])
    return Section(NAME, TITLE, QUESTION, answer, numbers, text, [figure], [table, law_table], command(NAME, ctx))


def _without_truth(ctx: Context) -> Section:
    """A user's data has no true weights: report the null-space decay only."""
    data = ctx.dataset
    runs = train(data, [0.0, ctx.params["wd"]], seed=ctx.seed)
    rank = int(np.linalg.matrix_rank(data.X_train))
    factor = null_space_factor(0.01, ctx.params["wd"], runs.steps)
    numbers = {"rank": rank, "null_dims": data.num_inputs - rank, "null_factor": factor}
    answer = (f"Your data's {data.n_train} training rows span {rank} of {data.num_inputs} directions; without a "
              f"known truth the risk split cannot be computed, but the init's null part shrinks by {fmt(factor)}.")
    return Section(NAME, TITLE, QUESTION, answer, numbers, "", [], [], command(NAME, ctx))


if __name__ == "__main__":
    script_main(__import__(__name__))
