"""MAP estimates and posterior samples for the Gaussian (↔ L2) and Laplace (↔ L1) priors.

Model: y = Xw + b + N(0, σ²), b flat, w ~ N(0, τ²) (``scale`` = τ) or
w ~ Laplace(0, s) (``scale`` = s). Its MAP minimizes J(w, b) = (1/2n)‖y − Xw − b‖²
+ (λ/2)‖w‖² with λ = σ²/(nτ²), or + α‖w‖₁ with α = σ²/(ns).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import arviz_stats as azs   # ArviZ's statistics without its plotting half (≈ 1 s of import)
import numpy as np
import pymc as pm

from bayeswd._validate import as_choice, as_count, as_positive, as_positive_int
from bayeswd.conventions import lam_from_prior, lasso_alpha_from_laplace_scale
from bayeswd.data import Dataset, feature_names
from bayeswd.exceptions import BudgetError, ConvergenceWarning
from bayeswd.gaussian import empirical_bayes, gaussian_posterior
from bayeswd.objective import objective as J
from bayeswd.sparse import LassoFit, lasso
from bayeswd.models import PRIORS
from bayeswd.ridge import best_lam, ridge, ridge_path
from bayeswd.samplers import (collapsed_hierarchical_model, gibbs_bayesian_lasso, raw_model, svd_model,
                              to_datatree)
from bayeswd.budget import EBFMI_BAR, MIN_ESS, rhat_bar
from bayeswd.streams import stream

__all__ = ["MAPEstimate", "map_estimate", "sample_posterior", "installed", "Diagnostics", "diagnose", "SamplingWarning",
           "Predictive", "posterior_predictive", "full_bayes", "LambdaChoices", "choose_lambda", "SAMPLERS"]

MAX_DRAW_BYTES = 4 * 2**30     # posterior draws past this are refused before sampling
SAMPLERS = ("exact", "optimize", "pymc", "numpyro", "nutpie", "gibbs")
# NUTS back-ends beside PyMC's own are extras: pip install 'bayeswd[numpyro]', 'bayeswd[nutpie]' (or [samplers]).
OPTIONAL_SAMPLERS = ("numpyro", "nutpie")


def installed(sampler: str) -> bool:
    """Whether ``sampler`` can run here: the optional NUTS back-ends need their package.

    Parameters
    ----------
    sampler : str
        A name of :data:`SAMPLERS`.

    Returns
    -------
    bool
    """
    import importlib.util

    return sampler not in OPTIONAL_SAMPLERS or importlib.util.find_spec(sampler) is not None


def _check_installed(sampler: str) -> None:
    if not installed(sampler):
        raise ValueError(f"sampler={sampler!r} needs the {sampler} package: pip install 'bayeswd[{sampler}]' "
                         "(or use sampler='pymc')")


class SamplingWarning(UserWarning):
    """The sampler's diagnostics failed: its draws should not be trusted."""


def _noise_sd(dataset: Dataset, noise_sd):
    if noise_sd is not None:
        return as_positive(noise_sd, "noise_sd")
    if dataset.noise_sd is None:
        raise ValueError(f"dataset {dataset.name!r} has no known noise sd; pass noise_sd=..., "
                         "or use full_bayes(dataset), which puts a prior on it")
    return float(dataset.noise_sd)


def _check(dataset, prior, scale):
    if not isinstance(dataset, Dataset):
        raise ValueError("pass a bayeswd.Dataset; build one with bayeswd.d2l_data() or bayeswd.load(path)")
    as_choice(prior, "prior", PRIORS)
    if dataset.y_train.ndim != 1:
        raise ValueError("MAP and sampling take one target; fit each column of y separately")
    return as_positive(scale, "scale")


def _penalty(prior, scale, noise_sd, n):
    return (lam_from_prior(noise_sd, scale, n) if prior == "gaussian"
            else lasso_alpha_from_laplace_scale(scale, noise_sd, n))


@dataclass(frozen=True)
class MAPEstimate:
    """The MAP found by ``pm.find_MAP`` and, for the Laplace prior, the exact lasso.

    ``penalty`` is λ (Gaussian) or α (Laplace) in the canonical objective, and
    ``objective`` is that objective at (w, b). For the Laplace prior ``lasso`` holds the
    proximal-gradient solution with exact zeros and its (lower or equal) objective.

    Attributes
    ----------
    w : ndarray, (p,)
        The weights at the MAP.
    b : float
        The intercept.
    prior : str
        ``"gaussian"``, ``"laplace"`` or ``"model"`` (a model handed in).
    scale : float
        The prior scale (τ or s); NaN for a model.
    noise_sd : float
        σ used; NaN for a model.
    penalty : float
        λ (Gaussian) or α (Laplace) of the canonical objective; NaN for a model.
    objective : float
        That objective at (w, b) (a model's: −log p(w, b | y)/n up to a constant).
    method : str
        The ``scipy.optimize`` method ``find_MAP`` used.
    lasso : LassoFit or None
        The exact lasso for the Laplace prior.
    """

    w: np.ndarray
    b: float
    prior: str
    scale: float
    noise_sd: float
    penalty: float
    objective: float
    method: str
    lasso: LassoFit | None = None

    @property
    def exact_zeros(self) -> int:
        return int(np.count_nonzero(self.w == 0))


