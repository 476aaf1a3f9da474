"""Uncertainty: posterior predictive bands, interval coverage, and sampler agreement."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import arviz_base as azb   # ArviZ without its plotting half: no matplotlib.pyplot
import arviz_stats as azs
import numpy as np
from scipy import stats

import bayeswd
from bayeswd.budget import FAMILY_ALPHA as DIAGNOSTICS_ALPHA
from bayeswd.inference import full_bayes, installed, posterior_predictive, sample_posterior

from bayeswd.analyses._common import (LOSS, Context, Count, Flag, Names, Real, Results, Table, draw, fmt, pct,
                                      section, script_main)

NAME = "uncertainty"
TITLE = "B. Uncertainty: predictive bands and sampler agreement"
QUESTION = "Are the posterior's predictive intervals calibrated, and do exact, NUTS and Gibbs draws agree?"
SETTINGS = {"prior_sd": Real(0.01, positive=True, high=100, help="the Gaussian prior's sd τ"),
            "draws": Count(1000, low=100, high=20000, help="draws per chain"),
            "nuts_samplers": Names("pymc,numpyro,nutpie", allowed=("pymc", "numpyro", "nutpie"),
                                   help="NUTS back-ends to check, comma-separated"),
            "laplace_draws": Count(2000, low=100, high=50000, help="draws per chain for the Laplace posterior"),
            "laplace_nuts": Flag(True, help="also run NUTS on the Laplace posterior")}
QUICK = {"draws": 300, "nuts_samplers": "pymc", "laplace_draws": 300, "laplace_nuts": False}
TYPICAL_SECONDS = {"quick": 25.0, "full": 60.0}
SHARES = ("full_bayes",)   # ctx.once computations: run in one worker with the sections sharing them
# |z| bar for "agrees": a two-sided family-wise 1% error over the 200 weights (Bonferroni).
FAMILY_ALPHA = 0.01


@dataclass(frozen=True)
class UncertaintyResults(Results):
    prior_sd: float
    num_inputs: int
    n_val: int
    samplers: list              # one dict per posterior: name, coverage_50/90, val_mse, max_rhat, min_ess_bulk, max_z
    skipped_samplers: list      # NUTS back-ends asked for but not installed (extras)
    laplace_nuts_sampler: str   # the back-end of the Laplace NUTS run ("" when not run)
    z_bar: float                # |z| below this = agreement at the family-wise error FAMILY_ALPHA
    diagnostics_alpha: float    # the false-alarm budget of the library's R-hat bar (bayeswd.budget)
    laplace_gibbs_rhat: float
    laplace_nuts_rhat: float    # NaN when not run
    laplace_max_z: float        # NaN when not run
    loo: list                   # az.compare of the Gaussian (exact) and Laplace (Gibbs) posteriors, one dict per prior
    pred_mean: np.ndarray       # exact posterior predictive on the validation rows
    pred_sd: np.ndarray
    y_val: np.ndarray


Results = UncertaintyResults


def _z_max(tree, exact_mean):
    mean = np.asarray(tree["posterior"]["w"].mean(("chain", "draw")))
    return float(np.abs((mean - exact_mean) / np.asarray(azs.mcse(tree, var_names=["w"])["w"])).max())


def compute(ctx: Context) -> UncertaintyResults:
    data, p = ctx.dataset, ctx.params
    X, y, sigma = data.X_train, data.y_train, ctx.noise_sd
    exact = bayeswd.gaussian_posterior(X, y, sigma, p["prior_sd"])
    trees = {"exact": sample_posterior(data, "gaussian", p["prior_sd"], noise_sd=sigma, sampler="exact",
                                       draws=p["draws"], seed=ctx.seed)}
    requested = [s for s in p["nuts_samplers"].split(",") if s]
    skipped = [s for s in requested if not installed(s)]      # an absent extra is named, not an error
    for sampler in [s for s in requested if s not in skipped]:
        trees[f"NUTS ({sampler})"] = sample_posterior(data, "gaussian", p["prior_sd"], noise_sd=sigma, sampler=sampler,
                                                      draws=p["draws"], tune=p["draws"], seed=ctx.seed)
    # 2 parameters; the same run as choosing λ's at its default (computed once where both run in one process)
    trees["full Bayes (σ, τ sampled)"] = ctx.once(full_bayes, data, chains=4, draws=1000, tune=1000, seed=ctx.seed)
    rows = []
    for name, tree in trees.items():
        pred = posterior_predictive(tree, data.X_val, data.y_val, sigma, seed=ctx.seed)
        z = _z_max(tree, exact.mean) if not name.startswith("full") else float("nan")
        rows.append({"name": name, "coverage_50": pred.coverage_50, "coverage_90": pred.coverage_90,
                     "val_mse": pred.mse, "max_rhat": float(tree.attrs["max_rhat"]),
                     "rhat_bar": float(tree.attrs["rhat_bar"]), "converged": bool(tree.attrs["converged"]),
                     "failures": str(tree.attrs["failures"]),
                     "min_ess_bulk": float(tree.attrs["min_ess_bulk"]), "max_z": z})
    gibbs = sample_posterior(data, "laplace", p["prior_sd"], noise_sd=sigma, sampler="gibbs",
                             draws=4 * p["laplace_draws"], tune=1000, seed=ctx.seed)
    nuts_rhat = laplace_z = float("nan")
    laplace_sampler = "nutpie" if installed("nutpie") else "pymc"
    if p["laplace_nuts"]:
        nuts = sample_posterior(data, "laplace", p["prior_sd"], noise_sd=sigma, sampler=laplace_sampler,
                                draws=p["laplace_draws"], tune=1000, seed=ctx.seed + 1)
        means = [np.asarray(t["posterior"]["w"].mean(("chain", "draw"))) for t in (gibbs, nuts)]
        errs = [np.asarray(azs.mcse(t, var_names=["w"])["w"]) for t in (gibbs, nuts)]
        laplace_z = float(np.abs((means[0] - means[1]) / np.hypot(*errs)).max())
        nuts_rhat = float(nuts.attrs["max_rhat"])
    pred = posterior_predictive(trees["exact"], data.X_val, data.y_val, sigma, seed=ctx.seed)
    loo = _loo_ranking({"Gaussian": trees["exact"], "Laplace": gibbs})
    return UncertaintyResults(loo=loo, **ctx.shared(), prior_sd=p["prior_sd"], num_inputs=data.num_inputs,
                              n_val=len(data.y_val), samplers=rows, skipped_samplers=skipped,
                              laplace_nuts_sampler=laplace_sampler if p["laplace_nuts"] else "",
                              z_bar=float(stats.norm.isf(FAMILY_ALPHA / (2 * data.num_inputs))),
                              diagnostics_alpha=DIAGNOSTICS_ALPHA,
                              laplace_gibbs_rhat=float(gibbs.attrs["max_rhat"]), laplace_nuts_rhat=nuts_rhat,
                              laplace_max_z=laplace_z, pred_mean=pred.mean, pred_sd=pred.sd,
                              y_val=np.asarray(data.y_val, dtype=float))


def _loo_ranking(trees: dict) -> list:
    """PSIS-LOO ranking by az.compare, with each posterior's Pareto k against ArviZ's reliability bar."""
    with warnings.catch_warnings(), azb.rc_context({"stats.round_to": "none"}):   # full precision, not 2 digits
        warnings.simplefilter("ignore")       # high Pareto k is reported in the table, not as a warning
        ranking = azs.compare(trees)
        rows = []
        # az.compare rounds elpd and p to the digits its se supports; the loo objects keep full precision
        loos = {name: azs.loo(trees[name], pointwise=True) for name in ranking.index}
        best = float(loos[ranking.index[0]].elpd)
        for name, row in ranking.iterrows():
            loo = loos[name]
            k = np.asarray(loo.pareto_k, dtype=float).ravel()
            rows.append({"name": name, "rank": int(row["rank"]), "elpd": float(loo.elpd), "se": float(loo.se),
                         "elpd_diff": float(loo.elpd) - best, "dse": float(row["dse"]), "p": float(loo.p),
                         "weight": float(row["weight"]), "max_k": float(k.max()), "good_k": float(loo.good_k),
                         "bad_k": int(np.sum(~(k <= loo.good_k))),  # a NaN k (no tail fit at all) is unreliable too
                         "n": int(k.size)})
    return rows


def _loo_text(rows: list) -> str:
    first, second = rows
    unreliable = [row for row in rows if row["bad_k"]]
    counts = " and ".join(f"{row['bad_k']} of {row['n']} ({row['name']})" for row in unreliable)
    text = (f"**Which prior predicts better? PSIS-LOO** (leave-one-out cross-validation estimated from one set of "
            f"posterior draws by Pareto-smoothed importance sampling; each row's Pareto k says how far its "
            f"importance weights' tail can be trusted). `az.compare` ranks the {first['name']} prior first: its "
            f"expected log predictive density is {fmt(first['elpd'])} ± {fmt(first['se'])} against "
            f"{fmt(second['elpd'])} ± {fmt(second['se'])} (difference {fmt(-second['elpd_diff'])} ± "
            f"{fmt(second['dse'])}). ")
    if unreliable:
        return text + (f"Pareto-smoothed importance sampling is unreliable here: {counts} training rows have a "
                       f"Pareto k above ArviZ's bar of {fmt(unreliable[0]['good_k'])} (largest "
                       f"{fmt(max(row['max_k'] for row in unreliable))}). Each of the few rows pulls hard on the "
                       f"posterior of many weights, so exact leave-one-out refits are needed before trusting the "
                       f"ranking.")
    return text + f"Every Pareto k is below ArviZ's bar of {fmt(first['good_k'])}, so the estimate is reliable."


def render(r: UncertaintyResults):
    exact = r.samplers[0]
    nuts = [row for row in r.samplers if row["name"].startswith("NUTS")]
    se = np.sqrt(0.9 * 0.1 / r.n_val)   # binomial standard error of a 90% coverage on n_val rows

    def panels(ax):
        from bayeswd import plot

        plot.predictive_bands(r.pred_mean, r.pred_sd, r.y_val, ax)
        ax.set_title(f"Exact posterior, prior sd {fmt(r.prior_sd)}: validation rows")

    figure = draw("predictive_bands", f"Posterior predictive 50% and 90% bands on the {r.n_val} validation rows, sorted "
                                      f"by the predictive mean; dots are the observed values.", panels, height=3.8)
    if nuts:
        worst = max(row["max_z"] for row in nuts)
        agree = worst <= r.z_bar
        agreement = (f"every NUTS back-end {'matches' if agree else 'does NOT match'} the exact posterior means: the "
                     f"largest |z| is {fmt(worst)} against the bar {fmt(r.z_bar)}")
        # A headline never says "matches" over a failed diagnostic without saying so (the library's bars).
        failed = [row for row in nuts if not row["converged"]]
        if failed:
            agreement += ("; but " + ", ".join(f"{row['name']} (largest R-hat {fmt(row['max_rhat'], 4)} against its bar "
                                                f"{fmt(row['rhat_bar'], 4)}, smallest bulk ESS "
                                                f"{fmt(row['min_ess_bulk'])})" for row in failed)
                          + " failed its diagnostics, so "
                          + ("that agreement is weaker evidence" if len(failed) == 1 else "their agreement is weaker evidence"))
    else:
        agreement = "no NUTS back-end was run (nuts_samplers is empty)" if not r.skipped_samplers else "no NUTS back-end ran"
    if r.skipped_samplers:
        names = " and ".join(r.skipped_samplers)
        agreement += (f" ({names} skipped: not installed here; pip install 'bayeswd[samplers]' adds "
                      f"{'it' if len(r.skipped_samplers) == 1 else 'them'})")
    if r.settings["laplace_nuts"]:
        lap = r.laplace_max_z <= r.z_bar
        laplace = (f"Laplace NUTS {'matches' if lap else 'does NOT match'} the Gibbs sampler: largest |z| "
                   f"{fmt(r.laplace_max_z)} against the bar {fmt(r.z_bar)}.")
    else:
        laplace = "that comparison was not run here (laplace_nuts is off, as in a quick run)."
    nuts_rhat = (f" ({r.laplace_nuts_sampler}; largest R-hat {fmt(r.laplace_nuts_rhat, 4)})"
                 if r.settings["laplace_nuts"] else "")
    covered = abs(exact["coverage_90"] - 0.9) <= 2 * se
    answer = (f"With prior sd {fmt(r.prior_sd)}, the exact posterior's 50% and 90% predictive intervals cover "
              f"{pct(exact['coverage_50'])} and {pct(exact['coverage_90'])} of the {r.n_val} validation rows "
              f"({'within' if covered else 'outside'} 2 binomial standard errors of 90%); {agreement}.")
    text = f"""
