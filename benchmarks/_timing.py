"""Shared timing helpers for the ratio benchmarks."""

from __future__ import annotations

import platform
import time
from importlib.metadata import version


def best_of(fn, repeat: int = 5, number: int = 1) -> float:
    """Best wall time of ``fn()`` in seconds over ``repeat`` rounds of ``number`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def machine() -> str:
    import os

    names = ("numpy", "scipy", "scikit-learn", "jax", "pymc", "pytensor")
    libs = ", ".join(f"{n} {version(n)}" for n in names)
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; {libs}"
