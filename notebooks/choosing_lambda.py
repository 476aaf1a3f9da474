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
# # Choosing λ
#
# Three ways to pick the weight decay on the d2l data: the validation rows, exact leave-one-out
# on the training rows, and the evidence (empirical Bayes, which turns the fitted σ and τ into
# λ = σ²/(nτ²)). (Theory: `docs/theory.md` §2–3.)

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import bayeswd
from bayeswd import plot
from bayeswd.gaussian import evidence_path

SMALL = os.environ.get("BAYESWD_NOTEBOOK_SMALL") == "1"
data = bayeswd.d2l_data(seed=0)
X, y = data.X_train, data.y_train
lams = np.logspace(-4, 4, 40 if SMALL else 200)

# %%
path = bayeswd.ridge_path(X, y, lams)
val_mse = np.mean((data.y_val[None, :] - path.predict(data.X_val)) ** 2, axis=1)
eb = bayeswd.empirical_bayes(X, y)
eb_lam = eb.noise_sd**2 / (data.n_train * eb.prior_sd**2)
choices = {"validation": lams[val_mse.argmin()], "LOO": path.best_loo_lam, "empirical Bayes": eb_lam,
           "truth": bayeswd.bayes_optimal_lam(data.noise_sd, np.sqrt(np.mean(data.w_true**2)), data.n_train)}
for name, lam in choices.items():
    print(f"{name:>16}: λ = {lam:.3g}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.6))
plot.loss_vs_lambda(lams, {"training": (path.train_mse, {}), "validation": (val_mse, {}),
                           "leave-one-out": (path.loo_mse, {})}, ax, marks=choices)
plt.show()

# %% [markdown]
# ## The evidence is flat
#
# With p ≫ n the evidence mostly pins down σ² + pτ², so many λ explain the data about equally
# well: the curve is nearly flat, and its range over the whole grid is printed below it.

# %%
ev = evidence_path(X, y, lams)
fig, ax = plt.subplots(figsize=(6, 3.4))
plot.evidence_curve(lams, ev.log_evidence, ax, best=eb_lam)
plt.show()
print(f"range of the profile log evidence over the grid: {np.ptp(ev.log_evidence):.2f} nats")
