"""`bayeswd report` and `bayeswd run`: gather the analyses, compute, render, hand the Sections to the writers.

The top floor with the CLI: it loads the analyses by name from ``bayeswd.analyses`` and
talks to them only through their protocol (NAME, SETTINGS, compute, render); the library
and the report writers below know nothing of either. The CLI imports this module, never
the other way round.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import platform
import sys
import time
import tomllib
import warnings
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

import bayeswd
from bayeswd._interrupts import InterruptFlag
from bayeswd.data import D2L_PROTOCOL
from bayeswd.exceptions import TrainingDiverged, UsageError
from bayeswd.protocol.cache import ResultsCache, code_version
from bayeswd.protocol.context import Context
from bayeswd.output import atomic_directory
from bayeswd.protocol.settings import SEED, Flag, resolve
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
    from bayeswd import analyses

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
    if args.seed is not None:
        return SEED.check(args.seed, "--seed")
    return SEED.check(config.get("seed", 0), "config seed")


def _quick(args, config) -> bool:
    # the config's value is checked whatever the flag says: a typo must not hide behind --quick
    configured = Flag(False).check(config.get("quick", False), "config quick")
    return bool(args.quick) or configured


def _dataset(data_path: str | None, seed: int, target: str | None = None):
    """The dataset, its label, how to redraw it with another seed (None for a file), and a
    fingerprint of its content for the cache key."""
    if data_path is None:
        return bayeswd.d2l_data(seed=seed), "built-in d2l data", _redraw_d2l, "d2l"
    # --target NAME|INDEX: load takes a name, or a numeric text as an index
    dataset = bayeswd.data.load(data_path, target=-1 if target is None else target)
    try:
        digest = hashlib.sha256(Path(data_path).read_bytes()).hexdigest()[:20]
    except OSError as err:
        raise UsageError(f"data file {data_path!r} cannot be read ({err.strerror})") from None
    # a file name is text, never math: '$' would open a formula in the report's Markdown
    name = Path(data_path).name.replace("$", "＄")
    _check_target_varies(dataset, name)
    dataset, note = _scaled_for_gradient_descent(dataset)
    fingerprint = f"{digest}:{target}" if target is not None else digest
    return dataset, f"user data {name}{note}", None, fingerprint


# The learning rate the d2l protocol uses in every section that trains (and λ up to 50 beside it).
_D2L_LR = D2L_PROTOCOL["lr"]


def _check_target_varies(dataset, name: str) -> None:
    y = np.concatenate([np.ravel(dataset.y_train), np.ravel(dataset.y_val)])
    if np.ptp(y) == 0:
        column = dataset.meta.get("target") if isinstance(dataset.meta, dict) else None
        label = f"target column {column!r}" if column else "the target"
        raise UsageError(f"{name}: {label} is constant (every value {y[0]:g}); there is nothing to fit — choose "
                         "another column with --target")


def _scaled_for_gradient_descent(dataset):
    """Standardize a user's inputs when d2l's learning rate would diverge on their raw scale.

    The sections train with lr = 0.01 (d2l's protocol; 0.02 where a framework's loss doubles
    the gradient, λ up to 50); full-batch GD on J is stable for lr < 2/(h_max + λ), h_max the top
    eigenvalue of [X, 1]ᵀ[X, 1]/n. When lr·h_max > 1/2 (columns in the thousands, say) each input
    column is centred and scaled to unit sd with the training rows' statistics, train and
    validation alike. Unit sd is not always enough: a minibatch of B rows has curvature up to the
    largest row norm² R², about p at unit sd, so with many columns the standardized inputs are also
    multiplied by one common factor c with 0.01·c²R² = 1/4, which makes every minibatch step of every
    section stable by the sufficient condition lr·(R² + λ) < 2 (the same run as a step c² times smaller
    on unit-sd inputs). The report's data label says which was done.
    """
    from bayeswd.training import stability_bound

    X = dataset.X_train
    h_max = 2.0 / stability_bound(X)
    if _D2L_LR * h_max <= 0.5:
        return dataset, ""
    mean, sd = X.mean(axis=0), X.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)            # a constant column is only centred
    r2 = float((((X - mean) / sd) ** 2).sum(axis=1).max())
    factor = 1.0 if _D2L_LR * r2 <= 0.25 else float(np.sqrt(0.25 / (_D2L_LR * r2)))
    scale = sd / factor
    scaled = replace(dataset, X_train=(X - mean) / scale, X_val=(dataset.X_val - mean) / scale)
    why = f"at their raw scale the top curvature h_max = {h_max:.3g} makes d2l's lr {_D2L_LR:g} diverge"
    if factor == 1.0:
        return scaled, f" (inputs standardized: {why})"
    return scaled, (f" (inputs standardized, then multiplied by {factor:.3g} so that every minibatch step is "
                    f"stable: {why}, and at unit sd a row's squared norm reaches {r2:.3g})")


def _redraw_d2l(seed: int):
    return bayeswd.d2l_data(seed=seed)


def _versions() -> dict:
    names = ("numpy", "scipy", "jax", "pymc", "pytensor", "arviz", "numpyro", "nutpie", "optax")
    return {"bayeswd": bayeswd.__version__, "python": platform.python_version(), **{n: _version(n) for n in names}}


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:      # an extra left out (numpyro, nutpie)
        return "not installed"


def _device() -> str:
    import jax

    dev = jax.devices()[0]
    return f"{dev.platform}:{dev.device_kind}"


def run_command(args, interrupt: InterruptFlag | None = None) -> int:
    """Run the command with Ctrl-C, SIGTERM and SIGHUP honoured everywhere (see ``InterruptFlag``);
    the CLI passes the flag it raised before its imports."""
    if interrupt is not None:
        return _run(args, interrupt)
    with InterruptFlag() as interrupt:
        return _run(args, interrupt)


@dataclass(frozen=True)
class _Plan:
    """What a run will do, all checked before any computing: the sections, their settings and cache keys."""

    modules: list
    dataset: object
    label: str
    redraw: object
    seed: int
    quick: bool
    params: dict
    keys: dict


def _run(args, interrupt: InterruptFlag) -> int:
    """Plan (every input checked), compute the sections (cached ones reused), then write them."""
    with _ForkServer() as server:
        plan = _plan(args, interrupt, server)
        return _finish(args, plan, interrupt)


def _finish(args, plan: _Plan, interrupt: InterruptFlag) -> int:
    cache = ResultsCache(Path(args.cache_dir).expanduser() if args.cache_dir else None, enabled=not args.no_cache)
    start = time.perf_counter()
    sections, hits = _sections(args, plan, cache, interrupt)
    meta = {"config": {"params": plan.params, "seed": plan.seed, "quick": plan.quick, "data": plan.label},
            "seed": plan.seed, "quick": plan.quick, "data": plan.label, "versions": _versions(), "device": _device(),
            "cache": hits, "total_seconds": time.perf_counter() - start}
    if args.command == "report":
        from bayeswd import analyses

        meta["card"] = analyses.answer_card({s.name: s.numbers for s in sections if "skipped" not in s.numbers})
        meta["appendices"] = list(analyses.APPENDICES)
    if args.command == "run":
        s = sections[0]
        print(f"{s.title}\n{s.question}\n→ {s.answer}\n\n{s.text.strip()}\n\nresults: {json.dumps(s.numbers)}")
    interrupt.check()
    if args.out:
        _write(Path(args.out).expanduser().resolve(), sections, meta)
    return 0


def _plan(args, interrupt: InterruptFlag, server: _ForkServer | None = None) -> _Plan:
    # Everything that can be checked is checked before any computing (the CLI checked --out first).
    from bayeswd import analyses

    config = _load_config(args.config)
    seed, quick = _seed(args, config), _quick(args, config)
    names = list(analyses.MODULES) if args.command == "report" else [args.analysis]
    if not set(names) <= set(analyses.MODULES):
        analyses.load(args.analysis)  # the one-line refusal naming `bayeswd list`
    if getattr(args, "target", None) is not None and not args.data:
        raise UsageError("--target chooses a column of --data; give --data FILE too")
    dataset, label, redraw, fingerprint = _dataset(args.data, seed, getattr(args, "target", None))
    if server is not None and _jobs(args, getattr(args, "scheduler", None), len(names)) > 1:
        server.start(names)   # the workers' imports, on the other core, while this process does its own
    with _loading(_progress_mode(args.quiet), f"{args.command} of {len(names)} section{'s' * (len(names) > 1)} "
                  f"({'quick' if quick else 'full'} sizes); loading the analyses and their libraries"), \
            interrupt.deferred():   # a signal here (even one PyMC or JAX swallowed) ends the run after the imports
        from bayeswd._jax_setup import enable_compilation_cache

        enable_compilation_cache()   # the command opts in to JAX's persistent cache; library calls never do
        modules = [analyses.load(name) for name in names]
    params = {m.NAME: resolve(m, quick, config.get(m.NAME)) for m in modules}  # every setting, before any work
    keys = {m.NAME: {"params": params[m.NAME], "seed": seed, "quick": quick, "data": fingerprint,
                     "code": code_version(m)} for m in modules}
    return _Plan(modules, dataset, label, redraw, seed, quick, params, keys)


def _sections(args, plan: _Plan, cache, interrupt: InterruptFlag) -> tuple[list, dict]:
    """Each section from the cache or computed (in worker processes where several are), in report order."""
    modules, mode = plan.modules, _progress_mode(args.quiet)
    cached = {m.NAME: cache.get(m.NAME, plan.keys[m.NAME], m.Results) for m in modules}
    hits = {name: results is not None for name, results in cached.items()}
    scheduler = getattr(args, "scheduler", None)
    sections, seconds = [], {}
    with _cluster(scheduler) as client, _progress(modules, plan.quick, cache, mode) as progress, \
            _SectionPool(_jobs(args, scheduler, sum(not hit for hit in hits.values())), mode, interrupt) as pool:
        contexts = {m.NAME: Context(plan.dataset, plan.seed, plan.quick, plan.params[m.NAME], plan.label, plan.redraw,
                                    client) for m in modules}
        # longest first, so the last section to start is a short one
        for module in sorted((m for m in modules if not hits[m.NAME]), key=progress.estimate, reverse=True):
            pool.submit(module, contexts[module.NAME], progress.label(module))
        progress.jobs = pool.jobs
        for module in modules:
            progress.begin(module, in_worker=pool.jobs > 1 and not hits[module.NAME])
            results = cached[module.NAME]
            if results is not None:
                progress.cached(module)
                section = _render(module, results, 0.0)
            else:
                try:
                    results, seconds[module.NAME], section = pool.result(module, contexts[module.NAME])
                except UsageError as err:
                    if args.data is None or args.command == "run":
                        raise
                    # your own data: a section that cannot apply says why, and the report goes on
                    sections.append(_skipped(module, err))
                    progress.end(module, skipped=True)
                    continue
                interrupt.check()  # before the cache keeps what an interrupted analysis returned
                cache.put(module.NAME, plan.keys[module.NAME], results)
                progress.remember(module, seconds[module.NAME])
            sections.append(section)
            progress.end(module, seconds.get(module.NAME))
    return sections, hits


def _write(target: Path, sections: list, meta: dict) -> None:
    try:
        with atomic_directory(target) as staging:
            write_report(staging, sections, meta)
    except OSError as err:   # a full disk, a name too long: the staging folder is gone, the old report kept
        from bayeswd.output import OutputError

        raise OutputError(f"could not write the report to {target} ({err.strerror or err}); the previous "
                          "report, if any, was left as it was — free space or give another --out") from None
    print(f"report written to {target}/index.html ({meta['total_seconds']:.0f} s)", file=sys.stderr)


@contextlib.contextmanager
def _cluster(scheduler: str | None):
    """A Dask client for ``--scheduler`` (None without it), connected before any computing."""
    if scheduler is None:
        yield None
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install 'bayeswd[distributed]'") from None
    import os

    if scheduler == "local":
        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout="5s")
    except (OSError, TimeoutError, ValueError) as err:
        raise UsageError(f"--scheduler {scheduler!r}: cannot reach a Dask scheduler there ({err}); give its "
                         "address as tcp://host:port, or 'local'") from None
    with client:
        yield client


def _progress_mode(quiet: bool) -> str:
    """"live" (rich) on a terminal, "lines" elsewhere (CI logs, nohup, a pipe: rich would not refresh
    there), "off" with --quiet or BAYESWD_PROGRESS=0; BAYESWD_PROGRESS=lines forces plain lines."""
    import os

    forced = os.environ.get("BAYESWD_PROGRESS", "").strip().lower()
    if quiet or forced in ("0", "off", "no", "false"):
        return "off"
    if forced == "lines":
        return "lines"
    return "live" if sys.stderr.isatty() else "lines"


@contextlib.contextmanager
def _loading(mode: str, line: str):
    """The first progress line, before seconds of imports: a spinner that vanishes on a terminal (so a bad
    setting found next is still the only line left), a plain line elsewhere."""
    if mode != "live":
        _say(mode, line)
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(line):
        yield


def _say(mode: str, line: str) -> None:
    if mode != "off":
        print(f"bayeswd: {line}", file=sys.stderr, flush=True)


def _compute(module, ctx):
    """Compute an analysis's Results; the warnings it raises are kept with them, never lost."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            results = module.compute(ctx)
        except (ValueError, TrainingDiverged) as err:
            # name the section: the message speaks of the library's argument (lam, lr), not the setting
            raise UsageError(f"[{module.NAME}] {err}") from err
    seconds = time.perf_counter() - start
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught
                       if issubclass(w.category, (UserWarning, RuntimeWarning))
                       and "bayeswd" in (w.filename or "") + str(w.category.__module__)})
    return replace(results, warnings=messages), seconds


