"""Multi-output weight decay (the notebook seed): the hand-derived update, the compiled gradient and optax agree."""

from __future__ import annotations

from dataclasses import dataclass

from bayeswd import _jax_setup  # noqa: F401  (float64 before this module makes a JAX array)
import jax
import jax.numpy as jnp
import numpy as np
import optax

from bayeswd.conventions import from_framework
from bayeswd.implied import implied_prior
from bayeswd.data import multioutput_data
from bayeswd.streams import stream
from bayeswd.training import train

from bayeswd.analyses._common import (LOSS, Context, Count, Real, Results, Table, draw, fmt, implied_numbers, section,
                                      script_main)

NAME = "seed002_multioutput"
TITLE = "C. Several outputs: a hand-written update against the framework"
QUESTION = "Do the notebook's hand-derived L2 update, bayeswd's compiled gradient and optax's decay take the same steps?"
SETTINGS = {"lambd": Real(0.01, low=0, high=10, help="the notebook's weight decay (PyTorch spelling)"),
            "lr": Real(0.01, positive=True, high=1.0, help="the notebook's learning rate"),
            "epochs": Count(16, high=10**4, help="epochs (the notebook loop runs in Python)")}
QUICK = {}
TYPICAL_SECONDS = {"quick": 5.0, "full": 5.0}
AGREE = 1e-10  # float64 steps that agree to this are the same algorithm


def notebook_update(X, Y, w, b, lambd, lr, epochs, batch):
    """The notebook: delta = 2(ŷ − y)/numel; b −= lr·Σdelta; w −= lr·(Xᵀdelta + λw); batches in row order."""
    val = []
    for _ in range(epochs):
        for start in range(0, len(Y), batch):
            xb, yb = X[start:start + batch], Y[start:start + batch]
            delta = 2 * (xb @ w + b - yb) / yb.size
            b = b - lr * delta.sum(axis=0)
            w = w - lr * (xb.T @ delta + lambd * w)
        val.append((w, b))
    return w, b, val


def optax_update(X, Y, w, b, lambd, lr, epochs, batch):
    """PyTorch's SGD(weight_decay on the weight group only), spelled with optax."""
    opt = optax.chain(optax.masked(optax.add_decayed_weights(lambd), {"w": True, "b": False}), optax.sgd(lr))
    params = {"w": jnp.asarray(w), "b": jnp.asarray(b)}
    state = opt.init(params)
    grad = jax.jit(jax.grad(lambda prm, xb, yb: jnp.mean((xb @ prm["w"] + prm["b"] - yb) ** 2)))
    for _ in range(epochs):
        for start in range(0, len(Y), batch):
            updates, state = opt.update(grad(params, X[start:start + batch], Y[start:start + batch]), state, params)
            params = optax.apply_updates(params, updates)
    return np.asarray(params["w"]), np.asarray(params["b"])


@dataclass(frozen=True)
class MultiOutputResults(Results):
    differences: dict       # comparison → largest |Δ| in any weight or bias
    lam_canonical: float
    lr_canonical: float
    batch: int
    n_targets: int
    n_features: int
    n_train: int
    n_val: int
    epochs: np.ndarray
    train_mse: np.ndarray
    val_mse: np.ndarray
    implied: dict           # bayeswd.implied_prior for the notebook's torch setting (weight group decayed only)


Results = MultiOutputResults


