"""The documentation builds without a warning, and nothing points outside the repository."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mkdocs_build_strict(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "site" / "theory" / "index.html").is_file()
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "PriorRegressor" in api and "ridge_path" in api


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
