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

import hashlib
import json
import warnings
from pathlib import Path

from bayeswd.report.output import write_text_atomic

__all__ = ["CacheWarning", "ResultsCache", "code_version", "default_cache_dir"]

_FORMAT = 3


class CacheWarning(UserWarning):
    """The cache could not be used, or one of its entries was damaged; the result was recomputed."""


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bayeswd", appauthor=False)) / "results"


def code_version(*packages, exclude: tuple[str, ...] = ()) -> str:
    """SHA-256 over the source files of the given packages, so any edit invalidates; files whose
    path relative to a package starts with one of ``exclude`` are left out."""
    digest = hashlib.sha256()
    for package in packages:
        root = Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative.startswith(exclude):
                continue
            digest.update(relative.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


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
        # ``config`` carries the code version (bayeswd.commands.compute_version) beside the settings.
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
