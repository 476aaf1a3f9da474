"""Each analysis is also a runnable script with --help (numpyro's examples habit)."""

import subprocess
import sys
from pathlib import Path

from bayeswd import analyses

ROOT = Path(__file__).resolve().parents[1]


def test_scripts_expose_the_report_function():
    for module in analyses.all_modules():
        assert callable(module.compute) and callable(module.render) and module.NAME in analyses.MODULES
        assert (ROOT / "analyses" / f"{module.NAME}.py").exists()


def test_a_script_runs_standalone_with_help():
    out = subprocess.run([sys.executable, str(ROOT / "analyses" / "exercises.py"), "--help"], capture_output=True,
                         text=True, check=True, cwd=ROOT / "analyses")
    assert "--quick" in out.stdout and "--wd" in out.stdout
