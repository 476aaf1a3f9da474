"""The update rule as an optax ``GradientTransformation``: the shorthands, built in one function.

``train(..., optimizer="sgd" | "momentum" | "nesterov" | "adam")`` is a shorthand for the chain
:func:`shorthand` builds; any other optax ``GradientTransformation`` can be passed instead
(``train(data, lam, optimizer=optax.adamw(1e-3, weight_decay=1e-4))``). A passed transformation is
opaque: bayeswd cannot prove that its updates stay in the row space of X, so it always runs on
the full path, and its learning rate and any decay are its own.
"""

from __future__ import annotations

from bayeswd import _jax_setup  # noqa: F401  (float64 before this module makes a JAX array)
import optax

__all__ = ["OPTIMIZERS", "DECAYS", "shorthand", "keeps_row_space", "is_transformation"]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")
# "coupled": the penalty is in J, so in the gradient (L2 regularization); "decoupled": w ← w − ηλw
# beside the optimizer's own update (optax ``add_decayed_weights``; AdamW for Adam).
DECAYS = ("coupled", "decoupled")


def is_transformation(optimizer) -> bool:
    """Whether ``optimizer`` is an optax ``GradientTransformation`` (rather than a shorthand's name)."""
    return isinstance(optimizer, optax.GradientTransformation)


def shorthand(name: str, lr, *, momentum: float = 0.9, decay: str = "coupled", lam=0.0,
              decay_bias: bool = False) -> optax.GradientTransformation:
    """The optax chain a shorthand names, at learning rate ``lr``.

    ``"sgd"`` is a plain step, ``"momentum"`` heavy ball (β = ``momentum``), ``"nesterov"`` its
    look-ahead form, ``"adam"`` Adam's scaling. ``decay="decoupled"`` adds λw to the update
    before the step (masked to w, and b when ``decay_bias``): AdamW for Adam, and the same as
    coupled decay for plain SGD. Coupled decay adds nothing here: λ is in J's gradient. ``lr`` and
    ``lam`` may be traced JAX values (a new λ or lr does not recompile).

    Parameters
    ----------
    name : {"sgd", "momentum", "nesterov", "adam"}
        The shorthand.
    lr : float or jax.Array
        The step.
    momentum : float
        β.
    decay : {"coupled", "decoupled"}
        Where an L2 penalty acts.
    lam : float or jax.Array
        λ of J = Σ‖r‖²/(2n) + (λ/2)‖w‖².
    decay_bias : bool
        Whether decoupled decay covers the bias.

    Returns
    -------
    optax.GradientTransformation
    """
    base = {"sgd": optax.identity(), "momentum": optax.trace(decay=momentum),
            "nesterov": optax.trace(decay=momentum, nesterov=True), "adam": optax.scale_by_adam()}[name]
    parts = [base]
    if decay == "decoupled":
        parts.append(optax.masked(optax.add_decayed_weights(lam), {"w": True, "b": decay_bias}))
    parts.append(optax.scale(-lr))
    return optax.chain(*parts)


def keeps_row_space(optimizer, decay: str, penalty: str, proximal: bool) -> bool:
    """Whether every iterate provably stays in span(R) ⊕ span(u) (:mod:`bayeswd.training.coordinates`).

    True for L2 under SGD, momentum or Nesterov with coupled decay, and SGD or momentum with decoupled
    decay: each update is a linear combination of gradients Xᵀr/n and of the iterates. Never for Adam
    (its per-coordinate scaling is not rotation-invariant), L1 (neither |w| nor its proximal map is),
    or a passed transformation, whose updates bayeswd cannot see.

    Parameters
    ----------
    optimizer : str or optax.GradientTransformation
        The update.
    decay : str
        Where an L2 penalty acts.
    penalty : str
        ``"l2"`` or ``"l1"``.
    proximal : bool
        Whether L1 acts by soft-thresholding.

    Returns
    -------
    bool
    """
    if not isinstance(optimizer, str) or penalty != "l2" or proximal:
        return False
    if decay == "coupled":
        return optimizer in ("sgd", "momentum", "nesterov")
    return optimizer in ("sgd", "momentum")   # decoupled: w ← w − η(m + λw), still linear in the iterates
