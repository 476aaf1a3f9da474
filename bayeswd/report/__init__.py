"""Report writers: Sections in, HTML / Markdown / JSON out. Knows nothing of which analysis made them.

The analysis protocol they render (context, settings, Results, the cache) is :mod:`bayeswd.protocol`;
the output folder's safe writing is :mod:`bayeswd.output`.
"""

from bayeswd.report.section import Figure, Section, Table

__all__ = ["Figure", "Section", "Table"]
