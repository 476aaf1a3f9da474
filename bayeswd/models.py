"""PyMC linear-regression models: Gaussian prior on w ↔ L2, Laplace prior ↔ L1.

    y = X w + b + N(0, σ²),   w ~ N(0, 1/strength)   or   w ~ Laplace(0, 1/strength)

``X``, ``y``, ``noise_sd`` and the prior ``strength`` (the Gaussian precision 1/τ²,
or the Laplace rate 1/s) are ``pm.Data``, so one compiled graph serves every
minibatch and every λ. In the canonical convention of J,
λ = σ²·strength/n (Gaussian) and α = σ²·strength/n (Laplace). The bias has a
flat prior unless ``decay_bias`` gives it the same prior as w.
"""

from __future__ import annotations

import numpy as np
import pymc as pm

from bayeswd._validate import as_choice
from bayeswd.objective import PRIORS

__all__ = ["PRIORS", "linear_regression"]


def linear_regression(X, y, *, prior: str = "gaussian", strength: float = 1.0, noise_sd: float = 1.0,
                      decay_bias: bool = False, features=None) -> pm.Model:
    """Build the model. ``strength`` = 1/τ² (Gaussian) or 1/s (Laplace); 0 means no prior term.

    ``y`` of shape (n, k) gives k independent outputs sharing σ and the prior. ``features``
    (labels, one per column of X) gives the model the coords ``feature`` (and ``target`` for
    several outputs), so its draws are labelled; the compiled log-density is the same.
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