def map_estimate(dataset: Dataset, prior: str | None = None, scale: float | None = None, *,
                 noise_sd: float | None = None, method: str | None = None, model=None) -> MAPEstimate:
    """MAP of w and b through PyMC's ``find_MAP``.

    Minimizes J(w, b) = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖², λ = σ²/(nτ²) (Gaussian) or
    (1/2n)‖y − Xw − b‖² + α‖w‖₁, α = σ²/(ns) (Laplace). The Gaussian posterior is
    quadratic but scaled by 1/σ² = 10⁴ on the d2l data, so the default method is
    trust-exact with the Hessian (Newton converges in one step on a quadratic);
    the Laplace default is L-BFGS-B, which cannot land on the kinks at 0.

    ``model`` (a ``pm.Model`` such as :func:`bayeswd.models.regression` returns, changed as you like;
    :func:`bayeswd.models.check_model` says what it needs) finds that model's MAP instead, by L-BFGS-B
    unless ``method``; ``prior``, ``scale`` and ``noise_sd`` are then the model's business and not given.
    The estimate's ``objective`` is then the model's negative log-posterior per row,
    −log p(w, b | y)/n (up to a constant), and ``penalty``, ``scale`` and ``noise_sd`` are NaN.

    Parameters
    ----------
    dataset : Dataset
        The training rows are used.
    prior : {"gaussian", "laplace"}
        The prior family (``penalty`` "l2" or "l1"); not given with ``model``.
    scale : float
        τ (Gaussian) or s (Laplace); not given with ``model``.
    noise_sd : float, optional
        σ; default the dataset's, else empirical Bayes.
    method : str, optional
        A ``scipy.optimize.minimize`` method for ``pm.find_MAP``.
    model : pymc.Model, optional
        A model to find the MAP of instead.

    Returns
    -------
    MAPEstimate
    """
    if model is not None:
        return _model_map(dataset, model, prior, scale, noise_sd, method)
    scale = _check(dataset, prior, scale)
    sigma = _noise_sd(dataset, noise_sd)
    X, y, n = dataset.X_train, dataset.y_train, dataset.n_train
    penalty = _penalty(prior, scale, sigma, n)
    model = raw_model(X, y, prior, scale, sigma)
    method = method or ("trust-exact" if prior == "gaussian" else "L-BFGS-B")
    options = dict(use_grad=True, use_hess=method in ("trust-exact", "trust-ncg", "trust-krylov", "Newton-CG"))
    start = {"w": np.zeros(X.shape[1]), "b": float(y.mean())}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # scipy's and PyMC's chatter is dropped; non-convergence is kept below
        point = pm.find_MAP(method=method, model=model, initvals=start, progressbar=False, jitter=False,
                            **options, **({"tol": 1e-14} if prior == "gaussian" else {}))
    failed = [str(w.message) for w in caught if "did not converge" in str(w.message)]
    w, b = np.asarray(point["w"], dtype=float), float(point["b"])
    objective = float(J({"w": w, "b": b}, X, y, penalty, prior))
    exact = None
    if prior == "gaussian":
        # SciPy's trust regions report failure at the optimum once tol is below reachable precision:
        # trust the closed form's objective instead, and warn only when the point is measurably worse.
        fit = ridge(X, y, penalty)
        best = float(J({"w": fit.w, "b": fit.b}, X, y, penalty, prior))
        failed = failed if objective - best > 1e-9 * abs(best) else []
    else:
        exact = lasso(X, y, penalty)
    if failed:
        warnings.warn(f"find_MAP ({method}) did not converge: {failed[0]} (objective {objective:.6g}); try "
                      "another method=..., or use the exact answers (bayeswd.ridge, bayeswd.lasso)",
                      ConvergenceWarning, stacklevel=2)
    return MAPEstimate(w, b, prior, scale, sigma, penalty, objective, method, exact)


