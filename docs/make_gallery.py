"""Regenerate docs/gallery.md and docs/gallery/*.svg from a quick report.

    uv run python docs/make_gallery.py

The figures are those of ``bayeswd report --quick`` (seed 0, the built-in d2l data); each comes
with its caption and the section it belongs to. Rerun after changing a figure.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        subprocess.run([sys.executable, "-m", "bayeswd", "report", "--quick", "--quiet", "--out", str(out)], check=True)
        report = (out / "report.md").read_text(encoding="utf-8")
        gallery = DOCS / "gallery"
        shutil.rmtree(gallery, ignore_errors=True)
        gallery.mkdir()
        lines = ["# Gallery", "",
                 "The figures of `bayeswd report --quick` (seed 0, the built-in d2l data), each drawn by a function "
                 "of `bayeswd.plot`. Regenerate with `uv run python docs/make_gallery.py`.", ""]
        section = None
        for line in report.splitlines():
            if line.startswith("## ") and line != "## Contents":
                section = line[3:]
            match = re.fullmatch(r"!\[(.*)\]\(figures/([\w-]+)\.png\)", line)
            if match and section:
                caption, name = match.groups()
                shutil.copy(out / "figures" / f"{name}.svg", gallery / f"{name}.svg")
                lines += [f"## {section}", "", f"![{caption}](gallery/{name}.svg)", "", f"*{caption}*", ""]
        (DOCS / "gallery.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