The posterior predictive for a new row x is N(m·x + b̄, σ² + Var[x·w + b]): the noise plus what the posterior is still unsure of. With {r.num_inputs} weights and few rows the second part is large: the null-space directions (section 2) keep their prior variance τ², and a new x has a component there. Coverage of nominal 50% and 90% intervals on the {r.n_val} validation rows is in the table; with {r.n_val} rows a 90% coverage has a binomial standard error of {pct(se, 2)}.

**How the samplers are checked.** NUTS (the No-U-Turn Sampler, the adaptive Hamiltonian Monte Carlo method of PyMC, numpyro and nutpie) gives correlated draws, so three diagnostics come with it. **R-hat** compares the spread within and between the 4 chains; values near 1 mean they agree, and the bar each run is held to ({fmt(min(row['rhat_bar'] for row in nuts), 4) if nuts else '—'} here) is the largest R-hat a converged sampler would show by chance over all its parameters at its ESS, with probability {pct(r.diagnostics_alpha, 2)}. **ESS** (effective sample size) is how many independent draws the correlated ones are worth. **MCSE** (Monte Carlo standard error) is the sd of a posterior mean estimated from the draws, about the posterior sd / √ESS. Each sampler's posterior means are compared with the exact conjugate posterior as z = (mean − exact)/MCSE; over {r.num_inputs} weights, |z| above {fmt(r.z_bar)} would happen by chance with probability {pct(FAMILY_ALPHA, 2)} (Bonferroni). NUTS runs in the SVD basis of the centred design, where the likelihood is axis-aligned; on the raw parameterization with a diagonal mass matrix the same samplers fail their diagnostics without a single divergence (`benchmarks/sampling.py` measures it). The full-Bayes row samples σ and τ too, so its intervals are wider.

