"""The analyses as compute → Results → render: prose built from Results, claims that follow the data.

Each analysis is computed at tiny sizes in two settings that differ from the d2l defaults a report
was first written for: a changed config on the d2l data, and a user's CSV without true weights.
Every number in the prose must be a Results value (or a setting, or a constant written in the
analysis's source), and 'nan' must never appear.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import math
import re
import runpy
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
from conftest import compute_at_once
from stats_budget import z_bar
import pytest

import bayeswd
from bayeswd import analyses
from bayeswd.protocol.context import Context
from bayeswd.protocol.settings import resolve

ROOT = Path(__file__).resolve().parents[1]

# Tiny sizes, and values other than the defaults wherever a default could have leaked into prose.
CHANGED = {
    "weight_decay_is_a_prior": {"lam": 5.0, "draws": 300, "init_sd": 0.02},
    "forum": {"wd": 5.0, "div_points": 6, "long_steps": 300},
    "d2l_reproduced": {"wd": 5.0, "en_epochs": 4, "zh_epochs": 6, "repeats": 3},
    "choosing_lambda": {"n_lams": 7, "gd_seeds": 2, "bayes_draws": 150, "map_points": 1},
    "two_priors": {"laplace_scale": 0.02, "gibbs_draws": 200, "path_points": 5, "l1_epochs": 30},
    "subspace_init": {"wd": 5.0, "mc_seeds": 6, "zh_epochs": 7},
    "gd_sampler": {"draws": 96, "laplace_draws": 32, "prior_sd": 0.02, "wd": 5.0},
    "uncertainty": {"draws": 150, "nuts_samplers": "", "laplace_draws": 150, "laplace_nuts": False,
                    "prior_sd": 0.02},
    "seed002_multioutput": {"epochs": 3, "lambd": 0.02},
    "seed004_mlp": {"epochs": 25, "dim": 60, "wd": 0.2},
    "theory_vs_experiment": {"n": 20, "reps": 2},
    "exercises": {"wd": 5.0, "stop_epochs": 30},
    "when_decay_matters": {"draws": 1, "seeds": 2, "epochs": 30},
}


def _user_data(tmp_path_factory):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 12))
    y = X[:, :3].sum(axis=1) * 0.2 + 0.1 * rng.standard_normal(30)
    path = tmp_path_factory.mktemp("csv") / "mine.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=",".join([f"x{i}" for i in range(12)] + ["t"]),
               comments="")
    return bayeswd.load(path)


@pytest.fixture(scope="module", params=["changed d2l", "user csv"])
def rendered(request, tmp_path_factory):
    """(module, results, section) for every analysis in one scenario."""
    if request.param == "changed d2l":
        dataset, redraw, label = bayeswd.d2l_data(seed=3), bayeswd.d2l_data, "built-in d2l data"
    else:
        dataset, redraw, label = _user_data(tmp_path_factory), None, "user data mine.csv"
    modules = analyses.all_modules()
    contexts = {m.NAME: (m.NAME, Context(dataset, 3, True, resolve(m, True, CHANGED[m.NAME]), label, redraw))
                for m in modules}
    computed = compute_at_once(contexts)   # sampler warnings at tiny sizes are expected there
    out = {}
    for module in modules:
        results = computed[module.NAME].round_trip()
        out[module.NAME] = (module, results, module.render(results))
    return request.param, out


# ---- prose from Results ---------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.^])−?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?%?")


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


def _spellings(x) -> set[str]:
    """Every way the report writes a number: fmt at 2–8 digits, %g, fixed 4 decimals, percent."""
    from bayeswd.analyses._common import fmt, pct

    if not math.isfinite(x):
        return set()
    out = {fmt(x, d) for d in range(1, 9)} | {f"{x:g}", f"{x:.4f}", f"{x:.0%}"} | {pct(x, d) for d in (2, 3)}
    if float(x).is_integer():
        out |= {str(int(x)), f"{int(x):,}"}
    return out | {s.lstrip("-") for s in out}


def _source_literals(module) -> set[str]:
    """Numbers written in the analysis's own source: its constants (d2l's lr 0.01, the book's values)."""
    out = set()
    for path in (Path(module.__file__), Path(analyses.__file__).parent / "_common.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                    and not isinstance(node.value, bool):
                out |= _spellings(node.value)
    return out


# Numbers the prose may write literally: section and exercise numbers, years of citations, the
# nominal interval levels, tolerances the test suite checks, and formula constants.
TEXT_CONSTANTS = {str(i) for i in range(11)} | {"2010", "2014", "2019", "2022", "2018", "50%", "90%", "1e-10", "1e-8", "1e-16",
                                                 "1e-6", "1.01", "0.01", "½",
                                                 "3.3", "3.5"}   # book sections cited (Bishop's PRML §3.3, §3.5)


def _prose(section) -> str:
    return " ".join([section.answer, section.text] + [f.caption for f in section.figures]
                    + [t.caption for t in section.tables])


def test_every_number_in_the_prose_is_a_results_value(rendered):
    scenario, out = rendered
    for name, (module, results, section) in out.items():
        allowed = set().union(*(_spellings(v) for v in _leaves(section.numbers)))
        allowed |= _source_literals(module) | TEXT_CONSTANTS
        prose = _prose(section).replace("−", "-")
        unexplained = sorted({tok for tok in _NUMBER.findall(prose)
                              if tok.replace("−", "-").lstrip("-") not in allowed and tok not in allowed})
        assert unexplained == [], f"{scenario}: {name} prose has numbers not in its Results: {unexplained}"


def test_no_nan_anywhere(rendered):
    scenario, out = rendered
    from bayeswd.report.writers import _fmt

    for name, (_, _, section) in out.items():   # the prose and every table cell as a reader sees them
        words = _prose(section) + json.dumps([[_fmt(v) for v in row] for t in section.tables for row in t.rows])
        assert not re.search(r"\bnan\b|\binf\b", words, re.IGNORECASE), (scenario, name)
    # and what the writers make of the whole report, answer card included
    from bayeswd.report.writers import write_html, write_markdown

    sections = [section for _, _, section in out.values()]
    meta = {"data": scenario, "seed": 3, "quick": True, "device": "cpu", "versions": {"bayeswd": "test"},
            "total_seconds": 0.0, "card": analyses.answer_card({s.name: s.numbers for s in sections})}
    for text in (write_html(sections, meta), write_markdown(sections, meta)):
        assert " nan" not in text and "nan×" not in text and ">nan<" not in text, scenario


def test_results_survive_json_and_render_the_same(rendered):
    _, out = rendered
    for module, results, section in out.values():
        again = type(results).from_json(json.loads(json.dumps(results.to_json())))
        assert module.render(again).answer == section.answer


def test_settings_values_are_not_part_of_result_keys(rendered):
    """results.json has the same keys whatever the settings: compare two scenarios' key sets."""
    _, out = rendered
    for module, results, _ in out.values():
        assert set(results.to_json()) == {f for f in type(results).__dataclass_fields__}


# ---- the claims, each checked against its condition on the Results --------------------------------

def _get(rendered, name):
    scenario, out = rendered
    return scenario, out[name][1], out[name][2]


def test_lasso_sparsity_is_stated_against_the_ceiling(rendered):
    scenario, r, section = _get(rendered, "two_priors")
    assert r.lasso_nonzeros <= r.support_ceiling
    assert np.all(r.nonzeros_on_path <= r.support_ceiling)
    at_ceiling = r.lasso_nonzeros >= r.support_ceiling
    assert ("the most any lasso can keep" in section.answer) == at_ceiling
    assert f"{r.val_mse_lasso:.3g}" in section.answer and f"{r.val_mse_ridge:.3g}" in section.answer
    if r.has_truth:
        assert "not sparse" in section.text and r.true_zeros == 0


def test_l1_methods_are_compared_only_near_the_optimum(rendered):
    _, r, section = _get(rendered, "two_priors")
    near = all(v["gap"] <= 0.01 for v in r.l1_runs.values())
    assert ("can be compared" in section.text) == near
    if not near:
        assert "unfinished runs, not the two methods" in section.text


def test_choosing_lambda_says_what_the_evidence_cannot(rendered):
    scenario, r, section = _get(rendered, "choosing_lambda")
    assert r.evidence_range_nats == pytest.approx(np.ptp(r.log_evidence))
    if r.has_truth:   # σ known: the evidence's verdict on the prior follows its own maximizer
        recovered = 0.5 <= r.evidence_known_lam / r.bayes_optimal_lam <= 2
        assert ("do recover the prior the data were made with" in section.text) == recovered
        assert ("more than a factor 2 from the λ the data were made with" in section.text) == (not recovered)
    else:
        assert "noise sd is unknown" in section.text and not math.isfinite(r.evidence_known_lam)
    if r.has_truth:
        covers = r.full_bayes_interval[0] <= r.bayes_optimal_lam <= r.full_bayes_interval[1]
        assert ("interval for λ covers" in section.text) == covers
        assert ("interval for λ misses" in section.text) == (not covers)
    else:
        assert "cannot be checked" in section.text


def test_evidence_path_is_the_evidence_at_its_best_sigma(d2l):
    from scipy.optimize import minimize_scalar

    from bayeswd.conventions import prior_sd_from_lam
    from bayeswd.gaussian import evidence_path

    path = evidence_path(d2l.X_train, d2l.y_train, [0.01, 1.0, 30.0])
    for lam, value, sd in zip(path.lams, path.log_evidence, path.noise_sd):
        def neg(log_sd):
            s = np.exp(log_sd)
            return -bayeswd.gaussian_posterior(d2l.X_train, d2l.y_train, s, prior_sd_from_lam(lam, s, 20)).log_evidence
        best = minimize_scalar(neg, bounds=(np.log(1e-4), np.log(10)), method="bounded", options={"xatol": 1e-10})
        assert value == pytest.approx(-best.fun, rel=1e-9) and sd == pytest.approx(np.exp(best.x), rel=1e-4)


def test_bayesian_ridge_hyperpriors_match_scikit_learn_at_its_fixed_point(d2l):
    """Our type-II ML with BayesianRidge's Gamma(1e-6, 1e-6) hyperpriors, iterated to its fixed point. scikit-learn
    stops when the weights stop moving, which on this flat evidence happens far from the fixed point: its λ differs,
    but its evidence is within 1 nat of ours (the report's point: the data barely choose)."""
    sklearn = pytest.importorskip("sklearn.linear_model")
    from bayeswd.gaussian import empirical_bayes, evidence_path

    ours = empirical_bayes(d2l.X_train, d2l.y_train, hyperprior=(1e-6,) * 4)
    theirs = sklearn.BayesianRidge().fit(d2l.X_train, d2l.y_train)
    lam_theirs = theirs.lambda_ / theirs.alpha_ / d2l.n_train
    ev = evidence_path(d2l.X_train, d2l.y_train, [ours.lam, lam_theirs]).log_evidence
    assert abs(ev[0] - ev[1]) < 1.0


def test_mlp_reports_stability_and_the_constant_baseline(rendered):
    _, r, section = _get(rendered, "seed004_mlp")
    assert set(r.runs) == {"lr", "stable_lr"}
    assert f"{r.constant_bce:.3g}" in section.answer
    for runs in r.runs.values():
        for run in runs.values():
            tail = max(1, round(0.1 * len(run["test"])))
            assert run["tail_test"] == pytest.approx(np.mean(run["test"][-tail:]))
            if run["tail_train"] > r.chance_bce:
                assert "worse than predicting 1/2" in section.text


def test_one_loss_unit(rendered):
    """MSE everywhere: no "val loss", no Σr²/2n column, and the d2l loss is converted."""
    _, out = rendered
    for name, (_, r, section) in out.items():
        headers = " ".join(h for t in section.tables for h in t.header)
        assert "loss" not in headers.lower() or name == "seed004_mlp", (name, headers)
    _, r, _ = _get(rendered, "d2l_reproduced")
    first = r.rows[0]
    assert first["values"]["val_mse"] == pytest.approx(r.curves["en"]["val_0"][-1])


def test_d2l_runs_are_averaged_over_seeds_beside_the_book(rendered):
    scenario, r, section = _get(rendered, "d2l_reproduced")
    assert r.settings["repeats"] >= 2
    for row in r.rows:
        assert row["sd"]["val_mse"] >= 0 and math.isfinite(row["mean"]["val_mse"])
        assert row["printed"] == ("w_norm" if row["config"] == "zh" else "l2_penalty")
    printed = section.tables[0]
    zh = next(row for row in printed.rows if row[0] == "zh scratch, λ = 0")
    assert zh[1] == "‖w‖" and "12.96" in zh[2]
    if r.settings["wd"] != 3:   # the book's wd rows belong to wd = 3 only
        assert next(row for row in printed.rows if row[0].startswith("en scratch, λ = 5"))[2] == "—"
    if r.recipe:
        assert "one random draw" in section.text
    else:
        assert "These are your data, not the book's" in section.text


def test_chinese_edition_runs_start_from_their_own_stream(rendered):
    """d2l-zh's N(0, 1) init at wd = 0 keeps its null-space part whole: ‖w‖² ≥ χ²(p − rank) in law.

    When the init shared the data's stream, the first repeat started at a training row and ended at
    ‖w‖ ≈ 0.5 (issue 20); a 1-in-10⁶ quantile of the law bounds ‖w‖ from below instead.
    """
    from scipy import stats

    scenario, r, _ = _get(rendered, "d2l_reproduced")
    row = next(row for row in r.rows if row["label"] == "Chinese edition, PyTorch concise, 0")
    null_dims = r.num_inputs - r.rank
    if null_dims:   # a user's tall CSV has no null space: only the upper bound applies
        assert row["mean"]["w_norm"] >= math.sqrt(stats.chi2.ppf(1e-6, null_dims))
    assert row["mean"]["w_norm"] <= math.sqrt(stats.chi2.ppf(1 - 1e-6, r.num_inputs)) + 5


def test_plain_words_in_headings_and_tables(rendered):
    _, out = rendered
    for name, (module, _, section) in out.items():
        visible = section.title + " ".join(h for t in section.tables for h in t.header)
        assert not re.search(r"seed ?00\d|_[a-z]+_", visible, re.IGNORECASE), (name, visible)


# ---- figures and matplotlib state -----------------------------------------------------------------

def test_importing_bayeswd_and_analyses_changes_no_matplotlib_state():
    code = ("import matplotlib; before = (matplotlib.get_backend(), dict(matplotlib.rcParams)); "
            "import bayeswd, bayeswd.plot; from bayeswd import analyses; analyses.all_modules(); "
            "after = (matplotlib.get_backend(), dict(matplotlib.rcParams)); "
            "import sys; sys.exit(0 if before == after else 1)")
    assert subprocess.run([sys.executable, "-c", code], env={"MPLBACKEND": "svg", "PATH": ""}).returncode == 0


def test_plot_functions_draw_on_the_given_axes_and_return_it():
    import matplotlib

    from bayeswd import plot

    before = dict(matplotlib.rcParams)
    with plot.style():
        fig, axes = plot.figure(3)
        lams = np.logspace(-2, 2, 5)
        assert plot.loss_vs_lambda(lams, {"a": (lams, {})}, axes[0], marks={"x": 1.0}) is axes[0]
        assert plot.prior_densities(0.1, axes[1]) is axes[1]
        assert plot.nonzeros_vs_alpha(lams, [3, 3, 2, 1, 0], 3, axes[2]) is axes[2]
        engine = fig.get_layout_engine()
        png, svg = plot.export(fig)
        assert fig.get_layout_engine() is engine            # the SVG reuses the PNG's layout, then gives it back
    assert dict(matplotlib.rcParams) == before
    assert png[:4] == b"\x89PNG" and b"<svg" in svg[:2000]
    assert axes[1].get_ylabel() == "prior density p(w_j)"


def test_multi_panel_figures_are_one_column(rendered):
    _, out = rendered
    for _, _, section in out.values():
        for figure in section.figures:
            width = int.from_bytes(figure.png[16:20], "big")
            assert width <= 800, (figure.name, width)   # 6.4 in at 110 dpi: stacked panels, legible at 400 px


# ---- scripts and packaging ------------------------------------------------------------------------

@pytest.mark.parametrize("name", analyses.MODULES)
def test_each_analysis_runs_as_a_script_with_tiny_settings(name, monkeypatch, capsys):
    argv = [f"{name}.py", "--quick"]
    for key, value in CHANGED[name].items():
        argv += [f"--{key.replace('_', '-')}", str(value).lower() if isinstance(value, bool) else str(value)]
    if name == "uncertainty":
        argv[argv.index("--nuts-samplers") + 1] = "pymc"   # an empty string is not a flag value
    monkeypatch.setattr(sys, "argv", argv)
    with warnings.catch_warnings(), pytest.raises(SystemExit) as done:
        warnings.simplefilter("ignore")
        runpy.run_path(str(ROOT / "analyses" / f"{name}.py"), run_name="__main__")
    assert done.value.code == 0, capsys.readouterr().err
    assert "→" in capsys.readouterr().out


def test_the_wheel_installs_the_analyses_as_bayeswd_analyses(tmp_path):
    """bayeswd/analyses/* in the wheel (hatch force-include), no top-level analyses package."""
    import zipfile

    uv = subprocess.run(["uv", "--version"], capture_output=True)
    if uv.returncode != 0:
        pytest.skip("uv is not on PATH")
    built = subprocess.run(["uv", "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)], capture_output=True,
                           text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "bayeswd/analyses/__init__.py" in names and "bayeswd/analyses/two_priors.py" in names
    assert "bayeswd/py.typed" in names and any(n.endswith("licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith("analyses/")]
    # A fresh Python 3.12 environment with the wheel installed, outside the checkout (uv's cache is warm).
    venv = tmp_path / "venv"
    assert subprocess.run(["uv", "venv", "-q", "-p", "3.12", str(venv)], capture_output=True).returncode == 0
    installed = subprocess.run(["uv", "pip", "install", "-q", "--python", str(venv / "bin" / "python"), str(wheel)],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    listed = subprocess.run([str(venv / "bin" / "python"), "-m", "bayeswd", "list"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    assert listed.returncode == 0 and "weight_decay_is_a_prior" in listed.stdout, listed.stderr[-2000:]
    imported = subprocess.run([str(venv / "bin" / "python"), "-c", "import bayeswd.analyses as a; print(a.__file__)"],
                              capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert imported.returncode == 0 and str(venv) in imported.stdout, imported.stderr[-2000:]


def test_the_library_never_imports_the_analyses():
    """Only the top floor (cli, commands) loads analyses, and only through bayeswd.analyses by name."""
    for path in (ROOT / "bayeswd").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import analyses|from analyses)", text, re.MULTILINE), path
        if path.name not in ("cli.py", "commands.py", "__init__.py"):
            assert "bayeswd.analyses" not in text and "from bayeswd import analyses" not in text, path
    assert "bayeswd.cli" not in (ROOT / "bayeswd" / "commands.py").read_text()


def test_each_shared_computation_is_declared_for_the_scheduler():
    """What an analysis computes through ctx.once is in its SHARES (so the report runs the sections
    sharing it in one worker), and SHARES names nothing else; a shared computation has two users."""
    users = {}
    for name in analyses.MODULES:
        module = analyses.load(name)
        once = set(re.findall(r"ctx\.once\(\s*(\w+)", inspect.getsource(module)))
        assert once == set(getattr(module, "SHARES", ())), name
        for fn in once:
            users.setdefault(fn, []).append(name)
    assert users and all(len(names) > 1 for names in users.values()), users


# ---- the lecture's 2-D picture --------------------------------------------------------------------

def _lasso_by_enumeration(G, c, alpha):
    """The exact minimizer of ½wᵀGw − cᵀw + α‖w‖₁ in 2-D: the one sign pattern whose KKT conditions hold."""
    for signs in itertools.product((-1, 0, 1), repeat=2):
        s = np.array(signs, dtype=float)
        on = s != 0
        w = np.zeros(2)
        if on.any():
            w[on] = np.linalg.solve(G[np.ix_(on, on)], c[on] - alpha * s[on])
            if not np.all(np.sign(w[on]) == s[on]):
                continue
        if np.all(np.abs((c - G @ w)[~on]) <= alpha * (1 + 1e-12)):
            return w
    raise AssertionError("no sign pattern satisfies the KKT conditions")


def test_two_d_map_points_equal_the_closed_forms(rendered):
    _, out = rendered
    t = out["weight_decay_is_a_prior"][1].two_d
    G, c = np.asarray(t["gram"]), np.asarray(t["xty"])
    ridge = lambda lam: np.linalg.solve(G + lam * np.eye(2), c)  # noqa: E731
    np.testing.assert_allclose(t["ridge_map"], ridge(t["lam"]), rtol=0, atol=1e-10)
    np.testing.assert_allclose(t["lasso_map"], _lasso_by_enumeration(G, c, t["alpha"]), rtol=0, atol=1e-10)
    for lam, w in zip(t["lams"], t["ridge_path"]):
        np.testing.assert_allclose(w, ridge(lam), rtol=0, atol=1e-10)
    for alpha, w in zip(t["alphas"], t["lasso_path"]):
        np.testing.assert_allclose(w, _lasso_by_enumeration(G, c, alpha), rtol=0, atol=1e-10)
    # what the picture claims: the Laplace path reaches an axis with an exact zero, the Gaussian path never does
    path = np.asarray(t["lasso_path"])
    assert np.any((path == 0).sum(axis=1) == 1)
    assert np.all(np.abs(np.asarray(t["ridge_path"])) > 0)


def test_four_answers_agree(rendered):
    _, out = rendered
    r = out["weight_decay_is_a_prior"][1]
    assert r.gd_converged
    for row in r.answers[:4]:           # closed form, GD, MAP, conjugate mean: equal up to rounding
        assert row["w_error"] < 1e-8, row
    # i.i.d. draws, sd estimated from them: Student t with draws − 1 dof; family-wise budget FAMILY_ALPHA
    assert r.draws_max_z < z_bar(r.num_inputs, dof=r.settings["draws"] - 1)
