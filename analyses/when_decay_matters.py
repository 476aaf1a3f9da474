"""When does weight decay matter? A phase diagram over p/n, noise and the initialization's scale.

Synthetic problems in d2l's shape — n = 20 training rows, x ~ N(0, I), ‖w*‖² = 0.02 spread
evenly over p = γn inputs, bias 0.05 — trained by d2l's recipe (minibatch SGD, lr 0.01,
batch 5) with and without decay and over a λ grid, many data draws and seeds per cell.
The measure is the exact {EXCESS} of the trained weights, ‖ŵ − w*‖² + (b̂ − b*)², and the
Marchenko–Pastur limits are drawn beside it. Runs on a Dask cluster with
``bayeswd report --scheduler``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from bayeswd.data import D2L_LAMBDA, D2L_PROTOCOL, d2l_data
from bayeswd.training import train
from bayeswd.theory import min_norm_risk, optimal_lam, ridge_risk_asymptotic

from bayeswd.analyses._common import (EXCESS, Context, Count, Results, Table, draw, fmt, log_grid, section,
                                      script_main)

NAME = "when_decay_matters"
TITLE = "H. When does weight decay matter?"
QUESTION = ("Over p/n, noise and the initialization's scale, when does weight decay lower the error of gradient "
            "descent, and by how much?")
SETTINGS = {"draws": Count(8, low=1, high=1000, help="data draws per cell of the diagram"),
            "seeds": Count(16, low=1, high=1000, help="initialization and minibatch seeds per data draw"),
            "epochs": Count(100, low=1, high=10_000, help="training epochs (4 minibatch steps each); d2l runs 10")}
QUICK = {"draws": 2, "seeds": 4}
TYPICAL_SECONDS = {"quick": 12.0, "full": 25.0}

N_TRAIN, R2, BIAS = 20, 0.02, 0.05          # d2l: 20 rows, ‖w*‖² = 200·0.01², b = 0.05
LR, BATCH = 0.01, 5                          # d2l's recipe
D2L_LAM = D2L_LAMBDA
GAMMAS = (0.1, 0.2, 0.5, 0.8, 1.25, 2.0, 5.0, 10.0)
NOISES = (0.01, 0.1, 0.3)                    # d2l's noise sd first
INIT_SDS = (0.0, 0.01, 0.1)                  # from zero, d2l's init, ten times d2l's
LAMS = np.r_[0.0, D2L_LAM, log_grid(1e-3, 30.0, 22)]
D2L_POINT = (10.0, 0.01, D2L_PROTOCOL["init_sd"])   # (γ, noise sd, init sd) of the d2l chapter
D2L_EPOCHS = D2L_PROTOCOL["epochs"]          # the chapter's run length; the diagram's may differ, and says so
MATTERS = 2.0                                # "matters": the best λ at least halves the excess MSE


@dataclass(frozen=True)
class PhaseResults(Results):
    gammas: np.ndarray
    noises: np.ndarray
    init_sds: np.ndarray
    lams: np.ndarray
    mean: np.ndarray         # (γ, noise, init sd, λ): mean excess MSE over draws × seeds
    se: np.ndarray           # its standard error
    models: int
    epochs: int
    theory_gd: np.ndarray    # (γ, noise, init sd): GD at λ = 0 run to convergence, Marchenko–Pastur limit
    theory_ridge: np.ndarray  # (γ, noise): ridge at the optimal λ*, Marchenko–Pastur limit


Results = PhaseResults


def _problem_seed(seed: int, g: int, s: int, d: int) -> int:
    return int(np.random.SeedSequence([seed, g, s, d]).generate_state(1)[0])


def gd_limit(gamma: float, noise_var: float, init_sd: float) -> float:
    """Excess MSE of GD at λ = 0 run to convergence from N(0, init_sd²) weights, as n, p → ∞:
    the minimum-norm risk plus the start's null-space part, (1 − 1/γ)·p·init_sd² for γ > 1."""
    init_part = (1 - 1 / gamma) * gamma * N_TRAIN * init_sd**2 if gamma > 1 else 0.0
    return min_norm_risk(gamma, R2, noise_var) + init_part


