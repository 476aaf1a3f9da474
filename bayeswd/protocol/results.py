"""Results: what an analysis computed, as a frozen dataclass that survives a JSON round trip.

An analysis is ``compute(ctx) -> Results`` then ``render(results) -> Section``. Every
sentence, caption and table cell of the Section is built from the Results, so the cache
keeps Results (changing prose or a figure recomputes nothing) and results.json has the
same keys whatever the settings: settings are values, never parts of a key.

Subclasses add fields holding numbers, text, lists, dicts and NumPy arrays. Fields
annotated ``np.ndarray`` come back from JSON as float arrays (null → NaN); floats
come back as floats (null → NaN), and so does a null anywhere inside a ``list`` field (rows of
a table); everything else comes back as JSON gives it.
"""

from __future__ import annotations

import json
import math
import typing
from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["Results", "Derived", "to_plain"]

Derived = typing.NewType("Derived", dict)   # a dict whose nulls come back as NaN


@dataclass(frozen=True)
class Results:
    """The part every analysis shares: the settings it ran with and what it ran on."""

    settings: dict          # every setting's value (defaults, quick sizes and overrides applied)
    seed: int
    quick: bool
    data_label: str         # "built-in d2l data" or "user data NAME"
    has_truth: bool         # whether the data's true weights and noise are known
    warnings: list = field(default_factory=list, kw_only=True)  # raised while computing, kept with the numbers
    # What compute derives from the fields for the prose and the answer card (ratios, differences), so that
    # render only formats and results.json holds every number the report quotes.
    derived: Derived = field(default_factory=dict, kw_only=True)

    def to_json(self) -> dict:
        """Plain JSON values: arrays become lists, NaN and infinities become null."""
        return {f.name: to_plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict):
        """Rebuild from :meth:`to_json` output, checking that the fields are exactly this class's."""
        names = [f.name for f in fields(cls)]
        if not isinstance(data, dict) or set(data) != set(names):
            missing, extra = set(names) - set(data or {}), set(data or {}) - set(names)
            raise ValueError(f"{cls.__name__} needs fields {sorted(names)} (missing {sorted(missing)}, "
                             f"unexpected {sorted(extra)})")
        hints = typing.get_type_hints(cls)
        return cls(**{name: _restore(data[name], hints[name]) for name in names})

    def round_trip(self):
        """The Results as the cache will give them back: what a fresh run renders too, so both agree."""
        return type(self).from_json(json.loads(json.dumps(self.to_json())))


def _restore(value, hint):
    if hint is np.ndarray:
        return np.asarray(_nan_for_null(value), dtype=float)
    if hint is float:
        return math.nan if value is None else float(value)
    if hint is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if hint is list or hint is Derived:
        return _nan_for_null(value)   # tables of rows, derived numbers: a NaN came back as null
    return value


def _nan_for_null(value):
    if isinstance(value, list):
        return [_nan_for_null(v) for v in value]
    if isinstance(value, dict):
        return {k: _nan_for_null(v) for k, v in value.items()}
    return math.nan if value is None else value


def to_plain(value):
    """NumPy scalars and arrays → JSON-ready Python values (NaN/inf → None)."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist())
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if np.isfinite(value) else None
    return value