def _skipped(module, err) -> "Section":
    """The section of an analysis that could not run on a user's data: its question and why, nothing else."""
    from bayeswd.report.section import Section

    reason = " ".join(str(err).split()).removeprefix(f"[{module.NAME}] ")
    return Section(module.NAME, module.TITLE, module.QUESTION,
                   f"This section could not run on these data: {reason}",
                   {"skipped": reason}, "The rest of the report does not depend on it.")


def _render(module, results, seconds: float):
    """Render from the Results as the cache gives them back, so a cached and a fresh run read the same."""
    results = results.round_trip()
    section = module.render(results)
    text = section.text
    if results.warnings:
        text += "\n\nWarnings raised while computing this section:\n\n" + "\n".join(f"- {m}" for m in results.warnings)
    return replace(section, text=text, seconds=seconds)


class _progress:
    """Which section is running, the elapsed time and an estimate of what is left.

    Estimates come from this machine's previous runs (remembered inside the cache folder) or, the
    first time, from each analysis's TYPICAL_SECONDS measured on a 2-core CPU. ``mode`` (see
    ``_progress_mode``): a rich display on a terminal, one plain line per start and end elsewhere.
    """

    def __init__(self, modules, quick: bool, cache, mode: str):
        self.modules, self.mode = modules, "quick" if quick else "full"
        # inside the cache folder (the user named it, or bayeswd's own): never beside it
        self.file = cache.folder / "timings.json" if cache.enabled else None
        self.remembered = self._load()
        self.display = mode
        self.done = 0
        self.jobs = 1   # worker processes computing sections at once (set by _run)

    def _load(self) -> dict:
        """Remembered section times; a damaged file (not JSON, not a table of finite times) is ignored with a
        warning."""
        if self.file is None or not self.file.exists():
            return {}
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a table")
            bad = [k for k, v in data.items() if isinstance(v, bool) or not isinstance(v, (int, float))
                   or not math.isfinite(v) or v < 0]
            if bad:
                raise ValueError(f"entry {bad[0]!r} is not a finite time")
            return data
        except (OSError, ValueError, UnicodeDecodeError) as err:
            from bayeswd.protocol.cache import CacheWarning

            warnings.warn(f"{self.file} was ignored ({err}); the progress estimates use typical times",
                          CacheWarning, stacklevel=2)
            return {}

    def estimate(self, module) -> float:
        value = self.remembered.get(f"{module.NAME}/{self.mode}")
        if isinstance(value, (int, float)) and value >= 0:
            return float(value)
        return float(getattr(module, "TYPICAL_SECONDS", {}).get(self.mode, 30.0))

    def remember(self, module, seconds: float) -> None:
        self.remembered[f"{module.NAME}/{self.mode}"] = round(seconds, 2)
        if self.file is not None:
            from bayeswd.output import write_text_atomic

            try:
                write_text_atomic(self.file, json.dumps(self.remembered, indent=1, sort_keys=True))
            except OSError:
                pass  # an estimate is a nicety: never a reason to fail

    def __enter__(self):
        self.progress = None
        self.started = self.section_start = time.perf_counter()
        self.from_cache = False
        if self.display == "live":
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(bar_width=20),
                                     TimeElapsedColumn(), TextColumn("{task.fields[left]}"), transient=False)
            self.progress.__enter__()
            total = sum(self.estimate(m) for m in self.modules)
            self.task = self.progress.add_task("starting", total=total, left="")
        return self

    def label(self, module) -> str:
        return f"[{self.modules.index(module) + 1}/{len(self.modules)}] {module.TITLE}"

    def begin(self, module, in_worker: bool = False) -> None:
        """``in_worker``: the section runs in a worker process, which says itself when it starts."""
        self.section_start = time.perf_counter()
        self.from_cache = False
        left = f"about {_duration(sum(self.estimate(m) for m in self.modules[self.done:]) / self.jobs)} left"
        if self.progress is not None:
            self.progress.update(self.task, description=self.label(module), left=left)
        elif not in_worker:
            _say(self.display, f"{self.label(module)}: started ({left})")

    def cached(self, module) -> None:
        self.from_cache = True

    def end(self, module, seconds: float | None = None, skipped: bool = False) -> None:
        """``seconds``: the section's own compute and render time where it ran in a worker process."""
        seconds = time.perf_counter() - self.section_start if seconds is None else seconds
        how = "skipped (see its section)" if skipped else "from the cache" if self.from_cache else "done"
        self.done += 1
        if self.progress is None:
            _say(self.display, f"{self.label(module)}: {how} in {seconds:.1f} s")
        else:
            self.progress.update(self.task, advance=self.estimate(module))

    def __exit__(self, *exc):
        if self.progress is None:
            if exc[0] is None and len(self.modules) > 1:
                _say(self.display, f"{len(self.modules)} sections in {time.perf_counter() - self.started:.0f} s")
            return False
        if exc[0] is None:
            self.progress.update(self.task, completed=self.progress.tasks[0].total,
                                 description=f"{len(self.modules)} sections done", left="")
        return self.progress.__exit__(*exc)