@dataclass(frozen=True)
class Diagnostics:
    """ArviZ convergence diagnostics, worst case over all parameters, with what the bars need: the
    chains, draws per chain and scalar parameters checked, and the smallest E-BFMI (NaN without energy).

    Attributes
    ----------
    max_rhat : float
        The largest rank-normalized R-hat.
    min_ess_bulk, min_ess_tail : float
        The smallest bulk and tail effective sample sizes.
    divergences : int
        Divergent transitions.
    max_depth_hits : int
        Transitions that hit the tree-depth limit.
    seconds : float
        Sampling time.
    chains, draws : int
        Chains and draws per chain.
    params : int
        Scalar parameters checked.
    min_ebfmi : float
        The smallest E-BFMI over chains (NaN without energy).
    """

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    max_depth_hits: int
    seconds: float
    chains: int = 4
    draws: int = 1000
    params: int = 1
    min_ebfmi: float = float("nan")

    def rhat_bar(self) -> float:
        """The largest R-hat a converged sampler shows over this many parameters (bulk and folded) with
        probability 1 − FAMILY_ALPHA at its ESS (``bayeswd.budget.rhat_bar``): 1.01 cries wolf over 200."""
        return rhat_bar(min(self.min_ess_bulk, self.min_ess_tail), self.chains, self.draws, 2 * self.params)

    def failures(self, rhat: float | None = None, ess: float = MIN_ESS) -> list[str]:
        """What failed, each with its bar: R-hat against ``rhat`` (default: the budget's bar for this run),
        bulk and tail ESS against ``ess``, divergences, and E-BFMI against 0.3."""
        out = []
        bar = self.rhat_bar() if rhat is None else rhat
        if not self.max_rhat < bar:
            out.append(f"R-hat {self.max_rhat:.3f} ≥ {bar:.3f}")
        if self.min_ess_bulk < ess:
            out.append(f"bulk ESS {self.min_ess_bulk:.0f} < {ess:.0f}")
        if self.min_ess_tail < ess:
            out.append(f"tail ESS {self.min_ess_tail:.0f} < {ess:.0f}")
        if self.divergences:
            out.append(f"{self.divergences} divergences")
        if self.min_ebfmi < EBFMI_BAR:
            out.append(f"E-BFMI {self.min_ebfmi:.2f} < {EBFMI_BAR}")
        return out

    @property
    def converged(self) -> bool:
        return not self.failures()


def diagnose(tree, var_names=("w", "b"), seconds: float = float("nan")) -> Diagnostics:
    """Worst R-hat, bulk and tail ESS over ``var_names``, divergences and max-tree-depth hits.

    Parameters
    ----------
    tree : xarray.DataTree
        A sampler's output.
    var_names : sequence of str
        The variables checked.
    seconds : float
        Sampling time, recorded as given.

    Returns
    -------
    Diagnostics
    """
    post = tree["posterior"]
    names = [v for v in var_names if v in post]

    def worst(ds, fn):
        return fn([float(fn(np.asarray(ds[v]))) for v in names])

    rhat = worst(azs.rhat(tree, var_names=names), np.max)
    bulk = worst(azs.ess(tree, var_names=names, method="bulk"), np.min)
    tail = worst(azs.ess(tree, var_names=names, method="tail"), np.min)
    stats = tree["sample_stats"] if "sample_stats" in tree.children else None
    divergences = int(np.asarray(stats["diverging"]).sum()) if stats is not None and "diverging" in stats else 0
    depth_key = next((k for k in ("reached_max_treedepth", "maxdepth_reached") if stats is not None and k in stats), None)
    depth_hits = int(np.asarray(stats[depth_key]).sum()) if depth_key else 0
    ebfmi = float("nan")
    if stats is not None and "energy" in stats:
        energy = np.asarray(stats["energy"], dtype=float)                 # (chain, draw)
        ebfmi = float(np.min(np.sum(np.diff(energy, axis=1) ** 2, axis=1) / np.sum(
            (energy - energy.mean(axis=1, keepdims=True)) ** 2, axis=1)))
    shape = np.asarray(post[names[0]]).shape
    params = sum(int(np.prod(np.asarray(post[v]).shape[2:], dtype=int)) for v in names)
    return Diagnostics(rhat, bulk, tail, divergences, depth_hits, seconds, chains=shape[0], draws=shape[1],
                       params=max(params, 1), min_ebfmi=ebfmi)


# What to try when a sampler fails its diagnostics, by what was run.
ADVICE = {"raw": "use parameterization='svd' (the likelihood is axis-aligned there) or mass='dense'",
          "svd": "run longer (more tune and draws) or raise target_accept; the basis is already the SVD one",
          "gibbs": "run longer (more tune and draws): the Gibbs sampler mixes slowly when weights sit near 0",
          "hierarchical": "run longer (more tune and draws); the (σ, τ) ridge is long when p ≫ n",
          "model": "run longer (more tune and draws), try mass='dense', or reparameterize your model"}


