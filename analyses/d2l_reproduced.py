"""d2l reproduced: the chapter's runs, scratch and concise, in the JAX-revision and Chinese-edition configs."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from bayeswd.conventions import from_framework
from bayeswd.data import D2L_LAMBDA, D2L_PROTOCOL
from bayeswd.training import train
from bayeswd.implied import implied_prior
from bayeswd.streams import child_seed, stream

from bayeswd.analyses._common import (LOSS, Context, Count, Real, Results, Table, draw, fmt, implied_numbers,
                                      section, script_main)

NAME = "d2l_reproduced"
TITLE = "5. The d2l weight-decay runs, reproduced"
QUESTION = "What do d2l's λ = 0 and λ = 3 runs show, and what does its printed 'L2 norm of w' measure?"
SETTINGS = {"wd": Real(3.0, low=0, high=50, help="the chapter's weight decay, each framework's spelling; "
                                                 "λ·lr stays below 2 in every run up to 50"),
            "en_epochs": Count(10, high=10**5, help="epochs of the English (JAX revision) runs"),
            "zh_epochs": Count(100, high=10**5, help="epochs of the Chinese-edition runs"),
            "repeats": Count(20, low=2, high=500, help="data draws and seeds each run is repeated over")}
QUICK = {"zh_epochs": 20}
TYPICAL_SECONDS = {"quick": 25.0, "full": 35.0}
BOOK_WD = D2L_LAMBDA  # the weight decay the book's printed numbers belong to

CONFIGS = {"en": {k: D2L_PROTOCOL[k] for k in ("init_sd", "lr", "batch_size")},
           "zh": dict(init_sd=1.0, lr=0.003, batch_size=D2L_PROTOCOL["batch_size"])}   # d2l-zh changes the start and lr
# (label, framework, config, init): the concise variants each edition's chapter runs.
CONCISE = [("PyTorch concise", "pytorch", "en", "torch"), ("TensorFlow concise", "tensorflow", "en", "normal"),
           ("MXNet concise", "mxnet", "en", "normal"), ("JAX concise (revision)", "jax", "en", "normal"),
           ("JAX concise (printed book, bias decayed)", "jax-book", "en", "normal"),
           ("Chinese edition, PyTorch concise", "pytorch", "zh", "normal-all")]
IMPLIED_LABELS = {"scratch": "scratch (d2l's J)", "pytorch": "PyTorch: MSELoss + SGD weight_decay",
                  "tensorflow": "TensorFlow: MSE + l2(wd) on the kernel", "mxnet": "MXNet: L2Loss + Trainer wd",
                  "jax": "JAX revision: optax decay masked to the kernel",
                  "jax-book": "JAX printed book: optax decay on every parameter"}
INIT_LABELS = {"torch": "U(±1/√p), PyTorch's default", "normal-all": "N(0, 1) on w and b"}

# What the book printed after training, at wd = 0 and wd = 3 (d2l.ai and zh.d2l.ai, read 2026).
# The English editions print l2_penalty(w) = ‖w‖²/2; the Chinese edition prints torch.norm(w) = ‖w‖.
# "JAX seed" is the project's own seed document (the JAX revision's text, kernel-only decay).
BOOK = {
    "en scratch, λ = 0": {"PyTorch": 0.009949, "JAX": 0.010942, "TensorFlow": 0.010886, "MXNet": 0.009326,
                          "JAX seed": 0.008095},
    "en scratch, λ = wd": {"PyTorch": 0.001727, "JAX": 0.001490, "TensorFlow": 0.001744, "MXNet": 0.001208,
                           "JAX seed": 0.001448},
    "PyTorch concise, wd": {"PyTorch": 0.013780},
    "JAX concise (revision), wd": {"JAX": 0.001469, "JAX seed": 0.001811},
    "TensorFlow concise, wd": {"TensorFlow": 0.000964},
    "MXNet concise, wd": {"MXNet": 0.001310},
    "zh scratch, λ = 0": {"PyTorch (zh)": 12.96},
    "zh scratch, λ = wd": {"PyTorch (zh)": 0.356},
    "Chinese edition, PyTorch concise, 0": {"PyTorch (zh)": 13.73},
    "Chinese edition, PyTorch concise, wd": {"PyTorch (zh)": 0.389},
}


@dataclass(frozen=True)
class D2lResults(Results):
    rows: list            # one dict per run: label, book_key, lam, lr, decay_bias, init, printed, values
    repeats_redraw_data: bool
    steps_en: int
    num_inputs: int
    rank: int
    curves: dict          # config → {"epoch", "train_0", "val_0", "train_wd", "val_wd"} (MSE, first repeat)
    recipe: dict          # the data's true bias, weight (when all equal) and noise sd; empty when unknown
    implied: dict         # spelling → bayeswd.implied_prior's numbers for the English runs' wd (see implied_numbers)


Results = D2lResults


def _one_repeat(data, wd, epochs, seed, rng):
    """Every run of the chapter on one data draw; returns rows (without statistics) and the scratch runs."""
    rows, scratch = [], {}
    for cfg, settings in CONFIGS.items():
        runs = train(data, [0.0, wd], epochs=epochs[cfg], seed=seed, **settings)
        scratch[cfg] = runs
        for i, (lam, tag) in enumerate(((0.0, "0"), (wd, "wd"))):
            h = runs.result.isel(lam=i, epoch=-1)   # by position: wd = 0 makes the two λ equal
            rows.append(dict(label=f"{cfg} scratch, λ = {tag}", config=cfg, lam=lam, lr=settings["lr"],
                             decay_bias=False, init=f"N(0, {settings['init_sd']}²)",
                             values=_final(h)))
    for label, framework, cfg, init in CONCISE:
        settings = CONFIGS[cfg]
        (lam0, lr, decay_bias), (lam, _, _) = (from_framework(framework, w, settings["lr"]) for w in (0.0, wd))
        kwargs = dict(epochs=epochs[cfg], batch_size=CONFIGS[cfg]["batch_size"], lr=lr, decay_bias=decay_bias, seed=seed)
        if init == "normal-all":  # d2l-zh: param.data.normal_() on weight and bias, drawn anew per run
            finals = [train(data, lam_, w0=rng.standard_normal(data.num_inputs), b0=rng.standard_normal(),
                            **kwargs).result.isel(epoch=-1) for lam_ in (lam0, lam)]
        else:  # both wd values in one sweep: same start, same minibatches, one compiled program
            if init == "torch":  # LazyLinear: weight.data.normal_ acts on a not-yet-created tensor, a no-op
                kwargs["init"] = "torch"
            else:
                kwargs["init_sd"] = settings["init_sd"]
            sweep = train(data, [lam0, lam], **kwargs).result.isel(epoch=-1)
            finals = [sweep.isel(lam=i) for i in range(2)]
        for tag, lam_, h in zip(("0", "wd"), (lam0, lam), finals):
            rows.append(dict(label=f"{label}, {tag}", config=cfg, lam=lam_, lr=lr, decay_bias=decay_bias,
                             init=INIT_LABELS.get(init, f"N(0, {settings['init_sd']}²)"), values=_final(h)))
    return rows, scratch


def _final(h) -> dict:
    return {"train_mse": float(h.train_mse), "val_mse": float(h.val_mse),
            "l2_penalty": float(h.l2_penalty), "w_norm": float(h.w_norm)}


def compute(ctx: Context) -> D2lResults:
    data, p = ctx.dataset, ctx.params
    epochs = {"en": p["en_epochs"], "zh": p["zh_epochs"]}
    rng = stream(ctx.seed, "init")   # d2l-zh's N(0, 1) starts: never the data's own numbers
    repeats = []
    for r in range(p["repeats"]):
        seed = ctx.seed if r == 0 else child_seed(ctx.seed, "repeat", r)
        data_r = ctx.redraw(seed) if (ctx.redraw is not None and r > 0) else data
        repeats.append(_one_repeat(data_r, p["wd"], epochs, seed, rng))
    rows = []
    for i, row in enumerate(repeats[0][0]):
        stack = {key: np.array([rep[0][i]["values"][key] for rep in repeats]) for key in row["values"]}
        # the quantity the edition prints: ‖w‖²/2 in English, ‖w‖ in the Chinese edition
        printed = "w_norm" if row["config"] == "zh" else "l2_penalty"
        rows.append({**row, "printed": printed,
                     "mean": {k: float(v.mean()) for k, v in stack.items()},
                     "sd": {k: float(v.std(ddof=1)) for k, v in stack.items()}})
    curves = {}
    for cfg, runs in repeats[0][1].items():
        res = runs.result
        curves[cfg] = {"epoch": res.epoch.values.tolist(), "train_0": res.train_mse.isel(lam=0).values.tolist(),
                       "val_0": res.val_mse.isel(lam=0).values.tolist(),
                       "train_wd": res.train_mse.isel(lam=1).values.tolist(),
                       "val_wd": res.val_mse.isel(lam=1).values.tolist()}
    steps = p["en_epochs"] * -(-data.n_train // CONFIGS["en"]["batch_size"])
    recipe = {}
    if ctx.has_truth and np.ptp(data.w_true) == 0:
        recipe = {"b": float(data.b_true), "w": float(data.w_true[0]), "noise": float(data.noise_sd)}
    # The prior each spelling's knob implies, by the converter (noise sd only where the data's is known).
    en = CONFIGS["en"]
    spellings = (("scratch", "d2l-scratch", None, False), ("pytorch", "pytorch", "mse", False),
                 ("tensorflow", "keras", "mse", False), ("mxnet", "mxnet", "half_mse", False),
                 ("jax", "optax", "half_mse", False), ("jax-book", "optax", "half_mse", True))
    implied = {key: implied_numbers(implied_prior(framework, "sgd", p["wd"], n=data.n_train, lr=en["lr"],
                                                  batch_size=en["batch_size"], epochs=p["en_epochs"], loss=loss,
                                                  decay_bias=decay_bias, noise_sd=data.noise_sd))
               for key, framework, loss, decay_bias in spellings}
    results = D2lResults(**ctx.shared(), implied=implied, recipe=recipe, rows=rows,
                         repeats_redraw_data=ctx.redraw is not None, steps_en=steps, num_inputs=data.num_inputs,
                         rank=int(np.linalg.matrix_rank(data.X_train)), curves=curves)
    return replace(results, derived=_derive(results))


def _derive(results: D2lResults) -> dict:
    """The init sizes, the concise run's decay and the bias's distance the prose quotes."""
    init_half_sq = results.num_inputs * CONFIGS["en"]["init_sd"] ** 2 / 2     # E‖w₀‖²/2 of the scratch init
    torch_half_sq = 1 / 6                                    # p·Var(U(±1/√p))/2 = p/(3p)/2, for any p
    torch_w = _row(results, "PyTorch concise, wd")
    return {"init_half_sq": init_half_sq, "torch_init_half_sq": torch_half_sq,
            "torch_over_scratch_init": torch_half_sq / init_half_sq,
            "decay_factor_sq": (1 - torch_w["lr"] * torch_w["lam"]) ** (2 * results.steps_en),
            "null_dims": results.num_inputs - results.rank, "bias_in_prior_sds": _bias_in_prior_sds(results)}


def _row(results, label):
    return next(r for r in results.rows if r["label"] == label)


def _pm(row, key, digits=3):
    return f"{fmt(row['mean'][key], digits)} ± {fmt(row['sd'][key], 2)}"


def _display(label: str, wd: float) -> str:
    """Row labels name the decay by its value: "λ = wd" → "λ = 3", ", wd" → ", wd = 3"."""
    label = label.replace("λ = wd", f"λ = {wd:g}")
    if label.endswith(", wd"):
        return label[:-4] + f", wd = {wd:g}"
    if label.endswith(", 0"):
        return label[:-3] + ", wd = 0"
    return label


def _change(before, after):
    return "lowers" if after < before else "raises"


def _bias_in_prior_sds(results: D2lResults):
    """How many prior sds the true bias lies from 0 under the printed JAX chapter's decayed bias (None if unknown)."""
    sd = results.implied["jax-book"]["bias_prior_sd"]
    return results.recipe["b"] / sd if results.recipe and sd else None