For the Laplace prior there is no closed form; the NUTS posterior mean{nuts_rhat} is compared with an independent Gibbs sampler (the Bayesian lasso of Park & Casella; largest R-hat {fmt(r.laplace_gibbs_rhat, 4)}): {laplace}
"""
    table = Table(f"Calibration and agreement (z: largest over the {r.num_inputs} weights of |mean − exact| / MCSE).",
                  ["posterior", "covers 50%", "covers 90%", f"validation {LOSS}", "largest R-hat", "smallest bulk ESS",
                   "largest |z|"],
                  [[row["name"], row["coverage_50"], row["coverage_90"], row["val_mse"], row["max_rhat"],
                    row["min_ess_bulk"], row["max_z"]] for row in r.samplers])
    loo_table = Table("PSIS-LOO comparison of the two priors (az.compare; elpd: expected log predictive density).",
                      ["prior", "rank", "elpd", "se", "elpd difference", "se of difference", "weight",
                       "largest Pareto k", "rows with k above the bar"],
                      [[row["name"], row["rank"], row["elpd"], row["se"], row["elpd_diff"], row["dse"], row["weight"],
                        row["max_k"], row["bad_k"]] for row in r.loo])
    return section(__name__, r, answer, text + "\n\n" + _loo_text(r.loo), [figure], [table, loo_table])


if __name__ == "__main__":
    script_main(__import__(__name__))
