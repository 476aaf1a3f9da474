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
# # The initialization you cannot forget
#
# Every gradient of the data term lies in the span of the 20 training rows. So plain SGD with
# L2 decay leaves the rest of the initialization, (I − P)w₀, untouched except for the factor
# (1 − ηλ)^T. With 200 weights and 20 rows, 180 directions keep whatever the init put there.
# (Theory: `docs/theory.md` §4.)

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import bayeswd
from bayeswd import plot
from bayeswd.subspace import explain_run, null_space_factor

SMALL = os.environ.get("BAYESWD_NOTEBOOK_SMALL") == "1"
data = bayeswd.d2l_data(seed=0)
seeds = list(range(4 if SMALL else 32))

# %% [markdown]
# ## The law, checked on d2l's run
#
# Ten epochs of minibatch SGD (lr 0.01, batches of 5, 40 steps) at λ = 0 and λ = 3.

# %%
run = bayeswd.train(data, lam=[0.0, 3.0], seed=0, epochs=10, lr=0.01, batch_size=5)
row0, null0 = bayeswd.decompose(run.w0, data.X_train)
for i, lam in enumerate((0.0, 3.0)):
    _, null_t = bayeswd.decompose(run.w[i], data.X_train)
    factor = null_space_factor(0.01, lam, run.steps)
    print(f"λ = {lam}: |(I − P)w_T − (1 − ηλ)^T (I − P)w₀| = {np.abs(null_t - factor * null0).max():.1e}")

# %% [markdown]
# ## The init scale decides the validation loss
#
# The same run from N(0, s₀²) for several s₀: at λ = 0 the excess risk grows like s₀²·(p − rank X);
# decay shrinks that part.

# %%
sds = [0.001, 0.01, 0.1, 1.0]
sweep = bayeswd.train(data, lam=[0.0, 3.0], seed=seeds, init_sd=sds, epochs=10, lr=0.01, batch_size=5)
val = sweep.result["val_mse"].isel(epoch=-1).mean("seed")
fig, ax = plt.subplots(figsize=(6, 3.4))
for i, lam in enumerate((0.0, 3.0)):
    ax.loglog(sds, val.isel(lam=i).transpose("init_sd").values, "o-", label=f"λ = {lam:g}")
ax.set(xlabel="init sd s₀", ylabel="validation MSE", title="d2l's run, mean over seeds")
ax.legend()
plt.show()

# %% [markdown]
# ## Where the error lives
#
# The excess risk of one run split into the row space (what the data can fix) and the null space
# (only the init and the decay act there).

# %%
parts = {}
for i, lam in enumerate((0.0, 3.0)):
    split = explain_run(run.w[i], float(run.b[i]), run.w0, data.X_train, data.w_true, data.b_true)
    parts[f"λ = {lam:g}"] = split
    print(f"λ = {lam:g}: row {split['row_error_sq']:.4f}, null {split['null_error_sq']:.4f}")
plot.subspace_split(list(parts), {"row space": [p["row_error_sq"] for p in parts.values()],
                                  "null space": [p["null_error_sq"] for p in parts.values()]})
plt.show()
