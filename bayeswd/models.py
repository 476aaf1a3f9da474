"""PyMC linear-regression models: Gaussian prior on w ↔ L2, Laplace prior ↔ L1.

:func:`regression` is the model for users: every prior proper (the intercept's wide and scaled to the
data), so ``pm.sample_prior_predictive`` and ``pm.model_to_graphviz`` work on it. Change it — another
likelihood, another prior — and hand it back: ``map_estimate``, ``sample_posterior`` and ``train`` take
``model=`` and run on that model's own log-density.

The training engine compiles a private variant, ``_engine_model``: the prior's precision (1/τ², or
the Laplace rate 1/s) is ``pm.Data`` beside ``X``, ``y`` and σ, so one compiled graph serves every
minibatch and every λ (λ = σ²·precision/n), and the bias is flat unless ``decay_bias`` gives it the
prior of w — the objective J has no intercept penalty.
"""

from __future__ import annotations

import numpy as np
import pymc as pm

from bayeswd._validate import as_choice, as_positive
from bayeswd.objective import PRIORS

__all__ = ["PRIORS", "INTERCEPT_WIDTH", "check_model", "regression"]

# The intercept prior's sd, in units of the spread of y: wide enough that 20 rows decide b alone.
INTERCEPT_WIDTH = 10.0


def _engine_model(X, y, *, prior: str = "gaussian", strength: float = 1.0, noise_sd: float = 1.0,
                  decay_bias: bool = False, features=None) -> pm.Model:
    """The engine's model (not public: its bias prior is flat). ``strength`` = 1/τ² (Gaussian) or 1/s
    (Laplace); 0 means no prior term.

    ``y`` of shape (n, k) gives k independent outputs sharing σ and the prior. ``features``
    (labels, one per column of X) gives the model the coords ``feature`` (and ``target`` for
    several outputs), so its draws are labelled; the compiled log-density is the same.

    Parameters
    ----------
    X : array_like, (n, p)
        Inputs (centred by the caller for gradient methods).
    y : array_like, (n,) or (n, k)
        Targets.
    prior : {"gaussian", "laplace"}
        The prior family.
    strength : float
        The prior precision 1/τ² (Gaussian) or 1/s (Laplace), the form the compiled objective takes.
    noise_sd : float
        σ.
    decay_bias : bool
        Whether the prior also covers the bias.
    features : sequence of str, optional
        Feature labels.

    Returns
    -------
    pymc.Model
    """
    as_choice(prior, "prior", PRIORS)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w_shape = (X.shape[1],) + y.shape[1:]
    b_shape = y.shape[1:]
    coords, w_dims, b_dims = None, None, None
    if features is not None:
        coords = {"feature": list(features)} | ({"target": list(range(y.shape[1]))} if y.ndim > 1 else {})
        w_dims, b_dims = ("feature",) + (("target",) if y.ndim > 1 else ()), (("target",) if y.ndim > 1 else None)
    with pm.Model(coords=coords) as model:
        X_data = pm.Data("X", X)
        y_data = pm.Data("y", y)
        strength_data = pm.Data("strength", np.float64(strength))
        noise_data = pm.Data("noise_sd", np.float64(noise_sd))
        w = _prior_rv("w", prior, strength_data, w_shape, w_dims)
        b = (_prior_rv("b", prior, strength_data, b_shape, b_dims) if decay_bias
             else pm.Flat("b", shape=b_shape, dims=b_dims))
        mu = pm.math.dot(X_data, w) + b
        pm.Normal("obs", mu=mu, sigma=noise_data, observed=y_data, shape=mu.shape)
    return model


def _prior_rv(name, prior, strength, shape, dims=None):
    if prior == "gaussian":
        return pm.Normal(name, mu=0.0, tau=strength, shape=shape, dims=dims)
    return pm.Laplace(name, mu=0.0, b=1.0 / strength, shape=shape, dims=dims)


