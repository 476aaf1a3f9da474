"""Turn Sections into index.html (self-contained), report.md + figures/ (PNG and SVG), and results.json."""

from __future__ import annotations

import base64
import functools
import html
import json
import re
from pathlib import Path

from bayeswd.protocol.results import to_plain
from bayeswd.report.section import Section, Table

_CSS = """
body{font:16px/1.55 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:980px;margin:0 auto;padding:24px 28px 80px;background:#fff}
h1{font-size:1.9em;margin:.2em 0}h2{margin-top:2.2em;border-bottom:2px solid #e5e5ea;padding-bottom:.2em}
.question{font-style:italic;color:#444}.answer{background:#eef6ff;border-left:4px solid #2f6fde;padding:.6em .9em;
margin:.8em 0}figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #e5e5ea}
figcaption{font-size:.9em;color:#555}table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
td,th{border:1px solid #ddd;padding:.3em .6em;text-align:right}th{background:#f2f2f7}td:first-child,th:first-child{text-align:left}
code,pre{background:#f2f2f7;border-radius:4px;padding:.1em .35em;font-size:.9em}pre{padding:.6em;overflow-x:auto}
nav{background:#f7f7fa;border:1px solid #e5e5ea;padding:.6em 1.2em;margin:1em 0}.meta{color:#555;font-size:.9em}
ul.toc{list-style:none;padding-left:.4em}details>table{display:block;overflow-x:auto;max-width:100%}li.appx{color:#555}header.lead h1{font-size:2.1em;margin:.1em 0 .3em}
.lesson{font-size:1.08em}.formula{border:2px solid #2f6fde;border-radius:6px;padding:.2em .9em;margin:.6em 0;display:inline-block}
.formula math{font-size:1.5em}.pp-panels{display:flex;flex-wrap:wrap;gap:10px}.pp-panel{margin:0;flex:1 1 260px;max-width:330px}
.pp-panel svg{width:100%;height:auto}.pp-legend{font-size:.85em;margin:.3em 0}.picture label{font-size:.92em}
details.appendix>summary h2,details#glossary>summary h2{display:inline;border:0}details.appendix{border-top:1px solid #e5e5ea;padding:.3em 0}
footer{margin-top:2em;border-top:1px solid #e5e5ea;padding-top:.6em}ul.card{padding-left:1.1em}ul.card li{margin:.45em 0}.howto{background:#f7f7fa;padding:.6em .9em;border-radius:4px}ul.toc li{margin:.25em 0}details{margin:.6em 0}summary{cursor:pointer;color:#2f6fde}dt{font-weight:600;margin-top:.5em}dd{margin-left:1.2em}
.tablewrap{overflow-x:auto;max-width:100%}.math{overflow-x:auto;max-width:100%;margin:.6em 0}math{font-size:1.08em}
.slider{border:1px solid #cfd8e6;background:#f7faff;border-radius:6px;padding:.6em .9em;margin:1em 0}
.slider label{display:block;margin:.3em 0}.slider input[type=range]{width:min(420px,100%);vertical-align:middle}
.slider-plot{width:100%;max-width:480px;display:block}output{font-variant-numeric:tabular-nums}
img,svg{max-width:100%;height:auto}code{overflow-wrap:anywhere}.tablecaption{font-size:.9em;color:#555;margin:.8em 0 .2em}
@media (max-width:600px){main{padding:12px 10px 60px}body{font-size:15px}table{font-size:.8em}}
"""


def _math(latex: str, display: str = "inline") -> str:
    """LaTeX → MathML at build time: no JavaScript and no network in the page."""
    from latex2mathml.converter import convert

    return convert(latex, display=display)


# $$display$$ and $inline$ math; code spans are split off first, so a '$' in code stays literal.
_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+)\$", re.S)
_MATH_TOKEN = "BAYESWDMATH{}X"   # letters only: Markdown leaves it alone


@functools.cache
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _protect_math(text: str) -> tuple[str, list[str]]:
    maths: list[str] = []

    def keep(match):
        display = match.group(1) is not None
        maths.append(_math((match.group(1) if display else match.group(2)).strip(), "block" if display else "inline"))
        return _MATH_TOKEN.format(len(maths) - 1)

    chunks = re.split(r"(`[^`]*`)", text)
    return "".join(c if c.startswith("`") else _MATH.sub(keep, c) for c in chunks), maths


