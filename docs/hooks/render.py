"""mkdocs hook: math rendered at build time, Sphinx-style roles turned into links.

The built site needs no network: arithmatex's ``\\(…\\)`` and ``\\[…\\]`` become MathML (latex2mathml, as in
the report) instead of waiting for a MathJax script the site would have to download. Docstrings written
with ``:func:`name``` roles (which mkdocstrings shows as literal text) become code spans linking to the
name's entry on the API page when it has one.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

_BLOCK = re.compile(r'<div class="arithmatex">\\\[(.+?)\\\]</div>', re.S)
_INLINE = re.compile(r'<span class="arithmatex">\\\((.+?)\\\)</span>', re.S)
_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|obj|exc):<code>~?([\w.]+)</code>")


def _math(match, display: str) -> str:
    return convert(html.unescape(match.group(1)).strip(), display=display)


def _role(match, anchors: set[str]) -> str:
    name = match.group(1)
    target = next((a for a in (name, f"bayeswd.{name}") if a in anchors), None)
    code = f"<code>{html.escape(name)}</code>"
    return f'<a href="../api/#{target}">{code}</a>' if target else code


def on_page_content(content: str, page, config, files) -> str:
    content = _BLOCK.sub(lambda m: _math(m, "block"), content)
    content = _INLINE.sub(lambda m: _math(m, "inline"), content)
    anchors = set(re.findall(r'id="(bayeswd[\w.]*)"', content))
    return _ROLE.sub(lambda m: _role(m, anchors), content)