def _jobs(args, scheduler, uncached: int) -> int:
    """How many sections to compute at once: ``--jobs``, else one per core (at most 4: each worker
    holds its own JAX and PyMC); one with --scheduler (Dask spreads the work) or a single section."""
    import os

    if scheduler is not None or uncached <= 1:
        return 1
    wanted = getattr(args, "jobs", None)
    if wanted is None:
        wanted = min(os.cpu_count() or 1, 4)
    return min(wanted, uncached)


def _compute_and_render(module, ctx, label: str = "", mode: str = "off"):
    """One section's Results, seconds (compute and render) and Section: in this process, or in a worker."""
    if label:
        _say(mode, f"{label}: started")
    start = time.perf_counter()
    results, _ = _compute(module, ctx)
    section = _render(module, results, 0.0)
    seconds = time.perf_counter() - start
    return results, seconds, replace(section, seconds=seconds)


def _worker(name: str, ctx, label: str, mode: str):
    from bayeswd import analyses

    return _compute_and_render(analyses.load(name), ctx, label, mode if mode == "lines" else "off")


def _worker_start(environ: dict) -> None:
    # The fork server's environment is the one it started with; a worker reads the command's.
    import os
    import signal

    os.environ.clear()
    os.environ.update(environ)
    # Ctrl-C reaches the whole process group: the parent stops the run and kills the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # born with the parent's mask, which blocked these while it made the workers
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)])
    from bayeswd._jax_setup import enable_compilation_cache

    enable_compilation_cache()   # each section worker shares the command's persistent cache


