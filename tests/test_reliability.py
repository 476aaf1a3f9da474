"""The reliability matrix: bad or unusual input ends in exit 0 with a finite answer, or exit 2 with one line.

Never a traceback, a hang, 'nan' in an answer, or a user's file destroyed. Each numbered
case of the reliability issue is a test here; hypothesis adds generated values for every
setting of every analysis.
"""

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import communicate_or_kill, line_within, previous_report, without_progress
from hypothesis import given, settings
from hypothesis import strategies as st

from bayeswd import analyses
import bayeswd
from bayeswd.protocol.settings import Count, Real
from bayeswd.cli import main
from bayeswd.training import train
from bayeswd.exceptions import BudgetError, ConvergenceWarning, TrainingDiverged
from bayeswd.protocol.cache import CacheWarning, ResultsCache
from bayeswd.protocol.results import Results
from bayeswd.output import MANIFEST, atomic_directory
from bayeswd.report.section import Figure

ROOT = Path(__file__).resolve().parents[1]
FAST = 10.0  # seconds: a refusal happens before any computing


def _run(argv, capsys):
    """``bayeswd`` in-process: (exit status, stderr), with the one-line rule checked on failures."""
    start = time.perf_counter()
    status = main(argv)
    seconds = time.perf_counter() - start
    err = without_progress(capsys.readouterr().err)
    assert "Traceback" not in err
    if status == 2:
        assert len(err.splitlines()) == 1 and err.startswith("bayeswd: error:"), err
    return status, err, seconds


def _config(tmp_path, text):
    path = tmp_path / "cfg.toml"
    path.write_text(textwrap.dedent(text))
    return str(path)


# 1. --out never destroys what bayeswd did not write, and refuses in a second --------------------

def test_1_out_refuses_a_users_folder(tmp_path, capsys):
    docs = tmp_path / "mydocs"
    docs.mkdir()
    (docs / "notes.txt").write_text("hi")
    status, err, seconds = _run(["run", "theory_vs_experiment", "--quick", "--out", str(docs)], capsys)
    assert status == 2 and "did not write" in err and seconds < FAST
    assert (docs / "notes.txt").read_text() == "hi" and sorted(p.name for p in docs.iterdir()) == ["notes.txt"]


def test_1_out_refuses_the_current_folder_and_its_parents(tmp_path, monkeypatch, capsys):
    clone = tmp_path / "clone"
    (clone / ".git").mkdir(parents=True)
    (clone / "README.md").write_text("mine")
    monkeypatch.chdir(clone)
    for out in (".", "..", str(tmp_path)):
        status, err, seconds = _run(["report", "--quick", "--out", out], capsys)
        assert status == 2 and "current folder" in err and seconds < FAST
    assert (clone / "README.md").read_text() == "mine" and (clone / ".git").is_dir()


