"""One objective, many spellings (docs/theory.md §1).

The canonical objective of bayeswd, bias not penalized::

    J(w, b) = (1/2n) Σᵢ (xᵢ·w + b − yᵢ)² + (λ/2) ‖w‖²

n is the number of observations: the row count, or the sum of the weights when rows carry frequency
weights (a weight of 2 counts the row twice), so it need not be an integer. Every function here converts another spelling of the same minimizer into λ
(``lam``) or back. The tests prove each row by solving both objectives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayeswd._validate import as_penalty, as_positive, finite_result

__all__ = [
    "lam_from_prior", "prior_sd_from_lam", "bayes_optimal_lam",
    "sklearn_alpha_from_lam", "lam_from_sklearn_alpha",
    "lasso_alpha_from_laplace_scale", "laplace_scale_from_lasso_alpha",
    "Spelling", "FRAMEWORKS", "from_framework",
]


def lam_from_prior(noise_sd: float, prior_sd: float, n: float) -> float:
    """λ = σ² / (n τ²): the Gaussian prior N(0, τ²) with noise sd σ as a penalty on J.

    Parameters
    ----------
    noise_sd : float
        σ.
    prior_sd : float
        τ.
    n : float
        Training rows (the sum of frequency weights).

    Returns
    -------
    float
        λ in J = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖².
    """
    sigma, tau, n = as_positive(noise_sd, "noise_sd"), as_positive(prior_sd, "prior_sd"), as_positive(n, "n")
    with np.errstate(over="ignore", divide="ignore"):
        lam = float(np.float64(sigma / tau) ** 2 / n)
    return finite_result(lam, f"λ = σ²/(nτ²) for prior_sd={tau!r}", "use a larger prior_sd (or smaller noise_sd)")


def prior_sd_from_lam(lam: float, noise_sd: float, n: float) -> float:
    """τ = σ / √(n λ): the prior sd whose MAP is the minimizer of J at ``lam`` (λ > 0).

    Parameters
    ----------
    lam : float
        λ > 0 in J = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖².
    noise_sd : float
        σ.
    n : float
        Training rows.

    Returns
    -------
    float
        τ.
    """
    sigma, n, lam = as_positive(noise_sd, "noise_sd"), as_positive(n, "n"), as_positive(lam, "lam")
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        tau = float(np.float64(sigma) / np.sqrt(np.float64(n) * lam))
    return _positive_result(tau, f"τ = σ/√(nλ) for lam={lam!r}, n={n!r}", "use a larger lam or n (or another noise_sd)")


def _positive_result(value: float, what: str, fix: str) -> float:
    """A width must come out finite and > 0 (an underflow to 0 is as unusable as an overflow)."""
    finite_result(value, what, fix)
    if not value > 0:
        raise ValueError(f"{what} underflowed to 0 in float64; {fix}")
    return value


def bayes_optimal_lam(noise_sd: float, prior_sd: float, n: float) -> float:
    """λ* = σ²/(n τ²): for a rotation-invariant Gaussian prior the posterior mean,
    which minimizes the expected prediction risk, is the minimizer of J at λ*.

    Parameters
    ----------
    noise_sd : float
        σ.
    prior_sd : float
        τ of the prior the true weights are drawn from.
    n : float
        Training rows.

    Returns
    -------
    float
        λ* (canonical J).
    """
    return lam_from_prior(noise_sd, prior_sd, n)


def sklearn_alpha_from_lam(lam: float, n: float) -> float:
    """scikit-learn ``Ridge(alpha)`` minimizes ‖y − Xw − b‖² + α‖w‖²: α = n λ.

    Parameters
    ----------
    lam : float
        λ in J = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖².
    n : float
        Training rows.

    Returns
    -------
    float
        scikit-learn's ``Ridge`` alpha.
    """
    return n * as_penalty(lam)


def lam_from_sklearn_alpha(alpha: float, n: float) -> float:
    """scikit-learn ``Ridge(alpha)`` as λ of J = (1/2n)‖y − Xw − b‖² + (λ/2)‖w‖²: λ = α/n.

    Parameters
    ----------
    alpha : float
        ``Ridge``'s alpha.
    n : float
        Training rows.

    Returns
    -------
    float
        λ.
    """

    return as_penalty(alpha, "alpha") / n


def lasso_alpha_from_laplace_scale(scale: float, noise_sd: float, n: float) -> float:
    """Laplace prior exp(−|w|/s)/(2s): the MAP minimizes (1/2n)‖y − Xw − b‖² + α‖w‖₁
    (scikit-learn ``Lasso(alpha)``) with α = σ² / (n s).

    Parameters
    ----------
    scale : float
        The Laplace scale s.
    noise_sd : float
        σ.
    n : float
        Training rows.

    Returns
    -------
    float
        α.
    """
    sigma, s, n = as_positive(noise_sd, "noise_sd"), as_positive(scale, "scale"), as_positive(n, "n")
    with np.errstate(over="ignore", divide="ignore"):
        alpha = float(np.float64(sigma) * (sigma / s) / n)
    return finite_result(alpha, f"α = σ²/(ns) for scale={s!r}", "use a larger scale (or smaller noise_sd)")


def laplace_scale_from_lasso_alpha(alpha: float, noise_sd: float, n: float) -> float:
    """s = σ²/(nα): the Laplace scale whose MAP is the lasso at ``alpha`` (α > 0).

    Parameters
    ----------
    alpha : float
        α > 0 of the lasso objective.
    noise_sd : float
        σ.
    n : float
        Training rows.

    Returns
    -------
    float
        s.
    """
    sigma, n, alpha = as_positive(noise_sd, "noise_sd"), as_positive(n, "n"), as_positive(alpha, "alpha")
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        scale = float(np.float64(sigma) * (sigma / (np.float64(n) * alpha)))
    return _positive_result(scale, f"s = σ²/(nα) for alpha={alpha!r}, n={n!r}", "use a larger alpha or n")


@dataclass(frozen=True)
class Spelling:
    """How a framework's weight-decay knob ``wd`` and learning rate map onto J.

    The framework's data loss is ``loss_scale`` × mean(r²/2) (2 for a plain mean of r²),
    averaged over the k outputs too when ``mean_over_outputs``; its decay adds
    ``decay_coef·wd·w`` to the gradient. Its SGD steps are then exactly bayeswd's
    SGD steps on J with ``lam = wd·decay_coef·k'/loss_scale`` and
    ``lr·loss_scale/k'``, where k' = k if ``mean_over_outputs`` else 1.

    Attributes
    ----------
    name : str
        The framework.
    loss : str
        Its loss, as written there.
    loss_scale : float
        Its data loss over mean(r²/2).
    mean_over_outputs : bool
        Whether the loss also averages over outputs.
    decay_coef : float
        The gradient's decay term over ``wd·w``.
    decays_bias : bool
        Whether its default decays the bias.
    note : str
        One line on the spelling.
    """

    name: str
    loss: str
    loss_scale: float
    mean_over_outputs: bool
    decay_coef: float
    decays_bias: bool
    note: str

    def to_canonical(self, wd: float, lr: float, n_targets: int = 1) -> tuple[float, float]:
        k = n_targets if self.mean_over_outputs else 1
        return wd * self.decay_coef * k / self.loss_scale, lr * self.loss_scale / k


FRAMEWORKS: dict[str, Spelling] = {s.name: s for s in (
    Spelling("scratch", "Σ r²/(2n) + (λ/2)‖w‖²", 1.0, False, 1.0, False,
             "d2l's WeightDecayScratch: the canonical objective itself"),
    Spelling("mxnet", "gluon L2Loss = mean(r²/2), Trainer wd", 1.0, True, 1.0, False,
             "d2l sets wd_mult = 0 on the bias"),
    Spelling("pytorch", "MSELoss = mean(r²), SGD weight_decay=wd", 2.0, True, 1.0, False,
             "MSELoss has no ½: its gradient is twice ours, so λ = wd/2 and the step doubles; "
             "d2l puts the bias in a parameter group without decay"),
    Spelling("pytorch-all", "MSELoss = mean(r²), SGD(model.parameters(), weight_decay=wd)", 2.0, True, 1.0, True,
             "the d2l-zh concise run without parameter groups and seed 004 decay the bias too"),
    Spelling("tensorflow", "MeanSquaredError = mean(r²) + l2(wd) = wd·Σw²", 2.0, True, 2.0, False,
             "both terms are twice ours: λ = wd and the step doubles"),
    Spelling("jax-book", "mean(r²/2), optax.add_decayed_weights(wd) on all params", 1.0, True, 1.0, True,
             "the printed JAX chapter decays the bias too"),
    Spelling("jax", "mean(r²/2), optax decay masked to the kernel", 1.0, True, 1.0, False,
             "the revision in seed 000 masks the bias"),
    Spelling("sgd-decoupled", "w ← (1 − ηλ_d)w − η∇L", 1.0, False, 1.0, False,
             "identical to coupled L2 for plain SGD only; not for Adam (AdamW ≠ Adam + L2)"),
)}


def from_framework(framework: str, wd: float, lr: float, n_targets: int = 1) -> tuple[float, float, bool]:
    """Translate a framework's ``(wd, lr)`` into bayeswd's ``(lam, lr, decay_bias)``.

    The returned λ is in the canonical convention J = Σᵢ‖rᵢ‖²/(2n) + (λ/2)‖w‖².

    Parameters
    ----------
    framework : str
        A key of :data:`FRAMEWORKS`.
    wd : float
        The framework's weight-decay value.
    lr : float
        Its learning rate.
    n_targets : int
        Outputs k of the model.

    Returns
    -------
    lam : float
        λ of J.
    lr : float
        The step on J that follows the same path.
    decay_bias : bool
        Whether the framework decays the bias too.
    """
    try:
        spelling = FRAMEWORKS[framework]
    except KeyError:
        raise ValueError(f"unknown framework {framework!r}; choose one of {sorted(FRAMEWORKS)}") from None
    lam, lr = spelling.to_canonical(as_penalty(wd, "wd"), as_positive(lr, "lr"), n_targets)
    return lam, lr, spelling.decays_bias
