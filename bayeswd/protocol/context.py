"""The inputs of one analysis run: data, seed, settings and whether this is a quick run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from dataclasses import dataclass, field

from bayeswd.data import Dataset

__all__ = ["Context"]


@dataclass
class Context:
    """What an analysis's ``compute`` receives.

    ``client`` only says where to compute, never what: Results do not depend on it.
    ``redraw(seed)`` gives the same kind of data drawn again with another seed, for analyses that
    average over data draws; it is None for a user's file, which cannot be redrawn.
    """

    dataset: Dataset
    seed: int = 0
    quick: bool = False
    params: dict = field(default_factory=dict)
    data_label: str = "built-in d2l data"
    redraw: Callable[[int], Dataset] | None = None
    client: Any = None      # a dask.distributed.Client for the large sweeps (``--scheduler``), or None


    @property
    def has_truth(self) -> bool:
        return self.dataset.w_true is not None and self.dataset.noise_sd is not None

    @property
    def noise_sd(self) -> float:
        """The known noise sd, or the empirical-Bayes estimate for a user's data."""
        if self.dataset.noise_sd is not None:
            return float(self.dataset.noise_sd)
        from bayeswd.gaussian import empirical_bayes

        return empirical_bayes(self.dataset.X_train, self.dataset.y_train).noise_sd

    def shared(self) -> dict:
        """The fields every Results starts with."""
        return {"settings": dict(self.params), "seed": self.seed, "quick": self.quick,
                "data_label": self.data_label, "has_truth": self.has_truth}
