"""On-disk cache of analysis Sections, keyed by analysis, config and code version.

A corrupt or unreadable entry is treated as missing and recomputed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bayeswd.report.atomic import write_text_atomic
from bayeswd.report.section import Section


def code_version(*packages) -> str:
    """SHA-256 over the source files of the given packages (modules), so any edit invalidates."""
    digest = hashlib.sha256()
    for package in packages:
        root = Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class SectionCache:
    def __init__(self, folder: Path, version: str, enabled: bool = True):
        self.folder = Path(folder)
        self.version = version
        self.enabled = enabled

    def key(self, name: str, config: dict) -> str:
        blob = json.dumps({"name": name, "config": config, "version": self.version}, sort_keys=True, default=str)
        return f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:20]}"

    def get(self, name: str, config: dict) -> Section | None:
        if not self.enabled:
            return None
        path = self.folder / f"{self.key(name, config)}.json"
        try:
            return Section.load(path)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or corrupt: recompute

    def put(self, name: str, config: dict, section: Section) -> None:
        if not self.enabled:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.folder / f"{self.key(name, config)}.json", json.dumps(section.to_json()))
