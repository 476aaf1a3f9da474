"""Weight decay on a one-hidden-layer sigmoid MLP fit to random labels (the blog seed)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bayeswd import _jax_setup  # noqa: F401  (float64 before this module makes a JAX array)
import jax
import jax.numpy as jnp
import numpy as np
import optax

from bayeswd.data import mlp_binary_data
from bayeswd.exceptions import TrainingDiverged
from bayeswd.implied import implied_prior

from bayeswd.analyses._common import (Context, Count, Real, Results, Table, draw, fmt, implied_numbers, section,
                                      script_main)

NAME = "seed004_mlp"
TITLE = "D. A neural network on random labels"
QUESTION = "Does weight decay stop a 1000→500→1 sigmoid MLP from memorizing random labels, and is manual decay optax's?"
SETTINGS = {"epochs": Count(1000, high=20000, help="full-batch epochs"),
            "lr": Real(0.1, positive=True, high=10, help="SGD learning rate"),
            "stable_lr": Real(0.01, positive=True, high=10, help="a smaller learning rate run beside lr"),
            "wd": Real(0.1, low=0, high=10, help="weight decay (lr·wd must stay below 2)"),
            "dim": Count(1000, low=2, high=5000, help="inputs; the hidden layer has dim // 2 units")}
QUICK = {"epochs": 60, "dim": 200}
TYPICAL_SECONDS = {"quick": 5.0, "full": 100.0}
TAIL = 0.1  # the last 10% of epochs: what a run "ends at", and how much its test loss flickers there
VARIANTS = ("no decay", "manual (grad += wd·p, all params)", "optax add_decayed_weights (all params)",
            "decay on weights only")


def check_settings(params) -> str | None:
    """The decay step rule: each step multiplies a weight by 1 − lr·wd, which must stay above −1."""
    for which in ("lr", "stable_lr"):
        if params[which] * params["wd"] >= 2:
            return (f"{which}·wd = {params[which]:g}·{params['wd']:g} = {params[which] * params['wd']:g} ≥ 2: the "
                    f"decay alone makes every step diverge; keep {which}·wd below 2")
    return None


def _init(key, dim):
    """PyTorch's nn.Linear default: U(±1/√fan_in) for weights and biases."""
    k1, k2, k3, k4 = jax.random.split(key, 4)
    hidden = dim // 2
    u = lambda k, shape, fan: jax.random.uniform(k, shape, minval=-1 / np.sqrt(fan), maxval=1 / np.sqrt(fan))  # noqa: E731
    return {"W1": u(k1, (dim, hidden), dim), "b1": u(k2, (hidden,), dim), "W2": u(k3, (hidden, 1), hidden),
            "b2": u(k4, (1,), hidden)}


def _bce(params, X, y):
    h = jax.nn.sigmoid(X @ params["W1"] + params["b1"])
    logits = (h @ params["W2"] + params["b2"])[:, 0]
    # BCE(sigmoid(logits), y), written stably: softplus(z) − y·z.
    return jnp.mean(jax.nn.softplus(logits) - y * logits)


def _train(params, data, epochs, lr, wd_weights, wd_biases, use_optax):
    X, y, Xt, yt = (jnp.asarray(a) for a in (data.X_train, data.y_train, data.X_val, data.y_val))
    grad = jax.value_and_grad(_bce)
    if use_optax:  # decays every leaf, biases included
        opt = optax.chain(optax.add_decayed_weights(wd_weights), optax.sgd(lr))
    else:
        opt = optax.sgd(lr)
    state = opt.init(params)

    def step(carry, _):
        params, state = carry
        loss, g = grad(params, X, y)
        if not use_optax:  # the blog: for w in model.parameters(): w.grad.add_(w, alpha=wd)
            g = {k: g[k] + (wd_biases if k.startswith("b") else wd_weights) * params[k] for k in g}
        updates, state = opt.update(g, state, params)
        params = optax.apply_updates(params, updates)
        return (params, state), (loss, _bce(params, Xt, yt))

    (params, _), (train_loss, test_loss) = jax.lax.scan(step, (params, state), None, length=epochs)
    return params, np.asarray(train_loss), np.asarray(test_loss)


@dataclass(frozen=True)
class MLPResults(Results):
    dim: int
    n_train: int
    n_test: int
    chance_bce: float           # ln 2: predicting 1/2 for every row
    constant_bce: float         # test BCE of predicting the training rows' label frequency
    runs: dict                  # "lr" / "stable_lr" → variant → {"train", "test" curves, "tail_train", "tail_test",
                                #   "best_test", "flicker", "max_train"}
    manual_vs_optax: float
    implied: dict               # bayeswd.implied_prior for the blog's setting (mean BCE, decay on every parameter)


Results = MLPResults


