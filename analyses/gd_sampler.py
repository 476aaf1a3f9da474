"""When is gradient descent a posterior sampler? Three GD ensembles against the posterior, law and simulation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import bayeswd
from bayeswd import ensembles as E
from bayeswd.conventions import lam_from_prior, prior_sd_from_lam
from bayeswd.data import D2L_PROTOCOL, Dataset
from bayeswd.training import train
from bayeswd.samplers import gibbs_bayesian_lasso

from bayeswd.analyses._common import Context, Count, Real, Results, Table, draw, fmt, section, script_main

NAME = "gd_sampler"
TITLE = "A. When is gradient descent a posterior sampler?"
QUESTION = "If weight decay is a prior, are trained weights posterior samples? When exactly, and how far off otherwise?"
SETTINGS = {"prior_sd": Real(0.01, positive=True, high=100, help="the prior sd τ (also the starts' sd) on data "
                                                                 "with a known truth; your data use empirical Bayes's"),
            "draws": Count(2048, low=64, high=10**6, help="runs in each simulated ensemble"),
            "laplace_scale": Real(0.01, positive=True, high=100, help="Laplace prior scale of the L1 recipe"),
            "laplace_draws": Count(256, low=32, high=10**5, help="draws of the L1 recipe and of Gibbs"),
            "wd": Real(3.0, positive=True, high=50, help="the λ of d2l's run, the ensemble shown as one point")}
QUICK = {"draws": 512, "laplace_draws": 64}
TYPICAL_SECONDS = {"quick": 12.0, "full": 30.0}
D2L = D2L_PROTOCOL   # d2l's run: the point in the right panel
DECAY_STEPS = 40                                              # the weight-decay ensemble's full-batch steps (d2l's)
DECAY_LR = 0.01
FALSE_ALARM = 0.001                                           # family-wise false-alarm rate of each law check
LABELS = {"plain GD": "plain GD (λ = 0)", "weight decay": f"weight decay, {DECAY_STEPS} steps",
          "weight decay, converged": "weight decay, converged", "sample-then-optimize": "sample-then-optimize"}


@dataclass(frozen=True)
class SamplerResults(Results):
    n_train: int
    num_inputs: int
    rank: int
    null_dims: int
    noise_sd: float
    lam: float                  # the prior's own λ = σ²/(nτ²)
    prior_sd: float             # τ used: the setting on d2l's data, empirical Bayes's on yours
    prior_source: str           # where τ came from, in words
    decay_lr: float             # the weight-decay ensemble's step: d2l's 0.01, lower where that is unstable
    law: dict                   # name → {"row_ratio": per-direction sd / posterior sd, "null_ratio", "row_sd", "null_sd"}
    measured: dict              # name → {"row_ratio", "null_ratio", "max_z", "bar", "holds"}
    d2l_point: dict             # d2l's run measured: row/null sd against the posterior of the prior its λ implies
    laplace: dict               # the L1 recipe against the Bayesian-lasso Gibbs sampler
    certificate: float          # the draws' largest distance bound to their minimizers / the smallest posterior sd
    control: dict               # the page's payload: singular values and settings
    control_reference: list     # Python's spreads at a grid of control settings (the browser test compares)


Results = SamplerResults


def _spreads(W, dc, post):
    """Per-direction sds of draws W (K, p) in the row space and per-direction null sd, over the posterior's."""
    Z = W @ dc.Vt.T
    null = W - Z @ dc.Vt
    row = Z.std(axis=0, ddof=1) / np.sqrt(post.row_var)
    if post.null_dims == 0:                  # n > p: no null space
        return Z, null, row, float("nan")
    null_sd = np.sqrt((null**2).sum(axis=1).mean() / post.null_dims)
    return Z, null, row, null_sd / np.sqrt(post.null_var)


def _z_against(Z, null, law):
    """z of each row direction's mean and sd and of the null-space variance, against the exact law."""
    K = len(Z)
    z = []
    moving = law.row_var > 1e-30
    sd = np.sqrt(law.row_var[moving])
    z.append((Z[:, moving].mean(axis=0) - law.row_mean[moving]) / (sd / np.sqrt(K)))
    z.append((Z[:, moving].std(axis=0, ddof=1) - sd) / (sd / np.sqrt(2 * (K - 1))))
    collapsed = float(np.abs(Z[:, ~moving] - law.row_mean[~moving]).max()) if (~moving).any() else 0.0
    if law.null_var > 1e-30 and law.null_dims > 0:
        per_draw = (null**2).sum(axis=1)
        z.append([(per_draw.mean() - law.null_total_var) / np.sqrt(2 * law.null_dims * law.null_var**2 / K)])
    z = np.abs(np.concatenate([np.ravel(v) for v in z]))
    return float(z.max()), len(z), collapsed


