"""Gradient descent as a posterior sampler: sample-then-optimize, and the laws of three GD ensembles.

For the linear-Gaussian model y = Xw + b + ε, ε ~ N(0, σ²), w ~ N(0, τ²I), flat b, one draw is:

1. a start from the prior, w₀ ~ N(0, τ²I);
2. targets perturbed by the noise model, ỹ = y + ε̃, ε̃ ~ N(0, σ²I);
3. the minimizer of (1/2n)‖ỹ − Xw − b‖² + (λ/2)‖w − w₀‖², λ = σ²/(nτ²) — decay toward the
   start, not toward 0.

The minimizer is linear in (w₀, ε̃): w = (XcᵀXc + (σ²/τ²)I)⁻¹(Xcᵀỹ + (σ²/τ²)w₀) with Xc the
centred X, whose mean is the posterior mean and whose covariance is σ²(XcᵀXc + (σ²/τ²)I)⁻¹, the
posterior covariance; b = mean(ỹ) − x̄·w is b's posterior given w. So every converged run is an
exact posterior draw ("randomize-then-optimize"/"sample-then-optimize": Papandreou & Yuille 2010;
Bardsley et al. 2014; Osband et al. 2018; Antorán et al. 2023).

The draws are trained by :func:`bayeswd.train` — the PyMC-compiled objective on the row-space fast
path — on the centred design, with v = w − w₀ as the trained weights (decay toward w₀ is decay of v
toward 0, on the targets ỹ − Xc·w₀), all draws as the columns of one multi-output run.

Per direction of the centred design's SVD, Xc = U diag(d) Vᵀ, full-batch GD with step η for T
steps from θ₀, on J with λ and an optional anchor at the start, is the affine map
zⱼ ← Fⱼ·z₀ⱼ + Gⱼ·(uⱼᵀỹ) with hⱼ = dⱼ²/n + λ, mⱼ = 1 − ηhⱼ,
Fⱼ = mⱼᵀ + a·λ(1 − mⱼᵀ)/hⱼ and Gⱼ = (1 − mⱼᵀ)dⱼ/(n·hⱼ) (a = 1 with the anchor; T = ∞ drops mⱼᵀ where
hⱼ > 0). :func:`ensemble_law` gives every ensemble's mean and variance from it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from bayeswd._validate import as_choice, as_penalty, as_positive, as_positive_int
from bayeswd.conventions import lam_from_prior, lasso_alpha_from_laplace_scale
from bayeswd.exceptions import ConvergenceWarning
from bayeswd.gaussian import _design
from bayeswd.streams import stream

__all__ = ["optimize_draws", "OptimizeDraws", "ensemble_law", "EnsembleLaw", "posterior_law", "three_ensembles",
           "ENSEMBLES", "centred"]

TOL = 1e-10          # the contraction of the distance to each draw's minimizer the schedule guarantees


def centred(X, y=None):
    """The centred design's thin SVD without null directions (the row space the fast path trains) — the one
    centred-SVD design of bayeswd (``gaussian._design``), with ``Xc`` = X − x̄ beside it.

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, optional
        Targets (checked beside X).

    Returns
    -------
    Design
    """
    X = np.asarray(X, dtype=np.float64)
    design = _design(X, np.zeros(len(X)) if y is None else y, True)
    return design, X - design.x_mean


@dataclass(frozen=True)
class OptimizeDraws:
    """Draws by optimization: ``w`` (K, p), ``b`` (K,), the λ and step schedule used, and the
    largest bound on any draw's distance to its minimizer, ‖∇J‖/μ (an a-posteriori certificate).

    Attributes
    ----------
    w : ndarray, (K, p)
        The draws' weights.
    b : ndarray, (K,)
        Their intercepts.
    lam : float
        The pull's strength.
    lr : float
        The step used.
    steps : int
        Steps per draw.
    max_distance : float
        The certificate.
    exact : bool
        Whether the draws follow the posterior exactly.
    """

    w: np.ndarray
    b: np.ndarray
    lam: float
    lr: float
    steps: int
    max_distance: float
    exact: bool


def _schedule(dc, lam: float, n: int, tol: float) -> tuple[float, int, float, float]:
    """Step 2/(μ + L) and the steps that contract the distance by ``tol``, μ and L the extreme curvatures
    dⱼ²/n + λ of the row space. The null space never moves (v₀ = 0) and, with centred targets, neither
    does the bias: its gradient is 0 from the start."""
    h = dc.d**2 / n + lam
    mu, L = h.min(), h.max()
    rate = (L - mu) / (L + mu)
    steps = 1 if rate <= 0 else int(math.ceil(math.log(tol) / math.log(rate))) + 1
    return 2.0 / (mu + L), steps, mu, L


def optimize_draws(X, y, prior: str, scale: float, noise_sd: float, n_draws: int, *, seed: int = 0,
                   tol: float = TOL, fast_path: bool | None = None) -> OptimizeDraws:
    """``n_draws`` posterior draws by sample-then-optimize (module docstring), trained by :func:`bayeswd.train`.

    ``prior="gaussian"``: exact (``scale`` = τ, λ = σ²/(nτ²)). ``prior="laplace"``: Laplace(0, s) starts,
    an L1 pull α‖w − w₀‖₁ with α = σ²/(ns) (scikit-learn's Lasso objective), proximal full-batch GD; *not*
    an exact posterior sampler (``exact`` is False), kept to measure how far it is from the Bayesian lasso.

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,)
        Targets.
    prior : {"gaussian", "laplace"}
        The prior family.
    scale : float
        τ or s.
    noise_sd : float
        σ.
    n_draws : int
        Draws K.
    seed : int
        The run's seed.
    tol : float
        The contraction each run must reach.
    fast_path : bool, optional
        Passed to :func:`bayeswd.train`.

    Returns
    -------
    OptimizeDraws
    """
    from bayeswd.data import Dataset
    from bayeswd.training import train

    prior = as_choice(prior, "prior", ("gaussian", "laplace"))
    scale, sigma = as_positive(scale, "scale"), as_positive(noise_sd, "noise_sd")
    K = as_positive_int(n_draws, "draws")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, p = X.shape
    dc, Xc = centred(X)
    starts = stream(seed, "prior_start")
    W0 = (scale * starts.standard_normal((p, K)) if prior == "gaussian"
          else starts.laplace(0.0, scale, (p, K)))
    Y = y[:, None] + sigma * stream(seed, "target_noise").standard_normal((n, K))
    targets = Y - Xc @ W0                           # decay of v = w − w₀ toward 0
    level = targets.mean(axis=0)                       # = mean(ỹ): the intercept at the centred x, exactly
    targets = targets - level                          # centred targets: the trained bias stays at 0
    data = Dataset(Xc, targets, Xc[:1], targets[:1], name="sample-then-optimize")
    if prior == "gaussian":
        lam = lam_from_prior(sigma, scale, n)
        lr, steps, mu, _ = _schedule(dc, lam, n, tol)
        run = train(data, lam, lr=lr, epochs=steps, batch_size=None, init_sd=0.0, shuffle=False,
                    fast_path=fast_path)
    else:
        lam = lasso_alpha_from_laplace_scale(scale, sigma, n)
        L = max(float(dc.d[0] ** 2 / n), 1.0)
        lr, mu = 1.0 / L, 0.0
        steps = 4000
        run = train(data, lam, lr=lr, epochs=steps, batch_size=None, init_sd=0.0, shuffle=False, penalty="l1",
                    l1_method="proximal")
    V = np.asarray(run.w).reshape(p, K)
    B = np.asarray(run.b).reshape(K)          # 0 up to rounding: the centred targets leave the bias alone
    R = targets - Xc @ V - B                         # residuals of each draw's own objective
    if prior == "gaussian":
        grad = np.vstack([-(Xc.T @ R) / n + lam * V, -R.mean(axis=0)[None]])
        max_distance = float(np.linalg.norm(grad, axis=0).max() / min(mu, 1.0))   # the bias's curvature is 1
    else:
        max_distance = float(_lasso_gap(Xc, targets, V, B, lam).max())
    W = W0 + V
    b = level + B - dc.x_mean @ W
    if prior == "gaussian":
        floor = 1.0 / math.sqrt(dc.d[0] ** 2 / sigma**2 + 1.0 / scale**2)    # the smallest posterior sd
        if max_distance > 1e-6 * floor:
            warnings.warn(f"sample-then-optimize stopped {max_distance:.3g} from a minimizer, more than 1e-6 of the "
                          f"smallest posterior sd ({floor:.3g}); lower tol (now {tol:g})", ConvergenceWarning,
                          stacklevel=2)
    return OptimizeDraws(W.T, b, float(lam), float(lr), int(steps), max_distance, prior == "gaussian")


def _lasso_gap(Xc, T, V, B, alpha):
    """Per draw, the duality gap of (1/2n)‖t − Xc·v − b‖² + α‖v‖₁ (the certificate of the L1 pull's optimum)."""
    n = Xc.shape[0]
    R = T - T.mean(axis=0) - Xc @ V
    scale = np.minimum(1.0, n * alpha / np.maximum(np.abs(Xc.T @ R).max(axis=0), 1e-300))
    theta = R * scale
    primal = (R**2).sum(axis=0) / (2 * n) + alpha * np.abs(V).sum(axis=0)
    Tc = T - T.mean(axis=0)
    dual = ((Tc**2).sum(axis=0) - ((Tc - theta) ** 2).sum(axis=0)) / (2 * n)
    return primal - dual


# The three ensembles of the teaching view (and the posterior they are compared with).
ENSEMBLES = {
    "plain GD": "λ = 0 from prior starts, no target noise, to convergence",
    "weight decay": "random starts, decay toward 0, no target noise",
    "sample-then-optimize": "prior starts, noisy targets, decay toward the start, to convergence",
}


@dataclass(frozen=True)
class EnsembleLaw:
    """Mean and variance of an ensemble per direction of the centred design: ``row_mean``/``row_var``
    over the r row-space directions (Vᵀ's rows), ``null_var`` for each of the p − r null directions
    (whose mean is 0), ``b_mean``/``b_var`` for the intercept at the centred x (b + x̄·w).

    Attributes
    ----------
    name : str
        A label.
    row_mean, row_var : ndarray, (r,)
        Mean and variance per row-space direction.
    null_var : float
        Variance per null direction.
    null_dims : int
        p − r.
    b_mean, b_var : float
        The intercept's mean and variance at the centred x.
    """

    name: str
    row_mean: np.ndarray
    row_var: np.ndarray
    null_var: float
    null_dims: int
    b_mean: float
    b_var: float

    @property
    def row_total_var(self) -> float:
        return float(self.row_var.sum())

    @property
    def null_total_var(self) -> float:
        return float(self.null_var * self.null_dims)

    def cov(self, Vt: np.ndarray) -> np.ndarray:
        """The (p, p) covariance of w, given the row-space basis Vt (r, p)."""
        p = Vt.shape[1]
        return Vt.T @ (self.row_var[:, None] * Vt) + self.null_var * (np.eye(p) - Vt.T @ Vt)

    def mean(self, Vt: np.ndarray) -> np.ndarray:
        return Vt.T @ self.row_mean


def ensemble_law(X, y, *, init_sd: float, lam: float, noise_sd: float = 0.0, anchor: bool = False,
                 lr: float | None = None, steps: int | None = None, name: str = "") -> EnsembleLaw:
    """The exact law of full-batch GD on the centred design, from w₀ ~ N(0, init_sd²I), b₀ = 0.

    Objective (1/2n)‖ỹ − Xc·w − b‖² + (λ/2)‖w − a·w₀‖², a = 1 with ``anchor``; ỹ = y + N(0, noise_sd²)
    (``noise_sd=0``: no target noise). ``steps=None`` is the converged limit (λ = 0: the row space
    converges, the null space keeps the start); otherwise ``steps`` steps of size ``lr``.

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,)
        Targets.
    init_sd : float
        The start's sd.
    lam : float
        λ of the objective above.
    noise_sd : float
        The target noise added per member.
    anchor : bool
        Decay toward the start instead of 0.
    lr : float, optional
        The step (with ``steps``).
    steps : int, optional
        Steps; None is the converged limit.
    name : str
        A label.

    Returns
    -------
    EnsembleLaw
    """
    init_sd, lam, noise_sd = as_penalty(init_sd, "init_sd"), as_penalty(lam, "lam"), as_penalty(noise_sd, "noise_sd")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, p = X.shape
    dc, _ = centred(X)
    c = dc.U.T @ (y - y.mean())
    a = 1.0 if anchor else 0.0

    def maps(h, d):
        """F and G of one direction (arrays), converged or after ``steps``."""
        if steps is None:
            mT = np.where(h > 0, 0.0, 1.0)
            gain = np.where(h > 0, 1.0 / np.where(h > 0, h, 1.0), 0.0)        # (1 − mᵀ)/h
        else:
            as_positive_int(steps, "steps")
            m = 1.0 - as_positive(lr, "lr") * h
            mT = m**steps
            gain = np.where(h > 0, (1.0 - mT) / np.where(h > 0, h, 1.0), lr * steps)
        return mT + a * lam * gain, gain * d / n

    F, G = maps(dc.d**2 / n + lam, dc.d)
    F0, _ = maps(np.array([lam]), np.array([0.0]))
    Fb, Gb = maps(np.array([1.0]), np.array([float(n)]))     # the bias: h = 1, driven by mean(ỹ) = 1ᵀỹ/n
    return EnsembleLaw(name, G * c, (F * init_sd) ** 2 + (G * noise_sd) ** 2, float((F0[0] * init_sd) ** 2),
                       p - len(dc.d), float(Gb[0] * y.mean()), float((Gb[0] * noise_sd) ** 2 / n))


def posterior_law(X, y, prior_sd: float, noise_sd: float) -> EnsembleLaw:
    """The conjugate posterior (flat bias) in the same coordinates.

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,)
        Targets.
    prior_sd : float
        τ.
    noise_sd : float
        σ.

    Returns
    -------
    EnsembleLaw
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, p = X.shape
    dc, _ = centred(X)
    c = dc.U.T @ (y - y.mean())
    var = 1.0 / (dc.d**2 / noise_sd**2 + 1.0 / prior_sd**2)
    return EnsembleLaw("posterior", var * dc.d * c / noise_sd**2, var, prior_sd**2, p - len(dc.d),
                       float(y.mean()), noise_sd**2 / n)


def three_ensembles(X, y, prior_sd: float, noise_sd: float, *, init_sd: float | None = None,
                    lam: float | None = None, lr: float | None = None, steps: int | None = None) -> dict:
    """The posterior and the three ensembles of :data:`ENSEMBLES` (weight decay at ``lam``, after ``steps``
    steps of ``lr`` or converged); starts have sd ``init_sd`` (default: the prior sd).

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs.
    y : array_like, (n,)
        Targets.
    prior_sd : float
        τ.
    noise_sd : float
        σ.
    init_sd : float, optional
        The starts' sd.
    lam : float, optional
        Weight decay's λ (default σ²/(nτ²)).
    lr : float, optional
        The step.
    steps : int, optional
        Steps; None is converged.

    Returns
    -------
    dict of str to EnsembleLaw
        ``"posterior"`` and each name of :data:`ENSEMBLES`.
    """
    n = len(y)
    s = prior_sd if init_sd is None else init_sd
    lam_post = lam_from_prior(noise_sd, prior_sd, n)
    return {"posterior": posterior_law(X, y, prior_sd, noise_sd),
            "plain GD": ensemble_law(X, y, init_sd=s, lam=0.0, name="plain GD"),
            "weight decay": ensemble_law(X, y, init_sd=s, lam=lam_post if lam is None else lam, lr=lr, steps=steps,
                                         name="weight decay"),
            "sample-then-optimize": ensemble_law(X, y, init_sd=s, lam=lam_post, noise_sd=noise_sd, anchor=True,
                                                 name="sample-then-optimize")}
