"""`bayeswd report` and `bayeswd run`: gather the analyses, run them, hand their Sections to the writers.

The top floor: it knows the analyses and the command line; the library and the
report writers below know nothing of either.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
import tomllib
import warnings
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

import bayeswd
from bayeswd.cli import UsageError
from bayeswd.exceptions import TrainingDiverged
from bayeswd.report.cache import SectionCache, code_version
from bayeswd.report.output import atomic_directory
from bayeswd.report.writers import write_report

def _load_config(path: str | None) -> dict:
    if path is None:
        return {}
    try:
        with open(path, "rb") as handle:
            config = tomllib.load(handle)
    except FileNotFoundError:
        raise UsageError(f"config file {path!r} not found; pass the path of a TOML file") from None
    except IsADirectoryError:
        raise UsageError(f"--config {path!r} is a folder; pass the path of a TOML file") from None
    except OSError as err:
        raise UsageError(f"config file {path!r} cannot be read ({err.strerror}); check its permissions") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UsageError(f"config file {path!r} is not valid TOML ({err}); fix the syntax") from None
    import analyses

    for key, value in config.items():
        if key in ("seed", "quick"):
            continue
        if key not in analyses.MODULES:
            raise UsageError(f"config entry {key!r} is neither seed, quick nor an analysis; use one of "
                             f"{', '.join(analyses.MODULES)}")
        if not isinstance(value, dict):
            raise UsageError(f"config entry {key!r} must be a table like [{key}] with settings under it")
    return config


def _seed(args, config) -> int:
    from analyses._settings import SEED

    if args.seed is not None:
        return SEED.check(args.seed, "--seed")
    return SEED.check(config.get("seed", 0), "config seed")


def _quick(args, config) -> bool:
    from analyses._settings import Flag

    return bool(args.quick) or Flag(False).check(config.get("quick", False), "config quick")


def _dataset(data_path: str | None, seed: int):
    """The dataset, its label for the report, and a fingerprint of its content for the cache key."""
    if data_path is None:
        return bayeswd.d2l_data(seed=seed), "built-in d2l data", "d2l"
    dataset = bayeswd.data.load(data_path)
    try:
        digest = hashlib.sha256(Path(data_path).read_bytes()).hexdigest()[:20]
    except OSError as err:
        raise UsageError(f"data file {data_path!r} cannot be read ({err.strerror})") from None
    return dataset, f"user data {Path(data_path).name}", digest


def _versions() -> dict:
    names = ("numpy", "scipy", "jax", "pymc", "pytensor", "arviz", "numpyro", "nutpie", "optax")
    return {"bayeswd": bayeswd.__version__, "python": platform.python_version(), **{n: version(n) for n in names}}


def _device() -> str:
    import jax

    dev = jax.devices()[0]
    return f"{dev.platform}:{dev.device_kind}"


def run_command(args) -> int:
    """Run the command with Ctrl-C honoured everywhere (see ``_InterruptFlag``)."""
    with _InterruptFlag() as interrupt:
        return _run(args, interrupt)


def _run(args, interrupt: "_InterruptFlag") -> int:
    # Everything that can be checked is checked before any computing (the CLI checked --out first).
    import analyses
    from analyses._common import Context, resolve_params

    config = _load_config(args.config)
    seed, quick = _seed(args, config), _quick(args, config)
    names = list(analyses.MODULES) if args.command == "report" else [args.analysis]
    modules = [analyses.load(name) for name in names]  # unknown names fail here, before any work
    params = {m.NAME: resolve_params(m, quick, config.get(m.NAME)) for m in modules}
    dataset, label, fingerprint = _dataset(args.data, seed)
    cache = SectionCache(Path(args.cache_dir) if args.cache_dir else None, code_version(bayeswd, analyses),
                         enabled=not args.no_cache)
    sections, hits = [], {}
    start = time.perf_counter()
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    show = not args.quiet and (sys.stderr.isatty() or _progress_forced())
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), transient=False, disable=not show) as progress:
        task = progress.add_task("analyses", total=len(modules))
        for module in modules:
            progress.update(task, description=module.NAME)
            key = {"params": params[module.NAME], "seed": seed, "quick": quick, "data": fingerprint}
            section = cache.get(module.NAME, key)
            hits[module.NAME] = section is not None
            if section is None:
                section = _run_one(module, Context(dataset, seed, quick, params[module.NAME], label))
                interrupt.check()  # before the cache keeps what an interrupted analysis returned
                cache.put(module.NAME, key, section)
            sections.append(section)
            progress.advance(task)
    meta = {"config": {"params": params, "seed": seed, "quick": quick, "data": label}, "seed": seed, "quick": quick,
            "data": label, "versions": _versions(), "device": _device(), "cache": hits,
            "total_seconds": time.perf_counter() - start}
    if args.command == "run":
        s = sections[0]
        print(f"{s.title}\n{s.question}\n→ {s.answer}\n\n{s.text.strip()}\n\nnumbers: {json.dumps(s.to_json()['numbers'])}")
    interrupt.check()
    if args.out:
        target = Path(args.out).expanduser().resolve()
        with atomic_directory(target) as staging:
            write_report(staging, sections, meta)
        print(f"report written to {target}/index.html ({meta['total_seconds']:.0f} s)", file=sys.stderr)
    return 0


class _InterruptFlag:
    """Remember Ctrl-C even when a library swallows it: PyMC's find_MAP and pm.sample catch
    KeyboardInterrupt and return early, and an interrupt inside an import can be swallowed too,
    which would let a half-computed report be written. ``check()`` is called after each
    analysis and before writing."""

    def __init__(self):
        self.seen = False

    def check(self) -> None:
        if self.seen:
            raise KeyboardInterrupt

    def _handler(self, signum, frame):
        self.seen = True
        raise KeyboardInterrupt

    def _unraisable(self, info):
        # Ctrl-C landing in a callback Python cannot raise from (JAX's gc hook, say) is already
        # recorded in the flag; other unraisable errors are reported as usual.
        if not isinstance(info.exc_value, KeyboardInterrupt):
            self._previous_hook(info)

    def __enter__(self):
        import signal
        import threading

        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        self._previous_hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        return self

    def __exit__(self, exc_type, exc, tb):
        import signal

        sys.unraisablehook = self._previous_hook
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if self.seen and exc_type is not KeyboardInterrupt:
            # A failure after Ctrl-C (an import it cut short, say) is the interruption's doing.
            raise KeyboardInterrupt from exc
        return False


def _progress_forced() -> bool:
    import os

    return bool(os.environ.get("BAYESWD_PROGRESS"))


def _run_one(module, ctx):
    """Run an analysis; the warnings it raises become part of its section, never lost."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            section = module.run(ctx)
        except (ValueError, TrainingDiverged) as err:
            # name the section: the message speaks of the library's argument (lam, lr), not the setting
            raise UsageError(f"[{module.NAME}] {err}") from err
    seconds = time.perf_counter() - start
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught
                       if issubclass(w.category, (UserWarning, RuntimeWarning))
                       and "bayeswd" in (w.filename or "") + str(w.category.__module__)})
    text = section.text
    if messages:
        text += "\n\nWarnings raised while computing this section:\n\n" + "\n".join(f"- {m}" for m in messages)
    return replace(section, text=text, seconds=seconds, numbers={**section.numbers, "warnings": messages})