def regression(X, y, *, prior: str = "gaussian", scale: float = 1.0, noise_sd: float = 1.0,
               intercept_sd: float | None = None, features=None) -> pm.Model:
    """The Bayesian linear regression, as a PyMC model a user can read, change and hand back.

    .. code-block:: text

        w_j ~ Normal(0, scale)   or   Laplace(0, scale)       (prior="gaussian" / "laplace")
        b   ~ Normal(ȳ, intercept_sd)
        y   ~ Normal(X w + b, noise_sd)

    Parameters
    ----------
    X : array of shape (n, p)
        The inputs, held as ``pm.Data("X")`` (``pm.set_data`` swaps them).
    y : array of shape (n,)
        The targets, ``pm.Data("y")``.
    prior : {"gaussian", "laplace"}
        The prior family of the weights: the L2 or the L1 penalty.
    scale : float
        The prior's width: the sd τ (Gaussian) or the scale s (Laplace). In the canonical objective
        J = Σr²/(2n) + (λ/2)‖w‖² it is λ = σ²/(nτ²) (Gaussian) or the L1 weight λ = σ²/(ns).
    noise_sd : float
        σ, the sd of the Gaussian noise.
    intercept_sd : float, optional
        The intercept prior's sd; default ``INTERCEPT_WIDTH`` × (the sd of y, or σ when y is
        constant). A proper prior where bayeswd's own computations integrate a flat one out: with
        n rows it moves the answers by about (σ/(√n·intercept_sd))² relative.
    features : sequence of str, optional
        Labels of the columns of X, the coords of ``feature`` (default 0 … p−1).

    Returns
    -------
    pymc.Model
        Free variables ``w`` (dims ``feature``) and ``b``; observed ``obs``. The names ``w``, ``b``,
        ``X`` and ``y`` are what ``model=`` needs to find in a model handed back.

    Examples
    --------
    The same regression with a Student-t likelihood, handed back to bayeswd::

        import pymc as pm, bayeswd
        data = bayeswd.d2l_data()
        model = bayeswd.models.regression(data.X_train, data.y_train, scale=0.05, noise_sd=0.01)
        with pm.Model(coords=model.coords) as robust:
            X, y = pm.Data("X", data.X_train), pm.Data("y", data.y_train)
            w = pm.Normal("w", 0.0, 0.05, dims="feature")
            b = pm.Normal("b", 0.0, 1.0)
            pm.StudentT("obs", nu=4, mu=X @ w + b, sigma=0.01, observed=y)
        bayeswd.map_estimate(data, model=robust)
    """
    as_choice(prior, "prior", PRIORS)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, p) and y (n,); got {X.shape} and {y.shape}")
    scale, noise_sd = as_positive(scale, "scale"), as_positive(noise_sd, "noise_sd")
    if intercept_sd is None:
        spread = float(y.std()) if len(y) > 1 and y.std() > 0 else noise_sd
        intercept_sd = INTERCEPT_WIDTH * spread
    intercept_sd = as_positive(intercept_sd, "intercept_sd")
    labels = list(features) if features is not None else list(range(X.shape[1]))
    with pm.Model(coords={"feature": labels}) as model:
        X_data = pm.Data("X", X)
        y_data = pm.Data("y", y)
        if prior == "gaussian":
            w = pm.Normal("w", mu=0.0, sigma=scale, dims="feature")
        else:
            w = pm.Laplace("w", mu=0.0, b=scale, dims="feature")
        b = pm.Normal("b", mu=float(y.mean()), sigma=intercept_sd)
        pm.Normal("obs", mu=pm.math.dot(X_data, w) + b, sigma=noise_sd, observed=y_data, shape=X_data.shape[0])
    return model


def check_model(model, num_inputs: int | None = None):
    """What ``model=`` needs of a model handed back, each missing piece one clear line: a ``pm.Model``
    with free variables ``w`` (length ``num_inputs``) and ``b`` on the whole real line, nothing else
    free, and its data as ``pm.Data("X")`` and ``pm.Data("y")``. Returns the model.

    Parameters
    ----------
    model : pymc.Model
        The model to check.
    num_inputs : int, optional
        The feature count p ``w`` must have.

    Returns
    -------
    pymc.Model
        ``model`` itself; a missing piece raises ``ValueError``.
    """
    if not isinstance(model, pm.Model):
        raise ValueError(f"model must be a pymc.Model (build one with bayeswd.models.regression), got "
                         f"{type(model).__name__}")
    free = sorted(rv.name for rv in model.free_RVs)
    if free != ["b", "w"]:
        raise ValueError(f"model= needs exactly the free variables 'w' and 'b'; this model has {free}: fix the "
                         "others at numbers (nu=4, sigma=0.01) or use pm.sample on it directly")
    for name in ("w", "b"):
        if model.rvs_to_transforms.get(model[name]) is not None:
            raise ValueError(f"model= needs '{name}' on the whole real line; its prior is bounded (a "
                             "transformed variable): use an unbounded prior such as Normal, Laplace or StudentT")
    for name in ("X", "y"):
        if name not in model.named_vars or model[name] not in model.data_vars:
            raise ValueError(f"model= needs its {'inputs' if name == 'X' else 'targets'} as pm.Data({name!r}, ...) "
                             "so bayeswd can feed it rows")
    if not model.observed_RVs:
        raise ValueError("model= needs an observed variable (the likelihood of y)")
    if num_inputs is not None:
        p = model.initial_point()["w"].shape[0]
        if p != num_inputs:
            raise ValueError(f"the model's w has {p} entries but the dataset has {num_inputs} inputs: build the "
                             "model on the dataset's X_train")
    return model
