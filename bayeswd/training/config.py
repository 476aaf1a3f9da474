"""A validated, frozen training configuration, and the compiled program's shape derived from it.

:class:`TrainConfig` is what one ``train`` call runs besides the data, the λ values, the seeds and
the init sds: checked and normalized once, when made, so nothing downstream re-checks it.
:class:`Spec` adds the data's shapes: it is everything that changes the compiled program (it keys
the cache of programs).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from bayeswd._validate import as_choice, as_flag, as_fraction, as_positive, as_positive_int
from bayeswd.exceptions import BudgetError
from bayeswd.training.optimizers import DECAYS, OPTIMIZERS, is_transformation, keeps_row_space

__all__ = ["TrainConfig", "Spec", "INITS", "L1_METHODS", "MAX_EPOCHS"]

INITS = ("normal", "torch")
L1_METHODS = ("subgradient", "proximal")
# Budget: work past it is refused before it starts, with a message naming the setting.
MAX_EPOCHS = 10**6
DEFAULT_LR = 0.01


@dataclass(frozen=True)
class TrainConfig:
    """How to train: checked when made (a bad value raises ``ValueError`` naming the fix).

    ``optimizer`` is a shorthand (``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"``, at ``lr``
    with β = ``momentum``) or an optax ``GradientTransformation``, which carries its own learning
    rate (``lr`` must then be left unset). ``penalty`` is ``"l2"`` (Gaussian prior, (λ/2)‖w‖²) or
    ``"l1"`` (Laplace prior, λ‖w‖₁), ``decay`` where an L2 penalty acts (``"coupled"``: in J;
    ``"decoupled"``: beside the update), ``l1_method`` how an L1 penalty acts (``"subgradient"``:
    λ·sign(w) in the gradient; ``"proximal"``: a soft-threshold after each plain SGD step).
    ``batch_size=None`` is full batch. ``fast_path``: None (wherever exact), True (required) or False.

    Parameters
    ----------
    lr : float, optional
        The shorthand's step.
    epochs : int
        Passes over the training rows.
    batch_size : int or None
        Minibatch size; None is full batch.
    init : {"normal", "torch"}
        The start's law.
    optimizer : str or optax.GradientTransformation
        A shorthand or a transformation.
    momentum : float
        β of the momentum shorthands.
    decay : {"coupled", "decoupled"}
        Where an L2 penalty acts.
    penalty : {"l2", "l1"}
        The penalty.
    l1_method : {"subgradient", "proximal"}
        How an L1 penalty acts.
    decay_bias : bool
        Whether the bias is penalized.
    shuffle : bool
        Shuffle rows each epoch.
    check_finite : bool
        Detect divergence.
    objective : str or pymc.Model
        ``"pymc"``, ``"reference"`` or a model.
    fast_path : bool, optional
        None, True or False.
    """

    lr: float | None = None
    epochs: int = 10
    batch_size: int | None = 5
    init: str = "normal"
    optimizer: object = "sgd"
    momentum: float = 0.9
    decay: str = "coupled"
    penalty: str = "l2"
    l1_method: str = "subgradient"
    decay_bias: bool = False
    shuffle: bool = True
    check_finite: bool = True
    objective: object = "pymc"     # "pymc", "reference", or a user's pm.Model (train's model=)
    fast_path: bool | None = None

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        transform = is_transformation(self.optimizer)
        if transform:
            if self.lr is not None:
                raise ValueError("lr is part of the optax transformation passed as optimizer; drop lr= (or pass "
                                 "optimizer='sgd' with lr=)")
            if self.decay == "decoupled":
                raise ValueError("decay='decoupled' is a shorthand's option; put the decay in the transformation "
                                 "(optax.adamw(..., weight_decay=) or optax.add_decayed_weights) and keep lam for "
                                 "the penalty in J")
        else:
            if not isinstance(self.optimizer, str) or self.optimizer not in OPTIMIZERS:
                raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {OPTIMIZERS} or pass an "
                                 "optax.GradientTransformation")
            put("lr", as_positive(DEFAULT_LR if self.lr is None else self.lr, "lr"))
        put("epochs", as_positive_int(self.epochs, "epochs"))
        if self.epochs > MAX_EPOCHS:
            raise BudgetError(f"epochs={self.epochs:,} is past the budget of {MAX_EPOCHS:,} epochs per run; use "
                              "fewer epochs")
        if self.batch_size is not None:
            put("batch_size", as_positive_int(self.batch_size, "batch_size"))
        for name in ("shuffle", "decay_bias", "check_finite"):
            put(name, as_flag(getattr(self, name), name))
        put("momentum", float(as_fraction(self.momentum, "momentum")))
        for name, allowed in (("init", INITS), ("decay", DECAYS), ("penalty", ("l1", "l2")),
                              ("l1_method", L1_METHODS)):
            as_choice(getattr(self, name), name, allowed)
        if isinstance(self.objective, str):
            as_choice(self.objective, "objective", ("pymc", "reference"))
        else:       # a user's model (train's model=): its prior is the penalty
            from bayeswd.models import check_model

            check_model(self.objective)
            if self.penalty != "l2" or self.decay != "coupled" or self.decay_bias:
                raise ValueError("with model=, the model's prior is the penalty: leave penalty, decay and "
                                 "decay_bias at their defaults")
            if self.fast_path:
                raise ValueError("the row-space fast path is proven for bayeswd's own J only: with model=, leave "
                                 "fast_path unset")
        if self.penalty == "l1" and self.decay == "decoupled":
            raise ValueError("decoupled decay is an L2 notion; use penalty='l2' or decay='coupled'")
        if self.proximal and self.optimizer != "sgd":
            raise ValueError("the proximal L1 step is defined for plain SGD; use optimizer='sgd'")
        if self.fast_path is not None:
            put("fast_path", as_flag(self.fast_path, "fast_path"))
        if self.fast_path and not self.row_space_exact:
            what = "a passed optax transformation" if transform else (
                f"optimizer={self.optimizer!r}, decay={self.decay!r}, penalty={self.penalty!r}")
            raise ValueError("the row-space fast path is exact only for L2 with sgd, momentum or nesterov "
                             f"(decoupled: sgd or momentum); not for {what}: leave fast_path unset")

    @property
    def prior(self) -> str:
        """The prior family the penalty is: "gaussian" (L2) or "laplace" (L1)."""
        return "laplace" if self.penalty == "l1" else "gaussian"

    @property
    def proximal(self) -> bool:
        return self.penalty == "l1" and self.l1_method == "proximal"

    @property
    def row_space_exact(self) -> bool:
        return isinstance(self.objective, str) and keeps_row_space(self.optimizer, self.decay, self.penalty,
                                                                   self.proximal)

    def describe(self) -> dict:
        """The configuration as plain values (a passed transformation by its type name), for a result's
        ``config`` and a Zarr store's attributes."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if is_transformation(self.optimizer):
            out["optimizer"] = f"optax transformation ({type(self.optimizer).__name__})"
        if not isinstance(self.objective, str):
            out["objective"] = "model (the user's pm.Model)"
        return out


