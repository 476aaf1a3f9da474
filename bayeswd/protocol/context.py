"""The inputs of one analysis run: data, seed, settings and whether this is a quick run."""

from __future__ import annotations

import copy
import hashlib
import inspect
import pickle
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from dataclasses import dataclass, field

from bayeswd.data import Dataset

__all__ = ["Context"]

# ctx.once's results in this process: (function, arguments) digest → (value, warnings it raised).
# A few entries: two sections share one computation, not a whole report.
_ONCE: OrderedDict = OrderedDict()
_ONCE_SIZE = 4


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

    def once(self, fn: Callable, *args, **kwargs):
        """``fn(*args, **kwargs)``, computed once per process for equal arguments and copied on every use.

        For a pure, costly computation two sections share (full Bayes's NUTS run): the report runs
        sections that declare the function's name in their ``SHARES`` in the same worker where it can,
        so the second section reuses the first one's result. The warnings ``fn`` raised are raised
        again on every use, so each section reports them as if it had computed.

        Parameters
        ----------
        fn : callable
            A function of its arguments alone (its seed among them).
        *args, **kwargs
            Its arguments; they must pickle.

        Returns
        -------
        A deep copy of ``fn``'s value.
        """
        bound = inspect.signature(fn).bind(*args, **kwargs)
        bound.apply_defaults()   # f(x) and f(x, k=default) are one computation
        key = hashlib.sha256(pickle.dumps((fn.__module__, fn.__qualname__, bound.args, sorted(bound.kwargs.items())),
                                          protocol=5)).hexdigest()
        if key in _ONCE:
            _ONCE.move_to_end(key)
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = fn(*args, **kwargs)
            _ONCE[key] = (value, caught)
            while len(_ONCE) > _ONCE_SIZE:
                _ONCE.popitem(last=False)
        value, caught = _ONCE[key]
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
        return copy.deepcopy(value)

    def shared(self) -> dict:
        """The fields every Results starts with."""
        return {"settings": dict(self.params), "seed": self.seed, "quick": self.quick,
                "data_label": self.data_label, "has_truth": self.has_truth}