def _implied_text(results: D2lResults) -> str:
    scratch, torch, book = (results.implied[k] for k in ("scratch", "pytorch", "jax-book"))
    wd = results.settings["wd"]
    if scratch["family"] != "gaussian":
        return f"With wd = {wd:g} there is no penalty: every spelling is a flat prior."

    def prior(entry):
        return f"N(0, τ²) with τ = {fmt(entry['prior_sd'])}" if entry["prior_sd"] is not None else \
            f"a Gaussian prior with τ = σ/√(nλ) (σ unknown for these data)"

    same_step = math.isclose(scratch["decay_per_step"], torch["decay_per_step"], rel_tol=1e-12)
    text = (f"Scratch λ = {wd:g} is {prior(scratch)}. PyTorch's `weight_decay={wd:g}` with `MSELoss` is λ = "
            f"{fmt(torch['lam'])}, {prior(torch)}. ")
    if same_step:
        text += (f"Yet both multiply a weight by the same {fmt(torch['decay_per_step'])} per step through the decay, "
                 f"so after {torch['steps']} steps both keep {fmt(torch['null_space_survival'])} of the init's "
                 f"null-space part: a difference in printed norms comes from the init, not from the prior. ")
    else:
        text += (f"Their decay factors per step differ ({fmt(scratch['decay_per_step'])} and "
                 f"{fmt(torch['decay_per_step'])}). ")
    far = results.derived["bias_in_prior_sds"]
    tf, mx = results.implied["tensorflow"], results.implied["mxnet"]
    text += (f"TensorFlow's `l2({wd:g})` on the kernel means λ = {fmt(tf['lam'])}, MXNet's `wd={wd:g}` λ = "
             f"{fmt(mx['lam'])} (the table). The printed JAX chapter's `add_decayed_weights` also reaches the bias: {prior(book)} on it"
             + (f", while the data's true bias is {fmt(results.recipe['b'])}, {fmt(far, 3)} prior sds from 0."
                if far is not None and math.isfinite(far) else "."))
    return text


