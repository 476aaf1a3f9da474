"""Every public name is documented with numpydoc sections that name its actual parameters.

The public names are ``bayeswd.__all__``, the ``__all__`` of each public module, and every member the
API page (docs/api.md) renders. A function needs a Parameters section (when it takes any) listing each
parameter, and a Returns (or Yields) section; a class needs Parameters or Attributes listing its fields.
"""

import dataclasses
import importlib
import inspect
import re
from pathlib import Path

import pytest

import bayeswd

ROOT = Path(__file__).resolve().parents[1]
API = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
# The modules a user imports from; each must appear on the API page.
PUBLIC_MODULES = ["bayeswd.data", "bayeswd.streams", "bayeswd.ridge", "bayeswd.sparse", "bayeswd.gaussian",
                  "bayeswd.inference", "bayeswd.models", "bayeswd.samplers", "bayeswd.ensembles", "bayeswd.objective",
                  "bayeswd.subspace", "bayeswd.estimator", "bayeswd.conventions", "bayeswd.implied",
                  "bayeswd.theory", "bayeswd.plot", "bayeswd.exceptions"]


def _page_blocks():
    """(module, members or None) for each ``::: module`` block of the API page."""
    for match in re.finditer(r"^::: ([\w.]+)\n((?:    .*\n)*)", API, flags=re.M):
        members = re.search(r"members: \[([^\]]*)\]", match.group(2).replace("\n", " "))
        yield match.group(1), None if members is None else [m.strip() for m in members.group(1).split(",")]


def _documented():
    names = {("bayeswd", n) for n in bayeswd.__all__ if n != "__version__"}
    for module in PUBLIC_MODULES:
        names |= {(module, n) for n in importlib.import_module(module).__all__}
    for module, members in _page_blocks():
        names |= {(module, n) for n in (members or importlib.import_module(module).__all__)}
    return sorted(names)


def _section(doc: str, title: str) -> str | None:
    """The body of a numpydoc section, up to the next section header."""
    found = re.search(rf"^{title}\n-{{{len(title)}}}\n(.*?)(?=^\w[\w ]*\n-{{3,}}\n|\Z)", doc, flags=re.M | re.S)
    return None if found is None else found.group(1)


def _listed(section: str) -> set[str]:
    """Parameter names of a section's entry lines: ``a : type`` or ``a, b : type`` or ``*index : int``."""
    names = set()
    for line in section.splitlines():
        entry = re.match(r"^([*\w][\w, *]*?)(?: : .*)?$", line)
        if entry and not line.startswith(" "):
            names |= {n.strip().lstrip("*") for n in entry.group(1).split(",")}
    return names


def test_every_public_module_is_on_the_api_page():
    on_page = {module for module, _ in _page_blocks()}
    assert not set(PUBLIC_MODULES) - on_page, sorted(set(PUBLIC_MODULES) - on_page)


@pytest.mark.parametrize("module, name", _documented(), ids=lambda v: v)
def test_public_name_has_numpydoc_sections(module, name):
    obj = getattr(importlib.import_module(module), name)
    if not callable(obj):
        return                                             # a constant: its comment in the source is its doc
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{module}.{name} has no docstring"
    summary = doc.split("\n\n")[0]
    assert not re.match(r"^\w+\(.*\)$", summary), f"{module}.{name}: the docstring is the generated signature"
    if inspect.isclass(obj):
        if dataclasses.is_dataclass(obj):
            wanted = {f.name for f in dataclasses.fields(obj) if not f.name.startswith("_")}
        elif issubclass(obj, BaseException) and not any("__init__" in vars(c) for c in obj.__mro__ if c.__module__.startswith("bayeswd")):
            wanted = set()                                 # an exception that takes only its message
        else:
            wanted = {p for p in inspect.signature(obj).parameters if p not in ("args", "kwargs")}
        if wanted:
            section = _section(doc, "Parameters") or _section(doc, "Attributes")
            assert section is not None, f"{module}.{name} has no Parameters or Attributes section"
            assert wanted <= _listed(section), f"{module}.{name} leaves out {sorted(wanted - _listed(section))}"
        return
    wanted = {p.name for p in inspect.signature(obj).parameters.values()
              if p.kind is not inspect.Parameter.VAR_KEYWORD or p.name != "kwargs"}
    wanted.discard("self")
    if wanted:
        section = _section(doc, "Parameters")
        assert section is not None, f"{module}.{name} has no Parameters section"
        assert wanted <= _listed(section), f"{module}.{name} leaves out {sorted(wanted - _listed(section))}"
    assert _section(doc, "Returns") is not None or _section(doc, "Yields") is not None, \
        f"{module}.{name} has no Returns section"