@contextlib.contextmanager
def _stopping_signals_held():
    """Make child processes inside this block: they are born ignoring SIGINT (an ignored signal survives
    exec, and Python keeps it ignored), so a Ctrl-C while they import prints nothing there, and with
    SIGTERM and SIGHUP blocked (workers unblock them in ``_worker_start``). Here the stopping signals are
    blocked, not lost: one that landed inside a worker's start would leave it half-made, and the run
    could wait forever for a worker that never came. It is delivered on leaving the block."""
    import signal

    stopping = [getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, stopping)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)   # a signal that came meanwhile runs now


# What the sections import only when they run (PyTensor's numba back-end for PyMC's MAP and NUTS, the
# figure back-ends): imported once in the fork server too, instead of once in every worker. An absent
# one is skipped.
_LAZY_IMPORTS = ("numba", "pytensor.link.numba.dispatch", "better_optimize", "dask.array", "matplotlib.figure",
                 "matplotlib.backends.backend_agg", "matplotlib.backends.backend_svg")


class _ForkServer:
    """The section workers' parent: a fresh interpreter that imports every analysis (JAX, PyMC, ArviZ)
    once, before JAX makes any thread, and forks each worker from that state.

    A spawned worker would import them again itself (3–4 s of CPU each, 10 s without byte-compiled
    modules), after the command imported them too; the fork server does it once, on another core, while
    the command loads its own copy.
    A plain fork of the command is not safe: by then it may hold threads (rich's display, JAX's
    runtime). Started by ``start`` when a report will use workers; stopped, and killed if still importing,
    when the command ends, so a later run in the same process never inherits a stale server. Where
    there is no fork server (Windows), the workers are spawned and import for themselves.
    """

    @staticmethod
    def context():
        import multiprocessing

        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        return multiprocessing.get_context(method)

    def __enter__(self):
        self.started = False
        return self

    def start(self, names) -> None:
        from multiprocessing import forkserver

        from bayeswd import analyses

        if self.context().get_start_method() != "forkserver":
            return
        self.context().set_forkserver_preload([f"{analyses.__name__}.{name}" for name in names] + list(_LAZY_IMPORTS))
        with _stopping_signals_held():     # its workers, forked from it, are born in the same state
            forkserver.ensure_running()
            self.started = True

    def __exit__(self, *exc):
        if self.started:
            self.stop()
        return False

    @staticmethod
    def stop() -> None:
        """Stop this process's fork server, if one runs: killed, since it may still be importing and
        nothing of it is needed now."""
        import os
        import signal
        from multiprocessing import forkserver

        server = forkserver._forkserver
        pid = getattr(server, "_forkserver_pid", None)
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server._stop()


