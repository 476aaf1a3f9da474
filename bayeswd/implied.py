"""What prior do my training settings imply? ``implied_prior`` and its inverse ``settings_for_prior``.

A training run's converged weights are the minimizer of the objective whose gradient the
optimizer follows. Written in bayeswd's canonical convention (docs/theory.md §1),

    J(w, b) = (1/2n) Σᵢ ‖yᵢ − xᵢ·w − b‖² + (λ/2) ‖w‖²,

and read as a negative log-posterior, λ is the Gaussian prior N(0, τ²) with τ = σ/√(nλ)
(σ the noise sd). This module finds λ for a framework's own spelling of the loss, the
decay and the optimizer, then every other framework's knob for the same λ.

How a spelling maps onto J. One optimizer step adds to the gradient of the per-example
unit ℓᵢ (½‖rᵢ‖² for squared-error losses, the negative log-likelihood for ``"nll"``):

- the data term, whose expected gradient is κ·∇(Σᵢ ℓᵢ/n): κ = 2c/k for a mean over a
  batch of rows and k outputs of c·r², κ = 2c·B for a sum over a batch of B rows;
- the decay, ``coef·wd·w``: coef = 1 for an optimizer's ``weight_decay`` and a (wd/2)‖w‖²
  penalty, 2 for Keras' ``l2(wd)`` (it adds wd·Σw², whose gradient is 2·wd·w).

Their common zero is the minimizer of J with λ = coef·wd/κ, whatever the learning rate
and momentum (coupled decay), and for plain SGD also for decoupled decay
``w ← w − η·wd·w − η·g`` (coef = 1; coef = 1 − μ when the gradient goes through a momentum
buffer μ and the decay does not, as in Keras 3's ``SGD(weight_decay=)``). Under an adaptive optimizer decoupled decay (AdamW)
has no such objective: a converged full-batch run solves min loss s.t. ‖w‖∞ ≤ 1/wd
(Xie & Li, 2024) — a box, not a Gaussian prior.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Mapping

import numpy as np

from bayeswd._validate import (as_choice, as_fraction, as_penalty, as_positive, as_positive_int, as_Xy,
                               finite_result)
from bayeswd.conventions import (lam_from_prior, laplace_scale_from_lasso_alpha, lasso_alpha_from_laplace_scale,
                                 prior_sd_from_lam)

__all__ = ["implied_prior", "settings_for_prior", "ImpliedPrior", "PriorGroup", "FrameworkSettings",
           "FRAMEWORK_SPECS", "LOSSES"]

# loss name → (c, reduction, nll): the per-batch data term is c·r² averaged ("mean") or summed ("sum")
# over the batch; "nll" losses are a negative log-likelihood already (BCE, cross-entropy, Gaussian NLL).
LOSSES = MappingProxyType({
    "mse": (1.0, "mean", False), "half_mse": (0.5, "mean", False),
    "sse": (1.0, "sum", False), "half_sse": (0.5, "sum", False),
    "nll": (1.0, "mean", True), "sum_nll": (1.0, "sum", True),
})


@dataclass(frozen=True)
class FrameworkSpec:
    """One framework's spelling of the loss and the decay (sources in the docstrings of the tests).

    ``l2_coef`` and ``l1_coef``: the gradient its knob adds per unit of knob and weight.
    ``loss``: its usual loss (None where the estimator fixes the objective). ``decays_bias``:
    whether the knob reaches the bias unless the user masks it. ``adamw``: whether it has
    decoupled (learning-rate-coupled) decay under Adam.
    """

    name: str
    l2_knob: str
    l1_knob: str
    l2_coef: float
    l1_coef: float
    loss: str | None
    decays_bias: bool
    optimizers: tuple
    adamw: str = ""


FRAMEWORK_SPECS = MappingProxyType({s.name: s for s in (
    FrameworkSpec("pytorch", "torch.optim.SGD/Adam(weight_decay=wd)", "loss + wd·w.abs().sum()", 1.0, 1.0,
                  "mse", True, ("sgd", "adam", "adamw"), "torch.optim.AdamW(weight_decay=wd)"),
    FrameworkSpec("optax", "optax.chain(optax.add_decayed_weights(wd), optax.sgd/adam(lr))",
                  "loss + wd·jnp.abs(w).sum()", 1.0, 1.0, "half_mse", True, ("sgd", "adam", "adamw"),
                  "optax.adamw(lr, weight_decay=wd)"),
    FrameworkSpec("keras", "kernel_regularizer=keras.regularizers.l2(wd)",
                  "kernel_regularizer=keras.regularizers.l1(wd)", 2.0, 1.0, "mse", False,
                  ("sgd", "adam", "adamw"), "keras.optimizers.AdamW(weight_decay=wd)"),
    FrameworkSpec("mxnet", "gluon.Trainer(..., {'wd': wd})", "loss + wd·Σ|w|", 1.0, 1.0, "half_mse", True,
                  ("sgd", "adam")),
    FrameworkSpec("d2l-scratch", "loss + lambd·l2_penalty(w)", "loss + lambd·Σ|w|", 1.0, 1.0, "half_mse", False,
                  ("sgd",)),
    FrameworkSpec("sklearn", "Ridge(alpha=wd)", "Lasso(alpha=wd)", 2.0, 1.0, None, False, ("closed-form",)),
    FrameworkSpec("glmnet", "glmnet(alpha=0, lambda=wd)", "glmnet(alpha=1, lambda=wd)", 1.0, 1.0, None, False,
                  ("closed-form",)),
)})
_ALIASES = {"torch": "pytorch", "jax": "optax", "tensorflow": "keras", "tf": "keras", "scratch": "d2l-scratch",
            "d2l": "d2l-scratch", "scikit-learn": "sklearn"}
# The estimators' fixed objectives: Ridge ‖r‖² + α‖w‖², Lasso and glmnet (1/2n)‖r‖² + penalty.
_FIXED_LOSS = {("sklearn", "l2"): "sse", ("sklearn", "l1"): "half_mse", ("glmnet", "l2"): "half_mse",
               ("glmnet", "l1"): "half_mse"}


@dataclass(frozen=True)
class PriorGroup:
    """The prior one parameter group's decay implies.

    ``family`` is "gaussian", "laplace", "flat" (not decayed) or "none" (no prior: see ``notes``).
    ``lam`` is the canonical λ of J (for "laplace" the canonical α of (1/2n)‖r‖² + α‖w‖₁).
    ``prior_sd`` (Gaussian) and ``laplace_scale`` need the noise sd (or an "nll" loss);
    ``prior_sd_over_noise_sd`` = 1/√(nλ) needs neither. ``equivalents`` maps each framework to
    its knob for the same prior; ``box_radius`` is AdamW's ‖w‖∞ bound 1/wd.

    Attributes
    ----------
    name : str
        ``"weight"`` or ``"bias"``.
    family : str
        ``"gaussian"``, ``"laplace"``, ``"flat"`` or ``"none"``.
    lam : float or None
        Canonical λ (or α for Laplace).
    prior_sd, laplace_scale : float or None
        The prior's scale.
    prior_sd_over_noise_sd : float or None
        τ/σ = 1/√(nλ).
    prior_precision : float or None
        1/τ².
    equivalents : Mapping
        Each framework's knob for the same prior.
    box_radius : float or None
        AdamW's bound on ‖w‖∞.
    box_binds : bool or None
        Whether that bound can bind.
    notes : tuple of str
        Caveats.
    """

    name: str
    family: str
    lam: float | None = None
    prior_sd: float | None = None
    laplace_scale: float | None = None
    prior_sd_over_noise_sd: float | None = None
    prior_precision: float | None = None
    equivalents: Mapping = field(default_factory=dict)
    box_radius: float | None = None
    box_binds: bool | None = None
    notes: tuple = ()

    @property
    def scale(self) -> float | None:
        """The prior's scale in its own family: ``prior_sd`` or ``laplace_scale``."""
        return self.prior_sd if self.family == "gaussian" else self.laplace_scale


