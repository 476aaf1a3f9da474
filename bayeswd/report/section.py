"""A Section: one question, its one-sentence answer, the numbers behind it, figures and text."""

from __future__ import annotations

import base64
import re
from dataclasses import asdict, dataclass, field, fields, replace

from bayeswd.protocol.results import to_plain


_FIGURE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Figure:
    name: str            # file stem: letters, digits, '_' and '-' only, so it cannot leave figures/
    caption: str
    png: bytes
    svg: bytes = b""     # the same figure as SVG, written beside the PNG

    def __post_init__(self):
        if not isinstance(self.name, str) or not _FIGURE_NAME.fullmatch(self.name):
            raise ValueError(f"figure name {self.name!r} must be 1-64 letters, digits, '_' or '-'")
        if not isinstance(self.caption, str):
            raise ValueError(f"figure {self.name!r} needs a text caption")
        if not isinstance(self.png, bytes) or not self.png.startswith(_PNG_MAGIC):
            raise ValueError(f"figure {self.name!r} is not PNG data")
        if not isinstance(self.svg, bytes) or (self.svg and b"<svg" not in self.svg[:2000]):
            raise ValueError(f"figure {self.name!r}: its SVG is not SVG data")


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
    html: str = ""       # an interactive block for index.html only (see bayeswd.report.widgets)
    lead: str = ""       # the first screen's interactive picture, index.html only (one section has it)

    def with_html(self, block: str, lead: str = "") -> "Section":
        return replace(self, html=block, lead=lead)

    def to_json(self) -> dict:
        out = asdict(self)
        out["numbers"] = to_plain(self.numbers)
        out["tables"] = [to_plain(asdict(t)) for t in self.tables]
        out["figures"] = [{"name": f.name, "caption": f.caption, "png": base64.b64encode(f.png).decode(),
                           "svg": base64.b64encode(f.svg).decode()} for f in self.figures]
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Section":
        """Rebuild a Section, checking every field's type; a malformed one raises ValueError."""
        if not isinstance(data, dict) or set(data) != {f.name for f in fields(cls)}:
            raise ValueError("a section needs exactly the fields " + ", ".join(f.name for f in fields(cls)))
        for name in ("name", "title", "question", "answer", "text", "command", "html", "lead"):
            if not isinstance(data[name], str):
                raise ValueError(f"section field {name!r} must be text")
        if not isinstance(data["numbers"], dict) or not isinstance(data["seconds"], (int, float)):
            raise ValueError("section numbers must be a mapping and seconds a number")
        if not isinstance(data["figures"], list) or not isinstance(data["tables"], list):
            raise ValueError("section figures and tables must be lists")
        try:
            figures = [Figure(f["name"], f["caption"], base64.b64decode(f["png"], validate=True),
                              base64.b64decode(f.get("svg", ""), validate=True)) for f in data["figures"]]
            tables = [Table(t["caption"], list(t["header"]), [list(r) for r in t["rows"]]) for t in data["tables"]]
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"malformed figure or table ({err})") from None
        return cls(**{**data, "figures": figures, "tables": tables})