@dataclass(frozen=True)
class Spec:
    """Everything that changes the compiled program's shape or code (hashable: it keys the caches).

    ``p`` is the number of coordinates trained: the inputs, or r + 1 on the row-space path
    (``coordinates="row_space"``). ``optimizer`` is a shorthand's name or the passed transformation.

    Attributes
    ----------
    n, p : int
        Training rows, and coordinates trained.
    k : int or None
        Outputs (None: a vector target).
    batch_size, epochs : int
        Minibatch size and passes.
    optimizer : str or optax.GradientTransformation
        The update.
    decay : str
        Where an L2 penalty acts.
    prior : str
        ``"gaussian"`` or ``"laplace"`` (the penalty's prior).
    proximal : bool
        Whether L1 acts by soft-thresholding.
    decay_bias : bool
        Whether the bias is penalized.
    init : str
        The start's law.
    momentum : float
        β of the momentum shorthands.
    fixed_start : bool
        Whether the start is given.
    shuffle : bool
        Shuffle rows each epoch.
    objective : str or pymc.Model
        Which compiled J.
    coordinates : {"full", "row_space"}
        What is trained.
    """

    n: int
    p: int
    k: int | None
    batch_size: int
    epochs: int
    optimizer: object
    decay: str
    prior: str
    proximal: bool
    decay_bias: bool
    init: str
    momentum: float
    fixed_start: bool
    shuffle: bool
    objective: object       # "pymc", "reference" or the user's pm.Model (hashed by identity)
    coordinates: str = "full"

    @classmethod
    def build(cls, config: TrainConfig, n: int, p: int, k: int | None, fixed_start: bool,
              coordinates: str = "full") -> Spec:
        return cls(n=n, p=p, k=k, batch_size=min(config.batch_size or n, n), epochs=config.epochs,
                   optimizer=config.optimizer, decay=config.decay, prior=config.prior, proximal=config.proximal,
                   decay_bias=config.decay_bias, init=config.init, momentum=config.momentum,
                   fixed_start=fixed_start, shuffle=config.shuffle, objective=config.objective,
                   coordinates=coordinates)
