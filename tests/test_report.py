"""`bayeswd report` end to end: every analysis at quick size, reproducibility, the page in Chromium, bad input."""

import base64
import html
import json
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import previous_report, without_progress

from bayeswd import analyses
from bayeswd.cli import main
from bayeswd.protocol.cache import CacheWarning, ResultsCache
from bayeswd.protocol.results import Results
from bayeswd.output import atomic_directory

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
    cache = ResultsCache(tmp_path)
    results = Results({"a": 1}, 0, True, "d2l", True)
    cache.put("x", {"k": 1}, results)
    assert cache.get("x", {"k": 1}, Results) == results
    (tmp_path / f"{cache.key('x', {'k': 1})}.json").write_text("{not json")
    with pytest.warns(CacheWarning, match="malformed"):
        assert cache.get("x", {"k": 1}, Results) is None
    assert cache.get("x", {"k": 1, "code": "v2"}, Results) is None  # new code version (in the config): a miss


def test_editing_prose_reuses_the_cached_results(monkeypatch):
    """The cache key covers what compute reaches, found from its imports: a render function's text and a
    helper only render uses are not part of it; compute's code and the library code it calls are."""
    import linecache
    import sys
    import types

    from bayeswd.protocol.cache import code_version, dependencies

    source = ("import bayeswd\nNAME = 'x'\nTITLE = 'T'\ndef _caption():\n    return '{}'\n"
              "def compute(ctx):\n    return bayeswd.ridge(ctx.X, ctx.y, 1)\ndef render(r):\n    return _caption()\n")

    def version(caption, compute_line="return bayeswd.ridge(ctx.X, ctx.y, 1)"):
        name = "bayeswd.analyses._prose_test"
        code = source.format(caption).replace("return bayeswd.ridge(ctx.X, ctx.y, 1)", compute_line)
        module = types.ModuleType(name)
        module.__file__ = "/nonexistent/_prose_test.py"
        linecache.cache[module.__file__] = (len(code), None, code.splitlines(True), module.__file__)
        exec(compile(code, module.__file__, "exec"), module.__dict__)
        monkeypatch.setitem(sys.modules, name, module)
        return code_version(module), dependencies(module)

    old, deps = version("old prose")
    assert "bayeswd.ridge" in deps                        # followed from `bayeswd.ridge(...)`
    assert version("new prose")[0] == old
    assert version("old prose", "return bayeswd.ridge(ctx.X, ctx.y, 2)")[0] != old


@pytest.mark.parametrize("name", analyses.MODULES)
def test_results_depend_on_no_writer(name):
    """Every analysis's cache key comes from what its compute reaches: the library code it calls, never the
    writers, figures or CLI (editing those re-renders from the cache)."""
    from bayeswd.protocol.cache import dependencies

    reached = dependencies(analyses.load(name))
    assert f"bayeswd.analyses.{name}" in reached and "bayeswd.protocol.results" in reached
    writers = [m for m in reached if m.startswith(("bayeswd.report", "bayeswd.plot", "bayeswd.cli", "bayeswd.commands"))]
    assert not writers, writers
    if name in ("forum", "exercises", "d2l_reproduced", "choosing_lambda"):    # they train by gradient descent
        assert {"bayeswd.training.api", "bayeswd.training.step", "bayeswd.backend"} <= set(reached)


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


def test_answer_card_quotes_results_json(quick_report):
    """Every answer-card number is a value of results.json, at the path the card names."""
    data = json.loads((quick_report / "results.json").read_text())
    card = data["answer_card"]
    sources = [c["source"] for c in card]
    assert sum(s.startswith("d2l exercise") for s in sources) == 6
    assert sources.count("forum") >= 8 and sources.count("blog and notebook") >= 2
    for item in card:
        value = data["sections"][item["section"]]["results"]
        for key in item["path"]:
            value = value[key]
        assert value == item["value"], item
    page = (quick_report / "index.html").read_text()
    shown = re.findall(r'<li data-section="([^"]+)" data-path="([^"]+)" data-value="([^"]+)">', page)
    assert len(shown) == len(card)
    for (section, path, value), item in zip(shown, card):
        assert section == item["section"] and json.loads(html.unescape(path)) == item["path"]
        assert float(html.unescape(value)) == item["value"] or (value == "nan" and item["value"] is None)
        assert f'id="{section}"' in page      # its link lands on a section of the page


