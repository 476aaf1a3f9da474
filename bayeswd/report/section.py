"""A Section: one question, its one-sentence answer, the numbers behind it, figures and text."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Figure:
    name: str            # file stem, letters/digits/_/- only
    caption: str
    png: bytes


@dataclass(frozen=True)
class Table:
    caption: str
    header: list[str]
    rows: list[list]


@dataclass(frozen=True)
class Section:
    """What an analysis returns. ``numbers`` holds every number the text quotes."""

    name: str
    title: str
    question: str
    answer: str
    numbers: dict
    text: str = ""
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    command: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict:
        out = asdict(self)
        out["numbers"] = to_plain(self.numbers)
        out["tables"] = [to_plain(asdict(t)) for t in self.tables]
        out["figures"] = [{"name": f.name, "caption": f.caption, "png": base64.b64encode(f.png).decode()}
                          for f in self.figures]
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Section":
        figures = [Figure(f["name"], f["caption"], base64.b64decode(f["png"])) for f in data["figures"]]
        tables = [Table(**t) for t in data["tables"]]
        return cls(**{**data, "figures": figures, "tables": tables})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json()))

    @classmethod
    def load(cls, path: Path) -> "Section":
        return cls.from_json(json.loads(path.read_text()))


def to_plain(value):
    """NumPy scalars and arrays → JSON-ready Python values (NaN/inf → None)."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist())
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if np.isfinite(value) else None
    return value