def _record(tree, diagnostics: Diagnostics, *, iid: bool = False, advice: str = "svd", stacklevel: int = 3, **extra):
    """Store the diagnostics in ``tree.attrs``; warn on failures (against the budget's bars, with advice
    that fits what ran), except for i.i.d. samplers ("exact", "optimize"), whose draws are independent by
    construction: their R-hat and ESS measure only chance."""
    failures = [] if iid else diagnostics.failures()
    tree.attrs.update({"max_rhat": diagnostics.max_rhat, "rhat_bar": diagnostics.rhat_bar(),
                       "min_ess_bulk": diagnostics.min_ess_bulk, "min_ess_tail": diagnostics.min_ess_tail,
                       "divergences": diagnostics.divergences, "max_depth_hits": diagnostics.max_depth_hits,
                       "min_ebfmi": diagnostics.min_ebfmi, "seconds": diagnostics.seconds,
                       "converged": int(not failures), "failures": "; ".join(failures), **extra})
    if failures:
        warnings.warn(f"posterior sampling did not converge ({'; '.join(failures)}): do not trust these draws; "
                      f"{ADVICE[advice]}", SamplingWarning, stacklevel=stacklevel)
    return tree


def complete_tree(tree, dataset: Dataset, noise_sd: float, *, predictive: bool = False, seed: int = 0):
    """Make a posterior tree ArviZ-native, whatever sampler made it.

    ``w`` gets the dimension ``feature`` (labelled by :func:`feature_names`); the tree gains
    ``observed_data`` (the training targets, dimension ``obs``), ``log_likelihood`` (the
    pointwise log N(yᵢ; xᵢ·w + b, σ²) of every draw, what ``az.loo`` and ``az.compare``
    need) and, with ``predictive``, ``posterior_predictive`` (yᵢ drawn from that normal).

    Parameters
    ----------
    tree : xarray.DataTree
        Draws of ``w`` and ``b`` in ``posterior``.
    dataset : Dataset
        The training rows and feature names.
    noise_sd : float
        σ of the pointwise likelihood.
    predictive : bool
        Add ``posterior_predictive``.
    seed : int
        Seeds the predictive draws.

    Returns
    -------
    xarray.DataTree
    """
    import xarray as xr

    post = tree["posterior"].to_dataset()
    w_dims = [d for d in post["w"].dims if d not in ("chain", "draw")]
    post = post.rename({w_dims[0]: "feature"}) if w_dims and w_dims[0] != "feature" else post
    post = post.assign_coords(feature=feature_names(dataset))
    tree["posterior"] = post
    X, y = dataset.X_train, dataset.y_train
    obs = np.arange(len(y))
    mean = np.einsum("cdp,np->cdn", post["w"].values, X) + post["b"].values[..., None]
    log_lik = -0.5 * (np.log(2 * np.pi * noise_sd**2) + ((y - mean) / noise_sd) ** 2)
    dims = ("chain", "draw", "obs")
    coords = {"chain": post["chain"].values, "draw": post["draw"].values, "obs": obs}
    tree["log_likelihood"] = xr.Dataset({"y": (dims, log_lik)}, coords=coords)
    tree["observed_data"] = xr.Dataset({"y": (("obs",), y)}, coords={"obs": obs})
    if predictive:
        noise = stream(seed, "predictive_noise").standard_normal(mean.shape)
        tree["posterior_predictive"] = xr.Dataset({"y": (dims, mean + noise_sd * noise)}, coords=coords)
    return tree