def _summary(train_bce, test_bce) -> dict:
    tail = max(1, int(round(TAIL * len(test_bce))))
    return {"train": train_bce, "test": test_bce, "tail_train": float(train_bce[-tail:].mean()),
            "tail_test": float(test_bce[-tail:].mean()), "best_test": float(test_bce.min()),
            "flicker": float(np.abs(np.diff(test_bce[-tail - 1:])).mean()), "max_train": float(train_bce.max())}


def compute(ctx: Context) -> MLPResults:
    p = ctx.params
    data = mlp_binary_data(seed=ctx.seed, dim=p["dim"])
    start = _init(jax.random.PRNGKey(ctx.seed), p["dim"])
    # (decay on weights, decay on biases, through optax): optax's transform decays every leaf.
    settings = [(0.0, 0.0, False), (p["wd"], p["wd"], False), (p["wd"], p["wd"], True), (p["wd"], 0.0, False)]
    runs, params = {}, {}
    for which in ("lr", "stable_lr"):
        runs[which] = {}
        # At the smaller lr only the comparison the prose makes: no decay against decay on everything
        # (each run is 2·dim² flops per row per epoch; the other two would add a quarter of the section).
        chosen = zip(VARIANTS, settings) if which == "lr" else list(zip(VARIANTS, settings))[:2]
        for name, (ww, wb, use_optax) in chosen:
            params[which, name], tr, te = _train(start, data, p["epochs"], p[which], ww, wb, use_optax)
            if not (np.isfinite(tr).all() and np.isfinite(te).all()):
                epoch = int(np.argmin(np.isfinite(tr) & np.isfinite(te))) + 1
                raise TrainingDiverged(f"the MLP run '{name}' diverged at epoch {epoch} with {which}={p[which]:g}, "
                                       f"wd={p['wd']:g}; lower {which}")
            runs[which][name] = _summary(tr, te)
    manual, builtin = params["lr", VARIANTS[1]], params["lr", VARIANTS[2]]
    freq = float(np.clip(np.mean(data.y_train), 1e-12, 1 - 1e-12))
    y_test = np.asarray(data.y_val)
    constant = float(-np.mean(y_test * np.log(freq) + (1 - y_test) * np.log(1 - freq)))
    # The blog's SGD(model.parameters(), weight_decay=wd) on the mean BCE: a likelihood, so no noise sd is needed.
    implied = implied_numbers(implied_prior("pytorch", "sgd", p["wd"], n=len(data.y_train), lr=p["lr"],
                                            epochs=p["epochs"], loss="nll", decay_bias=True))
    results = MLPResults(**{**ctx.shared(), "has_truth": True}, implied=implied, dim=p["dim"], n_train=len(data.y_train),
                      n_test=len(y_test), chance_bce=float(np.log(2)), constant_bce=constant, runs=runs,
                      manual_vs_optax=max(float(jnp.abs(manual[k] - builtin[k]).max()) for k in manual))
    # the decay a step applies (lr·wd) at each learning rate, and the hidden width, as the prose quotes them
    return replace(results, derived={"hidden_units": p["dim"] // 2, "decay_per_step": p["lr"] * p["wd"],
                                     "decay_per_step_stable": p["stable_lr"] * p["wd"]})


def _prior_text(r: MLPResults) -> str:
    """What `bayeswd.implied_prior` says the blog's wd is: the BCE is a negative log-likelihood, so no noise sd."""
    imp, wd = r.implied, r.settings["wd"]
    if imp["family"] != "gaussian":
        return "With wd = 0 there is no prior."
    return (f"As a prior (`bayeswd.implied_prior`): the mean BCE over {r.n_train} rows plus (wd/2)‖θ‖² is, times "
            f"{r.n_train}, the negative log-likelihood plus ‖θ‖²/(2τ²), so wd = {wd:g} is the prior N(0, τ²) with "
            f"τ = 1/√(n·wd) = {fmt(imp['prior_sd'])} on every weight and, since the blog decays every parameter, on "
            f"every bias too. Nothing in this requires wd < 1: a larger wd is a narrower prior, and only lr·wd < 2 "
            f"keeps the decay itself stable.")