def _prior_sd(ctx, X, y, sigma) -> tuple[float, str]:
    """τ: the setting where the data's truth is known (d2l's); else empirical Bayes's, or, where it finds no
    linear signal (τ → 0), the prior whose λ is 1."""
    if ctx.has_truth:
        return float(ctx.params["prior_sd"]), "the prior_sd setting"
    fit = bayeswd.empirical_bayes(X, y)
    if fit.boundary or not fit.prior_sd > 0:
        return prior_sd_from_lam(1.0, sigma, len(y)), "the prior of λ = 1 (empirical Bayes found no linear signal)"
    return fit.prior_sd, "empirical Bayes"


def _simulate(Xc, y, *, init_sd, lam, lr, steps, K, seed):
    y = y - y.mean()      # centred targets: the bias stays at 0 and w's law is unchanged
    data = Dataset(Xc, y, Xc[:1], y[:1], name="centred")
    run = train(data, lam, lr=lr, epochs=steps, batch_size=None, init_sd=init_sd, seed=list(range(seed, seed + K)),
                shuffle=False)
    return run.w.reshape(K, -1)


def _control_numbers(X, y, sigma, tau, decay, noise, init_sd):
    """The spreads the page's control shows (converged runs), from the library's ensemble law."""
    lam = 0.0 if decay == "none" else lam_from_prior(sigma, tau, len(y))
    law = E.ensemble_law(X, y, init_sd=init_sd, lam=lam, noise_sd=sigma if noise else 0.0, anchor=decay == "start")
    post = E.posterior_law(X, y, tau, sigma)
    return {"decay": decay, "noise": bool(noise), "init_sd": init_sd,
            "row_total_ratio": float(np.sqrt(law.row_total_var / post.row_total_var)),
            "null_ratio": float(np.sqrt(law.null_var / post.null_var))}