def sample_posterior(dataset: Dataset, prior: str | None = None, scale: float | None = None, *,
                     noise_sd: float | None = None, sampler: str = "pymc", parameterization: str = "svd",
                     mass: str = "diag", chains: int = 4, draws: int = 1000, tune: int = 1000, seed: int = 0,
                     predictive: bool = False, progressbar: bool = False, model=None):
    """Posterior draws of w and b as an ArviZ DataTree.

    Groups: ``posterior`` (``w`` over the dimension ``feature``, ``b``), ``log_likelihood``
    (pointwise, for ``az.loo``/``az.compare``), ``observed_data``, ``sample_stats`` for NUTS,
    and ``posterior_predictive`` with ``predictive=True``. ``progressbar`` is passed to PyMC.

    The MAP of this posterior minimizes J(w, b) = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖²,
    λ = σ²/(nτ²) (Gaussian; ``scale`` = τ) or + α‖w‖₁, α = σ²/(ns) (Laplace; ``scale`` = s).
    ``sampler``: "exact" (i.i.d. conjugate draws, Gaussian only), "optimize" (sample-then-optimize:
    each draw a converged GD run from a prior start on noise-perturbed targets, decayed toward its
    start — exact for the Gaussian prior, see :mod:`bayeswd.ensembles`), "pymc", "numpyro" or
    "nutpie" (NUTS), "gibbs" (Bayesian-lasso Gibbs, Laplace only). NUTS runs in the SVD
    basis (``parameterization="svd"``) unless told "raw"; ``mass="dense"`` adapts a dense
    (pymc, numpyro) or low-rank (nutpie) mass matrix. Diagnostics go into ``tree.attrs``;
    failing ones also raise a :class:`SamplingWarning`.

    ``model`` (a ``pm.Model`` such as :func:`bayeswd.models.regression` returns, changed as you like;
    :func:`bayeswd.models.check_model`) samples that model by NUTS (``sampler`` "pymc", "numpyro" or
    "nutpie", in its own parameterization); the tree's ``log_likelihood`` is then the model's own
    (``pm.compute_log_likelihood``), and ``prior``, ``scale`` and ``noise_sd`` are not given.

    Parameters
    ----------
    dataset : Dataset
        The training rows are used.
    prior : {"gaussian", "laplace"}
        The prior family; not given with ``model``.
    scale : float
        τ (Gaussian) or s (Laplace); not given with ``model``.
    noise_sd : float, optional
        σ; default the dataset's, else empirical Bayes.
    sampler : {"pymc", "numpyro", "nutpie", "exact", "optimize", "gibbs"}
        How to draw.
    parameterization : {"svd", "raw"}
        NUTS's basis.
    mass : {"diag", "dense"}
        NUTS's mass matrix.
    chains, draws, tune : int
        Chains, kept draws per chain, and tuning draws per chain.
    seed : int
        The run's seed (each chain its own stream).
    predictive : bool
        Add ``posterior_predictive`` on the training rows.
    progressbar : bool
        Show PyMC's progress bar.
    model : pymc.Model, optional
        A model to sample instead (NUTS samplers).

    Returns
    -------
    xarray.DataTree
        ``attrs`` carries the :class:`Diagnostics` and the settings.
    """
    chains, draws = as_positive_int(chains, "chains"), as_positive_int(draws, "draws")
    tune = as_count(tune, "tune", low=0)
    seed = as_count(seed, "seed", low=0, high=2**32 - 1)
    if model is not None:
        return _model_draws(dataset, model, prior, scale, noise_sd, sampler=sampler, mass=mass, chains=chains,
                            draws=draws, tune=tune, seed=seed, predictive=predictive, progressbar=progressbar)
    scale = _check(dataset, prior, scale)
    sigma = _noise_sd(dataset, noise_sd)
    need = chains * draws * (dataset.num_inputs + 1) * 8 * 2     # the draws, and their log-likelihood's peer
    if need > MAX_DRAW_BYTES:
        raise BudgetError(f"chains × draws = {chains * draws:,} draws of {dataset.num_inputs + 1} parameters would "
                          f"hold {need / 2**30:.1f} GiB, past the budget of {MAX_DRAW_BYTES / 2**30:.0f} GiB; use "
                          "fewer draws")
    as_choice(sampler, "sampler", SAMPLERS)
    _check_installed(sampler)
    as_choice(parameterization, "parameterization", ("svd", "raw"))
    as_choice(mass, "mass", ("diag", "dense"))
    start = time.perf_counter()
    draw = {"exact": _draw_exact, "optimize": _draw_optimize, "gibbs": _draw_gibbs}.get(sampler, _draw_nuts)
    tree, extra, kind = draw(dataset, prior, scale, sigma, sampler=sampler, chains=chains, draws=draws, tune=tune,
                             seed=seed, parameterization=parameterization, mass=mass, progressbar=progressbar)
    seconds = time.perf_counter() - start
    tree = complete_tree(tree, dataset, sigma, predictive=predictive, seed=seed)
    tree.attrs.update(dict(prior=prior, scale=scale, noise_sd=sigma, sampler=sampler) | extra)
    return _record(tree, diagnose(tree, seconds=seconds), iid=kind == "iid", advice=kind)


def _own_settings(dataset, model, prior, scale, noise_sd):
    """The checks for ``model=``: a Dataset, the model's own needs, and no prior settings beside it."""
    from bayeswd.models import check_model

    if not isinstance(dataset, Dataset):
        raise ValueError("pass a bayeswd.Dataset; build one with bayeswd.d2l_data() or bayeswd.load(path)")
    given = [name for name, value in (("prior", prior), ("scale", scale), ("noise_sd", noise_sd)) if value is not None]
    if given:
        raise ValueError(f"with model=, {', '.join(given)} belong in the model: drop them here")
    return check_model(model, dataset.num_inputs)