def render(r: MLPResults):
    s = r.settings
    fast, slow = r.runs["lr"], r.runs["stable_lr"]
    none_f, decay_f, weights_f = (fast[v] for v in (VARIANTS[0], VARIANTS[1], VARIANTS[3]))
    none_s, decay_s = slow[VARIANTS[0]], slow[VARIANTS[1]]

    def panels(axes):
        from bayeswd import plot

        for ax, which in zip(axes, ("lr", "stable_lr")):
            curves = {}
            for name, color in zip(VARIANTS, ("tab:red", "tab:blue", "tab:cyan", "tab:green")):
                if name not in r.runs[which]:
                    continue
                run = r.runs[which][name]
                curves[f"{name}, test"] = (run["test"], dict(color=color, lw=1.2))
                curves[f"_{name}, train"] = (run["train"], dict(color=color, lw=0.8, ls="--"))
            ax.axhline(r.chance_bce, color="k", lw=0.8, ls=":", label="ln 2 (chance)")
            plot.loss_curves(np.arange(1, len(run["test"]) + 1), curves, ax, ylabel="BCE", log=False,
                             title=f"lr = {s[which]:g}")
            ax.legend(fontsize=8)

    figure = draw("mlp_curves", "Training (dashed) and test (solid) binary cross-entropy of each variant, at the blog's "
                                "learning rate (top) and a smaller one (bottom: no decay and decay on every parameter); the "
                                "manual and optax curves coincide (identical updates), so one hides the other.", panels, rows=2, height=3.6)

    def state(run):
        if run["tail_train"] > r.chance_bce:
            return f"worse than predicting 1/2 on its own training rows (BCE {fmt(run['tail_train'])} > ln 2)"
        return f"training BCE {fmt(run['tail_train'])}"

    unstable = fast[VARIANTS[1]]["max_train"] > r.chance_bce * 1.5 or decay_f["flicker"] > 10 * decay_s["flicker"]
    answer = (f"At the blog's lr = {s['lr']:g} the runs are {'unstable' if unstable else 'stable'}: with decay the model "
              f"ends {state(decay_f)} and its test BCE averages {fmt(decay_f['tail_test'])} over the last "
              f"{TAIL:.0%} of epochs; at lr = {s['stable_lr']:g} decay ends at test BCE {fmt(decay_s['tail_test'])} "
              f"and no decay at {fmt(none_s['tail_test'])}, against {fmt(r.constant_bce)} for a constant prediction: "
              f"on random labels decay can limit the memorization, never create signal.")
    text = f"""
The blog fits a {r.dim}→{r.dim // 2}→1 sigmoid network (one hidden layer of sigmoid units) by full-batch SGD ({s['epochs']} epochs) to {r.n_train} rows whose labels are half 0 and half 1 at random: there is nothing to learn, so any drop of the training loss below ln 2 = {fmt(r.chance_bce)} is memorization. The loss is the binary cross-entropy (BCE), −[y log p + (1 − y) log(1 − p)] averaged over rows. The best any model can do on the {r.n_test} test rows is a constant prediction: the training rows' label frequency scores {fmt(r.constant_bce)}. Four variants from the same PyTorch-default init, in float64, at the blog's lr (the first two also at the smaller one):

- no decay;
- the blog's manual decay, `w.grad.add_(w, alpha=wd)` on every parameter, biases included (the penalty (wd/2)‖θ‖² on all of θ);
- optax's `add_decayed_weights(wd)` chained before `sgd`, which decays every leaf too: the trained parameters agree with the manual loop to {fmt(r.manual_vs_optax)};
- decay on the weights only, the convention of d2l and of PyTorch parameter groups.

**Stability first.** At the blog's lr = {s['lr']:g} the training BCE with decay peaks at {fmt(decay_f['max_train'])} and the test BCE changes by {fmt(decay_f['flicker'])} per epoch on average over the last {TAIL:.0%} (at lr = {s['stable_lr']:g}: {fmt(decay_s['flicker'])}); the last epoch of such a curve is a coin toss, so this section reports the average over the last {TAIL:.0%} of epochs. The blog says wd must lie in (0, 1) so that it "decays": what matters is the product lr·wd, the fraction removed per step, here {fmt(s['lr'] * s['wd'])} and {fmt(s['stable_lr'] * s['wd'])}. {_prior_text(r)}

**What decay does.** At lr = {s['stable_lr']:g}: without decay {state(none_s)} and test BCE {fmt(none_s['tail_test'])}; with decay on every parameter {state(decay_s)} and test BCE {fmt(decay_s['tail_test'])}. At lr = {s['lr']:g}: without decay {state(none_f)}, test {fmt(none_f['tail_test'])}; with decay on every parameter {state(decay_f)}, test {fmt(decay_f['tail_test'])}; on the weights only {state(weights_f)}, test {fmt(weights_f['tail_test'])}. No variant can beat the constant prediction's {fmt(r.constant_bce)} on the test rows except by luck: decay can make the model less wrong, not right.
"""
    rows = [[f"{name}, lr = {s[which]:g}", run["tail_train"], run["tail_test"], run["best_test"], run["flicker"]]
            for which in ("lr", "stable_lr") for name, run in r.runs[which].items()]
    rows.append(["constant prediction (training label frequency)", None, r.constant_bce, None, None])
    table = Table(f"Average over the last {TAIL:.0%} of epochs.", ["variant", "train BCE", "test BCE",
                                                                  "best test BCE", "test BCE change per epoch"], rows)
    return section(__name__, r, answer, text, [figure], [table])


if __name__ == "__main__":
    script_main(__import__(__name__))