def compute(ctx: Context) -> SamplerResults:
    data, prm = ctx.dataset, ctx.params
    X, y = data.X_train, data.y_train
    n, p = X.shape
    sigma, K = float(ctx.noise_sd), prm["draws"]
    tau, source = _prior_sd(ctx, X, y, sigma)
    dc, Xc = E.centred(X)
    lam = lam_from_prior(sigma, tau, n)
    decay_lr = min(DECAY_LR, 1.0 / (dc.d[0] ** 2 / n + lam))     # stable, and d2l's step wherever it is
    post = E.posterior_law(X, y, tau, sigma)
    lr_conv, steps_conv, _, _ = E._schedule(dc, lam, n, 1e-12)
    lr_plain, steps_plain, _, _ = E._schedule(dc, 0.0, n, 1e-12)
    laws = {"plain GD": E.ensemble_law(X, y, init_sd=tau, lam=0.0, lr=lr_plain, steps=steps_plain),
            "weight decay": E.ensemble_law(X, y, init_sd=tau, lam=lam, lr=decay_lr, steps=DECAY_STEPS),
            "weight decay, converged": E.ensemble_law(X, y, init_sd=tau, lam=lam),
            "sample-then-optimize": E.ensemble_law(X, y, init_sd=tau, lam=lam, noise_sd=sigma, anchor=True)}

    def ratios(law):
        row = np.sqrt(law.row_var / post.row_var)
        null = float(np.sqrt(law.null_var / post.null_var)) if post.null_dims else float("nan")
        return {"row_ratio": row.tolist(), "null_ratio": null,
                "row_total_ratio": float(np.sqrt(law.row_total_var / post.row_total_var))}

    law = {k: ratios(v) for k, v in laws.items()}
    sto = E.optimize_draws(X, y, "gaussian", tau, sigma, K, seed=ctx.seed)
    sims = {"plain GD": _simulate(Xc, y, init_sd=tau, lam=0.0, lr=lr_plain, steps=steps_plain, K=K, seed=ctx.seed),
            "weight decay": _simulate(Xc, y, init_sd=tau, lam=lam, lr=decay_lr, steps=DECAY_STEPS, K=K,
                                      seed=ctx.seed + K),
            "sample-then-optimize": sto.w}
    measured = {}
    for name, W in sims.items():
        Z, null, row, null_ratio = _spreads(W, dc, post)
        max_z, count, collapsed = _z_against(Z, null, laws[name])
        bar = _bar(count)
        measured[name] = {"row_ratio": row.tolist(), "null_ratio": float(null_ratio), "max_z": max_z, "bar": bar,
                          "holds": bool(max_z < bar and collapsed < 1e-8), "collapsed": collapsed,
                          "row_total_ratio": float(np.sqrt((Z.var(axis=0, ddof=1)).sum() / post.row_total_var))}
    return SamplerResults(**ctx.shared(), prior_sd=tau, prior_source=source, decay_lr=decay_lr,
                          n_train=n, num_inputs=p, rank=len(dc.d), null_dims=p - len(dc.d),
                          noise_sd=sigma, lam=lam, law=law, measured=measured,
                          d2l_point=_d2l_point(data, sigma, prm["wd"], max(64, K // 4), ctx.seed),
                          laplace=_laplace_gap(X, y, prm["laplace_scale"], sigma, prm["laplace_draws"], ctx.seed),
                          certificate=sto.max_distance / float(np.sqrt(post.row_var.min())),
                          control={"d": dc.d.tolist(), "n": n, "p": p, "sigma": sigma, "tau": tau},
                          control_reference=[_control_numbers(X, y, sigma, tau, decay, noise, s)
                                             for decay in ("none", "zero", "start") for noise in (0, 1)
                                             for s in (tau, 3 * tau)])


def _bar(count: int) -> float:
    from scipy import stats

    return float(stats.norm.isf(FALSE_ALARM / (2 * count)))     # Bonferroni over the count


def _d2l_point(data, sigma, wd, K, seed) -> dict:
    """d2l's own run (minibatches of 5, 10 epochs, lr 0.01, init sd 0.01, λ = wd) as an ensemble over seeds,
    against the posterior of the prior its λ implies; the span the bias-trained run moves in is the raw rows'."""
    X = data.X_train
    run = train(data, wd, seed=list(range(seed, seed + K)), **D2L)
    W = run.w.reshape(K, -1)
    tau = prior_sd_from_lam(wd, sigma, len(X))
    P = np.linalg.pinv(X) @ X
    S = bayeswd.gaussian_posterior(X, data.y_train, sigma, tau).cov
    rows = int(round(np.trace(P)))
    W_row, W_null = W @ P, W - W @ P
    row_sd = np.sqrt(np.trace(np.cov(W_row.T)))
    post_row = np.sqrt(np.trace(P @ S @ P))
    free = X.shape[1] - rows
    null_sd = np.sqrt(((W_null - W_null.mean(axis=0)) ** 2).sum(axis=1).mean() / free) if free else float("nan")
    return {"wd": wd, "tau": tau, "runs": K, "row_total_ratio": float(row_sd / post_row),
            "null_ratio": float(null_sd / tau), "null_law_ratio": float(D2L["init_sd"] * (1 - D2L["lr"] * wd)
                                                                       ** (D2L["epochs"] * -(-len(X) // 5)) / tau)}


def _laplace_gap(X, y, scale, sigma, K, seed) -> dict:
    import arviz_stats as azs

    got = E.optimize_draws(X, y, "laplace", scale, sigma, K, seed=seed)
    chains, per = 4, max(K // 4, 50)
    w, _ = gibbs_bayesian_lasso(X, y, scale, sigma, draws=per, tune=200, chains=chains, seed=seed)
    p = X.shape[1]
    ess = np.array([float(azs.ess(np.ascontiguousarray(w[:, :, j]))) for j in range(p)])
    gw = w.reshape(-1, p)
    g_sd, o_sd = gw.std(axis=0, ddof=1), got.w.std(axis=0, ddof=1)
    z_sd = (o_sd - g_sd) / np.sqrt(g_sd**2 / (2 * ess) + o_sd**2 / (2 * (K - 1)))
    z_mean = (got.w.mean(axis=0) - gw.mean(axis=0)) / np.sqrt(g_sd**2 / ess + o_sd**2 / K)
    bar = _bar(2 * p)
    return {"scale": scale, "draws": K, "gibbs_draws": chains * per, "median_sd_ratio": float(np.median(o_sd / g_sd)),
            "max_z_sd": float(np.abs(z_sd).max()), "max_z_mean": float(np.abs(z_mean).max()), "bar": bar,
            "significant": bool(max(np.abs(z_sd).max(), np.abs(z_mean).max()) > bar),
            "max_duality_gap": got.max_distance}


def _num(value) -> float:
    """A number from results.json (null → NaN, which matplotlib leaves out)."""
    return float("nan") if value is None else float(value)


def _null_text(r: SamplerResults, plain: dict) -> str:
    if not r.null_dims:
        return "; with no null space there is nothing else. No part of a posterior sampler."
    return (f", while the {r.null_dims} null directions keep the start — which there is exactly the posterior, "
            f"because the data say nothing about those directions (spread ratio {fmt(plain['null_ratio'])}). Half a "
            f"posterior sampler.")


def render(r: SamplerResults):
    s = r.settings
    names = ("plain GD", "weight decay", "sample-then-optimize")
    colors = {"plain GD": "tab:red", "weight decay": "tab:blue", "weight decay, converged": "tab:purple",
              "sample-then-optimize": "tab:green"}
    x_null = r.rank + 2

    def panels(axes):
        left, right = axes
        x = np.arange(1, r.rank + 1)
        left.axhline(1.0, color="k", lw=1.0, label="posterior")
        for name, color in colors.items():
            law = r.law[name]
            left.plot(x, [_num(v) for v in law["row_ratio"]], color=color, lw=1.4, label=f"{LABELS[name]} (law)")
            left.plot([x_null], [_num(law["null_ratio"])], "s", color=color, ms=7, mfc="none")
            if name in r.measured:
                m = r.measured[name]
                left.plot(x, [_num(v) for v in m["row_ratio"]], "o", color=color, ms=3)
                left.plot([x_null], [_num(m["null_ratio"])], "o", color=color, ms=3)
        left.set_xticks(list(x[:: max(1, r.rank // 5)]) + [x_null])
        left.set_xticklabels([str(v) for v in x[:: max(1, r.rank // 5)]] + [f"null\n({r.null_dims})"])
        left.set_xlabel("row-space directions, then the null space")
        left.set_ylabel("ensemble sd / posterior sd")
        left.set_title("Per direction (lines: law, dots: runs)")
        left.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        for name, color in colors.items():
            law = r.law[name]
            right.plot(_num(law["row_total_ratio"]), _num(law["null_ratio"]), "o", color=color, ms=8,
                       label=LABELS[name])
        right.plot(1.0, 1.0, "k+", ms=14, mew=2, label="the posterior")
        dp = r.d2l_point
        right.plot(_num(dp["row_total_ratio"]), _num(dp["null_ratio"]), "*", color="tab:orange", ms=13,
                   label=f"d2l's run, λ = {dp['wd']:g} (measured)")
        right.set_xlabel("row-space spread / posterior's")
        right.set_ylabel("null-space spread / posterior's")
        right.set_title("Each ensemble as one point")
        right.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))

    figure = draw("gd_sampler", "Left: the sd of each ensemble along each direction of the centred training design, "
                                "divided by the posterior's (1 = exactly the posterior). Right: the same, summed over "
                                "the row space (x) and per null direction (y); the star is d2l's own run against the "
                                "posterior of the prior its λ implies.", panels, rows=2, height=3.4)
    sto, plain, decay = (r.measured[k] for k in ("sample-then-optimize", "plain GD", "weight decay"))
    lp, dp = r.laplace, r.d2l_point
    verdict = "match the posterior" if sto["holds"] else "do not match the posterior"
    answer = (f"Exactly when the runs start from the prior, fit noise-perturbed targets and decay toward their start "
              f"(sample-then-optimize): {s['draws']:,} such runs {verdict} (largest |z| "
              f"{fmt(sto['max_z'])}, bar {fmt(sto['bar'])}). "
              + (f"Plain GD from prior starts has the posterior's spread in the {r.null_dims} null directions of the "
                 f"centred design and none in the row space; decay toward 0 shrinks both." if r.null_dims else
                 "With more rows than inputs there is no null space: plain GD and decay toward 0 collapse every "
                 "run onto one fit, with none of the posterior's spread."))
    text = f"""
**The recipe.** Draw a start from the prior, w₀ ~ N(0, τ²I) with τ = {fmt(r.prior_sd)} ({r.prior_source}); add noise to the targets, ỹ = y + N(0, σ²), σ = {fmt(r.noise_sd)}; minimize (1/2n)‖ỹ − Xw − b‖² + (λ/2)‖w − w₀‖² with λ = σ²/(nτ²) = {fmt(r.lam)}, decaying toward the start rather than toward 0. The minimizer is a linear function of the two random inputs, and its mean and covariance are the posterior's: each converged run is an exact posterior draw (randomize-then-optimize; Papandreou & Yuille 2010, Bardsley et al. 2014, Osband et al. 2018). bayeswd trains the draws with its own compiled GD on the row-space fast path, all {s['draws']:,} as the columns of one run, and certifies each: the largest bound on a draw's distance to its minimizer, ‖∇J‖/μ, is {fmt(r.certificate)} of the smallest posterior sd.

**Three ensembles, each with an exact law.** Full-batch GD on the centred design is an affine map of the start and the targets, direction by direction of the design's SVD, so each ensemble's mean and spread are known in closed form (lines in the figure) and checked by simulating {s['draws']:,} runs (dots):

- **Plain GD at λ = 0 from prior starts, no target noise:** the row space collapses onto one {'interpolant' if r.null_dims else 'least-squares fit'} (spread 0: the largest deviation of any run from the law's mean is {fmt(plain['collapsed'])}){_null_text(r, plain)}
- **Weight decay toward 0 from random starts, no target noise:** after {DECAY_STEPS} full-batch steps of lr {fmt(r.decay_lr)} the null-space spread is the start's times (1 − ηλ)^T (ratio {fmt(decay['null_ratio'])}) and the row space has shrunk to {fmt(decay['row_total_ratio'])} of the posterior's; run to convergence everything collapses onto the ridge solution (ratio {fmt(r.law['weight decay, converged']['row_total_ratio'])}). The prior sets the mode, not the spread.
- **Sample-then-optimize:** row-space ratio {fmt(sto['row_total_ratio'])}, null-space ratio {fmt(sto['null_ratio'])}.

Each simulation against its law: largest |z| of the per-direction means, sds and null-space variance {fmt(plain['max_z'])}, {fmt(decay['max_z'])} and {fmt(sto['max_z'])} (bars {fmt(plain['bar'])}, {fmt(decay['bar'])}, {fmt(sto['bar'])}, false-alarm rate {FALSE_ALARM:g}): the laws {'hold' if all(m['holds'] for m in r.measured.values()) else 'do not all hold'}.

**d2l's run as one point.** Minibatches of 5, lr {D2L['lr']:g}, {D2L['epochs']} epochs from N(0, {D2L['init_sd']:g}²), λ = {fmt(dp['wd'])}, repeated over {dp['runs']} seeds: measured against the posterior of the prior that λ implies (τ = σ/√(nλ) = {fmt(dp['tau'])}), its null-space spread is {fmt(dp['null_ratio'])} times the posterior's (the law (init sd)·(1 − ηλ)^T/τ says {fmt(dp['null_law_ratio'])}) and its row-space spread {fmt(dp['row_total_ratio'])} times. A trained network is a posterior sample only by this recipe, not by training as usual.

**The Laplace prior is different.** The same recipe with Laplace(0, {fmt(lp['scale'])}) starts and an L1 pull α‖w − w₀‖₁ toward them is not an exact sampler: against the Bayesian-lasso Gibbs sampler ({lp['gibbs_draws']:,} draws) its {lp['draws']:,} draws have sds {fmt(lp['median_sd_ratio'])} times Gibbs' (median over weights), largest |z| {fmt(lp['max_z_sd'])} for the sds and {fmt(lp['max_z_mean'])} for the means (bar {fmt(lp['bar'])}): the gap is {'beyond' if lp['significant'] else 'within'} the Monte Carlo error{'' if lp['significant'] else ' at this size; more draws would be needed to see it'}.

**In the HTML report** a control recomputes the converged spreads from the design's {r.rank} singular values: move the starts' sd away from the prior's, switch the target noise off, or decay toward 0, and the ensemble stops being the posterior.
"""
    rows = [[LABELS[k], r.law[k]["row_total_ratio"], r.law[k]["null_ratio"],
             r.measured[k]["row_total_ratio"] if k in r.measured else None,
             r.measured[k]["null_ratio"] if k in r.measured else None,
             r.measured[k]["max_z"] if k in r.measured else None] for k in LABELS]
    rows.append([f"d2l's run, λ = {fmt(dp['wd'])}", None, dp["null_law_ratio"], dp["row_total_ratio"], dp["null_ratio"],
                 None])
    table = Table("Spread over the posterior's: exact law and simulation (row space summed, null space per direction).",
                  ["ensemble", "law, row space", "law, null space", "measured, row space", "measured, null space",
                   "largest |z| against the law"], rows)
    ref = Table("The control's numbers computed by Python (the page must show the same).",
                ["decay", "target noise", "starts' sd", "row space / posterior", "null space / posterior"],
                [[c["decay"], "on" if c["noise"] else "off", c["init_sd"], c["row_total_ratio"], c["null_ratio"]]
                 for c in r.control_reference])
    sec = section(__name__, r, answer, text, [figure], [table, ref])
    from bayeswd.report.widgets import sampler_control

    return sec.with_html(sampler_control(r.control))


if __name__ == "__main__":
    script_main(__import__(__name__))
