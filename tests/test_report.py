"""`bayeswd report` end to end: every analysis at quick size, reproducibility, the page in Chromium, bad input."""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import previous_report

from bayeswd import analyses
from bayeswd.cli import main
from bayeswd.report.cache import CacheWarning, ResultsCache
from bayeswd.report.results import Results
from bayeswd.report.output import atomic_directory
from bayeswd.report.section import Section

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """One quick report, computed without cache, shared by the checks below."""
    root = tmp_path_factory.mktemp("report")
    cwd = os.getcwd()
    os.chdir(root)  # the cache folder lands here
    try:
        assert main(["report", "--quick", "--out", str(root / "out"), "--no-cache"]) == 0
    finally:
        os.chdir(cwd)
    return root / "out"


def _numbers(path):
    data = json.loads((path / "results.json").read_text())
    data.pop("timings")
    data.pop("cache")
    return data


@pytest.mark.parametrize("name", analyses.MODULES)
def test_every_analysis_has_a_complete_section(quick_report, name):
    results = json.loads((quick_report / "results.json").read_text())
    section = results["sections"][name]
    assert section["answer"] and section["question"].endswith("?")
    assert section["results"]
    module = analyses.load(name)
    assert set(module.QUICK) <= set(module.SETTINGS)
    # every figure was written as a real PNG
    md = (quick_report / "report.md").read_text()
    for figure in re.findall(r"\(figures/([\w-]+)\.png\)", md):
        assert (quick_report / "figures" / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_numbers(quick_report, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--quick", "--out", str(tmp_path / "again"), "--no-cache"]) == 0
    assert _numbers(tmp_path / "again") == _numbers(quick_report)


def test_warm_cache_reuses_sections(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "exercises", "--quick", "--out", str(tmp_path / "a")]) == 0
    assert main(["run", "exercises", "--quick", "--out", str(tmp_path / "b")]) == 0
    cache = json.loads((tmp_path / "b" / "results.json").read_text())["cache"]
    assert cache == {"exercises": True}
    assert _numbers(tmp_path / "a") == _numbers(tmp_path / "b")


def test_corrupt_cache_entry_is_recomputed(tmp_path):
    cache = ResultsCache(tmp_path, "v1")
    results = Results({"a": 1}, 0, True, "d2l", True)
    cache.put("x", {"k": 1}, results)
    assert cache.get("x", {"k": 1}, Results) == results
    (tmp_path / f"{cache.key('x', {'k': 1})}.json").write_text("{not json")
    with pytest.warns(CacheWarning, match="malformed"):
        assert cache.get("x", {"k": 1}, Results) is None
    assert ResultsCache(tmp_path, "v2").get("x", {"k": 1}, Results) is None  # new code version: a miss


def test_editing_prose_reuses_the_cached_results():
    """The cache key covers the computing code only: a render function's text is not part of it."""
    import types

    from bayeswd.commands import compute_version

    source = "NAME = 'x'\nTITLE = 'T'\ndef compute(ctx):\n    return 1\ndef render(r):\n    return '{}'\n"

    def version(render_text, compute_value=1):
        module = types.ModuleType("x")
        module.__file__ = "x.py"
        code = source.format(render_text).replace("return 1", f"return {compute_value}")
        import linecache

        linecache.cache["x.py"] = (len(code), None, code.splitlines(True), "x.py")
        exec(compile(code, "x.py", "exec"), module.__dict__)
        return compute_version(module)

    assert version("old prose") == version("new prose")
    assert version("old prose") != version("old prose", compute_value=2)


def test_html_is_self_contained(quick_report):
    page = (quick_report / "index.html").read_text()
    for name in analyses.MODULES:
        assert f'id="{name}"' in page
    assert "src=\"http" not in page and "href=\"http" not in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == len(list((quick_report / "figures").glob("*.png")))
    assert len(list((quick_report / "figures").glob("*.svg"))) == len(images)  # every figure also as SVG
    assert 'id="glossary"' in page
    assert all(base64.b64decode(img)[:4] == b"\x89PNG" for img in images)


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
def test_page_renders_in_headless_chromium(quick_report, tmp_path):
    browser = _chromium()
    if browser is None:
        message = "Debian's chromium is not installed: apt-get install chromium (.ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; under CI=true this test is required")
        pytest.skip(message)
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    url = (quick_report / "index.html").as_uri()
    dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0
    for name in analyses.MODULES:
        assert f'id="{name}"' in dom.stdout
    assert dom.stdout.count("<img ") == len(list((quick_report / "figures").glob("*.png")))
    console_errors = [line for line in dom.stderr.splitlines()
                      if "CONSOLE" in line or "Uncaught" in line or "Failed to load resource" in line]
    assert console_errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    subprocess.run(flags + ["--window-size=1200,3000", f"--screenshot={shot}", url], capture_output=True,
                   timeout=120, check=True)
    assert shot.read_bytes()[:4] == b"\x89PNG"


def test_list_names_every_analysis(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in analyses.MODULES:
        assert name in out
    # read from source without importing: must be the modules' own questions
    assert analyses.questions() == {m.NAME: m.QUESTION for m in analyses.all_modules()}


@pytest.mark.parametrize("argv, setup, match", [
    (["run", "nope"], None, "unknown analysis 'nope'"),
    (["report", "--config", "cfg.toml"], "cfg.toml:[choosing_lambda\nn_lams = 3", "not valid TOML"),
    (["report", "--config", "cfg.toml"], "cfg.toml:[nope]\nx = 1\n", "neither seed, quick nor an analysis"),
    (["report", "--config", "cfg.toml"], "cfg.toml:[choosing_lambda]\nn_lamz = 3\n", "has no setting 'n_lamz'"),
    (["report", "--config", "cfg.toml"], "cfg.toml:[choosing_lambda]\nn_lams = 'many'\n", "must be a whole number"),
    (["report", "--config", "missing.toml"], None, "not found"),
    (["report", "--data", "bad.csv"], "bad.csv:a,b\n1,nan\n2,3\n3,4\n4,5\n5,6\n", "NaN"),
    (["report", "--data", "bad.npz"], "bad.npz", "one target per row"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, monkeypatch, capsys, argv, setup, match):
    monkeypatch.chdir(tmp_path)
    if setup == "bad.npz":
        np.savez(tmp_path / "bad.npz", X=np.ones((6, 2)), y=np.ones(5))
    elif setup:
        name, content = setup.split(":", 1)
        (tmp_path / name).write_text(content)
    previous_report(tmp_path / "out")
    assert main(argv + ["--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("bayeswd: error:") and "Traceback" not in err
    assert re.search(match, err), err
    assert (tmp_path / "out" / "index.html").read_text() == "previous report"


def test_atomic_directory_keeps_the_old_report_on_failure(tmp_path):
    target = previous_report(tmp_path / "report", "old")
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as staging:
            (staging / "index.html").write_text("half")
            raise RuntimeError("boom")
    assert (target / "index.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    with atomic_directory(target) as staging:
        (staging / "index.html").write_text("new")
    assert (target / "index.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_sigint_leaves_the_previous_report(tmp_path):
    out = previous_report(tmp_path / "out")
    proc = subprocess.Popen([sys.executable, "-m", "bayeswd.cli", "report", "--quick", "--no-cache", "--out", str(out)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(12)  # past start-up, inside the analyses
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert (out / "index.html").read_text() == "previous report"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []
