import subprocess
import sys

import pytest

from bayeswd import __version__
from bayeswd.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_help_lists_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("report", "run", "list"):
        assert command in out


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "bayeswd.cli", "--help"], capture_output=True, text=True, check=True)
    assert "report" in out.stdout


def test_import_bayeswd_is_light():
    """`import bayeswd` and the closed forms leave JAX, PyMC and ArviZ unimported (and JAX's flags untouched);
    `bayeswd --help` and `bayeswd list` need none of them either."""
    code = ("import sys, numpy as np, bayeswd\n"
            "bayeswd.ridge(np.eye(3), np.ones(3), 1.0); bayeswd.implied_prior('pytorch', 'sgd', 1e-3, n=20)\n"
            "print(sorted(m for m in ('jax', 'pymc', 'pytensor', 'arviz') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out
    for argv in (["--help"], ["list"]):
        code = ("import sys, runpy; sys.argv = ['bayeswd', *%r]\n"
                "try:\n    runpy.run_module('bayeswd', run_name='__main__')\nexcept SystemExit:\n    pass\n"
                "print(sorted(m for m in ('jax', 'pymc', 'pytensor', 'arviz') if m in sys.modules), file=sys.stderr)"
                % argv)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stderr.strip() == "[]", (argv, out.stderr)


def test_public_names_are_the_functions_even_after_submodule_imports():
    # A submodule named like a public function would shadow it once imported (bayeswd.train used to).
    import importlib

    import bayeswd

    for module in ("bayeswd.training", "bayeswd.sparse", "bayeswd.inference", "bayeswd.subspace"):
        importlib.import_module(module)
    for name in bayeswd.__all__:
        if name != "__version__" and name != "Dataset":
            assert callable(getattr(bayeswd, name)) and not isinstance(getattr(bayeswd, name), type(bayeswd)), name


def test_unreachable_scheduler_is_one_line_before_any_computing(tmp_path, capsys):
    pytest.importorskip("dask.distributed", reason="the 'distributed' extra is not installed")
    status = main(["run", "when_decay_matters", "--quick", "--no-cache", "--scheduler", "tcp://127.0.0.1:9",
                   "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and "cannot reach a Dask scheduler" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_missing_extra_is_one_line_naming_it():
    """Without scikit-learn, bayeswd.PriorRegressor says which extra to install (an ImportError, one line)."""
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "import bayeswd\n"
            "try:\n    bayeswd.PriorRegressor\nexcept ImportError as err:\n    print(err)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "bayeswd.PriorRegressor needs sklearn: pip install 'bayeswd[sklearn]'", out
