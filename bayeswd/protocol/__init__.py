"""The analysis protocol: what an analysis of ``bayeswd report`` is given and what it returns.

An analysis module (``bayeswd.analyses``, whose ``__init__`` is the registry: the report's order,
``load(name)``) defines typed SETTINGS (:mod:`~bayeswd.protocol.settings`), a
``compute(ctx) -> Results`` on a :class:`~bayeswd.protocol.context.Context`, and a
:class:`~bayeswd.protocol.results.Results` subclass that survives a JSON round trip; the
:mod:`~bayeswd.protocol.cache` keeps Results under a key made of the settings, the data and the
code ``compute`` reaches. Rendering Results into pages is the writers' business (:mod:`bayeswd.report`),
which this package never imports.
"""