def compute(ctx: Context) -> PhaseResults:
    p = ctx.params
    shape = (len(GAMMAS), len(NOISES), len(INIT_SDS), len(LAMS))
    total, total_sq = np.zeros(shape), np.zeros(shape)
    count = p["draws"] * p["seeds"]
    for g, gamma in enumerate(GAMMAS):
        inputs = int(round(gamma * N_TRAIN))
        for s, noise in enumerate(NOISES):
            for d in range(p["draws"]):
                data = d2l_data(seed=_problem_seed(ctx.seed, g, s, d), n_train=N_TRAIN, n_val=5, num_inputs=inputs,
                                noise_sd=noise, w=np.sqrt(R2 / inputs), b=BIAS)
                run = train(data, LAMS, seed=list(range(p["seeds"])), init_sd=list(INIT_SDS), epochs=p["epochs"],
                            lr=LR, batch_size=BATCH, client=ctx.client)
                w, b = run.result["w"].values, run.result["b"].values            # (λ, seed, init sd[, p])
                excess = np.sum((w - data.w_true) ** 2, axis=-1) + (b - data.b_true) ** 2
                excess = np.moveaxis(excess, 0, -1)                              # (seed, init sd, λ)
                total[g, s] += excess.sum(axis=0)
                total_sq[g, s] += (excess**2).sum(axis=0)
    mean = total / count
    var = np.maximum(total_sq / count - mean**2, 0.0) * count / max(count - 1, 1)
    theory_gd = np.array([[[gd_limit(gm, nz**2, sd) for sd in INIT_SDS] for nz in NOISES] for gm in GAMMAS])
    theory_ridge = np.array([[ridge_risk_asymptotic(gm, optimal_lam(gm, R2, nz**2), R2, nz**2) for nz in NOISES]
                             for gm in GAMMAS])
    results = PhaseResults(**ctx.shared(), gammas=np.array(GAMMAS), noises=np.array(NOISES),
                        init_sds=np.array(INIT_SDS), lams=LAMS, mean=mean, se=np.sqrt(var / count),
                        models=int(count * np.prod(shape)), epochs=p["epochs"], theory_gd=theory_gd,
                        theory_ridge=theory_ridge)
    return replace(results, derived=_cells(results)["derived"])


def summary(r: PhaseResults) -> dict:
    """Per cell: excess MSE at λ = 0, at d2l's λ = 3 and at the best λ of the grid, and the gain."""
    no_decay = r.mean[..., list(r.lams).index(0.0)]
    d2l_decay = r.mean[..., list(r.lams).index(D2L_LAM)]
    best_i = np.argmin(r.mean, axis=-1)
    best = np.take_along_axis(r.mean, best_i[..., None], axis=-1)[..., 0]
    return {"no_decay": no_decay, "d2l_decay": d2l_decay, "best": best, "best_lam": r.lams[best_i],
            "gain": no_decay / best}