def test_1_out_refuses_home_a_git_folder_and_a_file(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    status, err, _ = _run(["report", "--out", str(home)], capsys)
    assert status == 2 and "home folder" in err
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    status, err, _ = _run(["report", "--out", str(repo)], capsys)
    assert status == 2 and ".git" in err
    file = tmp_path / "results.txt"
    file.write_text("keep me")
    status, err, _ = _run(["run", "exercises", "--out", str(file)], capsys)
    assert status == 2 and "is a file" in err
    assert file.read_text() == "keep me" and not list(tmp_path.glob(".results.txt*"))


def test_1_out_refuses_a_bayeswd_report_holding_a_users_file(tmp_path, capsys):
    out = previous_report(tmp_path / "out")
    (out / "my-notes.md").write_text("mine")
    status, err, _ = _run(["run", "exercises", "--out", str(out)], capsys)
    assert status == 2 and "my-notes.md" in err
    assert (out / "my-notes.md").read_text() == "mine"


def test_1_out_that_cannot_be_written_fails_before_computing(tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    for out in ("/proc/bayeswd-report", str(blocker / "sub")):
        status, err, seconds = _run(["report", "--out", out], capsys)
        assert status == 2 and seconds < FAST, err


def test_1_a_bayeswd_report_is_replaced_and_an_empty_folder_used(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run(["run", "exercises", "--quick", "--no-cache", "--out", str(empty)], capsys)[0] == 0
    assert (empty / MANIFEST).exists() and (empty / "index.html").exists()
    assert _run(["run", "exercises", "--quick", "--no-cache", "--out", str(empty)], capsys)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]   # no staging or old folder left


# 2. No hangs: work past a budget is refused up front; Ctrl-C ends a long compiled call --------------

@pytest.mark.parametrize("section, setting", [("d2l_reproduced", "zh_epochs"), ("seed002_multioutput", "epochs"),
                                              ("seed004_mlp", "epochs")])
def test_2_huge_epochs_are_refused_up_front(tmp_path, capsys, section, setting):
    cfg = _config(tmp_path, f"[{section}]\n{setting} = 1000000000000\n")
    status, err, seconds = _run(["run", section, "--config", cfg], capsys)
    assert status == 2 and f"[{section}] {setting}" in err and "budget" in err and seconds < FAST


def test_2_train_refuses_past_its_budgets(d2l):
    with pytest.raises(BudgetError, match="epochs"):
        train(d2l, 0.0, epochs=10**12)
    with pytest.raises(BudgetError, match="GiB"):
        train(d2l, list(np.linspace(0, 1, 100_000)), seed=list(range(64)), epochs=1000)


_LONG_TRAIN = """
import sys, bayeswd
data = bayeswd.d2l_data(0)
print("training", flush=True)
bayeswd.train(data, 0.0, epochs=1_000_000, batch_size=1, lr=0.005, fast_path=False)  # minutes of work
"""


@pytest.mark.timeout(180)
def test_2_ctrl_c_stops_a_long_compiled_call_within_seconds(tmp_path):
    """A million epochs of 20 steps runs minutes inside one XLA call; Ctrl-C must end the process in seconds."""
    proc = subprocess.Popen([sys.executable, "-c", _LONG_TRAIN], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path)
    assert proc.stdout.readline().strip() == "training"
    time.sleep(6)  # past compilation, inside the compiled loop
    assert proc.poll() is None
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, err = communicate_or_kill(proc, 60)
    assert time.perf_counter() - sent < 5
    assert "KeyboardInterrupt" in err


@pytest.mark.timeout(180)
def test_2_ctrl_c_stops_the_command_within_seconds(tmp_path):
    cfg = _config(tmp_path, "[theory_vs_experiment]\nn = 1000\nreps = 200\n")   # many minutes of work
    out = previous_report(tmp_path / "out")
    proc = subprocess.Popen([sys.executable, "-m", "bayeswd", "run", "theory_vs_experiment", "--no-cache",
                             "--config", cfg,
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    line_within(proc.stderr, ": started", 120)   # imports done, the Monte Carlo runs begin
    time.sleep(1.0)
    assert proc.poll() is None
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, err = communicate_or_kill(proc, 60)
    assert time.perf_counter() - sent < 5 and proc.returncode == 130, err
    assert "Traceback" not in err and (out / "index.html").read_text() == "previous report"


# 3. Divergence is caught before NaN, for minibatches too, and named ---------------------------------

def test_3_divergence_raises_with_epoch_step_lr_and_bound(d2l):
    for kwargs in (dict(lr=50.0, epochs=10), dict(lr=1.0, epochs=10, batch_size=5),
                   dict(lr=0.5, epochs=10, batch_size=None, optimizer="momentum")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the full-batch lr warning
            with pytest.raises(TrainingDiverged, match=r"epoch \d+ \(step \d+\).*lr=.*Stable steps: lr <"):
                train(d2l, 0.0, **kwargs)


def test_3_a_decay_step_past_two_is_refused(d2l):
    with pytest.raises(ValueError, match="lr·λ = .* ≥ 2"):
        train(d2l, 1e6)
    with pytest.raises(ValueError, match="≥ 2"):
        train(d2l, [0.0, 250.0], lr=0.01, optimizer="sgd", decay="decoupled")


def test_3_divergent_settings_give_one_line(tmp_path, capsys):
    cfg = _config(tmp_path, "[seed002_multioutput]\nlr = 100.0\n")
    status, err, _ = _run(["run", "seed002_multioutput", "--config", cfg], capsys)
    assert status == 2 and "[seed002_multioutput] lr" in err


# 4. Every setting checked for type and range, with its own name --------------------------------------

@pytest.mark.parametrize("argv_extra, config, match", [
    ([], "seed = 'abc'\n", "config seed must be a whole number"),
    ([], "seed = 1.5\n", "config seed must be a whole number"),
    (["--seed", "9223372036854775808"], "", r"--seed = 9,223,372,036,854,775,808 is out of range"),
    (["--seed", "-1"], "", "--seed = -1 is out of range"),
    ([], "quick = 'false'\n", "config quick must be true or false"),
    ([], "[seed004_mlp]\nepochs = 0\n", r"\[seed004_mlp\] epochs = 0 is out of range"),
    ([], "[seed004_mlp]\nepochs = -1\n", r"\[seed004_mlp\] epochs = -1 is out of range"),
    ([], "[theory_vs_experiment]\nreps = 0\n", r"\[theory_vs_experiment\] reps"),
    ([], "[theory_vs_experiment]\nn = -5\n", r"\[theory_vs_experiment\] n = -5"),
    ([], "[seed002_multioutput]\nlambd = -1.0\n", r"\[seed002_multioutput\] lambd"),
    ([], "[uncertainty]\nlaplace_nuts = 'no'\n", r"\[uncertainty\] laplace_nuts must be true or false"),
    ([], "[uncertainty]\nnuts_samplers = 'hmc'\n", r"\[uncertainty\] nuts_samplers has unknown name"),
])
def test_4_settings_are_checked_with_their_own_name(tmp_path, capsys, argv_extra, config, match):
    cfg = _config(tmp_path, config)
    status, err, seconds = _run(["report", "--config", cfg, "--out", str(tmp_path / "out"), *argv_extra], capsys)
    assert status == 2 and seconds < FAST
    assert __import__("re").search(match, err), err
    assert not (tmp_path / "out").exists()


def test_4_config_that_is_a_folder(tmp_path, capsys):
    status, err, _ = _run(["report", "--config", str(tmp_path)], capsys)
    assert status == 2 and "is a folder" in err


def test_4_argparse_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--seed", "abc"])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1 and "--help" in err


@pytest.mark.parametrize("make_bad", ["file", "readonly"])
def test_4_an_unusable_cache_warns_and_the_run_goes_on(tmp_path, capsys, make_bad):
    cache = tmp_path / "cache"
    if make_bad == "file":
        cache.write_text("not a folder")
    else:
        cache.mkdir()
        cache.chmod(stat.S_IRUSR | stat.S_IXUSR)
        if os.access(cache, os.W_OK):  # root writes anywhere: a read-only folder cannot be made
            cache.chmod(0o755)
            cache.rmdir()
            cache = Path("/proc/bayeswd-cache")
    status, err, _ = _run(["run", "exercises", "--quick", "--cache-dir", str(cache), "--out", str(tmp_path / "o")],
                          capsys)
    assert status == 0 and (tmp_path / "o" / "index.html").exists()
    assert [line for line in err.splitlines() if "warning" in line] == [
        next(line for line in err.splitlines() if line.startswith("bayeswd: warning: cache folder"))]
    assert "running without a cache" in err


# 5. Concurrent writers take turns; no leaked staging; modes follow the umask --------------------------

_WRITER = """
import sys
from pathlib import Path
from bayeswd.output import atomic_directory
for i in range(int(sys.argv[2])):
    with atomic_directory(Path(sys.argv[1])) as staging:
        (staging / "figures").mkdir()
        (staging / "index.html").write_text(f"{sys.argv[3]} {i}")
        (staging / "results.json").write_text("{}")
"""


@pytest.mark.timeout(300)
def test_5_two_writers_and_a_reader(tmp_path):
    out = tmp_path / "out"
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    old = os.umask(0o022)
    try:
        writers = [subprocess.Popen([sys.executable, str(script), str(out), "100", name], stderr=subprocess.PIPE,
                                    text=True) for name in ("a", "b")]
        missing = 0
        while any(w.poll() is None for w in writers):
            if out.exists() and not (out / "index.html").exists():
                missing += 1
        errors = [w.communicate()[1] for w in writers]
    finally:
        os.umask(old)
    assert [w.returncode for w in writers] == [0, 0], errors
    assert missing == 0  # the swap is one atomic exchange: a reader never finds a folder without its report
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "writer.py"]   # no staging folder leaked
    assert (out / "index.html").read_text() in {"a 99", "b 99"}
    assert json.loads((out / MANIFEST).read_text())["entries"] == ["figures", "index.html", "results.json"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o755 and stat.S_IMODE((out / "figures").stat().st_mode) == 0o755


def test_5_failure_removes_the_staging_folder(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(tmp_path / "out") as staging:
            (staging / "index.html").write_text("half")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


# 6. The cache never shows what it did not compute -------------------------------------------------------

def _png():
    import io

    import matplotlib.figure

    buffer = io.BytesIO()
    matplotlib.figure.Figure(figsize=(1, 1)).savefig(buffer, format="png")
    return buffer.getvalue()


def test_6_an_edited_cache_entry_is_recomputed(tmp_path):
    cache = ResultsCache(tmp_path)
    cache.put("x", {"k": 1}, Results({"answer": 1}, 0, True, "d2l", True))
    path = tmp_path / f"{cache.key('x', {'k': 1})}.json"
    path.write_text(path.read_text().replace('"answer": 1', '"answer": 42'))
    with pytest.warns(CacheWarning, match="checksum"):
        assert cache.get("x", {"k": 1}, Results) is None


def test_6_figure_names_cannot_leave_the_figures_folder():
    with pytest.raises(ValueError, match="figure name"):
        Figure("../../x", "caption", _png())


def test_6_a_malformed_results_entry_is_refused_even_with_a_matching_checksum(tmp_path):
    cache = ResultsCache(tmp_path)
    cache.put("x", {"k": 1}, Results({}, 0, True, "d2l", True))
    path = tmp_path / f"{cache.key('x', {'k': 1})}.json"
    entry = json.loads(path.read_text())
    entry["results"]["unexpected"] = 1
    from bayeswd.protocol.cache import _checksum

    entry["sha256"] = _checksum(entry["results"])
    path.write_text(json.dumps(entry))
    with pytest.warns(CacheWarning, match="malformed"):
        assert cache.get("x", {"k": 1}, Results) is None


def test_6_a_well_formed_entry_for_another_analysis_is_refused(tmp_path):
    cache = ResultsCache(tmp_path)
    cache.put("y", {"k": 1}, Results({}, 0, True, "d2l", True))
    path_y = tmp_path / f"{cache.key('y', {'k': 1})}.json"
    path_y.rename(tmp_path / f"{cache.key('x', {'k': 1})}.json")
    with pytest.warns(CacheWarning, match="another key|results of 'y'"):
        assert cache.get("x", {"k": 1}, Results) is None


# 8. Silent non-convergence is gone ----------------------------------------------------------------------

def test_8_solvers_warn_at_their_iteration_limit(d2l):
    with pytest.warns(ConvergenceWarning, match="max_iter=20"):
        fit = bayeswd.lasso(d2l.X_train, d2l.y_train, 1e-4, max_iter=20)
    assert not fit.converged
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        assert not bayeswd.empirical_bayes(d2l.X_train, d2l.y_train, max_iter=2).converged


# Every setting of every analysis, generated values ------------------------------------------------------

_CLASSES = {"wrong type": st.sampled_from(["abc", [1], {"a": 1}]), "negative": st.floats(-1e12, -1e-9),
            "zero": st.just(0), "huge": st.sampled_from([10**12, 1e300, 2**63]),
            "nan": st.just(float("nan")), "inf": st.sampled_from([float("inf"), float("-inf")]),
            "any number": st.one_of(st.integers(-10**15, 10**15), st.floats(allow_nan=False))}
_KEYS = [(name, key) for name in analyses.MODULES for key in analyses.load(name).SETTINGS]


def _toml_value(value):
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return json.dumps(value) if not isinstance(value, dict) else "{ a = 1 }"


@settings(max_examples=60, deadline=None)
@given(target=st.sampled_from(_KEYS), value=st.one_of(*_CLASSES.values()))
def test_every_setting_refuses_bad_values_in_one_line_or_accepts_them_in_range(tmp_path_factory, target, value):
    """A refused value: exit 2, one line naming [analysis] key, before any computing. An accepted one is
    within the setting's declared range (its extremes run in test_boundary_settings_run_to_a_finite_answer)."""
    name, key = target
    spec = analyses.load(name).SETTINGS[key]
    tmp = tmp_path_factory.mktemp("cfg")
    cfg = tmp / "cfg.toml"
    cfg.write_text(f"[{name}]\n{key} = {_toml_value(value)}\n")
    try:
        spec.check(value, "x")
        accepted = True
    except ValueError:
        accepted = False
    if accepted:
        return
    status, err = _run_captured(["run", name, "--config", str(cfg), "--no-cache"])
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert status == 2 and f"[{name}] {key}" in err, err


def _run_captured(argv, quiet_warnings=False):
    """``bayeswd`` in-process, stdout and stderr captured (hypothesis cannot use capsys): (status, stderr)."""
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stderr(buffer), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        if quiet_warnings:
            warnings.simplefilter("ignore")
        status = main(argv)
    return status, without_progress(buffer.getvalue())


def _boundary_cases(full):
    """(analysis, key, value): the lowest accepted value of every setting; zeros only by default."""
    cases = []
    for name, key in _KEYS:
        spec = analyses.load(name).SETTINGS[key]
        if isinstance(spec, (Count, Real)) and not getattr(spec, "positive", False) and (full or spec.low == 0):
            cases.append((name, key, spec.low))
    return cases


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_boundary_settings_run_to_a_finite_answer(tmp_path, full_stats):
    """The lowest accepted value of each setting (zeros by default, every one with --full-stats): exit 0, and no
    'nan' anywhere in the section's prose, captions or tables."""
    for name, key, value in _boundary_cases(full_stats):
        cfg = _config(tmp_path, f"[{name}]\n{key} = {value}\n")
        out = tmp_path / f"{name}-{key}"
        status, err = _run_captured(["run", name, "--quick", "--no-cache", "--config", cfg, "--out", str(out)],
                                    quiet_warnings=True)
        assert status == 0, (name, key, err)
        _assert_no_nan(out / "results.json", name)


def _assert_no_nan(results_json: Path, name: str):
    section = json.loads(results_json.read_text())["sections"][name]
    prose = " ".join([section["answer"], json.dumps(section["tables"])])
    assert "nan" not in prose.lower().replace("nanoseconds", ""), prose


def test_users_csv_run_has_no_nan_prose(tmp_path, capsys):
    """The command line on a user's file without true weights or known noise: exit 0, no 'nan' in what it writes.

    One analysis end to end through the CLI; every analysis's prose and tables on such data, and the
    HTML and Markdown the writers make of them, are checked in test_analyses (scenario "user csv").
    """
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 30))
    y = X[:, :5].sum(axis=1) * 0.1 + 0.05 * rng.standard_normal(40)
    csv = tmp_path / "mine.csv"
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",", header=",".join([f"x{i}" for i in range(30)] + ["t"]),
               comments="")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sampler and convergence warnings belong in the sections' text
        assert main(["run", "exercises", "--quick", "--no-cache", "--quiet", "--data", str(csv),
                     "--out", str(tmp_path / "out")]) == 0
    html = (tmp_path / "out" / "index.html").read_text()
    md = (tmp_path / "out" / "report.md").read_text()
    for text in (md, html):
        assert " nan" not in text and "nan×" not in text and ">nan<" not in text
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["data"] == "user data mine.csv"
    _assert_no_nan(tmp_path / "out" / "results.json", "exercises")
