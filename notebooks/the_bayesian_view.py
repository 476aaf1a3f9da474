# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The Bayesian view: the model in PyMC, its prior, its posterior, and two priors compared
#
# Weight decay is a Gaussian prior; L1 is a Laplace prior. Here the prior is a PyMC model you can
# look at and change: we draw data from it *before* seeing any (the prior predictive), condition on
# the d2l training rows (the posterior), and let ArviZ compare the two priors by how well each
# predicts a row it did not see (PSIS-LOO). (Theory: `docs/theory.md` §1 and §4.)

# %%
import os
import warnings

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pymc as pm
from scipy.stats import norm

import bayeswd
from bayeswd.models import regression

SMALL = os.environ.get("BAYESWD_NOTEBOOK_SMALL") == "1"
DRAWS = 200 if SMALL else 1000
data = bayeswd.d2l_data(seed=0)
X, y, sigma = data.X_train, data.y_train, data.noise_sd
n = data.n_train
lam = 3.0                                         # d2l's weight decay …
tau = bayeswd.prior_sd_from_lam(lam, sigma, n)    # … is this prior sd: λ = σ²/(nτ²)
print(f"λ = {lam} with σ = {sigma} and n = {n} rows is a N(0, τ²) prior with τ = {tau:.4g}")

# %% [markdown]
# ## The model, as PyMC sees it
#
# `regression` returns an ordinary `pm.Model`: `w` has the Gaussian prior, the intercept a wide
# proper prior scaled to y, and `y` is normal around `Xw + b`.

# %%
model = regression(X, y, prior="gaussian", scale=tau, noise_sd=sigma)
print(model.str_repr())

# %% [markdown]
# ## The prior predictive: what the model expects before it sees y
#
# With τ this small every weight is near 0, so the prior expects targets close to the intercept;
# the observed targets (d2l's true weights are all 0.01) lie inside that spread.

# %%
with model:
    prior = pm.sample_prior_predictive(draws=DRAWS, random_seed=1)
simulated = prior["prior_predictive"]["obs"].values.reshape(-1, n)
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.hist(simulated[:, 0], bins=40, alpha=0.6, density=True, label="prior predictive of row 1")
ax.axvline(y[0], color="k", label="observed y of row 1")
ax.set_xlabel("y"); ax.legend()
plt.show()

# %% [markdown]
# ## The posterior: exact draws, and NUTS on the same model
#
# The Gaussian prior is conjugate, so `sampler="exact"` draws the posterior independently; NUTS
# samples the same posterior through PyMC. Their means should agree to within Monte Carlo error: the
# largest z over the 200 weights is printed beside the bar a correct sampler stays under 99 % of the time.

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    gaussian = bayeswd.sample_posterior(data, "gaussian", tau, noise_sd=sigma, sampler="exact", draws=DRAWS)
    nuts = bayeswd.sample_posterior(data, "gaussian", tau, noise_sd=sigma, sampler="pymc", draws=DRAWS,
                                    tune=DRAWS, chains=2)
exact_mean = bayeswd.gaussian_posterior(X, y, sigma, tau).mean
nuts_mean = nuts["posterior"]["w"].mean(("chain", "draw")).values
mcse = az.mcse(nuts, var_names=["w"])["w"].values
bar = norm.isf(0.01 / (2 * data.num_inputs))      # |z| a correct sampler passes with probability 99 % (Bonferroni)
print(f"largest |NUTS mean − exact| / MCSE over {data.num_inputs} weights: "
      f"{np.abs((nuts_mean - exact_mean) / mcse).max():.2f} (bar {bar:.2f})")
print(az.summary(nuts, var_names=["b"]))

# %% [markdown]
# ## Two priors, compared by ArviZ
#
# The Laplace prior with the same variance (scale s = τ/√2) is L1. Its posterior has no closed form;
# the Bayesian-lasso Gibbs sampler draws it. `az.compare` ranks the two by their estimated
# leave-one-out predictive density; with 20 rows and 200 weights the Pareto k diagnostics say how
# far that estimate can be trusted (rows above 0.7 need exact refits before the ranking is believed).

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    laplace = bayeswd.sample_posterior(data, "laplace", tau / np.sqrt(2), noise_sd=sigma, sampler="gibbs",
                                       draws=DRAWS, chains=2)
    comparison = az.compare({"Gaussian (L2)": gaussian, "Laplace (L1)": laplace})
print(comparison[["rank", "elpd", "se", "elpd_diff", "dse", "weight"]])
for name, tree in (("Gaussian (L2)", gaussian), ("Laplace (L1)", laplace)):
    k = np.asarray(az.loo(tree, pointwise=True).pareto_k).ravel()
    print(f"{name}: {np.sum(k > 0.7)} of {k.size} rows with Pareto k above 0.7 (largest {k.max():.2f})")

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
for name, tree in (("Gaussian (L2)", gaussian), ("Laplace (L1)", laplace)):
    ax.hist(tree["posterior"]["w"].values[..., 0].ravel(), bins=50, density=True, alpha=0.5, label=name)
ax.axvline(data.w_true[0], color="k", label="true w₁")
ax.set_xlabel("w₁"); ax.set_title("Posterior of the first weight under each prior"); ax.legend()
plt.show()