def _cells(r: PhaseResults) -> dict:
    """The per-cell summary the figure draws and the derived numbers the prose quotes, from the Results."""
    s = summary(r)
    gi, ni, ii = (list(a).index(v) for a, v in zip((r.gammas, r.noises, r.init_sds), D2L_POINT))
    d2l = {k: float(v[gi, ni, ii]) for k, v in s.items()}
    matters = s["gain"] >= MATTERS
    share = float(matters.mean())
    # Where does it matter? Per noise level and init sd, the γ values with a gain ≥ MATTERS.
    by_init = {float(sd): float(matters[:, :, i].mean()) for i, sd in enumerate(r.init_sds)}
    by_noise = {float(nz): float(matters[:, j, :].mean()) for j, nz in enumerate(r.noises)}
    # Theory against experiment only where GD has converged: the slowest direction of XᵀX/n (the
    # Marchenko–Pastur edge (1 − √γ)², or (√γ − 1)² of XXᵀ/n) has shrunk below 1% after the run's steps.
    steps = r.epochs * -(-N_TRAIN // BATCH)
    edge = (1 - np.sqrt(r.gammas)) ** 2
    converged = [i for i, e in enumerate(edge) if (1 - LR * e) ** steps < 0.01]
    gd_gap = np.abs(s["no_decay"][converged] / r.theory_gd[converged] - 1) if converged else np.array([np.nan])
    ridge_gap = (np.abs(s["best"][converged, :, 0] / r.theory_ridge[converged] - 1) if converged
                 else np.array([np.nan]))
    # How much of the λ = 0 error is the init's null-space part, at the largest γ and init sd.
    init_part = (1 - 1 / r.gammas[-1]) * r.gammas[-1] * N_TRAIN * r.init_sds[-1] ** 2
    init_share = init_part / float(s["no_decay"][-1, ni, -1])
    unconverged = [i for i in range(len(r.gammas)) if i not in converged]
    below = int((s["no_decay"][unconverged] < r.theory_gd[unconverged]).sum())
    gap_text = (f"There the measured λ = 0 points are within {fmt(100 * float(gd_gap.max()))}% of the first limit "
                f"(median {fmt(100 * float(np.median(gd_gap)))}%) and the best-λ points from a zero start within "
                f"{fmt(100 * float(ridge_gap.max()))}% of the second (median {fmt(100 * float(np.median(ridge_gap)))}%), "
                f"at finite n = {N_TRAIN} and with an intercept. " if converged else "")
    zero_start = matters[:, :, list(r.init_sds).index(0.0)]
    zero_noises = [float(nz) for j, nz in enumerate(r.noises) if zero_start[:, j].any()]

    derived = {"share_matters": share, "d2l": d2l, "by_init_sd": {f"{k:g}": v for k, v in by_init.items()},
               "by_noise_sd": {f"{k:g}": v for k, v in by_noise.items()},
               "converged_gammas": [float(r.gammas[i]) for i in converged], "steps": steps,
               "init_part": init_part, "init_share": init_share, "below_limit": below,
               "zero_start_matters": int(zero_start.sum()), "zero_start_cells": int(zero_start.size),
               "cells": int(matters.size), "n_lams": len(r.lams),
               "unconverged_cells": len(unconverged) * r.noises.size * r.init_sds.size,
               "gd_gap_max": float(gd_gap.max()), "gd_gap_median": float(np.median(gd_gap)),
               "ridge_gap_max": float(ridge_gap.max()), "ridge_gap_median": float(np.median(ridge_gap))}
    return dict(locals())


def render(r: PhaseResults):
    c = _cells(r)
    s, gi, ni, ii, d2l, matters, share = (c[k] for k in ("s", "gi", "ni", "ii", "d2l", "matters", "share"))
    by_init, by_noise, steps, converged, gd_gap, ridge_gap = (c[k] for k in ("by_init", "by_noise", "steps",
                                                                             "converged", "gd_gap", "ridge_gap"))
    init_part, init_share, unconverged, below, gap_text, zero_start, zero_noises = (
        c[k] for k in ("init_part", "init_share", "unconverged", "below", "gap_text", "zero_start", "zero_noises"))
    def heatmaps(axes):
        from matplotlib.patches import Rectangle

        for j, (ax, nz) in enumerate(zip(axes, r.noises)):
            gain = np.log10(s["gain"][:, j, :].T)
            im = ax.imshow(gain, origin="lower", aspect="auto", cmap="viridis", vmin=0,
                           vmax=max(1.0, float(np.log10(s["gain"]).max())))
            ax.grid(False)
            ax.set_xticks(range(len(r.gammas)), [f"{g:g}" for g in r.gammas])
            ax.set_yticks(range(len(r.init_sds)), [f"{v:g}" for v in r.init_sds])
            ax.set_xlabel("γ = p/n" if j == len(r.noises) - 1 else "")
            ax.set_ylabel("init sd")
            ax.set_title(f"noise sd {nz:g}", fontsize=9)
            for (y, x), v in np.ndenumerate(s["gain"][:, j, :].T):
                ax.text(x, y, f"{v:.2g}", ha="center", va="center", fontsize=7,
                        color="white" if np.log10(v) < 0.6 * im.get_clim()[1] else "black")
            if nz == D2L_POINT[1]:
                ax.add_patch(Rectangle((gi - 0.5, ii - 0.5), 1, 1, fill=False, edgecolor="tab:red", linewidth=2))
        axes[-1].figure.colorbar(im, ax=axes, label="log₁₀ gain", shrink=0.8)

    def curves(axes):
        for ax, (i, sd) in zip(axes, enumerate(r.init_sds)):
            j = ni
            for key, label, color in (("no_decay", "GD, λ = 0", "tab:red"), ("d2l_decay", f"GD, λ = {D2L_LAM:g}",
                                                                              "tab:green"),
                                      ("best", "GD, best λ of the grid", "tab:blue")):
                ax.plot(r.gammas, s[key][:, j, i], "o", color=color, label=label)
            dense = np.concatenate([log_grid(0.1, 0.95, 30), log_grid(1.05, 10, 30)])
            ax.plot(dense, [gd_limit(g, r.noises[j] ** 2, sd) for g in dense], "-", color="tab:red", alpha=0.6,
                    label="GD to convergence, λ = 0 (MP)")
            ax.plot(dense, [ridge_risk_asymptotic(g, optimal_lam(g, R2, r.noises[j] ** 2), R2, r.noises[j] ** 2)
                            for g in dense], "-", color="tab:blue", alpha=0.6, label="ridge at λ* (MP)")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("γ = p/n")
            ax.set_ylabel(EXCESS if i == 0 else "")
            ax.set_title(f"init sd {sd:g}", fontsize=9)
        handles, labels = axes[0].get_legend_handles_labels()
        axes[0].figure.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)

    phase = draw("phase_diagram", f"How much the best λ lowers the {EXCESS} of GD against λ = 0 (the gain, "
                 f"log scale; numbers in the cells), for each noise sd, γ = p/n and init sd. The red box is the "
                 f"d2l chapter's setting.", heatmaps, rows=len(r.noises), height=1.9)
    lines = draw("phase_curves", f"{EXCESS} against γ at d2l's noise sd {r.noises[ni]:g}, one panel per init sd: "
                 f"GD at λ = 0, at λ = {D2L_LAM:g} and at the best λ (points), with the Marchenko–Pastur limits "
                 f"(lines).", curves, cols=len(r.init_sds), height=3.8, sharey=True)

    epochs_note = ("" if r.epochs == D2L_EPOCHS else
                   f"; trained {r.epochs} epochs where the chapter trains {D2L_EPOCHS}, so not d2l's run itself")
    answer = (f"The best λ at least halves GD's {EXCESS} in {fmt(100 * share)}% of the "
              f"{matters.size} cells; at the d2l setting (γ = {D2L_POINT[0]:g}, noise sd {D2L_POINT[1]:g}, init sd "
              f"{D2L_POINT[2]:g}{epochs_note}) it lowers it {fmt(d2l['gain'])}-fold, from {fmt(d2l['no_decay'])} to "
              f"{fmt(d2l['best'])} (λ = {fmt(d2l['best_lam'])}).")
    init_text = "; ".join(f"init sd {sd:g}: {fmt(100 * v)}% of cells" for sd, v in by_init.items())
    noise_text = "; ".join(f"noise sd {nz:g}: {fmt(100 * v)}%" for nz, v in by_noise.items())
    text = f"""
Each cell is a synthetic problem in d2l's shape: n = {N_TRAIN} training rows, x ~ N(0, I), p = γn inputs, the true weights spread evenly so that ‖w*‖² = {R2:g} whatever p, bias {BIAS:g}. Gradient descent follows d2l's recipe (minibatch SGD, lr {LR:g}, batch {BATCH}, {r.epochs} epochs) from N(0, init sd²) weights, at λ = 0, at d2l's λ = {D2L_LAM:g} and over a grid of {len(r.lams)} λ values; every (data draw, seed) pair is one model, {fmt(r.models)} in all. The measure is the exact {EXCESS} of the trained weights, ‖ŵ − w*‖² + (b̂ − b*)² (the validation MSE of infinitely many fresh rows, less σ²), averaged over {r.settings['draws']} data draws × {r.settings['seeds']} seeds per cell. The gain is the {EXCESS} at λ = 0 divided by that at the best λ of the grid (chosen with the truth known: an upper bound on what tuning can buy).

**Where decay matters** (gain ≥ {MATTERS:g}), as a share of each row or column of the diagram: {init_text}; {noise_text}. At λ = 0 the initialization's null-space part — the part of w₀ the training rows never see — survives untouched (section 2) and adds about (1 − 1/γ)·p·init sd² to the error: at γ = {r.gammas[-1]:g} and init sd {r.init_sds[-1]:g} that is {fmt(init_part)}, {fmt(100 * init_share)}% of the measured {fmt(float(s['no_decay'][-1, ni, -1]))}. Decay shrinks it by (1 − ηλ) per step. From a zero start there is no such part and only noise is left to fight: decay matters in {int(zero_start.sum())} of those {zero_start.size} cells{', at noise sd ' + ', '.join(f'{v:g}' for v in zero_noises) if zero_noises else ''}.

**The d2l point** (red box; the chapter's γ, noise and init{epochs_note}): {EXCESS} {fmt(d2l['no_decay'])} at λ = 0, {fmt(d2l['d2l_decay'])} at λ = {D2L_LAM:g}, {fmt(d2l['best'])} at the best λ = {fmt(d2l['best_lam'])}.

**Against Marchenko–Pastur.** As n and p grow with p/n = γ, GD at λ = 0 run to convergence has {EXCESS} σ²γ/(1 − γ) below γ = 1 and ‖w*‖²(1 − 1/γ) + σ²/(γ − 1) + (1 − 1/γ)·p·init sd² above it; ridge at its optimal λ* = σ²γ/‖w*‖² follows the Marchenko–Pastur formula of appendix E. The limits describe converged runs: after {steps} steps of lr {LR:g} the slowest direction (the Marchenko–Pastur edge (1 − √γ)²) has shrunk below 1% only at γ = {', '.join(f'{r.gammas[i]:g}' for i in converged) or 'none of the grid'}. {gap_text}In the other {len(unconverged) * r.noises.size * r.init_sds.size} cells the λ = 0 run stopped early: it lies below the converged limit in {below} of them (stopping early acted as decay, as next to γ = 1 where the limit is large) and above it in the rest (the signal not yet fitted).
"""
    header = ["γ", "noise sd", "init sd", f"{EXCESS}, λ = 0", f"λ = {D2L_LAM:g}", "best λ", "best", "gain"]
    rows = [[float(g), float(nz), float(sd), s["no_decay"][a, j, c], s["d2l_decay"][a, j, c], s["best_lam"][a, j, c],
             s["best"][a, j, c], s["gain"][a, j, c]]
            for a, g in enumerate(r.gammas) for j, nz in enumerate(r.noises) for c, sd in enumerate(r.init_sds)
            if j == ni or g == D2L_POINT[0]]
    table = Table(f"{EXCESS} per cell (mean over draws × seeds), at d2l's noise sd and at γ = {D2L_POINT[0]:g}.",
                  header, rows)
    return section(__name__, r, answer, text, [phase, lines], [table])


if __name__ == "__main__":
    script_main(__import__(__name__))
