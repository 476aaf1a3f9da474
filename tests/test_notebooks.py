"""The teaching notebooks (Jupytext percent scripts in notebooks/) run top to bottom in a real kernel."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


def test_there_are_the_teaching_notebooks():
    assert {p.stem for p in NOTEBOOKS} >= {"weight_decay_is_a_prior", "init_you_cannot_forget", "choosing_lambda",
                                           "the_bayesian_view"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, monkeypatch):
    import jupytext
    from nbclient import NotebookClient

    monkeypatch.setenv("BAYESWD_NOTEBOOK_SMALL", "1")     # the kernel inherits it: small sizes
    notebook = jupytext.read(path)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    errors = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert errors == []
    images = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
              if "image/png" in out.get("data", {})]
    assert images, "every teaching notebook draws at least one figure"