def _model_map(dataset, model, prior, scale, noise_sd, method) -> MAPEstimate:
    model = _own_settings(dataset, model, prior, scale, noise_sd)
    method = method or "L-BFGS-B"
    start = {"w": np.zeros(dataset.num_inputs), "b": float(np.mean(dataset.y_train))}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # scipy's and PyMC's chatter is dropped; non-convergence is kept below
        point = pm.find_MAP(method=method, model=model, initvals=start, progressbar=False, jitter=False,
                            use_grad=True, tol=1e-12)
    failed = [str(w.message) for w in caught if "did not converge" in str(w.message)]
    w, b = np.asarray(point["w"], dtype=float), float(point["b"])
    neg_logp = -float(model.compile_logp(jacobian=False)(point)) / dataset.n_train
    if failed:
        warnings.warn(f"find_MAP ({method}) did not converge on the model: {failed[0]}; try another method=...",
                      ConvergenceWarning, stacklevel=3)
    nan = float("nan")
    return MAPEstimate(w, b, "model", nan, nan, nan, neg_logp, method, None)


def _model_draws(dataset, model, prior, scale, noise_sd, *, sampler, mass, chains, draws, tune, seed, predictive,
                 progressbar):
    model = _own_settings(dataset, model, prior, scale, noise_sd)
    if sampler not in ("pymc", "numpyro", "nutpie"):
        raise ValueError(f"with model=, sampler must be NUTS ('pymc', 'numpyro' or 'nutpie'); {sampler!r} is for "
                         "bayeswd's own models")
    _check_installed(sampler)
    as_choice(mass, "mass", ("diag", "dense"))
    start = time.perf_counter()
    tree = _nuts(model, sampler, mass, draws=draws, tune=tune, chains=chains, seed=seed, progressbar=progressbar)
    seconds = time.perf_counter() - start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = pm.compute_log_likelihood(tree, model=model, progressbar=False)
        if predictive:
            tree = pm.sample_posterior_predictive(tree, model=model, random_seed=seed, progressbar=False,
                                                  extend_inferencedata=True)
    tree.attrs.update(dict(prior="model", sampler=sampler, mass=mass))
    return _record(tree, diagnose(tree, seconds=seconds), advice="model", stacklevel=4)


# Each sampler: (tree with a posterior group, attrs to add, what ran: "iid" or the ADVICE key).

def _draw_exact(dataset, prior, scale, sigma, *, chains, draws, seed, **_):
    if prior != "gaussian":
        raise ValueError("exact draws exist for the Gaussian prior only; use sampler='gibbs' or NUTS")
    w, b = gaussian_posterior(dataset.X_train, dataset.y_train, sigma, scale).sample(chains * draws, seed=seed)
    return to_datatree({"w": w.reshape(chains, draws, -1), "b": b.reshape(chains, draws)}, {}), {}, "iid"


def _draw_optimize(dataset, prior, scale, sigma, *, chains, draws, seed, **_):
    from bayeswd.ensembles import optimize_draws

    if prior != "gaussian":
        raise ValueError("sample-then-optimize is exact for the Gaussian prior only; use sampler='gibbs' for "
                         "the Laplace prior (bayeswd.ensembles.optimize_draws measures the Laplace recipe)")
    got = optimize_draws(dataset.X_train, dataset.y_train, prior, scale, sigma, chains * draws, seed=seed)
    tree = to_datatree({"w": got.w.reshape(chains, draws, -1), "b": got.b.reshape(chains, draws)}, {})
    return tree, {"optimize_lam": got.lam, "optimize_lr": got.lr, "optimize_steps": got.steps,
                  "optimize_max_distance": got.max_distance}, "iid"


def _draw_gibbs(dataset, prior, scale, sigma, *, chains, draws, tune, seed, **_):
    if prior != "laplace":
        raise ValueError("the Gibbs sampler is the Bayesian lasso: use prior='laplace'")
    w, b = gibbs_bayesian_lasso(dataset.X_train, dataset.y_train, scale, sigma, draws=draws, tune=tune,
                                chains=chains, seed=seed)
    return to_datatree({"w": w, "b": b}, {}), {}, "gibbs"


