"""Reliability, round three (the parts landed so far): nothing written outside what the user named,
every signal ends a run the same way, settings checked whatever else is given, user names are text,
and empirical Bayes answers at the boundary instead of NaN."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import communicate_or_kill, line_within, previous_report, without_progress

import bayeswd
from bayeswd.cli import main
from bayeswd.output import atomic_directory

CHEAP = ["run", "theory_vs_experiment", "--quick", "--quiet"]   # the cheapest analysis (under a second)


def _run(argv, capsys):
    status = main(argv)
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    if status == 2:
        err = without_progress(err)
        assert len(err.splitlines()) == 1 and err.startswith("bayeswd: error:"), err
    return status, err


def _tree(root: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in root.rglob("*")}


def test_a_run_writes_only_inside_out_and_cache_dir(tmp_path, capsys, monkeypatch):
    """Every path a run creates or modifies lies inside --out or --cache-dir (the user's own files beside
    them are untouched; the lock lives in the user cache folder, XDG_CACHE_HOME here)."""
    project = tmp_path / "myproject"
    project.mkdir()
    mine = project / "timings.json"
    mine.write_text('{"mine": true}')
    monkeypatch.chdir(tmp_path)
    xdg = Path(os.environ["XDG_CACHE_HOME"])
    before, xdg_before = _tree(tmp_path), _tree(xdg)
    status, _ = _run([*CHEAP, "--cache-dir", str(project / "bwcache"), "--out", str(tmp_path / "out")], capsys)
    assert status == 0
    after = _tree(tmp_path)
    changed = [p for p in after if before.get(p) != after[p]]
    allowed = (project / "bwcache", tmp_path / "out")
    # a folder that gained one of the allowed folders changes its own mtime: that is not a write into it
    inside = [p for p in changed if not any(p in a.parents for a in allowed)]
    assert inside and all(any(p == a or a in p.parents for a in allowed) for p in inside), inside
    assert mine.read_text() == '{"mine": true}'
    assert (project / "bwcache" / "timings.json").is_file()
    xdg_changed = [p for p, t in _tree(xdg).items() if xdg_before.get(p) != t]
    # bayeswd's own user cache folder (locks, compiled programs), and matplotlib's font cache, which the
    # dependency builds once per machine in the same user cache root
    assert all(p.relative_to(xdg).parts[0] in ("bayeswd", "matplotlib") for p in xdg_changed), xdg_changed


def test_an_empty_out_is_refused_before_computing(capsys):
    start = time.perf_counter()
    status, err = _run(["report", "--quick", "--out", ""], capsys)
    assert status == 2 and "--out is empty" in err and time.perf_counter() - start < 10


def test_a_tilde_in_cache_dir_means_home(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    status, _ = _run([*CHEAP, "--cache-dir=~/bwcache"], capsys)
    assert status == 0
    assert (tmp_path / "home" / "bwcache").is_dir() and not (tmp_path / "~").exists()


@pytest.mark.parametrize("value", ['"false"', "1", '"yes"'])
def test_config_quick_is_checked_even_with_the_flag(tmp_path, capsys, value):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f"quick = {value}\n")
    status, err = _run([*CHEAP, "--config", str(cfg)], capsys)
    assert status == 2 and "quick" in err


@pytest.mark.parametrize("content", ['{"theory_vs_experiment/quick": Infinity}', "[1, 2]", "not json",
                                     '{"theory_vs_experiment/quick": -3}'])
def test_a_damaged_timings_file_is_ignored_with_a_warning(tmp_path, capsys, content):
    cache = tmp_path / "c"
    cache.mkdir()
    (cache / "timings.json").write_text(content)
    status, err = _run([*CHEAP, "--cache-dir", str(cache)], capsys)
    assert status == 0
    assert "bayeswd: warning:" in err and "timings.json was ignored" in err


def test_stale_staging_folders_are_removed_and_live_ones_kept(tmp_path):
    out = tmp_path / "rep"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".rep.building-{dead}-abc"
    live = tmp_path / f".rep.building-{os.getpid()}-xyz"
    other = tmp_path / ".rep.building-notmine"        # not bayeswd's naming: never touched
    for folder in (stale, live, other):
        folder.mkdir()
    with atomic_directory(out) as staging:
        (staging / "index.html").write_text("new")
    assert not stale.exists() and live.exists() and other.exists()
    assert (out / "index.html").read_text() == "new"


@pytest.mark.timeout(240)
def test_sigterm_ends_the_command_like_ctrl_c(tmp_path):
    """SIGTERM (what timeout, systemd, docker stop and CI cancellation send) while the command computes: the
    previous report is untouched, no staging folder is left, one line, exit 143 (128 + 15). The signal is
    sent once the section's progress line says it started (an event, not a fixed wait)."""
    sig, code = signal.SIGTERM, 143
    cfg = tmp_path / "cfg.toml"
    cfg.write_text("[theory_vs_experiment]\nn = 1000\nreps = 200\n")   # minutes of work
    out = previous_report(tmp_path / "out")
    env = {**os.environ, "BAYESWD_COMPILE_CACHE": "off"}
    proc = subprocess.Popen([sys.executable, "-m", "bayeswd", "run", "theory_vs_experiment", "--no-cache",
                             "--config", str(cfg), "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path, env=env)
    line_within(proc.stderr, ": started", 120)
    time.sleep(1.0)  # inside the Monte Carlo runs
    assert proc.poll() is None
    proc.send_signal(sig)
    _, err = communicate_or_kill(proc, 60)
    assert proc.returncode == code, err
    assert err.strip() == f"bayeswd: interrupted ({sig.name}); the previous report was left as it was"
    assert (out / "index.html").read_text() == "previous report"
    assert not list(tmp_path.glob(".out.building-*"))


def test_progress_lines_off_a_terminal(tmp_path):
    """With stderr a pipe (CI logs, nohup), plain progress lines: the first within 3 s of the start, then one
    as a section starts (in whichever worker process picks it up). A Ctrl-C then, with sections running in
    the workers and more waiting to be sent, ends the run at once and leaves the previous report."""
    out = previous_report(tmp_path / "out")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bayeswd", "report", "--quick", "--no-cache", "--out",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        first, _ = line_within(proc.stderr, "bayeswd: ", 30)
        assert time.perf_counter() - start < 3, first
        assert first.startswith("bayeswd: report of ") and "quick sizes" in first
        line, _ = line_within(proc.stderr, ": started", 120)
        assert re.match(r"bayeswd: \[\d+/13\] .+: started", line), line
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = communicate_or_kill(proc, 60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert (out / "index.html").read_text() == "previous report"
    assert not list(tmp_path.glob(".out*"))   # no staging folder


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signals_while_writing_leave_no_staging_folder(tmp_path, sig):
    """A signal delivered inside the atomic write (the staging folder exists) removes it and keeps the
    previous report; the interruption names the signal."""
    script = f"""
import os, signal, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from conftest import previous_report
from bayeswd._interrupts import InterruptFlag
from bayeswd.output import atomic_directory
out = previous_report({str(tmp_path / 'out')!r})
try:
    with InterruptFlag():
        with atomic_directory(out) as staging:
            (staging / "index.html").write_text("half")
            os.kill(os.getpid(), {int(sig)})
            (staging / "more.txt").write_text("never")
except KeyboardInterrupt as err:
    print("stopped", err.signum)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == f"stopped {int(sig)}", done.stderr
    assert (tmp_path / "out" / "index.html").read_text() == "previous report"
    assert not list(tmp_path.glob(".out.building-*"))


def test_dollar_signs_in_a_data_file_name_are_text(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4))
    y = X @ np.ones(4) + 0.1 * rng.standard_normal(30)
    csv = tmp_path / "price $a$ and $b$.csv"
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",", header="a,b,c,d,t", comments="")
    status, _ = _run([*CHEAP, "--no-cache", "--data", str(csv), "--out", str(tmp_path / "out")], capsys)
    assert status == 0
    html = (tmp_path / "out" / "index.html").read_text()
    assert "price ＄a＄ and ＄b＄.csv" in html


def test_target_column_by_name_or_index(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 3))
    csv = tmp_path / "houses.csv"
    np.savetxt(csv, np.column_stack([X[:, 0] * 2 + 1, X]), delimiter=",", header="price,a,b,c", comments="")
    from bayeswd.commands import _dataset

    by_name, *_ = _dataset(str(csv), 0, "price")
    by_index, *_ = _dataset(str(csv), 0, "0")
    default, *_ = _dataset(str(csv), 0)
    assert by_name.num_inputs == 3 and by_index.num_inputs == 3 and default.num_inputs == 3
    np.testing.assert_allclose(np.sort(np.r_[by_name.y_train, by_name.y_val]), np.sort(X[:, 0] * 2 + 1))
    np.testing.assert_allclose(np.sort(np.r_[by_index.y_train, by_index.y_val]), np.sort(X[:, 0] * 2 + 1))
    status, err = _run([*CHEAP, "--target", "price"], capsys)
    assert status == 2 and "--data" in err
    status, err = _run([*CHEAP, "--data", str(csv), "--target", "nope"], capsys)
    assert status == 2 and "nope" in err
    npz = tmp_path / "houses.npz"
    np.savez(npz, X=X, y=X[:, 0])
    status, err = _run([*CHEAP, "--data", str(npz), "--target", "price"], capsys)   # an .npz names its target
    assert status == 2 and ".npz" in err and "array y" in err


def test_empirical_bayes_answers_at_the_boundary():
    """Pure noise and weak signals: the evidence often peaks at τ → 0. The answer is that boundary, never NaN;
    a constant target is one ValueError."""
    rng = np.random.default_rng(np.random.SeedSequence(5).spawn(1)[0])
    boundary = 0
    for _ in range(40):
        X = rng.standard_normal((32, 6))
        y = rng.standard_normal(32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = bayeswd.empirical_bayes(X, y)
        assert np.isfinite(fit.noise_sd) and fit.noise_sd > 0 and np.isfinite(fit.log_evidence)
        if fit.boundary:
            boundary += 1
            assert fit.prior_sd == 0 and fit.lam == np.inf
            assert fit.noise_sd == pytest.approx(np.sqrt(np.sum((y - y.mean()) ** 2) / 31))
    assert boundary > 0
    with pytest.raises(ValueError, match="constant"):
        bayeswd.empirical_bayes(X, np.full(32, 1.23))


def _tiny_config(tmp_path) -> str:
    """Every analysis at the scenario tests' tiny sizes (test_analyses.CHANGED), as a config file."""
    from test_analyses import CHANGED

    lines = []
    for name, values in CHANGED.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path = tmp_path / "tiny.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _houses(path: Path, rng) -> None:
    """An ordinary unscaled table: square feet, rooms, age, metres, lot, a constant column, price."""
    n = 60
    cols = {"area_sqft": rng.uniform(600, 4000, n), "rooms": rng.integers(1, 7, n).astype(float),
            "age": rng.uniform(0, 80, n), "dist_m": rng.uniform(200, 20000, n), "lot": rng.uniform(1000, 20000, n),
            "storeys": np.full(n, 2.0)}
    price = 50000 + 120 * cols["area_sqft"] + 8000 * cols["rooms"] - 2 * cols["dist_m"] + rng.normal(0, 20000, n)
    np.savetxt(path, np.column_stack([*cols.values(), price]), delimiter=",", header=",".join([*cols, "price"]),
               comments="")


@pytest.mark.timeout(900)
@pytest.mark.parametrize("kind", ["unscaled with a constant column", "pure noise", "wide, in the thousands"])
def test_your_own_data_gets_a_whole_report(tmp_path, capsys, kind):
    """`report --quick` on a user's CSV completes: every section is present, computed or saying why not."""
    from bayeswd import analyses

    rng = np.random.default_rng(np.random.SeedSequence(8).spawn(1)[0])
    csv = tmp_path / "mine.csv"
    if kind == "pure noise":
        X = rng.standard_normal((40, 8))
        np.savetxt(csv, np.column_stack([X, rng.standard_normal(40)]), delimiter=",",
                   header=",".join([f"x{i}" for i in range(8)] + ["y"]), comments="")
    elif kind.startswith("wide"):   # p ≫ n: unit sd alone leaves minibatch steps unstable
        X = rng.uniform(0, 1000, (30, 300))
        np.savetxt(csv, np.column_stack([X, X[:, :5].sum(axis=1) + 10 * rng.standard_normal(30)]), delimiter=",",
                   header=",".join([f"x{i}" for i in range(300)] + ["y"]), comments="")
    else:
        _houses(csv, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status, _ = _run(["report", "--quick", "--no-cache", "--quiet", "--config", _tiny_config(tmp_path),
                          "--data", str(csv), "--out", str(tmp_path / "out")], capsys)
    assert status == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert set(results["sections"]) == set(analyses.MODULES)
    skipped = {k: v["results"]["skipped"] for k, v in results["sections"].items() if "skipped" in v["results"]}
    for name, why in skipped.items():     # a section that could not run says why, in one readable line
        assert why and "\n" not in why and "Traceback" not in why, (name, why)
        assert "could not run on these data" in results["sections"][name]["answer"]
    assert len(skipped) <= 2, skipped
    assert not [why for why in skipped.values() if "diverged" in why], skipped
    if kind != "pure noise":
        assert "inputs standardized" in results["data"]
    if kind.startswith("wide"):
        assert "then multiplied by" in results["data"]
    html = (tmp_path / "out" / "index.html").read_text()
    assert " nan" not in html and ">nan<" not in html


def test_a_constant_target_is_one_line(tmp_path, capsys):
    rng = np.random.default_rng(3)
    csv = tmp_path / "flat.csv"
    np.savetxt(csv, np.column_stack([rng.standard_normal((30, 3)), np.full(30, 2.5)]), delimiter=",",
               header="a,b,c,y", comments="")
    status, err = _run(["report", "--quick", "--data", str(csv), "--out", str(tmp_path / "out")], capsys)
    assert status == 2 and "constant" in err and "--target" in err
    assert not (tmp_path / "out").exists()


def test_data_past_the_memory_budget_is_refused_from_its_headers(tmp_path):
    """A small file whose arrays would unpack to 2.2 GiB (3,000,000 columns) is refused from the .npy headers,
    before anything is decompressed (here the body is not even there)."""
    import io
    import zipfile

    path = tmp_path / "big.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, shape in (("X", (100, 3_000_000)), ("y", (100,))):
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
            archive.writestr(f"{name}.npy", header.getvalue())
    start = time.perf_counter()
    with pytest.raises(ValueError, match="GiB"):
        bayeswd.load(path)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("make", ["long name", "long path", "symlink loop", "proc"])
def test_out_edges_are_one_line(tmp_path, capsys, monkeypatch, make):
    monkeypatch.chdir(tmp_path)
    if make == "long name":
        out = tmp_path / ("x" * 300)
    elif make == "long path":
        out = tmp_path / "/".join(["y" * 200] * 25)
    elif make == "symlink loop":
        (tmp_path / "a").symlink_to(tmp_path / "b")
        (tmp_path / "b").symlink_to(tmp_path / "a")
        out = tmp_path / "a" / "rep"
    else:
        out = Path("/proc")
    start = time.perf_counter()
    status, err = _run(["report", "--quick", "--out", str(out)], capsys)
    assert status == 2 and "--out" in err and time.perf_counter() - start < 10


def test_a_large_foreign_folder_is_refused_without_walking_it(tmp_path, capsys):
    big = tmp_path / "big"
    for i in range(200):
        sub = big / f"d{i}"
        sub.mkdir(parents=True)
        for j in range(50):
            (sub / f"f{j}").write_text("")
    from bayeswd.output import OutputError, check_output

    start = time.perf_counter()
    with pytest.raises(OutputError, match="did not write"):
        check_output(big)
    assert time.perf_counter() - start < 0.05


def test_the_decay_step_rule_is_checked_before_computing(tmp_path, capsys):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text("[seed004_mlp]\nwd = 10\nlr = 10\n")
    start = time.perf_counter()
    status, err = _run(["report", "--quick", "--config", str(cfg), "--out", str(tmp_path / "out")], capsys)
    assert status == 2 and "[seed004_mlp] lr·wd" in err and time.perf_counter() - start < 10


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.ENAMETOOLONG, errno.ELOOP])
def test_a_failure_while_writing_keeps_the_previous_report(tmp_path, capsys, monkeypatch, code):
    """A full disk (or a name too long, a loop) while the report is written: one line, exit 2, the previous
    report intact and no staging folder left."""
    import bayeswd.commands as commands

    out = previous_report(tmp_path / "out")

    def failing_writer(staging, sections, meta):
        (staging / "index.html").write_text("half a report")
        raise OSError(code, os.strerror(code), str(staging / "figure.svg"))

    monkeypatch.setattr(commands, "write_report", failing_writer)
    status, err = _run([*CHEAP, "--no-cache", "--out", str(out)], capsys)
    assert status == 2 and os.strerror(code) in err and "previous report" in err
    assert (out / "index.html").read_text() == "previous report"
    assert not list(tmp_path.glob(".out.building-*"))


def test_too_little_free_space_is_refused_before_computing(tmp_path, capsys, monkeypatch):
    from bayeswd import output

    monkeypatch.setattr(output.shutil, "disk_usage", lambda path: SimpleNamespace(total=10**9, used=10**9 - 2**20,
                                                                                  free=2**20))
    start = time.perf_counter()
    status, err = _run(["report", "--quick", "--out", str(tmp_path / "out")], capsys)
    assert status == 2 and "1.0 MB free" in err and time.perf_counter() - start < 10
    assert not (tmp_path / "out").exists()


def test_a_mount_point_is_refused_before_computing(tmp_path, capsys, monkeypatch):
    """An (empty) mount point cannot be swapped by rename; the message points to a folder inside it."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == mount or real(p))
    status, err = _run(["report", "--quick", "--out", str(mount)], capsys)
    assert status == 2 and "mount point" in err and f"{mount}/bayeswd-report" in err
    assert not list(mount.iterdir())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_the_imports_is_one_line(tmp_path, sig):
    """Ctrl-C (or SIGTERM, SIGHUP) while the command still imports JAX and PyMC ends it like one during
    computing: one line naming the signal, exit 128 + signum, no traceback. The CLI raises its flag after
    importing bayeswd itself (about 0.15 s of NumPy); the heavy imports take seconds after that."""
    proc = subprocess.Popen([sys.executable, "-m", "bayeswd", "report", "--quick", "--no-cache", "--out",
                             str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    time.sleep(0.6)   # past bayeswd's own import, inside JAX's and PyMC's
    proc.send_signal(sig)
    _, err = communicate_or_kill(proc, 60)   # past it the signal was lost: fail
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == f"bayeswd: interrupted ({sig.name}); the previous report was left as it was"
    assert not (tmp_path / "out").exists()


def test_a_signal_inside_deferred_is_raised_on_leaving():
    """Inside ``deferred()`` (the command's heavy imports) a signal is only recorded: an exception raised
    inside a compiled extension's import aborts the process. It is raised as the block ends."""
    import os

    from bayeswd._interrupts import InterruptFlag
    from bayeswd.exceptions import Interrupted

    reached = False
    with pytest.raises(Interrupted) as caught:
        with InterruptFlag() as flag, flag.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)   # the handler has run by now, and raised nothing
            reached = True
    assert reached and caught.value.signum == signal.SIGTERM
