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
# # Weight decay is a prior
#
# Minimizing J(w, b) = Σr²/(2n) + (λ/2)‖w‖² is maximizing the posterior of y = Xw + b + N(0, σ²)
# under w ~ N(0, τ²I), with λ = σ²/(nτ²). This notebook checks that on the d2l data and draws
# the 2-D picture: likelihood contours against the Gaussian prior's circles and the Laplace
# prior's diamonds. (Theory: `docs/theory.md` §1.)

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import bayeswd
from bayeswd import plot

SMALL = os.environ.get("BAYESWD_NOTEBOOK_SMALL") == "1"   # the test suite runs every notebook small
data = bayeswd.d2l_data(seed=0)
X, y = data.X_train, data.y_train
n, sigma = data.n_train, data.noise_sd

# %% [markdown]
# ## λ and τ are the same knob
#
# The posterior mean under the prior N(0, τ²) is the ridge solution at λ = σ²/(nτ²), to
# rounding, for every τ.

# %%
for tau in (0.001, 0.01, 0.1):
    lam = bayeswd.lam_from_prior(sigma, tau, n)
    post = bayeswd.gaussian_posterior(X, y, sigma, tau)
    gap = np.abs(post.mean - bayeswd.ridge(X, y, lam).w).max()
    print(f"τ = {tau:<6} λ = {lam:<10.4g} largest |posterior mean − ridge| = {gap:.1e}")

# %% [markdown]
# ## The 2-D picture
#
# Two correlated inputs, no intercept. Solid: likelihood contours; dotted: the prior's; dashed:
# the posterior's. The MAP sits where a likelihood contour touches a prior contour.

# %%
rng = np.random.default_rng(0)
X2 = rng.standard_normal((20, 2)) @ np.linalg.cholesky([[1.0, 0.5], [0.5, 1.0]]).T
y2 = X2 @ np.array([1.0, 0.25]) + rng.standard_normal(20)
G, c = X2.T @ X2 / 20, X2.T @ y2 / 20
grid = np.linspace(-0.3, 0.8, 201)
W = np.stack(np.meshgrid(grid, grid), axis=-1)
data_term = 0.5 * np.einsum("...i,ij,...j->...", W, G, W) - W @ c
least_squares = np.linalg.solve(G, c)


def ridge_2d(lam):
    return np.linalg.solve(G + lam * np.eye(2), c)


def lasso_2d(alpha, steps=5000):
    """Proximal gradient (soft-thresholding) to its fixed point."""
    step, w = 1 / np.linalg.eigvalsh(G)[-1], np.zeros(2)
    for _ in range(steps):
        z = w - step * (G @ w - c)
        w = np.sign(z) * np.maximum(np.abs(z) - step * alpha, 0)
    return w


fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.6))
lam, alpha = 0.2, 0.2
plot.prior_picture(grid, data_term, lam / 2 * (W**2).sum(-1), least_squares, ridge_2d(lam),
                   np.array([ridge_2d(v) for v in np.r_[0, np.logspace(-3, 2, 50)]]), ax=left)
plot.prior_picture(grid, data_term, alpha * np.abs(W).sum(-1), least_squares, lasso_2d(alpha),
                   np.array([lasso_2d(v) for v in np.linspace(0, np.abs(c).max(), 30 if SMALL else 60)]),
                   ax=right, kind="laplace", path_label="MAP path as α grows")
plt.show()

# %% [markdown]
# ## Move λ
#
# With ipywidgets installed, the slider redraws the ridge validation MSE against λ and marks
# the chosen λ; without it, one value is shown.

# %%
lams = np.logspace(-4, 3, 80)
path = bayeswd.ridge_path(X, y, lams)
val_mse = np.mean((data.y_val[None, :] - path.predict(data.X_val)) ** 2, axis=1)


def show(log10_lam=np.log10(3.0)):
    fig, ax = plt.subplots(figsize=(6, 3.4))
    plot.loss_vs_lambda(lams, {"ridge, validation": (val_mse, {})}, ax, marks={"chosen": 10**log10_lam})
    plt.show()


try:
    from ipywidgets import FloatSlider, interact

    interact(show, log10_lam=FloatSlider(value=np.log10(3.0), min=-4, max=3, step=0.1))
except ImportError:
    show()