def _draw_nuts(dataset, prior, scale, sigma, *, sampler, chains, draws, tune, seed, parameterization, mass,
               progressbar):
    build = svd_model if parameterization == "svd" else raw_model
    model = build(dataset.X_train, dataset.y_train, prior, scale, sigma, features=feature_names(dataset))
    tree = _nuts(model, sampler, mass, draws=draws, tune=tune, chains=chains, seed=seed, progressbar=progressbar)
    keep = [v for v in ("w", "b") if v in tree["posterior"]]
    tree["posterior"] = tree["posterior"].to_dataset()[keep]
    for group in ("log_likelihood", "observed_data", "posterior_predictive"):
        if group in tree.children:      # ours replace PyMC's, so every sampler gives the same groups
            del tree[group]
    return tree, {"parameterization": parameterization, "mass": mass}, parameterization


def _nuts(model, sampler: str, mass: str, *, draws: int, tune: int, chains: int, seed: int,
          progressbar: bool = False, **extra):
    """``pm.sample`` with one back-end's mass-matrix setting; its warnings are silenced because
    our own diagnostics (``diagnose``) decide and warn."""
    if sampler == "pymc":
        kwargs = {"init": "jitter+adapt_full" if mass == "dense" else "jitter+adapt_diag", "cores": 1}
    elif sampler == "numpyro":
        kwargs = {"nuts_sampler_kwargs": {"chain_method": "vectorized", "dense_mass": mass == "dense"}}
    else:
        kwargs = {"nuts_sampler_kwargs": {"adaptation": "low_rank" if mass == "dense" else "diag"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm.sample(draws=draws, tune=tune, chains=chains, random_seed=seed, model=model, progressbar=progressbar,
                         nuts_sampler=sampler, compute_convergence_checks=False, quiet=True, **kwargs, **extra)


@dataclass(frozen=True)
class Predictive:
    """Posterior predictive on held-out rows: mean, sd and interval coverage.

    Attributes
    ----------
    mean, sd : ndarray, (m,)
        Predictive mean and sd per held-out row.
    coverage_50, coverage_90 : float
        Shares of held-out targets inside the central 50% and 90% intervals.
    mse : float
        MSE of the predictive mean.
    """

    mean: np.ndarray
    sd: np.ndarray
    coverage_50: float
    coverage_90: float
    mse: float


def posterior_predictive(tree, X, y, noise_sd, seed: int = 0) -> Predictive:
    """Predictive y* = x·w + b + ε over the posterior draws; ε ~ N(0, σ²) (σ per draw if sampled).

    Parameters
    ----------
    tree : xarray.DataTree
        Posterior draws of ``w`` and ``b`` (and ``noise_sd`` if sampled).
    X : array_like, (m, p)
        Held-out inputs.
    y : array_like, (m,)
        Held-out targets.
    noise_sd : float
        σ when not sampled.
    seed : int
        Seeds the noise draws.

    Returns
    -------
    Predictive
    """
    post = tree["posterior"]
    w = np.asarray(post["w"]).reshape(-1, np.asarray(post["w"]).shape[-1])
    b = np.asarray(post["b"]).reshape(-1)
    sigma = np.asarray(post["noise_sd"]).reshape(-1) if "noise_sd" in post else np.full(b.size, noise_sd)
    rng = stream(seed, "predictive_noise")
    draws = w @ np.asarray(X).T + b[:, None] + sigma[:, None] * rng.standard_normal((b.size, len(X)))
    lo50, hi50, lo90, hi90 = np.quantile(draws, [0.25, 0.75, 0.05, 0.95], axis=0)
    mean = draws.mean(axis=0)
    return Predictive(mean, draws.std(axis=0), float(np.mean((y >= lo50) & (y <= hi50))),
                      float(np.mean((y >= lo90) & (y <= hi90))), float(np.mean((y - mean) ** 2)))


def full_bayes(dataset: Dataset, *, chains: int = 4, draws: int = 1000, tune: int = 1000, seed: int = 0,
               sampler: str = "pymc"):
    """Hierarchical model: Half-Cauchy priors on σ and τ, w and b integrated out for NUTS.

    The posterior of (σ, τ) is sampled; λ = σ²/(nτ²) (canonical J convention) is a
    deterministic; w and b are then drawn exactly from their conjugate posterior given
    each (σ, τ). Returns a DataTree with noise_sd, prior_sd, lam, w and b.

    Parameters
    ----------
    dataset : Dataset
        The training rows are used.
    chains, draws, tune : int
        NUTS chains, kept draws and tuning draws per chain.
    seed : int
        The run's seed.
    sampler : {"pymc", "numpyro", "nutpie"}
        The NUTS back-end.

    Returns
    -------
    xarray.DataTree
        With ``feature`` coords on ``w`` and a ``log_likelihood`` group.
    """
    X, y = dataset.X_train, dataset.y_train
    model, B = collapsed_hierarchical_model(X, y)
    start = time.perf_counter()
    # The (σ, τ) posterior has a long ridge (p ≫ n pins σ² + pτ², not the split): small steps.
    tree = _nuts(model, sampler, "diag", draws=draws, tune=tune, chains=chains, seed=seed, target_accept=0.95)
    post = tree["posterior"].to_dataset()
    sigma = np.asarray(post["noise_sd"]).reshape(-1)
    tau = np.asarray(post["prior_sd"]).reshape(-1)
    rng = stream(seed, "posterior_draws")
    # w | σ, τ, y in the SVD basis: data coordinates shrink, the null-space ones keep the prior.
    c = B.U.T @ B.yc
    post_var = 1.0 / (1.0 / tau[:, None] ** 2 + B.d**2 / sigma[:, None] ** 2)
    z_data = post_var * B.d * c / sigma[:, None] ** 2 + np.sqrt(post_var) * rng.standard_normal(post_var.shape)
    z_null = tau[:, None] * rng.standard_normal((tau.size, X.shape[1] - B.rank))
    w = np.concatenate([z_data, z_null], axis=1) @ B.V.T
    b = B.y_mean - w @ B.x_mean + sigma / np.sqrt(len(y)) * rng.standard_normal(tau.size)
    shape = (chains, draws)
    out = to_datatree({"noise_sd": sigma.reshape(shape), "prior_sd": tau.reshape(shape),
                       "lam": np.asarray(post["lam"]), "w": w.reshape(shape + (-1,)), "b": b.reshape(shape)},
                      {"sampler": sampler, "model": "hierarchical"})
    out["sample_stats"] = tree["sample_stats"]
    # feature coords and the pointwise log-likelihood (σ per draw), as every sampler's tree has
    out = complete_tree(out, dataset, sigma.reshape(shape)[..., None])
    return _record(out, diagnose(out, var_names=("noise_sd", "prior_sd"), seconds=time.perf_counter() - start),
                   advice="hierarchical")


@dataclass(frozen=True)
class LambdaChoices:
    """Three ways to choose λ, each in the canonical convention of J.

    Attributes
    ----------
    full_bayes_median : float
        The posterior median of λ.
    full_bayes_interval : tuple of float
        Its central 90% interval.
    empirical_bayes : float
        λ at the evidence's maximum.
    leave_one_out : float
        λ at the exact LOO minimum.
    lams, loo_mse : ndarray, (L,)
        The LOO curve.
    lam_draws, noise_sd_draws, prior_sd_draws : ndarray
        The full-Bayes draws.
    """

    full_bayes_median: float
    full_bayes_interval: tuple[float, float]
    empirical_bayes: float
    leave_one_out: float
    lams: np.ndarray
    loo_mse: np.ndarray
    lam_draws: np.ndarray
    noise_sd_draws: np.ndarray
    prior_sd_draws: np.ndarray


def choose_lambda(dataset: Dataset, *, lams=None, chains: int = 4, draws: int = 1000, seed: int = 0,
                  posterior=None) -> LambdaChoices:
    """λ by full Bayes (posterior of σ²/(nτ²)), empirical Bayes (type-II ML) and exact LOO.

    Parameters
    ----------
    dataset : Dataset
        The training rows are used.
    lams : array_like, optional
        The LOO grid.
    chains, draws : int
        NUTS chains and draws per chain for full Bayes.
    seed : int
        The run's seed.
    posterior : xarray.DataTree, optional
        A :func:`full_bayes` run on ``dataset`` already made, used instead of sampling one
        (``chains``, ``draws`` and ``seed`` are then unused).

    Returns
    -------
    LambdaChoices
    """
    X, y = dataset.X_train, dataset.y_train
    lams = np.logspace(-4, 3, 400) if lams is None else np.asarray(lams, dtype=float)
    path = ridge_path(X, y, lams)
    eb = empirical_bayes(X, y)
    tree = posterior if posterior is not None else \
        full_bayes(dataset, chains=chains, draws=draws, tune=max(draws, 1000), seed=seed)
    lam_draws = np.asarray(tree["posterior"]["lam"]).reshape(-1)
    lo, med, hi = np.quantile(lam_draws, [0.05, 0.5, 0.95])
    post = tree["posterior"]
    loo = best_lam(X, y, "loo")   # the continuous optimum (its own bracketing grid: one number everywhere)
    return LambdaChoices(float(med), (float(lo), float(hi)), eb.lam, loo, lams, path.loo_mse, lam_draws,
                         np.asarray(post["noise_sd"]).reshape(-1), np.asarray(post["prior_sd"]).reshape(-1))
