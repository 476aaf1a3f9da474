"""On-disk cache of analysis Results, keyed by analysis, settings, data and code version.

It keeps what ``compute`` returned, not the rendered Section: changing prose or a figure
recomputes nothing.

Lives in the user cache folder (``platformdirs``) unless told otherwise. Every entry
carries a SHA-256 of its content and is checked on read (format, key, checksum, and the
Results class's own field check): a damaged entry, or one edited without rewriting its checksum, is
recomputed, with a :class:`CacheWarning`. The checksum guards against corruption, not against an
editor who also recomputes it. A cache folder that cannot be used (a file, read-only) gives one
warning and the run goes on without a cache.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import json
import warnings
from pathlib import Path

from bayeswd.output import write_text_atomic

__all__ = ["CacheWarning", "ResultsCache", "code_version", "dependencies", "default_cache_dir"]

_FORMAT = 3


class CacheWarning(UserWarning):
    """The cache could not be used, or one of its entries was damaged; the result was recomputed."""


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bayeswd", appauthor=False)) / "results"


def code_version(module) -> str:
    """A hash of the code the Results of the analysis ``module`` depend on (:func:`dependencies`)."""
    digest = hashlib.sha256()
    for name, parts in sorted(dependencies(module).items()):
        digest.update(name.encode())
        for part in parts:
            digest.update(part.encode())
    return digest.hexdigest()[:16]


def dependencies(module) -> dict[str, list[str]]:
    """What ``compute`` of an analysis reaches, found from its imports: module name → source parts.

    In the analysis's own package (its module and helpers beside it) only the top-level definitions
    reachable from ``compute``, ``SETTINGS`` and ``QUICK`` count — so a ``render`` function's prose, or a helper only
    ``render`` uses, is not part of the key — and each import they use is followed to what it names.
    A library module counts whole, with every bayeswd module it imports (at the top or inside a
    function), transitively. Nothing is listed by hand: a writer never appears because ``compute``
    never reaches one (``tests/test_report.py`` checks that for every analysis).
    """
    found: dict[str, list[str]] = {}
    package = module.__name__.rpartition(".")[0] + "."
    _reach_definitions(module.__name__, ("compute", "SETTINGS", "QUICK"), found, package)
    return found


def _source_tree(name: str):

    module = importlib.import_module(name)
    source = inspect.getsource(module)
    return module, source, _parse(source)


# Every analysis reaches most library modules: parse each source once per process (keyed by the text,
# so an edited module is parsed again).
_parse = functools.lru_cache(maxsize=256)(ast.parse)


def _reach_definitions(name: str, roots, found: dict, package: str) -> None:
    """Add the definitions of ``roots`` in the analysis module ``name`` and all they reach."""
    module, _, tree = _source_tree(name)
    defined, imported = {}, {}
    for node in tree.body:
        for bound in _bound_names(node):
            defined.setdefault(bound, []).append(node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported.update(_import_bindings(node, module))
    parts = found.setdefault(name, [])
    used_anywhere = {used for used, _ in _references(tree)}
    for bound, (target, member) in imported.items():
        if bound not in used_anywhere and _is_module(target, member):   # a module imported for its side
            _reach_import(target, member, None, found, package)         # effect (float64 JAX, say) counts
    todo, done = list(roots), set()
    while todo:
        current = todo.pop()
        if current in done:
            continue
        done.add(current)
        if current in imported and current not in defined:     # a name this module imports and passes on
            _reach_import(*imported[current], None, found, package)
        if current in defined:
            for node in defined[current]:
                text = ast.dump(node)
                if text in parts:       # reached before (through another name, or a cycle)
                    continue
                parts.append(text)
                local = dict(imported)
                for inner in ast.walk(node):       # imports inside a function count where they are used
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        local.update(_import_bindings(inner, module))
                for used, attribute in _references(node):
                    if used in local:
                        _reach_import(*local[used], attribute, found, package)
                    else:
                        todo.append(used)
    parts.sort()


def _reach_import(target: str, member: str | None, attribute: str | None, found: dict, package: str) -> None:
    """Follow an import to the code it names: ``member`` of module ``target`` (``from target import
    member``), or the ``attribute`` the code reads from ``target`` (``import target``; ``target.attribute``)."""
    if not target.startswith("bayeswd"):
        return
    name = member if member is not None else attribute
    if target.startswith(package):  # a helper beside the analysis: the definitions used, not all of it
        if name is not None:
            _reach_definitions(target, (name,), found, package)
        return
    value = getattr(importlib.import_module(target), name, None) if name is not None else None
    if inspect.ismodule(value):     # a submodule
        return _reach_module(value.__name__, found, package)
    owner = getattr(value, "__module__", None)
    if isinstance(owner, str) and owner.startswith("bayeswd") and owner != target:   # re-exported
        if owner.startswith(package):
            return _reach_definitions(owner, (name,), found, package)
        return _reach_module(owner, found, package)
    _reach_module(target, found, package)


def _reach_module(name: str, found: dict, package: str) -> None:
    """A library module, whole, and every bayeswd module it imports."""
    if name in found or not name.startswith("bayeswd") or name.startswith(package):
        return
    module, source, tree = _source_tree(name)
    found[name] = [source]
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for target, member in _import_bindings(node, module).values():
                _reach_import(target, member, None, found, package)


def _is_module(target: str, member: str | None) -> bool:

    if member is None or not target.startswith("bayeswd"):
        return target.startswith("bayeswd")
    return inspect.ismodule(getattr(importlib.import_module(target), member, None))


def _import_bindings(node, module) -> dict:
    """local name → (module, member or None) for one import statement of ``module``."""
    if isinstance(node, ast.Import):
        return {(alias.asname or alias.name.split(".")[0]): ((alias.name if alias.asname else
                                                               alias.name.split(".")[0]), None)
                for alias in node.names}
    base = node.module or ""
    if node.level:          # relative: resolve against the importing module's package
        package = module.__name__.rsplit(".", node.level)[0]
        base = f"{package}.{base}" if base else package
    return {(alias.asname or alias.name): (base, alias.name) for alias in node.names if alias.name != "*"}


def _bound_names(node) -> list[str]:

    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def _references(node):
    """(name, attribute read from it or None) for every name ``node`` reads."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name):
            yield inner.value.id, inner.attr
        elif isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load):
            yield inner.id, None