@dataclass(frozen=True)
class ImpliedPrior:
    """What a training setting implies, per parameter group (``groups["weight"]``, ``groups["bias"]``).

    The run's finite-length facts: ``steps`` taken, ``lr_canonical`` (the step on J),
    ``decay_per_step`` (the factor decay alone multiplies a weight by each step),
    ``null_space_survival`` (the share of the init's null-space part left after ``steps``,
    exact for SGD and heavy-ball momentum on a linear model; None under Adam),
    ``early_stopping_lam`` ≈ 1/(η·T) (gradient flow ↔ ridge, Ali et al. 2019),
    ``timescale_steps`` τ_iter = 1/(η·coef·wd) and ``timescale_epochs`` τ_iter·B/N.

    Attributes
    ----------
    settings : Mapping
        The settings as read (framework, optimizer, loss, weight_decay, lr, ...).
    groups : Mapping of str to PriorGroup
        The prior per parameter group.
    noise_sd : float or None
        σ used for the prior's scale.
    noise_sd_source : str
        Where σ came from (given, the loss, unknown).
    steps, steps_per_epoch : int or None
        Steps taken and per epoch.
    lr_canonical : float or None
        The step on J.
    decay_per_step : float or None
        The factor decay alone applies per step.
    null_space_survival : float or None
        The share of the init's null-space part left.
    init_null_sd : float or None
        The sd of that part left, per direction, for a N(0, init_sd²) start.
    early_stopping_lam : float or None
        The λ early stopping alone acts like.
    timescale_steps, timescale_epochs : float or None
        The decay's time constant.
    warnings : tuple of str
        What the reading could not take at face value.
    """

    settings: Mapping
    groups: Mapping
    noise_sd: float | None
    noise_sd_source: str
    steps: int | None
    steps_per_epoch: int | None
    lr_canonical: float | None
    decay_per_step: float | None
    null_space_survival: float | None
    init_null_sd: float | None
    early_stopping_lam: float | None
    timescale_steps: float | None
    timescale_epochs: float | None
    warnings: tuple = ()

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (the groups' equivalents as dicts)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["settings"] = dict(self.settings)
        out["groups"] = {name: {**{f.name: getattr(g, f.name) for f in fields(g)},
                                "equivalents": {k: dict(v) for k, v in g.equivalents.items()},
                                "notes": list(g.notes)} for name, g in self.groups.items()}
        out["warnings"] = list(self.warnings)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __str__(self) -> str:
        return _table(self)


@dataclass(frozen=True)
class FrameworkSettings:
    """The knob that implements a chosen prior in one framework (``settings_for_prior``).

    Attributes
    ----------
    framework, optimizer, loss : str
        The setting's context.
    knob : str
        The argument to set (``weight_decay``, ``wd``, ...).
    weight_decay : float
        Its value.
    lam : float
        The canonical λ it implements.
    lr : float or None
        The learning rate in the framework's units.
    decay_bias : bool
        Whether the bias should be decayed (False).
    notes : tuple of str
        Caveats.
    """

    framework: str
    optimizer: str
    loss: str
    knob: str
    weight_decay: float
    lam: float
    lr: float | None
    decay_bias: bool
    notes: tuple = ()


def _framework(name) -> FrameworkSpec:
    key = _ALIASES.get(str(name).lower(), str(name).lower())
    if key not in FRAMEWORK_SPECS:
        raise ValueError(f"unknown framework {name!r}; choose one of {', '.join(FRAMEWORK_SPECS)}")
    return FRAMEWORK_SPECS[key]


def _loss(spec: FrameworkSpec, loss, penalty: str) -> str:
    fixed = _FIXED_LOSS.get((spec.name, penalty))
    if fixed is not None:
        if loss is not None and loss != fixed:
            raise ValueError(f"{spec.name} fixes its objective (loss {fixed!r}); leave loss unset")
        return fixed
    return as_choice(spec.loss if loss is None else loss, "loss", LOSSES)


def _kappa(loss: str, batch_size: int, n_outputs: int) -> float:
    """κ: the per-step data gradient is κ·∇(Σᵢ ℓᵢ/n) in expectation (see the module docstring)."""
    c, reduction, nll = LOSSES[loss]
    unit = c if nll else 2.0 * c   # squared-error losses: c·r² = 2c·(r²/2)
    return unit / n_outputs if reduction == "mean" else unit * batch_size


def _decay_kind(spec: FrameworkSpec, optimizer: str, decay) -> str:
    default = "decoupled" if optimizer == "adamw" else "coupled"
    kind = as_choice(default if decay is None else decay, "decay", ("coupled", "decoupled"))
    if optimizer == "adamw" and kind == "coupled":
        raise ValueError("adamw's decay is decoupled by definition; use optimizer='adam' for Adam with L2")
    if kind == "decoupled" and spec.name in ("sklearn", "glmnet", "d2l-scratch", "mxnet"):
        raise ValueError(f"{spec.name} has no decoupled decay; use decay='coupled'")
    return kind


def implied_prior(framework: str = "pytorch", optimizer: str = "sgd", weight_decay: float = 0.0, *,
                  n: int, lr: float | None = None, batch_size: int | None = None, epochs: int | None = None,
                  steps: int | None = None, loss: str | None = None, penalty: str = "l2",
                  decay: str | None = None, decay_bias: bool | None = None, noise_sd: float | None = None,
                  data=None, momentum: float = 0.0, init_sd: float | None = None, n_outputs: int = 1,
                  scale_invariant: bool = False) -> ImpliedPrior:
    """The prior that ``framework``'s ``optimizer`` with ``weight_decay`` implies on ``n`` training rows.

    Parameters
    ----------
    framework : str
        "pytorch" (alias "torch"), "optax" ("jax"), "keras" ("tensorflow"), "mxnet",
        "d2l-scratch" ("scratch"), "sklearn" (``Ridge``/``Lasso`` alpha) or "glmnet" (lambda).
    optimizer : str
        "sgd" (with ``momentum``), "adam" (decay added to the gradient: Adam with L2) or
        "adamw" (decoupled decay); "closed-form" for sklearn and glmnet.
    weight_decay : float
        The framework's knob (``weight_decay``, ``l2(wd)``, ``alpha``, ``lambda``).
    n : int
        Training rows.
    lr, batch_size, epochs, steps : optional
        The run (``batch_size`` defaults to n; ``epochs`` or ``steps``).
    loss : str, optional
        "mse" (mean r², PyTorch ``MSELoss``, Keras ``MeanSquaredError``), "half_mse" (mean r²/2,
        ``optax.l2_loss``, d2l's ``squared_loss``), "sse"/"half_sse" (summed over the batch:
        ``reduction='sum'``), "nll"/"sum_nll" (a negative log-likelihood: BCE, cross-entropy;
        no noise sd needed). Defaults to the framework's usual loss.
    penalty : {"l2", "l1"}
        "l2" (Gaussian prior) or "l1" (Laplace prior; the knob multiplies Σ|w| in the loss).
    decay : {"coupled", "decoupled"}, optional
        Added to the gradient, or w ← w − η·wd·w; default by optimizer.
    decay_bias : bool, optional
        Whether the decay reaches the bias; default the framework's (PyTorch and optax
        decay every parameter they are given).
    noise_sd : float, optional
        σ of a squared-error loss; else estimated from ``data``.
    data : tuple or Dataset, optional
        (X, y) or a Dataset to estimate σ from.
    momentum : float
        Heavy-ball momentum (PyTorch/optax form); it moves no fixed point.
    init_sd : float, optional
        The init's sd, to report the null-space part a finite run leaves.
    n_outputs : int
        k targets averaged over by a mean loss.
    scale_invariant : bool
        The weights feed a normalization layer (BatchNorm, LayerNorm).

    Returns
    -------
    ImpliedPrior
        With ``groups["weight"]`` and ``groups["bias"]``. The canonical λ is that of
        J(w, b) = (1/2n)Σ‖rᵢ‖² + (λ/2)‖w‖², and τ = σ/√(nλ).

    Notes
    -----
    Longer than bayeswd's other functions on purpose: its body is the conversion table read top to
    bottom (checks, the loss's reduction κ, λ, σ, then each parameter group and the warnings), and
    every step reads several of the settings before it; the group and finite-run parts are helpers.
    """
    spec = _framework(framework)
    n = as_positive_int(n, "n")
    optimizer = as_choice(str(optimizer).lower(), "optimizer", spec.optimizers)
    penalty = as_choice(penalty, "penalty", ("l2", "l1"))
    wd = as_penalty(weight_decay, "weight_decay")
    loss = _loss(spec, loss, penalty)
    n_outputs = as_positive_int(n_outputs, "n_outputs")
    closed = optimizer == "closed-form"
    batch = n if (batch_size is None or closed) else as_positive_int(batch_size, "batch_size")
    if batch > n:
        raise ValueError(f"batch_size {batch} exceeds n = {n}; use at most n (full batch)")
    kind = "coupled" if closed else _decay_kind(spec, optimizer, decay)
    if penalty == "l1" and kind == "decoupled":
        raise ValueError("decoupled decay is an L2 shrinkage; penalty='l1' needs decay='coupled'")
    momentum = as_fraction(momentum, "momentum")
    if lr is not None:
        lr = as_positive(lr, "lr")
    if epochs is not None and steps is not None:
        raise ValueError("give epochs or steps, not both")
    per_epoch = math.ceil(n / batch)
    total = (as_positive_int(epochs, "epochs") * per_epoch if epochs is not None
             else as_positive_int(steps, "steps") if steps is not None else None)
    if decay_bias is None:
        decay_bias = spec.decays_bias if kind == "coupled" or spec.name != "keras" else True
    decay_bias = bool(decay_bias)
    nll = LOSSES[loss][2]
    kappa = _kappa(loss, batch, n_outputs)
    coef = (spec.l1_coef if penalty == "l1" else spec.l2_coef) if kind == "coupled" else 1.0
    warnings_, notes = [], []
    reduction = LOSSES[loss][1]
    if reduction == "sum" and n % batch:
        kappa = kappa * n / (batch * per_epoch)   # per epoch: every row once, the decay per_epoch times
    if reduction == "mean" and n % batch and batch < n:
        notes.append(f"the last batch has {n % batch} of {batch} rows and weighs its rows more; λ assumes "
                     "equal batches")
    # Decoupled decay outside a momentum buffer (Keras 3's SGD(weight_decay=)): at the fixed point the
    # buffer holds g/(1 − μ), so the decay balances (1 − μ)·wd·w against g.
    lam = coef * wd * (1.0 - momentum if kind == "decoupled" and momentum else 1.0) / kappa
    sigma, source = _noise_sd(noise_sd, data, nll, lam if penalty == "l2" else None)
    adaptive = optimizer in ("adam", "adamw")
    no_prior = (optimizer == "adamw" or (adaptive and kind == "decoupled")) and penalty == "l2"
    settings = dict(framework=spec.name, optimizer=optimizer, weight_decay=wd, n=n, lr=lr, batch_size=batch,
                    epochs=epochs, steps=total, loss=loss, penalty=penalty, decay=kind, decay_bias=decay_bias,
                    noise_sd=noise_sd, momentum=momentum, init_sd=init_sd, n_outputs=n_outputs,
                    scale_invariant=bool(scale_invariant))

    def group(name: str) -> PriorGroup:
        if name == "bias" and not decay_bias:
            return PriorGroup(name, "flat", lam=0.0, notes=("not decayed: a flat (improper) prior on the bias",))
        if wd == 0.0:
            return PriorGroup(name, "flat", lam=0.0, notes=("weight_decay = 0: no penalty, a flat prior",))
        if scale_invariant and name == "weight":
            return PriorGroup(name, "none", notes=(
                "scale-invariant weights (followed by a normalization layer): the loss does not depend on ‖w‖, "
                "so decay only shrinks ‖w‖ and raises the effective learning rate η/‖w‖²; an effective "
                "learning rate, not a prior (van Laarhoven 2017; Zhang et al. 2019)",))
        if no_prior:
            return _adamw_group(name, wd, data, decay_bias, lr, batch, n)
        return _prior_group(name, penalty, lam, sigma, n, nll, adaptive, kind)

    groups = MappingProxyType({g: group(g) for g in ("weight", "bias")})
    if decay_bias and wd > 0:
        warnings_.append("the bias is decayed: a prior centred at 0 on the intercept pulls predictions toward 0; "
                         "exclude it (parameter groups, an optax mask) or centre y")
    if kind == "decoupled" or (adaptive and not closed):
        warnings_.append("the decay is multiplied by the learning rate: a schedule changes the total shrinkage")
    if kind == "decoupled" and not adaptive:
        notes.append("decoupled decay under plain SGD is coupled L2 with the same weight_decay")
    finite = _finite_run(lr, kappa, coef * wd if penalty == "l2" else 0.0, total, per_epoch, momentum, optimizer,
                         kind, init_sd)
    if finite["decay_per_step"] is not None and lr is not None and lr * coef * wd >= 2.0 * (1 + momentum):
        warnings_.append(f"lr·wd = {lr * coef * wd:.3g} ≥ {2 * (1 + momentum):g}: the decay alone makes the step "
                         "unstable; lower lr or weight_decay")
    if notes:
        groups = MappingProxyType({k: (replace(v, notes=v.notes + tuple(notes)) if k == "weight" else v)
                                   for k, v in groups.items()})
    return ImpliedPrior(MappingProxyType(settings), groups, sigma, source, warnings=tuple(warnings_), **finite)


def _noise_sd(noise_sd, data, nll: bool, lam) -> tuple[float | None, str]:
    if nll:
        if noise_sd is not None:
            raise ValueError("an 'nll' loss already holds the likelihood's scale; leave noise_sd unset")
        return None, "nll loss (no noise sd)"
    if noise_sd is not None:
        return as_positive(noise_sd, "noise_sd"), "given"
    if data is None:
        return None, "unknown (give noise_sd or data)"
    X, y, known = _data_arrays(data)
    if known is not None:
        return float(known), "the dataset's known noise sd"
    from bayeswd.ridge import ridge_path

    path = ridge_path(X, y, [lam if lam else 0.0])
    free = X.shape[0] - float(path.dof[0])
    if free < 1.0:
        raise ValueError(f"the fit at λ = {lam:g} leaves {free:.2g} residual degrees of freedom, too few to "
                         "estimate the noise sd; pass noise_sd")
    return float(np.sqrt(path.train_mse[0] * X.shape[0] / free)), "estimated (ridge residual at λ, dof-corrected)"


def _data_arrays(data):
    if hasattr(data, "X_train"):
        return np.asarray(data.X_train, float), np.asarray(data.y_train, float), getattr(data, "noise_sd", None)
    try:
        X, y = data
    except (TypeError, ValueError):
        raise ValueError("data must be a Dataset or an (X, y) pair") from None
    X, y = as_Xy(X, y)
    return X, y, None


def _prior_group(name, penalty, lam, sigma, n, nll, adaptive, kind) -> PriorGroup:
    # σ = 1 for a negative log-likelihood: the likelihood's scale is already in the loss
    noise = 1.0 if nll else sigma
    notes = []
    if adaptive:
        notes.append("Adam with the decay in its gradient (L2): the converged point is this MAP, but Adam's "
                     "per-coordinate scaling changes the path, early stopping and the init's null-space part")
    if penalty == "l1":
        scale = None if noise is None else laplace_scale_from_lasso_alpha(lam, noise, n)
        if scale is None:
            notes.append("give noise_sd (or data) for the Laplace scale s = σ²/(nα)")
        return PriorGroup(name, "laplace", lam=lam, laplace_scale=scale,
                          equivalents=_equivalents("l1", lam, n, None, noise, nll), notes=tuple(notes))
    prior_sd = None if noise is None else prior_sd_from_lam(lam, noise, n)
    if prior_sd is None:
        notes.append("give noise_sd (or data) for τ itself: τ = σ/√(nλ)")
    precision = None
    if prior_sd is not None:
        with np.errstate(over="ignore", divide="ignore"):
            precision = float(np.float64(1.0) / np.float64(prior_sd) ** 2)
        finite_result(precision, "the prior precision 1/τ²", "the noise_sd or weight_decay is too extreme for float64")
    return PriorGroup(name, "gaussian", lam=lam, prior_sd=prior_sd,
                      prior_sd_over_noise_sd=None if nll else prior_sd_from_lam(lam, 1.0, n),
                      prior_precision=precision, equivalents=_equivalents("l2", lam, n, precision, noise, nll),
                      notes=tuple(notes))


def _equivalents(penalty: str, lam: float, n: int, precision, noise, nll: bool) -> dict:
    """Every framework's knob for the canonical λ (or α), with one output and its usual loss, or a
    mean negative log-likelihood where the run's loss is one (scikit-learn and glmnet fit squared error);
    for a Gaussian prior of known ``precision`` 1/τ² also laplace-torch's and IVON's."""
    out = {}
    for spec in FRAMEWORK_SPECS.values():
        loss = "nll" if nll else _FIXED_LOSS.get((spec.name, penalty), spec.loss)
        if nll and spec.loss is None:
            continue
        coef = spec.l1_coef if penalty == "l1" else spec.l2_coef
        knob = spec.l1_knob if penalty == "l1" else spec.l2_knob
        out[spec.name] = MappingProxyType({"knob": knob, "value": lam * _kappa(loss, n, 1) / coef, "loss": loss})
    if penalty == "l2" and precision is not None:
        # laplace-torch: log p(θ|D) = Σ log p(yᵢ|θ) − (δ/2)‖θ‖², so δ = 1/τ² (sigma_noise σ for regression).
        extra = {} if nll else {"sigma_noise": noise}
        out["laplace-torch"] = MappingProxyType({"knob": "Laplace(..., prior_precision=δ)", "value": precision,
                                                 **extra})
        # IVON: prior precision δ = ess·weight_decay, the loss a mean negative log-likelihood; ess = n.
        out["ivon"] = MappingProxyType({"knob": "IVON(ess=n, weight_decay=wd) on the mean NLL",
                                        "value": precision / n, "ess": n})
    return out


def _adamw_group(name, wd, data, decay_bias, lr, batch, n) -> PriorGroup:
    radius = 1.0 / wd
    notes = ["no Gaussian prior: decoupled decay under an adaptive optimizer matches no penalty; a converged "
             f"full-batch run solves min loss subject to ‖w‖∞ ≤ 1/wd = {radius:.4g} (Xie & Li 2024)"]
    binds = None
    if data is not None and name == "weight":
        binds = _box_binds(data, radius, decay_bias)
        notes.append("the box binds on these data: some weights sit at ±1/wd" if binds else
                     "the box does not bind on these data: a converged run is unregularized least squares")
    if lr is not None:
        tau = 1.0 / (lr * wd)
        notes.append(f"timescale τ_iter = 1/(η·wd) = {tau:.4g} steps = {tau * batch / n:.4g} epochs "
                     "(Wang & Aitchison): weights older than that are forgotten")
    same = {k: MappingProxyType({"knob": v, "value": wd}) for k, v in
            (("pytorch", "torch.optim.AdamW(weight_decay=wd)"), ("optax", "optax.adamw(lr, weight_decay=wd)"),
             ("keras", "keras.optimizers.AdamW(weight_decay=wd)"))}
    return PriorGroup(name, "none", box_radius=radius, box_binds=binds, equivalents=same, notes=tuple(notes))


def _box_binds(data, radius: float, decay_bias: bool) -> bool:
    from scipy.optimize import lsq_linear

    X, y, _ = _data_arrays(data)
    if y.ndim != 1:
        raise ValueError("the AdamW box check takes one target column")
    A = np.column_stack([X, np.ones(len(y))])
    hi = np.full(A.shape[1], radius)
    if not decay_bias:
        hi[-1] = np.inf
    fit = lsq_linear(A, y, bounds=(-hi, hi), tol=1e-12, lsmr_tol="auto")
    return bool(np.any(fit.active_mask[:X.shape[1]] != 0))


def _finite_run(lr, kappa, shrink_rate_per_lr, steps, per_epoch, momentum, optimizer, kind, init_sd) -> dict:
    """The facts of a finite run (see ImpliedPrior)."""
    out = dict(steps=steps, steps_per_epoch=per_epoch, lr_canonical=None, decay_per_step=None,
               null_space_survival=None, init_null_sd=None, early_stopping_lam=None, timescale_steps=None,
               timescale_epochs=None)
    if lr is None or optimizer == "closed-form":
        return out
    a = lr * shrink_rate_per_lr     # η·coef·wd: what decay alone takes off a weight per step
    out["lr_canonical"] = lr * kappa if optimizer == "sgd" else None
    out["decay_per_step"] = 1.0 - a
    if a > 0:
        out["timescale_steps"] = 1.0 / a
        out["timescale_epochs"] = 1.0 / a / per_epoch
    if steps is not None and optimizer == "sgd":
        out["null_space_survival"] = _survival(a, momentum if kind == "coupled" else 0.0, steps)
        out["early_stopping_lam"] = 1.0 / (lr * kappa * steps)
        if init_sd is not None:
            out["init_null_sd"] = as_penalty(init_sd, "init_sd") * abs(out["null_space_survival"])
    return out


def _survival(a: float, beta: float, steps: int) -> float:
    """w_T/w_0 on a null-space coordinate, where the data gradient is 0: heavy ball
    buf ← β·buf + a·w/η, w ← w − η·buf, written on (w, η·buf)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if beta == 0.0:
            factor = float(np.float64(1.0 - a) ** steps)
        else:
            M = np.array([[1.0 - a, -beta], [a, beta]])
            factor = float(np.linalg.matrix_power(M, steps)[0, 0])
    return finite_result(factor, "the null-space factor after the run's steps",
                         "the decay step diverges: lower lr or weight_decay (lr·weight_decay must stay below 2)")


def settings_for_prior(prior_sd: float, noise_sd: float | None, n: int, framework: str = "pytorch", *,
                       optimizer: str = "sgd", prior: str = "gaussian", loss: str | None = None,
                       batch_size: int | None = None, n_outputs: int = 1, lr: float | None = None
                       ) -> FrameworkSettings:
    """The weight_decay that implements the prior N(0, ``prior_sd``²) (or Laplace with scale ``prior_sd``).

    The inverse of :func:`implied_prior`: λ = σ²/(nτ²) in J(w, b) = (1/2n)Σ‖rᵢ‖² + (λ/2)‖w‖², then
    the framework's knob for λ. ``noise_sd`` may be None only for an "nll" loss. ``lr``, if given,
    is a step on J and is returned in the framework's units (lr_J/κ), so the run follows the
    same path. The bias should be left out of the decay (``decay_bias`` is False).

    Parameters
    ----------
    prior_sd : float
        τ (or the Laplace scale s).
    noise_sd : float or None
        σ; None only for an "nll" loss.
    n : int
        Training rows.
    framework : str
        A key of :data:`FRAMEWORK_SPECS`.
    optimizer : str
        The framework's optimizer.
    prior : {"gaussian", "laplace"}
        The prior family.
    loss : str, optional
        A key of :data:`LOSSES` (default the framework's MSE).
    batch_size : int, optional
        Minibatch size (None: full batch).
    n_outputs : int
        Outputs k.
    lr : float, optional
        A step on J to translate.

    Returns
    -------
    FrameworkSettings
    """
    spec = _framework(framework)
    optimizer = as_choice(str(optimizer).lower(), "optimizer", spec.optimizers)
    if optimizer == "adamw":
        raise ValueError("AdamW's decoupled decay implies no Gaussian prior at any weight_decay; use "
                         "optimizer='adam' (decay in the gradient) or 'sgd'")
    penalty = {"gaussian": "l2", "laplace": "l1"}.get(prior)
    if penalty is None:
        raise ValueError(f"unknown prior {prior!r}; choose 'gaussian' or 'laplace'")
    n = as_positive_int(n, "n")
    loss = _loss(spec, loss, penalty)
    nll = LOSSES[loss][2]
    if nll:
        if noise_sd is not None:
            raise ValueError("an 'nll' loss already holds the likelihood's scale; pass noise_sd=None")
        noise = 1.0      # the likelihood's scale is already in the loss
    else:
        if noise_sd is None:
            raise ValueError("a squared-error loss needs noise_sd; pass it, or use loss='nll'")
        noise = as_positive(noise_sd, "noise_sd")
    scale = as_positive(prior_sd, "prior_sd")
    lam = (lam_from_prior(noise, scale, n) if penalty == "l2"      # the conversions of bayeswd.conventions
           else lasso_alpha_from_laplace_scale(scale, noise, n))
    batch = n if (batch_size is None or optimizer == "closed-form") else as_positive_int(batch_size, "batch_size")
    kappa = _kappa(loss, batch, as_positive_int(n_outputs, "n_outputs"))
    coef = spec.l1_coef if penalty == "l1" else spec.l2_coef
    wd = lam * kappa / coef
    notes = ["exclude the bias from the decay (parameter groups, an optax mask, Keras' kernel_regularizer)"]
    if optimizer == "adam":
        notes.append("Adam reaches this MAP at convergence; its path differs from SGD's")
    return FrameworkSettings(spec.name, optimizer, loss, spec.l1_knob if penalty == "l1" else spec.l2_knob,
                             wd, lam, None if lr is None else as_positive(lr, "lr") / kappa, False, tuple(notes))


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _table(result: ImpliedPrior) -> str:
    s = result.settings
    lines = [f"{s['framework']} {s['optimizer']}, weight_decay = {s['weight_decay']:g}, loss {s['loss']}, "
             f"n = {s['n']}, batch {s['batch_size']}" + (f", lr = {s['lr']:g}" if s["lr"] else ""),
             f"noise sd σ: {_fmt(result.noise_sd)} ({result.noise_sd_source})", ""]
    for g in result.groups.values():
        lines.append(f"[{g.name}] prior: {g.family}")
        for label, value in (("canonical λ" if g.family != "laplace" else "canonical α", g.lam),
                             ("prior sd τ", g.prior_sd), ("Laplace scale s", g.laplace_scale),
                             ("τ/σ = 1/√(nλ)", g.prior_sd_over_noise_sd), ("box radius 1/wd", g.box_radius)):
            if value is not None and not (g.family == "flat"):
                lines.append(f"  {label:<22} {_fmt(value)}")
        if g.name == "bias" and g.family == result.groups["weight"].family and g.lam == result.groups["weight"].lam:
            lines.append("  the same prior as the weights")
            continue
        for fw, eq in g.equivalents.items():
            extra = "".join(f", {k} = {_fmt(v)}" for k, v in eq.items() if k not in ("knob", "value", "loss"))
            lines.append(f"  {fw:<13} {eq['knob']}: {_fmt(eq['value'])}{extra}")
        lines += [f"  note: {note}" for note in g.notes]
    run = [("steps", result.steps), ("step on J (η·κ)", result.lr_canonical),
           ("decay factor per step", result.decay_per_step), ("init's null-space part left", result.null_space_survival),
           ("its sd left", result.init_null_sd), ("early-stopping λ ≈ 1/(ηT)", result.early_stopping_lam),
           ("decay timescale (steps)", result.timescale_steps), ("… (epochs)", result.timescale_epochs)]
    run = [(k, v) for k, v in run if v is not None]
    if run:
        lines += ["", "[the run]"] + [f"  {k:<30} {_fmt(v)}" for k, v in run]
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)
