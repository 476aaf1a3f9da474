"""Gradient-descent weight decay in JAX, as a composition of small pieces.

``train(data, lam, ...)`` (:mod:`~bayeswd.training.api`) reads as a few lines composing them:

- :class:`~bayeswd.training.config.TrainConfig` — the validated, frozen configuration;
- :mod:`~bayeswd.training.optimizers` — the update as an optax ``GradientTransformation`` (the
  shorthands ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"`` built in one function, or any
  transformation passed);
- :mod:`~bayeswd.training.step` — the pure ``step(state, batch, lam)`` and one model's epochs;
- :mod:`~bayeswd.training.coordinates` — what is trained: all weights, or the exact row-space path;
- :mod:`~bayeswd.training.program` — the whole sweep as one compiled function;
- :mod:`~bayeswd.training.program_store` — traced sweeps kept on disk, when the command opts in;
- :mod:`~bayeswd.training.executor` — where it runs: local threads, or Dask with an optional Zarr store.

(The package is ``training``, not ``train``: ``bayeswd.train`` is the function, and a subpackage of
that name would replace it on ``bayeswd`` as soon as it was imported.)
"""

from bayeswd.training.api import DIVERGENCE_FACTOR, MAX_SWEEP_BYTES, TrainRun, full_batch_schedule, stability_bound, train
from bayeswd.training.config import INITS, MAX_EPOCHS, TrainConfig
from bayeswd.training.coordinates import METRICS
from bayeswd.training.optimizers import OPTIMIZERS, shorthand
from bayeswd.exceptions import TrainingDiverged

__all__ = ["train", "TrainRun", "TrainConfig", "TrainingDiverged", "stability_bound", "full_batch_schedule",
           "shorthand", "OPTIMIZERS", "INITS", "METRICS", "MAX_EPOCHS", "MAX_SWEEP_BYTES", "DIVERGENCE_FACTOR"]
