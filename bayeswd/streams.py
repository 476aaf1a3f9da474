"""One random stream per purpose, each spawned from the run's seed.

A run has one seed. Its data are drawn from ``np.random.default_rng(seed)`` (the root stream, so the
built-in d2l data of seed s are the same in every version); every other consumer of randomness (an
init, a sampler's draws, predictive noise, a repeat's data) takes the child stream
``SeedSequence(seed, spawn_key=(label,))`` of its purpose. Children of different labels, and the root,
are independent by construction, so no init or posterior draw can replay the data's numbers. Same seed
→ same numbers still holds: a purpose always gets the same label.

JAX code (the training engine, the MLP) draws from ``jax.random`` keys: another generator entirely, so
its draws cannot coincide with NumPy's.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PURPOSES", "stream", "child_seed"]

# purpose → fixed spawn label. Never renumber: a label is part of what "same seed, same numbers" means.
PURPOSES = {
    "prior_start": 1,        # optimize_draws: each draw's start from the prior
    "target_noise": 2,       # optimize_draws: each draw's perturbed targets
    "init": 3,               # a NumPy-drawn initialization (d2l-zh's normal_(), nn.Linear's uniform)
    "posterior_draws": 4,    # i.i.d. draws from a Gaussian posterior, conjugate draws given (σ, τ)
    "predictive_noise": 5,   # the ε of y* = x·w + b + ε
    "sampler": 6,            # a Markov chain's own randomness (the Gibbs sampler)
    "repeat": 7,             # the seed of each repeat of an experiment (with the repeat's index)
    "simulation": 8,         # a simulation's own synthetic problem (Monte Carlo risk, the 2-D picture)
}


def _sequence(seed: int, purpose: str, index: tuple[int, ...]) -> np.random.SeedSequence:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown random purpose {purpose!r}; choose one of {', '.join(PURPOSES)}")
    return np.random.SeedSequence(int(seed), spawn_key=(PURPOSES[purpose], *map(int, index)))


def stream(seed: int, purpose: str, *index: int) -> np.random.Generator:
    """The NumPy generator of one purpose (and, for repeats, one index), independent of every other.

    Parameters
    ----------
    seed : int
        The run's seed.
    purpose : str
        One of :data:`PURPOSES` (the data, an init, minibatch orders, a sampler, ...).
    *index : int
        Repeat or block indices, each giving its own stream.

    Returns
    -------
    numpy.random.Generator
    """
    return np.random.default_rng(_sequence(seed, purpose, index))


def child_seed(seed: int, purpose: str, *index: int) -> int:
    """An integer seed for an API that takes one (a repeat's data draw, a JAX key), from the purpose's
    own stream: repeat r of seed s never reuses the data or keys of seed s + r.

    Parameters
    ----------
    seed : int
        The run's seed.
    purpose : str
        One of :data:`PURPOSES`.
    *index : int
        Repeat or block indices.

    Returns
    -------
    int
        A non-negative integer below 2³¹.
    """
    return int(_sequence(seed, purpose, index).generate_state(1, np.uint32)[0] >> 1)