def _chromium():
    """Debian's Chromium for Playwright (its own browser download is not reachable here)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        message = "Debian's chromium is not installed: apt-get install chromium (.ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; under CI=true the browser tests are required")
        pytest.skip(message)
    return browser


@pytest.fixture(scope="module")
def browser_page():
    """A factory of Playwright pages on the system Chromium that record errors and outgoing requests."""
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])

        def open_page(url: str, width: int, height: int = 900):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.errors, page.requests = [], []
            page.on("pageerror", lambda err: page.errors.append(str(err)))
            page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
            page.on("request", lambda req: page.requests.append(req.url))
            page.goto(url)
            page.wait_for_selector('#ridge-slider[data-ready="1"]', state="attached")
            page.wait_for_selector('#prior-picture[data-ready="1"]', state="attached")
            return page

        yield open_page
        browser.close()


def _open_all(page):
    """Open every collapsed block, as a reader clicking through would."""
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


def _leaving(urls):
    """Requests that would leave the page: anything but the file itself and inline data."""
    return [u for u in urls if not (u.startswith("data:") or u.startswith("file:"))]


@pytest.mark.browser
def test_slider_matches_python_to_1e_10(quick_report, browser_page):
    section = json.loads((quick_report / "results.json").read_text())["sections"]["weight_decay_is_a_prior"]
    reference = section["results"]["slider_reference"]
    page = browser_page((quick_report / "index.html").as_uri(), 1280)
    _open_all(page)

    def shown(element_id):
        return float(page.locator(f"#{element_id}").get_attribute("data-value"))

    assert len(reference) >= 5
    for row in reference:
        # the sliders are log10 scales; moving them fires the same input events a user's drag does
        page.locator("#slider-lam").fill(repr(math.log10(row["lam"])))
        page.locator("#slider-init").fill(repr(math.log10(row["init_sd"])))
        assert shown("slider-lam-value") == pytest.approx(row["lam"], rel=1e-12)
        for key in ("val_mse", "w_norm", "dof", "init_part"):
            assert shown(f"out-{key}") == pytest.approx(row[key], rel=1e-10), (key, row["lam"])
        for j, sd in enumerate(row["pred_sd"]):
            assert shown(f"out-pred_sd-{j}") == pytest.approx(sd, rel=1e-10), ("pred_sd", j, row["lam"])
    # the marker follows λ on the loss curve
    assert float(page.locator("#ridge-slider-mark").get_attribute("cx")) > 0
    assert page.errors == [] and _leaving(page.requests) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-1280.png"), full_page=True)


@pytest.mark.browser
def test_sampler_control_matches_python(quick_report, browser_page):
    """The GD-as-sampler control recomputes the converged ensemble's spreads in the page; they equal the
    library's ensemble law (results.json) to 1e-10, and the drawn curve changes with the settings."""
    section = json.loads((quick_report / "results.json").read_text())["sections"]["gd_sampler"]
    reference = section["results"]["control_reference"]
    page = browser_page((quick_report / "index.html").as_uri(), 1280)
    page.wait_for_selector('#sampler-control[data-ready="1"]', state="attached")
    _open_all(page)

    def shown(element_id):
        return float(page.locator(f"#{element_id}").get_attribute("data-value"))

    assert len(reference) >= 8
    curves = set()
    for row in reference:
        page.locator("#sampler-decay").select_option(row["decay"])
        page.locator("#sampler-noise").set_checked(row["noise"])
        page.locator("#sampler-init").fill(repr(math.log10(row["init_sd"])))
        assert shown("sampler-init-value") == pytest.approx(row["init_sd"], rel=1e-12)
        assert shown("sampler-row") == pytest.approx(row["row_total_ratio"], rel=1e-10, abs=1e-12)
        assert shown("sampler-null") == pytest.approx(row["null_ratio"], rel=1e-10, abs=1e-12)
        exact = abs(row["row_total_ratio"] - 1) < 1e-9 and abs(row["null_ratio"] - 1) < 1e-9
        assert shown("sampler-verdict") == float(exact)
        curves.add(page.locator("#sampler-curve").get_attribute("points"))
    assert len(curves) >= 4            # the SVG is redrawn as the settings change
    assert page.errors == [] and _leaving(page.requests) == []


@pytest.mark.browser
def test_page_fits_a_phone_and_stays_offline(quick_report, browser_page):
    page = browser_page((quick_report / "index.html").as_uri(), 400, 800)
    for name in analyses.MODULES:
        assert page.locator(f"#{name}").count() == 1
    _open_all(page)
    assert page.locator("img").count() == len(list((quick_report / "figures").glob("*.png")))
    assert page.locator("math").count() > 5                      # the derivation is MathML, rendered in place
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    # wide tables scroll inside their own box instead of widening the page
    assert page.evaluate("""[...document.querySelectorAll('table')].every(t =>
        t.closest('.tablewrap, details') !== null)""")
    assert page.errors == [] and _leaving(page.requests) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-400.png"), full_page=True)


