"""On-disk cache of analysis Sections, keyed by analysis, settings and code version.

Lives in the user cache folder (``platformdirs``) unless told otherwise. Every entry
carries a SHA-256 of its content and is checked on read (format, key, checksum, field
types, figure names): a damaged or edited entry is never shown — it is recomputed, with a
:class:`CacheWarning`. A cache folder that cannot be used (a file, read-only) gives one
warning and the run goes on without a cache.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

from bayeswd.report.output import write_text_atomic
from bayeswd.report.section import Section

__all__ = ["CacheWarning", "SectionCache", "code_version", "default_cache_dir"]

_FORMAT = 2


class CacheWarning(UserWarning):
    """The cache could not be used, or one of its entries was damaged; the result was recomputed."""


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bayeswd", appauthor=False)) / "sections"


def code_version(*packages) -> str:
    """SHA-256 over the source files of the given packages (modules), so any edit invalidates."""
    digest = hashlib.sha256()
    for package in packages:
        root = Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _checksum(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class SectionCache:
    def __init__(self, folder: Path | None, version: str, enabled: bool = True):
        self.folder = Path(folder) if folder is not None else default_cache_dir()
        self.version = version
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
        blob = json.dumps({"name": name, "config": config, "version": self.version}, sort_keys=True, default=str)
        return f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:20]}"

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, name: str, config: dict) -> Section | None:
        """The cached Section, or None when there is none or it failed a check (then a warning)."""
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
            if entry.get("sha256") != _checksum(entry.get("section")):
                return self._reject(path, "its content does not match its checksum (edited or truncated)")
            section = Section.from_json(entry["section"])
        except (ValueError, TypeError, KeyError) as err:
            return self._reject(path, f"it is malformed ({err})")
        if section.name != name:
            return self._reject(path, f"it holds section {section.name!r}, not {name!r}")
        return section

    def _reject(self, path: Path, why: str) -> None:
        warnings.warn(f"cache entry {path.name} was not used: {why}; recomputing it", CacheWarning, stacklevel=3)
        return None

    def put(self, name: str, config: dict, section: Section) -> None:
        if not self.enabled:
            return
        key = self.key(name, config)
        payload = section.to_json()
        entry = {"format": _FORMAT, "key": key, "sha256": _checksum(payload), "section": payload}
        try:
            write_text_atomic(self._path(key), json.dumps(entry))
        except OSError as err:
            warnings.warn(f"could not write the cache entry for {name} ({err.strerror or err}); the result is "
                          "used but not cached", CacheWarning, stacklevel=2)
