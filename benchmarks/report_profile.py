"""Where the report's time goes: start-up and each section, split into import, trace/compile and compute.

    uv run python benchmarks/report_profile.py                 # --quick and the default, warm and cold
    uv run python benchmarks/report_profile.py --modes quick   # only the quick report

Each (sizes, cache) pair runs in a fresh process, as ``bayeswd report --no-cache`` would:
*warm* uses the JAX compilation cache a previous run left (it runs once first if the folder is
new), *cold* a fresh, empty one. Per section:

- **import**: loading the section's module, in report order (a library an earlier section
  imported costs the later one nothing, as in a real run);
- **compile**: JAX tracing, lowering and XLA compilation (``jax.monitoring`` events) plus
  PyTensor's ``function`` compilation (PyMC's samplers and MAP);
- **compute**: the rest of the section's wall time;
- **render**: its prose, tables and figures (matplotlib), from the Results.

A last row times writing the report (HTML, Markdown, PNG and SVG figures, results.json).

The start-up row is the process's own start and the report's imports before the first section
(Python, bayeswd, the command module). Wall times, one run each; this machine is shared, so
expect ±10–20 % between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import machine  # noqa: E402

_CHILD = r"""
import json, sys, time
t0 = float(sys.argv[1]); quick = sys.argv[2] == "quick"
started = time.time() - t0                     # the interpreter's own start, until this line
mark = time.perf_counter()
import bayeswd
from bayeswd import analyses, commands
from bayeswd.protocol.context import Context
from bayeswd.protocol.settings import resolve
startup = started + time.perf_counter() - mark

compile_s = [0.0]
def _listener(event, duration, **kw):
    if event in ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
                 "/jax/core/compile/backend_compile_duration"):
        compile_s[0] += duration

rows, sections, listening, seed = [], [], False, 0
dataset = bayeswd.d2l_data(seed=seed)
for name in analyses.MODULES:
    a = time.perf_counter()
    module = analyses.load(name)
    imported = time.perf_counter() - a
    if not listening and "jax" in sys.modules:
        import jax.monitoring
        jax.monitoring.register_event_duration_secs_listener(_listener)
        from bayeswd._jax_setup import enable_compilation_cache
        enable_compilation_cache()                 # as the command does (BAYESWD_COMPILE_CACHE names the folder)
        listening = True
    if "pytensor" in sys.modules and not getattr(sys.modules["pytensor"], "_profiled", False):
        import pytensor
        real = pytensor.function
        def timed(*args, _real=real, **kwargs):
            b = time.perf_counter()
            try:
                return _real(*args, **kwargs)
            finally:
                compile_s[0] += time.perf_counter() - b
        pytensor.function, pytensor._profiled = timed, True
    params = resolve(module, quick, None)
    ctx = Context(dataset, seed, quick, params, "built-in d2l data", commands._redraw_d2l, None)
    before = compile_s[0]
    b = time.perf_counter()
    results, _ = commands._compute(module, ctx)
    wall = time.perf_counter() - b
    comp = compile_s[0] - before
    b = time.perf_counter()
    sections.append(commands._render(module, results, wall))
    rows.append({"section": name, "import": imported, "compile": comp, "compute": wall - comp,
                 "render": time.perf_counter() - b})
b = time.perf_counter()
import tempfile
from bayeswd.report.writers import write_report
meta = {"config": {}, "seed": seed, "quick": quick, "data": "built-in d2l data", "versions": commands._versions(),
        "device": commands._device(), "cache": {}, "total_seconds": 0.0,
        "card": analyses.answer_card({s.name: s.numbers for s in sections})}
with tempfile.TemporaryDirectory() as folder:
    write_report(folder, sections, meta)
write = time.perf_counter() - b
print(json.dumps({"startup": startup, "rows": rows, "write": write, "total": time.time() - t0}))
"""


def profile(mode: str, cache: str, cache_dir: Path) -> dict:
    env = {**os.environ, "BAYESWD_COMPILE_CACHE": str(cache_dir), "BAYESWD_PROGRESS": "0"}
    done = subprocess.run([sys.executable, "-c", _CHILD, repr(time.time()), mode], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{mode}/{cache} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(result: dict, title: str) -> str:
    lines = [f"### {title}: {result['total']:.1f} s in all", "",
             "| section | import (s) | trace/compile (s) | compute (s) | render (s) | total (s) |",
             "|---|---|---|---|---|---|",
             f"| start-up (Python, bayeswd, the command) | {result['startup']:.2f} | – | – | – | "
             f"{result['startup']:.2f} |"]
    keys = ("import", "compile", "compute", "render")
    sums = dict.fromkeys(keys, 0.0)
    sums["import"] = result["startup"]
    for row in result["rows"]:
        for key in keys:
            sums[key] += row[key]
        lines.append(f"| {row['section']} | " + " | ".join(f"{row[k]:.2f}" for k in keys)
                     + f" | {sum(row[k] for k in keys):.2f} |")
    lines.append(f"| writing the report | – | – | – | {result['write']:.2f} | {result['write']:.2f} |")
    sums["render"] += result["write"]
    lines.append("| **sum** | " + " | ".join(f"**{sums[k]:.1f}**" for k in keys) + f" | **{sum(sums.values()):.1f}** |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=["quick", "full"], choices=["quick", "full"])
    parser.add_argument("--caches", nargs="+", default=["warm", "cold"], choices=["warm", "cold"])
    parser.add_argument("--json", help="also write the raw numbers to this file")
    args = parser.parse_args()
    print(machine())
    warm_dir = Path(tempfile.gettempdir()) / "bayeswd-profile-compile-cache"
    warm_dir.mkdir(exist_ok=True)
    raw = {}
    for mode in args.modes:
        for cache in args.caches:
            if cache == "warm":
                filled = warm_dir / f".filled-{mode}"
                if not filled.exists():
                    profile(mode, "fill", warm_dir)       # a first run fills the persistent cache
                    filled.touch()
                result = profile(mode, cache, warm_dir)
            else:
                with tempfile.TemporaryDirectory() as fresh:
                    result = profile(mode, cache, Path(fresh))
            raw[f"{mode}/{cache}"] = result
            print()
            sizes = "--quick" if mode == "quick" else "default sizes"
            print(table(result, f"{sizes}, {cache} compilation cache"), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
