"""Report writers: Sections in, HTML / Markdown / JSON out. Knows nothing of which analysis made them."""

from bayeswd.report.section import Figure, Section, Table

__all__ = ["Figure", "Section", "Table"]