def render(results: D2lResults):
    s = results.settings
    wd, n_rep = s["wd"], s["repeats"]
    en0, enw = _row(results, "en scratch, λ = 0"), _row(results, "en scratch, λ = wd")
    zh0, zhw = _row(results, "zh scratch, λ = 0"), _row(results, "zh scratch, λ = wd")
    torch_w, torch_0 = _row(results, "PyTorch concise, wd"), _row(results, "PyTorch concise, 0")
    d = results.derived
    init_half_sq, torch_half_sq, decay_sq = d["init_half_sq"], d["torch_init_half_sq"], d["decay_factor_sq"]
    book_matches = wd == BOOK_WD
    over = ("data draws and seeds" if results.repeats_redraw_data else
            "seeds (init and minibatch order; your data file cannot be redrawn)")

    def book(row):
        values = BOOK.get(row["label"])
        if values is None or (row["label"].endswith("wd") and not book_matches):
            return "—"
        return ", ".join(f"{fw} {v:g}" for fw, v in values.items())

    printed_rows = [[_display(r["label"], wd), "‖w‖" if r["printed"] == "w_norm" else "‖w‖²/2", book(r),
                     r["values"][r["printed"]], f"{fmt(r['mean'][r['printed']], 4)} ± {fmt(r['sd'][r['printed']], 2)}"]
                    for r in results.rows]
    loss_rows = [[_display(r["label"], wd), r["lam"], r["lr"], "yes" if r["decay_bias"] else "no", r["init"],
                  r["values"]["train_mse"], r["values"]["val_mse"], _pm(r, "val_mse")] for r in results.rows]

    def panels(axes):
        from bayeswd import plot

        for ax, cfg in zip(axes, ("en", "zh")):
            c, settings = results.curves[cfg], CONFIGS[cfg]
            plot.loss_curves(c["epoch"], {
                "train, λ = 0": (c["train_0"], dict(color="tab:red", ls="--")),
                "validation, λ = 0": (c["val_0"], dict(color="tab:red")),
                f"train, λ = {wd:g}": (c["train_wd"], dict(color="tab:blue", ls="--")),
                f"validation, λ = {wd:g}": (c["val_wd"], dict(color="tab:blue"))}, ax, ylabel=LOSS,
                title=f"{'English edition (JAX revision)' if cfg == 'en' else 'Chinese edition'}: init sd "
                      f"{settings['init_sd']:g}, lr {settings['lr']:g}")

    figure = draw("d2l_curves", f"Training (dashed) and validation (solid) {LOSS}, without the penalty, for the "
                                f"scratch runs at λ = 0 and λ = {wd:g} (first data draw).", panels, rows=2, height=3.3)
    answer = (f"Averaged over {n_rep} {over.split(' (')[0]}, with init sd {CONFIGS['en']['init_sd']:g} λ = {wd:g} "
              f"{_change(en0['mean']['val_mse'], enw['mean']['val_mse'])} the validation {LOSS} from "
              f"{_pm(en0, 'val_mse')} to {_pm(enw, 'val_mse')}; with init sd {CONFIGS['zh']['init_sd']:g} (Chinese "
              f"edition) from {_pm(zh0, 'val_mse')} to {_pm(zhw, 'val_mse')}. The English editions' printed "
              f"'L2 norm of w' is ‖w‖²/2 ({_pm(en0, 'l2_penalty', 4)} at λ = 0); the Chinese edition prints ‖w‖.")
    if results.recipe:
        rc = results.recipe
        recipe_text = (f"The book's data are one random draw and ours are others: the same recipe (y = {fmt(rc['b'])} + "
                       f"Σ {fmt(rc['w'])}·xᵢ + noise of sd {fmt(rc['noise'])}, x ~ N(0, I)) but not the same numbers, "
                       f"so a single run cannot match the book digit for digit.")
    else:
        recipe_text = "These are your data, not the book's, so the book's numbers are shown only for orientation."
    null_dims = d["null_dims"]

    def near(value, reference):
        return "close to" if 0.5 < value / reference < 2 else "unlike"

    alike = near(torch_w["mean"]["l2_penalty"], en0["mean"]["l2_penalty"]) == "close to"
    forum = (f"The concise `weight_decay={wd:g}` run prints {_pm(torch_w, 'l2_penalty', 4)} against the scratch λ = 0 "
             f"run's {_pm(en0, 'l2_penalty', 4)}" + (": that is why the forum saw the two print about the same \"norm\"."
                                                      if alike else ".") +
             f" Decay shrank the larger start by (1 − ηλ)^(2T) = {fmt(decay_sq)} in ‖w‖².")
    book_note = ("" if book_matches else
                 f" The book's numbers were printed for wd = {BOOK_WD:g}; with wd = {wd:g} only its wd = 0 rows "
                 f"compare.")
    seed_book = {key: BOOK[key]["JAX seed"] for key in ("en scratch, λ = 0", "en scratch, λ = wd",
                                                       "JAX concise (revision), wd")}
    jax_w = _row(results, "JAX concise (revision), wd")
    seed_text = (f" The seed document this project started from (d2l's JAX text) printed "
                 f"{seed_book['en scratch, λ = 0']:g} at λ = 0, {seed_book['en scratch, λ = wd']:g} at λ = {wd:g} and "
                 f"{seed_book['JAX concise (revision), wd']:g} for the concise JAX run; ours are "
                 f"{_pm(en0, 'l2_penalty', 4)}, {_pm(enw, 'l2_penalty', 4)} and {_pm(jax_w, 'l2_penalty', 4)}."
                 if book_matches else "")
    text = f"""
**What "scratch" and "concise" mean.** d2l trains each model twice: *from scratch*, with the penalty written out by hand, and *concisely*, with a framework's built-in `weight_decay` knob. The scratch runs minimize J = Σr²/(2n) + (λ/2)‖w‖² by minibatch SGD (stochastic gradient descent on batches of 5 rows, reshuffled every epoch). d2l's loss Σr²/(2n) is half the mean squared error; this report shows the **{LOSS}** (mean of r² over rows) everywhere.

**What the book printed, and what these runs print.** {recipe_text} The table compares the book with the mean ± sd of each run over {n_rep} {over}.{book_note}{seed_text} The English editions print `l2_penalty(w)` = ‖w‖²/2, half the **squared** norm; the Chinese edition prints `torch.norm(w)` = ‖w‖. At λ = 0 the English scratch run prints {_pm(en0, 'l2_penalty', 4)}, {near(en0['mean']['l2_penalty'], init_half_sq)} the initialization's own p·0.01²/2 = {fmt(init_half_sq)}: {results.steps_en} SGD steps barely move the {null_dims} directions the {results.rank} independent training rows cannot see (section 2).

<!--more-->
**The concise runs** are the same minimizer in other spellings: PyTorch's `MSELoss` has no ½, so `weight_decay={wd:g}` means λ = {fmt(torch_w['lam'])} at twice the learning rate; TensorFlow's `l2(wd)` and its mean of r² are both doubled, so λ = wd at twice the rate; MXNet and the JAX revision match the scratch objective; the printed JAX chapter also decays the bias.

**What prior each spelling implies** (`bayeswd.implied_prior`). {_implied_text(results)}

**The PyTorch init that does nothing.** d2l's PyTorch concise code calls `weight.data.normal_(0, 0.01)` on a `LazyLinear`, whose weight does not exist yet: the call does nothing and PyTorch's default U(±1/√p) init stays, with E‖w₀‖²/2 = p·(1/(3p))/2 = {fmt(torch_half_sq)}, {fmt(d['torch_over_scratch_init'])} times the scratch init's {fmt(init_half_sq)}. {forum} Without decay the concise run prints {_pm(torch_0, 'l2_penalty', 4)}.

**Init sd 1 (the Chinese edition).** The λ = 0 run cannot forget its init: validation {LOSS} {_pm(zh0, 'val_mse')}; λ = {wd:g} brings it to {_pm(zhw, 'val_mse')}.
"""
    printed = Table(f"What each run prints after training: the book's value(s) and ours (first draw; mean ± sd over "
                    f"{n_rep} {over}).", ["run", "printed quantity", "book printed", "ours, first draw",
                                          "ours, mean ± sd"], printed_rows)
    implied = Table(f"The prior each spelling's knob implies at wd = {wd:g} (bayeswd.implied_prior; σ = the data's "
                    f"noise sd where known), and what its decay does to a weight in the English runs.",
                    ["spelling", "canonical λ", "prior sd τ", "bias prior", "decay factor per step",
                     f"init's null-space part left after {results.implied['scratch']['steps']} steps"],
                    [[IMPLIED_LABELS[k], v["lam"], v["prior_sd"],
                      "flat" if v["bias_family"] != "gaussian" else f"N(0, {fmt(v['bias_prior_sd'])}²)"
                      if v["bias_prior_sd"] else "Gaussian", v["decay_per_step"], v["null_space_survival"]]
                     for k, v in results.implied.items()])
    losses = Table(f"Every run, final epoch ({LOSS} without the penalty). λ and lr are the canonical values each "
                   f"framework's knobs map to.", ["run", "λ", "lr", "bias decayed", "init", f"train {LOSS}",
                                                  f"validation {LOSS}", f"validation {LOSS}, mean ± sd"], loss_rows)
    return section(__name__, results, answer, text, [figure], [printed, implied, losses])


if __name__ == "__main__":
    script_main(__import__(__name__))