def compute(ctx: Context) -> MultiOutputResults:
    p = ctx.params
    data = multioutput_data(seed=ctx.seed)
    X, Y = data.X_train, data.y_train
    batch, k = len(X) // 3, Y.shape[1]
    rng = stream(ctx.seed, "init")   # not the stream the data were drawn from
    bound = 1 / np.sqrt(X.shape[1])  # nn.Linear's default init, copied into the scratch model
    w0, b0 = rng.uniform(-bound, bound, (X.shape[1], k)), rng.uniform(-bound, bound, k)
    w_nb, b_nb, _ = notebook_update(X, Y, w0, b0, p["lambd"], p["lr"], p["epochs"], batch)
    lam, lr, decay_bias = from_framework("pytorch", p["lambd"], p["lr"], n_targets=k)
    ours = train(data, lam, lr=lr, epochs=p["epochs"], batch_size=batch, shuffle=False, w0=w0, b0=b0,
                 decay_bias=decay_bias)
    w_ox, b_ox = optax_update(X, Y, w0, b0, p["lambd"], p["lr"], p["epochs"], batch)
    diffs = {"compiled vs notebook, weights": float(np.abs(ours.w - w_nb).max()),
             "compiled vs notebook, biases": float(np.abs(ours.b - b_nb).max()),
             "optax vs notebook, weights": float(np.abs(w_ox - w_nb).max()),
             "optax vs notebook, biases": float(np.abs(b_ox - b_nb).max())}
    implied = implied_numbers(implied_prior("pytorch", "sgd", p["lambd"], n=len(X), lr=p["lr"], batch_size=batch,
                                            epochs=p["epochs"], loss="mse", n_outputs=k, decay_bias=False,
                                            noise_sd=data.noise_sd))
    return MultiOutputResults(**{**ctx.shared(), "has_truth": True}, implied=implied, differences=diffs, lam_canonical=lam,
                              lr_canonical=lr, batch=batch, n_targets=k, n_features=X.shape[1], n_train=len(X),
                              n_val=len(data.y_val), epochs=ours.result.epoch.values.astype(float),
                              train_mse=ours.result["train_mse"].values / k,   # Σ‖r‖²/n → mean r²
                              val_mse=ours.result["val_mse"].values / k)


def _prior_text(r: MultiOutputResults) -> str:
    imp = r.implied
    if imp["family"] != "gaussian":
        return "With LAMBD = 0 there is no prior."
    return (f"As a prior (`bayeswd.implied_prior`): LAMBD = {imp['weight_decay']:g} on the weight group is N(0, τ²) "
            f"on every weight with τ = σ/√(nλ) = {fmt(imp['prior_sd'])} for the data's noise sd σ = "
            f"{fmt(imp['noise_sd'])}; the biases, left out of the decay, get a flat prior; scikit-learn's `Ridge(alpha={fmt(imp['sklearn_alpha'])})` "
            f"fits the same weights.")


def render(r: MultiOutputResults):
    s = r.settings
    worst = max(r.differences.values())

    def panels(ax):
        from bayeswd import plot

        plot.loss_curves(r.epochs, {f"train {LOSS}": (r.train_mse, {}),
                                    f"validation {LOSS} ({r.n_val:,} rows)": (r.val_mse, {})}, ax, ylabel=LOSS,
                         title="Trained by bayeswd in the PyTorch spelling")

    figure = draw("multioutput_curves", f"Linear regression with {r.n_targets} outputs and L2 decay: training and "
                                        f"validation {LOSS} per epoch.", panels, height=3.4)
    answer = (f"{'Yes' if worst < AGREE else 'No'}: after {s['epochs']} epochs the three differ by at most "
              f"{fmt(worst)} in any weight or bias ({'below' if worst < AGREE else 'above'} {AGREE:g}; float64 "
              f"rounding is about 1e-16 relative).")
    text = f"""
The notebook trains a {r.n_features}-input, {r.n_targets}-output linear model on {r.n_train} rows *from scratch*, with the hand-derived update `delta = 2(ŷ − y)/numel; w −= lr·(Xᵀdelta + λw)`, and checks it against `torch.optim.SGD` with `weight_decay=λ` on the weight group. Its loss is the mean of r² over all n·k entries, so in bayeswd's objective J = Σᵢ‖rᵢ‖²/(2n) + (λ/2)‖W‖²_F (the Frobenius norm: the sum of squares of all entries) the same steps are λ = k·wd/2 = {fmt(r.lam_canonical)} at learning rate 2·lr/k = {fmt(r.lr_canonical)}, with k = {r.n_targets} outputs.

Three implementations from the same start, in the notebook's batch order (batches of {r.batch}, no shuffling): the notebook's hand-derived update, bayeswd's trainer whose gradient is compiled from the PyMC model's log-posterior, and optax's `add_decayed_weights` chained before `sgd`. Largest differences: {fmt(r.differences['compiled vs notebook, weights'])} (compiled vs notebook) and {fmt(r.differences['optax vs notebook, weights'])} (optax vs notebook). {_prior_text(r)} As the notebook notes, evaluate with the loss, not the objective: the validation {LOSS} here excludes the penalty. The data are regenerated with scikit-learn's make_regression recipe from a different random stream, so the {LOSS} values differ from the notebook's printout.
"""
    table = Table("Largest absolute differences after training.", ["comparison", "largest |Δ|"],
                  [[k_, v] for k_, v in r.differences.items()])
    return section(__name__, r, answer, text, [figure], [table])


if __name__ == "__main__":
    script_main(__import__(__name__))
