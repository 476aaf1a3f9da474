"""Typed, bounded settings for the analyses: every value is checked with its own name before any work.

An analysis declares ``SETTINGS = {"wd": Real(3.0, low=0, high=1e4), ...}``; its defaults
are derived from it. A value of the wrong type, out of range, NaN or infinite is refused with
a ``ValueError`` naming ``[analysis] key``, the value and the allowed range. Upper bounds
are budgets: they keep one analysis within minutes and within memory on a laptop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Count", "Real", "Flag", "Names", "SEED", "defaults", "resolve"]


@dataclass(frozen=True)
class Count:
    """An integer in [low, high]; ``high`` is the budget."""

    default: int
    low: int = 1
    high: int = 10**6
    help: str = ""
    is_budget: bool = True  # False where ``high`` is a hard limit (a seed's 2³² − 1), not a cost

    def check(self, value, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where} must be a whole number in [{self.low}, {self.high:,}], got {value!r}")
        if not self.low <= value <= self.high:
            budget = (" (the budget: larger runs take too long or too much memory)"
                      if value > self.high and self.is_budget else "")
            raise ValueError(f"{where} = {value:,} is out of range; use a whole number in "
                             f"[{self.low}, {self.high:,}]{budget}")
        return value


@dataclass(frozen=True)
class Real:
    """A finite number in [low, high], or (low, high] with ``positive=True``."""

    default: float
    low: float = 0.0
    high: float = 1e4
    positive: bool = False
    help: str = ""

    def check(self, value, where: str) -> float:
        shown = f"({self.low:g}, {self.high:g}]" if self.positive else f"[{self.low:g}, {self.high:g}]"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where} must be a number in {shown}, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{where} must be a finite number in {shown}, got {value!r}")
        if value < self.low or value > self.high or (self.positive and value <= self.low):
            raise ValueError(f"{where} = {value:g} is out of range; use a number in {shown}")
        return value


@dataclass(frozen=True)
class Flag:
    """A TOML boolean (true / false); strings like "false" are refused, not read as true."""

    default: bool
    help: str = ""

    def check(self, value, where: str) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false (a TOML boolean, no quotes), got {value!r}")
        return value


@dataclass(frozen=True)
class Names:
    """A comma-separated list of names drawn from ``allowed`` (empty allowed when ``low`` is 0)."""

    default: str
    allowed: tuple[str, ...] = ()
    low: int = 0
    help: str = ""

    def check(self, value, where: str) -> str:
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a comma-separated string of {', '.join(self.allowed)}, got {value!r}")
        names = [v.strip() for v in value.split(",") if v.strip()]
        unknown = [v for v in names if v not in self.allowed]
        if unknown:
            raise ValueError(f"{where} has unknown name(s) {', '.join(map(repr, unknown))}; choose from "
                             f"{', '.join(self.allowed)}")
        if len(names) < self.low:
            raise ValueError(f"{where} needs at least {self.low} of {', '.join(self.allowed)}")
        return ",".join(names)


# Seeds: whatever every seeded generator here accepts. A limit, not a cost.
SEED = Count(0, low=0, high=2**32 - 1, is_budget=False)


def defaults(settings: dict) -> dict:
    """The default value of every setting."""
    return {key: spec.default for key, spec in settings.items()}


def resolve(analysis, quick: bool, overrides: dict | None = None) -> dict:
    """An analysis's settings: its defaults, then QUICK when quick, then the user's overrides,
    each checked against its spec (type and range; the error names ``[analysis] key``), then together by
    the analysis's optional ``check_settings(params) -> str | None``."""
    params = defaults(analysis.SETTINGS)
    if quick:
        params.update(getattr(analysis, "QUICK", {}))
    for key, value in (overrides or {}).items():
        if key not in analysis.SETTINGS:
            raise ValueError(f"[{analysis.NAME}] has no setting {key!r}; its settings are {sorted(analysis.SETTINGS)}")
        params[key] = analysis.SETTINGS[key].check(value, f"[{analysis.NAME}] {key}")
    # settings that are fine alone but not together (lr·λ ≥ 2, say), checked before any computing
    problem = getattr(analysis, "check_settings", lambda _: None)(params)
    if problem:
        raise ValueError(f"[{analysis.NAME}] {problem}")
    return params