def _restore_math(html_text: str, maths: list[str]) -> str:
    html_text = re.sub(r"<p>BAYESWDMATH(\d+)X</p>", lambda m: f'<div class="math">{maths[int(m.group(1))]}</div>',
                       html_text)
    return re.sub(r"BAYESWDMATH(\d+)X", lambda m: maths[int(m.group(1))], html_text)


def _inline(text: str) -> str:
    """One line of Markdown (an answer, a caption) as inline HTML."""
    protected, maths = _protect_math(text)
    return _restore_math(_markdown().renderInline(protected), maths)


def markdown_to_html(text: str) -> str:
    """The analyses' Markdown (CommonMark by markdown-it-py, plus tables) with $…$ and $$…$$ as MathML."""
    protected, maths = _protect_math(text.strip())
    return _restore_math(_markdown().render(protected), maths).strip()


def _fmt(value) -> str:
    """A table cell: 4 significant digits; a missing value (None, NaN) is a dash, never 'nan'; ±∞ as such."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, float) and abs(value) == float("inf"):
        return "∞" if value > 0 else "−∞"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in table.header)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in table.rows)
    # the caption sits outside the scrolling box, so a phone shows it whole
    return (f'<p class="tablecaption">{_inline(table.caption)}</p><div class="tablewrap"><table><tr>{head}</tr>'
            f"{rows}</table></div>")


def _cell_md(text: str) -> str:
    """A Markdown table cell: a literal '|' (as in ‖w‖ written |w|) would end the cell."""
    return str(text).replace("|", "\\|")


def _table_md(table: Table) -> str:
    lines = [f"*{table.caption}*", "", "| " + " | ".join(_cell_md(h) for h in table.header) + " |",
             "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(_cell_md(_fmt(v)) for v in row) + " |" for row in table.rows]
    return "\n".join(lines)


# Every term the report uses before or without defining it in place.
GLOSSARY = {
    "scratch / concise": "d2l's two versions of each model: the penalty written out by hand, or a framework's "
                         "built-in weight_decay knob.",
    "λ (weight decay)": "the L2 penalty weight in J = Σr²/(2n) + (λ/2)‖w‖²; a Gaussian prior N(0, τ²) with "
                        "λ = σ²/(nτ²).",
    "α": "the L1 penalty weight in Σr²/(2n) + α‖w‖₁ (scikit-learn's Lasso); a Laplace prior of scale s with "
         "α = σ²/(ns).",
    "MSE": "mean squared error, the mean of r² over rows (and outputs). d2l's printed loss is half of it.",
    "excess MSE": "the MSE on fresh inputs minus the noise variance σ², which no model can remove.",
    "MAP": "maximum a posteriori: the single most probable weights, the minimizer of the penalized objective.",
    "posterior mean": "the average of the weights over the posterior; for a Gaussian prior it equals the MAP.",
    "row space / null space": "the directions spanned by the training rows, which gradients can move, and the "
                              "directions orthogonal to all of them, which only the init and the decay affect.",
    "NUTS": "the No-U-Turn Sampler, an adaptive Hamiltonian Monte Carlo method (PyMC, numpyro, nutpie).",
    "Gibbs sampler": "draws each block of parameters from its conditional distribution in turn; used here as an "
                     "independent check of NUTS for the Laplace prior.",
    "R-hat": "compares within-chain and between-chain spread; near 1 (below about 1.01) when the chains agree.",
    "ESS": "effective sample size: how many independent draws the correlated draws are worth.",
    "MCSE": "Monte Carlo standard error: the sd of a posterior mean estimated from draws, about sd/√ESS.",
    "FISTA": "a fast proximal-gradient method for the lasso; its soft-thresholding step gives exact zeros.",
    "marginal likelihood (evidence)": "the probability of the training targets under a prior, with the weights "
                                      "integrated out.",
    "type-II maximum likelihood (empirical Bayes)": "choosing σ and τ (hence λ) to maximize the evidence.",
    "full Bayes": "putting priors on σ and τ too and reporting the posterior of λ instead of one value.",
    "BCE": "binary cross-entropy, −[y log p + (1 − y) log(1 − p)] averaged over rows.",
    "degrees of freedom (ridge)": "tr of the hat matrix, 1 + Σ d²/(d² + nλ) over the singular values d of the "
                                  "centred design: how many directions the fit really uses.",
    "null-space law": "for SGD with L2 decay, the part of the weights no training row sees is the init's part "
                      "times (1 − ηλ)^T after T steps; nothing else moves it.",
    "subgradient / proximal step": "two ways to take an L1 step: add α·sign(w) to the gradient, or take the "
                                   "plain step and soft-threshold (which gives exact zeros).",
    "AdamW": "Adam with decoupled weight decay: w ← w − ηλw beside the Adam step instead of λw in the gradient.",
    "relative accuracy (forum)": "1 − |mean(ŷ − y)/mean(y)|: it sees only the average error, not the fit.",
    "γ = p/n": "inputs per training row; above 1 the rows can be fitted exactly and a null space exists.",
    "Marchenko–Pastur law": "the limiting spread of the eigenvalues of XᵀX/n for random x as n and p grow "
                            "with p/n fixed; it gives the risk curves' closed forms.",
    "sample-then-optimize": "a posterior draw by optimization: start from a prior draw, add noise to the targets, "
                            "and minimize the loss with decay toward the start; exact for a Gaussian prior.",
    "implied prior": "the prior a framework's loss, decay knob and optimizer amount to (bayeswd.implied_prior); "
                     "none for AdamW, whose converged runs stay inside the box ‖w‖∞ ≤ 1/wd.",
    "gain (phase diagram)": "the excess MSE of gradient descent at λ = 0 divided by that at the best λ: how much "
                            "tuning weight decay can buy.",
}


# The first screen: the lesson in three sentences (statements of the derivation, true for any data), the
# formula boxed, then the 2-D picture. Run metadata goes to the footer.
LESSON = ("Training with weight decay, minimizing J = Σr²/(2n) + (λ/2)‖w‖², finds the most probable weights "
          "under a Gaussian prior w ~ N(0, τ²I); an L1 penalty does the same for a Laplace prior. "
          "The penalty and the prior are one knob, converted by the formula below: noisier data or fewer rows "
          "mean more decay for the same prior. "
          "Gradient descent moves the weights only inside the span of the training rows, so the part of the "
          "initialization outside it survives unless decay shrinks it.")
MORE = "<!--more-->"   # in a section's text: what follows is collapsed on the page (report.md shows it all)
FORMULA = r"\lambda = \frac{\sigma^2}{n\,\tau^2}"
FORMULA_NOTE = ("σ: the noise sd, n: the training rows, τ: the prior sd of each weight; for L1, α = σ²/(ns) with s "
                "the Laplace scale.")
HOW_TO_READ = ("Sections 1–5 are the lecture: the prior ↔ penalty map, the initialization and the null space, "
               "choosing λ, L1 and the Laplace prior, and d2l's runs reproduced; the answer card follows. "
               "Appendices A–H (click to open) hold the rest. Each section asks one question and answers it in the "
               "shaded box; every number is computed by the code on this run's data.")
FURTHER_READING = (
    "C. M. Bishop, Pattern Recognition and Machine Learning (2006), §3.3 (Bayesian linear regression) and §3.5 "
    "(the evidence approximation).",
    "D. J. C. MacKay, Bayesian interpolation, Neural Computation 4 (1992): the evidence and the effective number "
    "of parameters γ.",
    "K. P. Murphy, Probabilistic Machine Learning: An Introduction (2022), chapter 11 (linear regression).",
    "T. Hastie, R. Tibshirani and J. Friedman, The Elements of Statistical Learning (2009), §3.4 (shrinkage "
    "methods).",
    "T. Park and G. Casella, The Bayesian lasso, JASA 103 (2008).",
    "R. J. Tibshirani, The lasso problem and uniqueness, Electronic Journal of Statistics 7 (2013).",
    "I. Loshchilov and F. Hutter, Decoupled weight decay regularization (AdamW), ICLR 2019.",
    "T. Hastie, A. Montanari, S. Rosset and R. J. Tibshirani, Surprises in high-dimensional ridgeless least "
    "squares interpolation, Annals of Statistics 50 (2022).",
    "A. Ali, J. Z. Kolter and R. J. Tibshirani, A continuous-time view of early stopping for least squares, "
    "AISTATS 2019.",
)


def _card_html(card: list, titles: dict) -> str:
    items = "".join(
        f'<li data-section="{html.escape(c["section"])}" data-path="{html.escape(json.dumps(c["path"]))}" '
        f'data-value="{html.escape(repr(c["value"]))}"><strong>{html.escape(c["question"])}</strong> '
        f'<span class="meta">({html.escape(c["source"])})</span><br>{html.escape(c["answer"])} '
        f'<a href="#{html.escape(c["section"])}">→ {html.escape(titles.get(c["section"], c["section"]))}</a></li>'
        for c in card)
    return f'<section id="answers"><h2>Answer card</h2><ul class="card">{items}</ul></section>'


def _numbers_rows(numbers: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for key, value in numbers.items():
        if isinstance(value, dict):
            rows += _numbers_rows(value, f"{prefix}{key}.")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                rows += _numbers_rows(item, f"{prefix}{key}[{i}].")
        elif isinstance(value, (list, tuple)) and len(value) > 8:
            continue  # long arrays live in results.json only
        else:
            rows.append((f"{prefix}{key}", _fmt(value)))
    return rows


def _section_html(s: Section, appendix: bool) -> str:
    """One section. Its tables and the list of its numbers are collapsed: the prose and figures are the
    lecture, the tables the evidence. An appendix is collapsed whole."""
    parts = [f'<p class="question">{_inline(s.question)}</p>', f'<div class="answer">{_inline(s.answer)}</div>']
    for fig in s.figures:
        data = base64.b64encode(fig.png).decode()
        parts.append(f'<figure><img alt="{html.escape(fig.caption)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{_inline(fig.caption)}</figcaption></figure>")
    shown, _, more = s.text.partition(MORE)
    parts.append(markdown_to_html(shown))
    if more.strip() or s.html:   # the rest of the text and the sliders: one click away
        parts.append(f"<details><summary>{'More, and the sliders' if s.html else 'More'}</summary>"
                     f"{markdown_to_html(more) if more.strip() else ''}{s.html}</details>")
    if s.tables:
        parts.append(f"<details><summary>Tables ({len(s.tables)})</summary>"
                     + "".join(_table_html(t) for t in s.tables) + "</details>")
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in _numbers_rows(s.numbers))
    parts.append(f"<details><summary>Every number in this section</summary><table>{rows}</table></details>")
    parts.append(f"<p class=\"meta\">Rerun: <code>{html.escape(s.command)}</code> · {s.seconds:.1f} s</p>")
    body = "\n".join(parts)
    if appendix:
        return (f'<details class="appendix" id="{s.name}"><summary><h2>{html.escape(s.title)}</h2></summary>'
                f"{body}</details>")
    return f'<section id="{s.name}"><h2>{html.escape(s.title)}</h2>{body}</section>'


# A link to a collapsed appendix opens it (the answer card and the contents link into the appendices).
_OPEN_TARGET = ("function bayeswdOpen(){var t=document.getElementById(decodeURIComponent(location.hash.slice(1)));"
                "if(t&&t.tagName==='DETAILS'){t.open=true;t.scrollIntoView();}}"
                "window.addEventListener('hashchange',bayeswdOpen);bayeswdOpen();")


def _footer(meta: dict) -> str:
    return (f"Data: {meta['data']} · seed {meta['seed']} · {'quick' if meta['quick'] else 'full'} run · device "
            f"{meta['device']} · bayeswd {meta['versions']['bayeswd']} · {meta['total_seconds']:.0f} s")


def write_html(sections: list[Section], meta: dict) -> str:
    card = meta.get("card") or []
    appendices = set(meta.get("appendices") or [])
    main = [s for s in sections if s.name not in appendices]
    extra = [s for s in sections if s.name in appendices]
    lead = next((s.lead for s in sections if s.lead), "")
    toc = "".join(f'<li><a href="#{s.name}">{html.escape(s.title)}</a></li>' for s in main)
    toc += '<li><a href="#answers">Answer card</a></li>' if card else ""
    toc += "".join(f'<li class="appx"><a href="#{s.name}">{html.escape(s.title)}</a></li>' for s in extra)
    header = (f'<header class="lead"><h1>Weight decay is a prior</h1><p class="lesson">{html.escape(LESSON)}</p>'
              f'<div class="formula">{_math(FORMULA, "block")}<p class="meta">{html.escape(FORMULA_NOTE)}</p></div>'
              f"{lead}</header>")
    body = [_section_html(s, False) for s in main]
    if card:
        body.append(_card_html(card, {s.name: s.title for s in sections}))
    if extra:
        body.append('<h2 class="appendices">Appendices</h2>' + "".join(_section_html(s, True) for s in extra))
    glossary = "".join(f"<dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd>" for term, text in GLOSSARY.items())
    body.append(f'<details id="glossary"><summary><h2>Glossary</h2></summary><dl>{glossary}</dl></details>')
    reading = "".join(f"<li>{html.escape(item)}</li>" for item in FURTHER_READING)
    body.append(f'<section id="reading"><h2>Further reading</h2><ul>{reading}</ul></section>')
    nav = (f'<nav><p class="howto">{html.escape(HOW_TO_READ)}</p><details><summary>Contents</summary>'
           f'<ul class="toc">{toc}</ul></details></nav>')
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>bayeswd report</title>"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{_CSS}</style></head>"
            f"<body><main>{header}{nav}{''.join(body)}<footer class=\"meta\">{html.escape(_footer(meta))}</footer>"
            f"</main><script>{_OPEN_TARGET}</script></body></html>")


def write_markdown(sections: list[Section], meta: dict) -> str:
    card = meta.get("card") or []
    appendices = set(meta.get("appendices") or [])
    lines = ["# Weight decay is a prior", "", LESSON, "", f"$$\\boxed{{{FORMULA}}}$$", "", FORMULA_NOTE, "",
             HOW_TO_READ, ""]
    lines += [f"- [{s.title}](#{s.name})" for s in sections if s.name not in appendices]
    lines += (["- [Answer card](#answers)"] if card else []) + [f"- [{s.title}](#{s.name})" for s in sections
                                                                 if s.name in appendices]
    lines += ["- [Glossary](#glossary)", "- [Further reading](#reading)"]

    def one(s: Section) -> list[str]:
        out = ["", f'<a id="{s.name}"></a>', f"## {s.title}", "", f"*{s.question}*", "", f"> {s.answer}", ""]
        for fig in s.figures:
            out += [f"![{fig.caption}](figures/{fig.name}.png)", "", f"*{fig.caption}*", ""]
        out += [s.text.replace(MORE, "\n").strip(), ""]
        if s.html or s.lead:
            out += ["*The live sliders of this section are in index.html (they need a browser).*", ""]
        out += [_table_md(t) + "\n" for t in s.tables]
        return out + [f"Rerun: `{s.command}`"]

    for s in sections:
        if s.name not in appendices:
            lines += one(s)
    if card:
        titles = {s.name: s.title for s in sections}
        lines += ["", '<a id="answers"></a>', "## Answer card", ""]
        lines += [f"- **{c['question']}** ({c['source']}) {c['answer']} [→ {titles.get(c['section'], c['section'])}]"
                  f"(#{c['section']})" for c in card]
    extra = [s for s in sections if s.name in appendices]
    if extra:
        lines += ["", "## Appendices"]
        for s in extra:
            lines += ["", f"<details><summary>{s.title}</summary>", ""] + one(s) + ["", "</details>"]
    lines += ["", '<a id="glossary"></a>', "## Glossary", ""]
    lines += [f"- **{term}**: {text}" for term, text in GLOSSARY.items()]
    lines += ["", '<a id="reading"></a>', "## Further reading", ""] + [f"- {item}" for item in FURTHER_READING]
    lines += ["", "---", "", _footer(meta)]
    return "\n".join(lines) + "\n"


def results_json(sections: list[Section], meta: dict) -> str:
    """Every quoted number, keyed by section; timings kept apart so reruns compare equal elsewhere."""
    payload = {"config": meta["config"], "seed": meta["seed"], "quick": meta["quick"], "data": meta["data"],
               "versions": meta["versions"], "device": meta["device"],
               "sections": {s.name: {"title": s.title, "question": s.question, "answer": s.answer,
                                     "results": s.numbers, "tables": [t.rows for t in s.tables]} for s in sections},
               "timings": {"total_seconds": meta["total_seconds"], **{s.name: s.seconds for s in sections}},
               "cache": meta.get("cache", {}),
               "answer_card": [{k: c[k] for k in ("source", "question", "section", "path", "value", "verdict")}
                               for c in meta.get("card") or []]}
    return json.dumps(to_plain(payload), indent=2, sort_keys=True)


def write_report(folder: Path, sections: list[Section], meta: dict) -> None:
    """Write index.html, report.md, figures/*.png and *.svg, and results.json into ``folder`` (a staging folder)."""
    folder = Path(folder)
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    for s in sections:
        for fig in s.figures:
            (folder / "figures" / f"{fig.name}.png").write_bytes(fig.png)
            if fig.svg:
                (folder / "figures" / f"{fig.name}.svg").write_bytes(fig.svg)
    (folder / "index.html").write_text(write_html(sections, meta), encoding="utf-8")
    (folder / "report.md").write_text(write_markdown(sections, meta), encoding="utf-8")
    (folder / "results.json").write_text(results_json(sections, meta), encoding="utf-8")
