import os
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import bayeswd

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


# JAX's persistent compilation cache, for every process of the session (this one, spawned workers, scripts,
# notebook kernels and CLI runs alike), in the folder the command itself would use below XDG_CACHE_HOME: a
# program one test compiled is read back by the next instead of compiled again. It changes no number.
_JAX_CACHE_ENV = {"JAX_COMPILATION_CACHE_DIR": None, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
                  "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Keep the suite's cache (and lock files) out of the user's cache folder; share one JAX compilation
    cache there."""
    folder = tmp_path_factory.mktemp("xdg-cache")
    names = ["XDG_CACHE_HOME", *_JAX_CACHE_ENV]
    previous = {name: os.environ.get(name) for name in names}
    os.environ["XDG_CACHE_HOME"] = str(folder)
    os.environ.update({k: v or str(folder / "bayeswd" / "jax") for k, v in _JAX_CACHE_ENV.items()})
    import jax

    jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    yield folder
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def _program_store_as_found():
    """A command run in this process turns on the store of traced sweeps: put the setting back after each
    test, so that one test's command does not change what the next one traces."""
    from bayeswd import _jax_setup

    found = _jax_setup._PROGRAMS
    yield
    _jax_setup._PROGRAMS = found


def previous_report(folder, text="previous report"):
    """A report folder as bayeswd leaves it (with its manifest), holding index.html = ``text``."""
    from bayeswd.output import atomic_directory

    with atomic_directory(folder) as staging:
        (staging / "index.html").write_text(text)
    return folder


def compute_at_once(jobs: dict, processes: int = 2) -> dict:
    """{key: (analysis name, Context)} → {key: Results}, computed in ``processes`` spawned workers (every
    analysis is a pure function of its Context, so this equals computing them one after another here).
    Warnings are not errors there: the callers ignore them, as the sections do at these sizes."""
    import multiprocessing

    from bayeswd import analyses

    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pending = {key: pool.apply_async(analyses.compute, job) for key, job in jobs.items()}
        return {key: result.get() for key, result in pending.items()}


@pytest.fixture(scope="session")
def d2l():
    return bayeswd.d2l_data()


def svd_problem(n, p, k=None, seed=0, rank=None):
    """X built from a chosen SVD, so that the exact ridge solution is known in closed form."""
    rng = np.random.default_rng(seed)
    r = min(n, p) if rank is None else rank
    U, _ = np.linalg.qr(rng.standard_normal((n, r)))
    V, _ = np.linalg.qr(rng.standard_normal((p, r)))
    d = np.linspace(3.0, 0.5, r)
    X = (U * d) @ V.T
    y = rng.standard_normal(n) if k is None else rng.standard_normal((n, k))
    return X, y, U, d, V


def pytest_addoption(parser):
    parser.addoption("--full-stats", action="store_true",
                     help="run the statistical checks at the sizes the issues name (slower)")


@pytest.fixture(scope="session")
def full_stats(request):
    """Long statistical checks run small by default and full with --full-stats or BAYESWD_FULL_STATS=1."""
    return bool(request.config.getoption("--full-stats") or os.environ.get("BAYESWD_FULL_STATS"))


_PROGRESS = __import__("re").compile(r"bayeswd: (\[\d+/\d+\] |(report|run) of \d+ section|\d+ sections in )")


def without_progress(err: str) -> str:
    """stderr without bayeswd's progress lines (off a terminal each section start and end is a plain line,
    the first before the imports), so the one-line rule is checked on what is left."""
    return "\n".join(line for line in err.strip().splitlines() if not _PROGRESS.match(line))


def communicate_or_kill(proc, seconds: float) -> tuple[str, str]:
    """``proc.communicate`` within ``seconds``; past them the child is killed (so no test inherits it) and
    TimeoutExpired is raised."""
    import subprocess

    try:
        return proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise


def line_within(stream, pattern: str, seconds: float) -> tuple[str, float]:
    """The first line of a child's stderr containing ``pattern``, read until ``seconds`` have passed."""
    import selectors

    start, buffer = time.perf_counter(), ""
    with selectors.DefaultSelector() as sel:
        sel.register(stream, selectors.EVENT_READ)
        while time.perf_counter() - start < seconds:
            if sel.select(timeout=0.1):
                line = stream.readline()
                if not line:
                    break
                buffer += line
                if pattern in line:
                    return line, time.perf_counter() - start
    raise AssertionError(f"no line with {pattern!r} within {seconds} s; stderr so far: {buffer!r}")