@pytest.mark.browser
def test_the_first_screen_teaches_and_the_picture_is_live(quick_report, browser_page):
    """At 1280 × 800 the first screen holds the boxed MathML formula and the 2-D picture; with every
    collapsed block closed the page reads in at most 4,000 words; the picture's sliders redraw the SVG and
    the MAPs the page computes equal Python's to 1e-10."""
    section = json.loads((quick_report / "results.json").read_text())["sections"]["weight_decay_is_a_prior"]
    checks = section["results"]["two_d"]["checks"]
    page = browser_page((quick_report / "index.html").as_uri(), 1280, 800)

    def on_first_screen(selector):
        return page.evaluate(f"""[...document.querySelectorAll({json.dumps(selector)})].some(e => {{
            const r = e.getBoundingClientRect(); return r.width > 0 && r.top >= 0 && r.bottom <= 800; }})""")

    assert page.evaluate("window.scrollY") == 0
    assert on_first_screen("header .formula math") and on_first_screen("header figure svg")
    words = page.evaluate("document.querySelector('main').innerText.split(/\\s+/).filter(w => w).length")
    assert 500 < words <= 4000, words
    assert page.locator("details[open]").count() == 0
    assert page.locator("#answers").is_visible() and page.locator("#reading").is_visible()

    def shown(element_id):
        return float(page.locator(f"#{element_id}").get_attribute("data-value"))

    drawn = set()
    for row in checks:
        page.locator("#pp-tau").fill(repr(math.log10(row["tau"])))
        page.locator("#pp-scale").fill(repr(math.log10(row["s"])))
        assert shown("pp-lam") == pytest.approx(row["lam"], rel=1e-12)
        assert shown("pp-alpha") == pytest.approx(row["alpha"], rel=1e-12)
        for j in range(2):
            assert shown(f"pp-g-w{j}") == pytest.approx(row["ridge_map"][j], rel=1e-10, abs=1e-12)
            assert shown(f"pp-l-w{j}") == pytest.approx(row["lasso_map"][j], rel=1e-10, abs=1e-12)
        assert shown("pp-l-zeros") == sum(v == 0 for v in row["lasso_map"])
        drawn.add(tuple(page.locator(f"#pp-{k}").get_attribute("d") for k in ("g-prior", "g-post", "l-prior", "l-lik")))
    assert len(drawn) == len(checks)          # every setting redraws the picture
    page.locator('#answers a[href="#forum"]').first.click()      # a card link into a collapsed appendix opens it
    assert page.locator("details#forum").get_attribute("open") is not None
    assert any(sum(v == 0 for v in row["lasso_map"]) == 1 for row in checks)   # a corner: one exact zero
    assert page.errors == [] and _leaving(page.requests) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "first-screen-1280.png"))


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
    (["report", "--data", "bad.csv"], "bad.csv:a,b\n1,nan\n2,3\n3,4\n4,5\n5,6\n", "missing or NA"),
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
    err = without_progress(capsys.readouterr().err)
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


def test_one_validation_optimal_and_one_loo_lambda_quoted(quick_report):
    """Every section quotes the same continuous optima; the grid points they replaced appear nowhere."""
    import bayeswd
    from bayeswd.analyses._common import VALIDATION_LAMS, fmt
    from bayeswd.ridge import best_lam, ridge_path

    sections = json.loads((quick_report / "results.json").read_text())["sections"]
    data = bayeswd.d2l_data(seed=0)
    X, y = data.X_train, data.y_train
    val = best_lam(X, y, "validation", X_val=data.X_val, y_val=data.y_val)
    loo = best_lam(X, y, "loo")
    quoted_val = {sections["choosing_lambda"]["results"]["best_val_lam"],
                  sections["exercises"]["results"]["optimal"]["val_lam"], sections["forum"]["results"]["best_ridge_lam"]}
    quoted_loo = {sections["choosing_lambda"]["results"]["marks"]["leave-one-out"],
                  sections["exercises"]["results"]["optimal"]["loo_lam"]}
    assert len(quoted_val) == 1 and quoted_val.pop() == pytest.approx(val, rel=1e-12)
    assert len(quoted_loo) == 1 and quoted_loo.pop() == pytest.approx(loo, rel=1e-12)
    text = (quick_report / "report.md").read_text()
    assert f"λ = {fmt(val)}" in text
    path = ridge_path(X, y, VALIDATION_LAMS)
    grid_val = VALIDATION_LAMS[np.argmin(np.mean((data.y_val - path.predict(data.X_val)) ** 2, axis=1))]
    for stale in {fmt(grid_val), fmt(path.best_loo_lam)} - {fmt(val), fmt(loo)}:
        assert f"λ = {stale}" not in text and f"λ ≈ {stale}" not in text, stale


def test_the_protocol_never_imports_the_writers():
    """bayeswd.protocol (context, settings, Results, cache) stands below the writers: no import of bayeswd.report."""
    import ast
    import pathlib

    import bayeswd.protocol

    for path in pathlib.Path(bayeswd.protocol.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(n.startswith("bayeswd.report") for n in names), (path.name, names)
