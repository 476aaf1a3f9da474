"""The documentation builds without a warning, and nothing points outside the repository."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs") / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def test_mkdocs_build_strict(site):
    assert (site / "theory" / "index.html").is_file()
    api = (site / "api" / "index.html").read_text()
    assert "PriorRegressor" in api and "ridge_path" in api


@pytest.mark.browser
def test_built_docs_render_math_offline_and_no_literal_roles(site):
    """In Chromium, from file:// and without network: the theory page shows MathML, not raw TeX; the API
    page shows no Sphinx role as text (each became a code span, linked where the API page has the name)."""
    import shutil

    from playwright.sync_api import sync_playwright

    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is not installed: apt-get install chromium")
        pytest.skip("Debian's chromium is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("http*://**", lambda route: route.abort())      # offline: nothing may be fetched
        page.goto((site / "theory" / "index.html").as_uri())
        text = page.locator("article").inner_text()
        assert "\\[" not in text and "\\(" not in text and "\\frac" not in text
        sizes = page.evaluate("[...document.querySelectorAll('article math')].map(m => m.getBoundingClientRect().height)")
        assert len(sizes) >= 5 and min(sizes) > 0
        page.goto((site / "api" / "index.html").as_uri())
        api = page.locator("article").inner_text()
        assert not re.search(r":(func|class|mod|meth|attr|data|obj|exc):", api), re.findall(r".{30}:func:.{30}", api)
        assert page.locator('article a[href*="#bayeswd."] code').count() > 0
        browser.close()


def test_no_reference_leaves_the_repository():
    """Users never see the authors' ../shared folder: the docs in docs/ carry the theory."""
    for path in [ROOT / "README.md", *ROOT.glob("bayeswd/**/*.py"), *ROOT.glob("analyses/*.py"),
                 *ROOT.glob("docs/*.md")]:
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "THEORY.md" not in text, path


def test_gallery_has_every_report_figure():
    """docs/gallery holds each figure the analyses draw (regenerate: uv run python docs/make_gallery.py)."""
    import re

    drawn = {name for path in ROOT.glob("analyses/*.py")
             for name in re.findall(r'draw\(\s*"([\w-]+)"', path.read_text(encoding="utf-8"))}
    shown = {p.stem for p in (ROOT / "docs" / "gallery").glob("*.svg")}
    assert drawn and drawn <= shown, sorted(drawn - shown)