class _SectionPool:
    """Sections computed at once in ``jobs`` worker processes (forked by ``_ForkServer``), or in this
    process when ``jobs`` is 1. Every section is a pure function of its Context, so the numbers are the
    same either way.

    Each worker has its own pipe and is sent a section only when idle; nothing (lock, queue, thread) is
    shared with it. So a worker can be killed at any moment, and on any exit other than success every
    worker is. multiprocessing.Pool's terminate() can wait forever (CPython issues 78178, 96995): caught
    once, after a Ctrl-C, with its task thread blocked sending a section's Context (larger than a pipe
    holds) to workers it had just terminated. A worker that dies (out of memory, killed) is an error
    naming its section, not a wait."""

    def __init__(self, jobs: int, mode: str, interrupt: InterruptFlag | None = None, work=None):
        self.jobs, self.mode = jobs, mode
        self.work = _worker if work is None else work   # (name, Context, label, mode) → what result() returns
        self.interrupt = interrupt   # checked while waiting: a signal a library swallowed still stops the run
        self.workers = []            # (process, our end of its pipe)
        self.waiting = []            # (section name, Context, label, its SHARES), not yet sent to a worker
        self.running = {}            # our end of a busy worker's pipe → the section it computes
        self.holds = {}              # our end of a worker's pipe → the SHARES of the sections it was sent
        self.outcomes = {}           # section name → (computed, value or exception, worker's traceback)
        self.submitted = set()

    def __enter__(self):
        if self.jobs > 1:
            import os

            context = _ForkServer.context()
            try:
                with _stopping_signals_held():
                    for _ in range(self.jobs):
                        ours, theirs = context.Pipe()
                        process = context.Process(target=_serve, args=(theirs, dict(os.environ), self.work),
                                                  daemon=True)
                        process.start()
                        theirs.close()
                        self.workers.append((process, ours))
            except BaseException:   # a signal delivered as the block ends: the workers made so far go
                self._stop(graceful=False)
                raise
        return self

    def submit(self, module, ctx, label: str) -> None:
        if self.workers:
            self.waiting.append((module.NAME, ctx, label, frozenset(getattr(module, "SHARES", ()))))
            self.submitted.add(module.NAME)
            self._dispatch()

    def _dispatch(self) -> None:
        for process, conn in self.workers:
            if self.waiting and conn not in self.running:
                name, ctx, label, shares = self.waiting.pop(self._next_for(conn))
                self.running[conn] = name
                self.holds.setdefault(conn, set()).update(shares)
                try:
                    conn.send((name, ctx, label, self.mode))
                except OSError:
                    self._lost(process, name)

    def _next_for(self, conn) -> int:
        """The waiting section an idle worker takes: one sharing a computation (``ctx.once``) it already
        holds, else the first whose shared computations no other worker holds, else the first. A worker
        never idles while sections wait; at worst a shared computation is made twice, as without SHARES."""
        others = set().union(*(held for c, held in self.holds.items() if c is not conn))
        for i, task in enumerate(self.waiting):
            if task[3] & self.holds.get(conn, set()):
                return i
        return next((i for i, task in enumerate(self.waiting) if not task[3] & others), 0)

    def _receive(self, conn) -> None:
        name = self.running.pop(conn)
        try:
            self.outcomes[name] = conn.recv()
        except (EOFError, OSError):
            self._lost(next(p for p, c in self.workers if c is conn), name)
        self._dispatch()

    @staticmethod
    def _lost(process, name: str):
        process.join(1.0)   # for its exit code
        # an OSError: the CLI says it in one line, exit status 1
        raise ChildProcessError(f"the worker process computing section {name!r} stopped before it finished "
                                f"(exit code {process.exitcode}: killed, or out of memory?); rerun with --jobs 1 "
                                "to compute the sections one after another")

    def result(self, module, ctx):
        if module.NAME not in self.submitted:
            return _compute_and_render(module, ctx)
        from multiprocessing.connection import wait

        # A signal only raises the flag here (checked every 0.2 s), never an exception inside a pipe read.
        with self.interrupt.deferred() if self.interrupt is not None else contextlib.nullcontext():
            while module.NAME not in self.outcomes and not (self.interrupt is not None and self.interrupt.seen):
                for conn in wait(list(self.running), timeout=0.2):
                    self._receive(conn)
        computed, value, trace = self.outcomes.pop(module.NAME)
        if not computed:
            value.add_note(f"raised in the worker process computing {module.NAME!r}:\n{trace}")
            raise value
        return value

    def __exit__(self, exc_type, exc, tb):
        self._stop(graceful=exc_type is None and not self.running)
        return False

    def _stop(self, graceful: bool) -> None:
        for process, conn in self.workers:
            if graceful:
                with contextlib.suppress(OSError):
                    conn.send(None)   # no more sections: the worker returns
            else:
                process.kill()        # nothing is shared with it, so nothing is left waiting on it
        for process, conn in self.workers:
            process.join()
            conn.close()
        self.workers, self.running, self.holds = [], {}, {}


def _serve(conn, environ: dict, work) -> None:
    """A section worker: ``work(name, Context, label, mode)`` for each task sent, until None, sending back
    (True, its result, "") or (False, the exception, its traceback)."""
    import pickle
    import traceback

    _worker_start(environ)
    try:
        while (task := conn.recv()) is not None:
            try:
                outcome = (True, work(*task), "")
            except Exception as err:
                outcome = (False, err, traceback.format_exc())
                try:
                    pickle.loads(pickle.dumps(err))
                except Exception:   # an exception that cannot travel is sent as its text
                    outcome = (False, RuntimeError(f"{type(err).__name__}: {err}"), outcome[2])
            conn.send(outcome)
    except (EOFError, BrokenPipeError):   # the command is gone (killed): return quietly, no traceback
        return


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