def _checksum(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class ResultsCache:
    def __init__(self, folder: Path | None, enabled: bool = True):
        self.folder = Path(folder) if folder is not None else default_cache_dir()
        self.enabled = enabled and self._usable()

    def _usable(self) -> bool:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / ".probe"
            write_text_atomic(probe, "")
            probe.unlink()
        except OSError as err:
            warnings.warn(f"cache folder {self.folder} cannot be used ({err.strerror or err}); running without a "
                          "cache — pass --cache-dir DIR or --no-cache", CacheWarning, stacklevel=3)
            return False
        return True

    def key(self, name: str, config: dict) -> str:
        # ``config`` carries the code version (code_version, from what compute reaches) beside the settings.
        blob = json.dumps({"name": name, "config": config}, sort_keys=True, default=str)
        return f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:20]}"

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, name: str, config: dict, results_type):
        """The cached ``results_type`` instance, or None when there is none or it failed a check (then a warning)."""
        if not self.enabled:
            return None
        key = self.key(name, config)
        path = self._path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as err:
            return self._reject(path, f"it cannot be read ({err})")
        try:
            entry = json.loads(text)
            if not isinstance(entry, dict) or entry.get("format") != _FORMAT or entry.get("key") != key:
                return self._reject(path, "it was written for another key or format")
            if entry.get("sha256") != _checksum(entry.get("results")):
                return self._reject(path, "its content does not match its checksum (edited or truncated)")
            if entry.get("analysis") != name:
                return self._reject(path, f"it holds results of {entry.get('analysis')!r}, not {name!r}")
            return results_type.from_json(entry["results"])
        except (ValueError, TypeError, KeyError) as err:
            return self._reject(path, f"it is malformed ({err})")

    def _reject(self, path: Path, why: str) -> None:
        warnings.warn(f"cache entry {path.name} was not used: {why}; recomputing it", CacheWarning, stacklevel=3)
        return None

    def put(self, name: str, config: dict, results) -> None:
        if not self.enabled:
            return
        key = self.key(name, config)
        payload = results.to_json()
        entry = {"format": _FORMAT, "key": key, "analysis": name, "sha256": _checksum(payload), "results": payload}
        try:
            write_text_atomic(self._path(key), json.dumps(entry))
        except OSError as err:
            warnings.warn(f"could not write the cache entry for {name} ({err.strerror or err}); the result is "
                          "used but not cached", CacheWarning, stacklevel=2)
