"""Every fenced Python block of README.md runs, in order, in one namespace, as a reader would paste them.

Only what cannot run here is swapped, each by a fixed text replacement that must match: the Dask
scheduler address becomes a 2-worker LocalCluster, the 10⁶-model sweep a small one, and the Zarr store
lands in a temporary folder.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SWAPS = {
    'Client("tcp://scheduler:8786")': "Client(LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None))",
    "np.linspace(0, 10, 4096)": "np.linspace(0, 10, 8)",
    "seed=range(244)": "seed=range(3)",
    'store="sweep.zarr"': "store=str(STORE)",
}


def _blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"), re.M | re.S)


def test_every_readme_python_block_runs(tmp_path, monkeypatch):
    blocks = _blocks()
    assert len(blocks) >= 3
    joined = "\n".join(blocks)
    for old in SWAPS:
        assert old in joined, f"README no longer contains {old!r}: update SWAPS"
    monkeypatch.chdir(tmp_path)
    from dask.distributed import LocalCluster

    scope = {"LocalCluster": LocalCluster, "STORE": tmp_path / "sweep.zarr", "__name__": "__readme__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # sampler and cluster start-up chatter is not what is tested
        for i, block in enumerate(blocks, 1):
            for old, new in SWAPS.items():
                block = block.replace(old, new)
            exec(compile(block, f"README.md block {i}", "exec"), scope)
    client = scope["client"]
    cluster = client.cluster
    assert (tmp_path / "sweep.zarr").exists() and scope["run"].result is not None
    client.close()
    cluster.close()


def test_every_python_block_of_the_docs_runs(tmp_path, monkeypatch):
    """The same for the documentation pages: each page's blocks in order, in one namespace."""
    monkeypatch.chdir(tmp_path)
    pages = sorted((ROOT / "docs").glob("*.md"))
    ran = 0
    for page in pages:
        scope = {"__name__": "__docs__"}
        blocks = re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.M | re.S)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, block in enumerate(blocks, 1):
                exec(compile(block, f"{page.name} block {i}", "exec"), scope)
                ran += 1
    assert ran >= 1
