"""The answer card: one line and one measured number for every d2l exercise, forum question and seed question.

Each item names the section that has the detail and the path of its number inside that
section's entry of results.json (``sections.NAME.results``), so a test can check that the
card quotes results.json exactly. Items whose section did not run are left out.
"""

from __future__ import annotations

import math

from bayeswd.analyses._common import fmt, pct

__all__ = ["answer_card", "FLAT"]

FLAT = 0.10   # a loss "constant" over λ changes by less than 10% from its λ = 0 value


def _get(numbers: dict, path: tuple):
    value = numbers
    for key in path:
        value = value[key]
    return value


def _row_index(numbers: dict, label: str) -> int:
    return next(i for i, row in enumerate(numbers["rows"]) if row["label"] == label)


def _lam_index(numbers: dict, lam: float) -> int:
    lams = numbers["lams"]
    return min(range(len(lams)), key=lambda i: abs(lams[i] - lam))


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _verdict(holds: bool) -> str:
    """A premise's verdict word, from the measured numbers."""
    return "holds" if holds else "refuted"


def _scratch_zero(d2l: dict) -> float:
    return d2l["rows"][_row_index(d2l, "en scratch, λ = 0")]["mean"]["l2_penalty"]


def _items(n: dict) -> list:
    """(source, question, section, path, line(value)) for every question; ``n`` maps section → numbers."""
    ex, forum, d2l = n.get("exercises"), n.get("forum"), n.get("d2l_reproduced")
    mlp, multi = n.get("seed004_mlp"), n.get("seed002_multioutput")
    items = []
    if ex:
        wd = ex["settings"]["wd"]
        more = _finite(ex["remedies"]["more_rows"])
        items += [
            ("d2l exercise 1", "How do training and validation accuracy and loss depend on λ?", "exercises",
             ("derived", "val_mse_range", 0),
             lambda v: f"Over λ = 1…10 the validation MSE goes down to {fmt(v)}; the forum's 'accuracy' sees only "
                       f"the mean error (the table shows both)."),
            ("d2l exercise 2", "Is the validation-optimal λ really optimal?", "exercises",
             ("derived", "validation_choice_extra_risk"),
             lambda v: (f"For new data it costs {pct(v)} more excess MSE than the truly optimal λ." if _finite(v)
                        else "Cannot be checked without the true weights; LOO and validation λ are compared.")),
            ("d2l exercise 3", "What is the update with ‖w‖₁?", "two_priors", ("lasso_nonzeros",),
             lambda v: f"Subgradient: w ← w − η(∇L + α·sign w); proximal: soft-threshold after the step, which can "
                       f"set weights exactly to 0: run to its certified optimum it keeps {fmt(v)} non-zero weights."),
            ("d2l exercise 4", "What is the matrix version (Frobenius norm)?", "exercises",
             ("frobenius", "trace_WtW"),
             lambda v: f"(λ/2)‖W‖²_F = (λ/2)·tr(WᵀW); both give {fmt(v, 8)} for the trained "
                       f"{ex['matrix_shape'][0]}×{ex['matrix_shape'][1]} matrix."),
            ("d2l exercise 5", "What else fights overfitting, measured on the same data?", "exercises",
             ("remedies", "more_rows_best_ridge" if more else "early_stopping"),
             (lambda v: f"More training rows: {ex['remedies']['more_rows_n']} rows reach a validation MSE of "
                        f"{fmt(v)}.") if more else
             (lambda v: f"Early stopping reaches a validation MSE of {fmt(v)} (weight decay and more rows in the "
                        f"table).")),
            ("d2l exercise 6", "Which prior is weight decay?", "exercises", ("tau_for_wd",),
             lambda v: f"λ = {wd:g} is w ~ N(0, τ²) with τ = σ/√(nλ) = {fmt(v)}."),
        ]
    if d2l:
        items += [
            ("forum", "What is 'scratch'?", "d2l_reproduced",
             ("rows", _row_index(d2l, "en scratch, λ = wd"), "mean", "l2_penalty"),
             lambda v: f"The penalty written by hand (concise: the framework's weight_decay); scratch at "
                       f"λ = {d2l['settings']['wd']:g} prints ‖w‖²/2 = {fmt(v)}."),
            ("forum", "Why is the concise PyTorch run's ‖w‖ about that of λ = 0?", "d2l_reproduced",
             ("rows", _row_index(d2l, "PyTorch concise, wd"), "mean", "l2_penalty"),
             lambda v: f"LazyLinear ignores the N(0, 0.01²) init; from U(±1/√p) the decay leaves ‖w‖²/2 = {fmt(v)}, "
                       f"against {fmt(_scratch_zero(d2l))} for scratch at λ = 0.",
             _verdict(0.5 <= d2l["rows"][_row_index(d2l, "PyTorch concise, wd")]["mean"]["l2_penalty"]
                      / _scratch_zero(d2l) <= 2)),
        ]
    if d2l and d2l["implied"]["pytorch"]["family"] == "gaussian":
        torch, scratch = d2l["implied"]["pytorch"], d2l["implied"]["scratch"]
        same = math.isclose(torch["decay_per_step"], scratch["decay_per_step"], rel_tol=1e-12)
        items += [
            ("forum", "Is the concise weight_decay the scratch λ?", "d2l_reproduced", ("implied", "pytorch", "lam"),
             lambda v: f"No: MSELoss has no ½, so weight_decay = {torch['weight_decay']:g} is λ = {fmt(v)} (scratch: "
                       f"λ = {fmt(scratch['lam'])})" + (f"; both remove the same {pct(1 - torch['decay_per_step'])} "
                                                        f"of a weight per step, so the init, not the prior, makes the "
                                                        f"norms differ." if same else ".")),
            ("d2l JAX book", "What does decaying the bias imply?", "d2l_reproduced",
             ("implied", "jax-book", "bias_prior_sd"),
             lambda v: "A Gaussian prior on the bias too" + (
                 f": N(0, {fmt(v)}²), for a true bias of {fmt(d2l['recipe']['b'])}." if v and d2l["recipe"]
                 else " (its sd needs the data's noise sd).")),
        ]
    if mlp and mlp["implied"]["family"] == "gaussian":
        items.append(("blog", "Must weight decay lie between 0 and 1?", "seed004_mlp", ("implied", "prior_sd"),
                      lambda v: f"No: on {mlp['n_train']} rows of mean BCE, wd = {mlp['implied']['weight_decay']:g} "
                                f"is the prior N(0, {fmt(v)}²) on every parameter; only lr·wd < 2 must hold (here "
                                f"{fmt(1 - mlp['implied']['decay_per_step'])})."))
    if multi and multi["implied"]["family"] == "gaussian" and multi["implied"]["prior_sd"] is not None:
        items.append(("multi-output notebook", "Which prior is LAMBD?", "seed002_multioutput", ("implied", "prior_sd"),
                      lambda v: f"LAMBD = {multi['implied']['weight_decay']:g} with MSELoss over n·k entries is "
                                f"λ = {fmt(multi['implied']['lam'])}: N(0, {fmt(v)}²) on every weight, a flat prior "
                                f"on the biases."))
    if forum:
        wd = forum["settings"]["wd"]
        i10 = _lam_index(forum, 10.0)
        settles = forum["adam_long"]["Adam + L2"]["max_from_ridge"] < 0.1 * forum["adam_long"]["AdamW"]["max_from_ridge"]
        lams, gd = forum["lams"], forum["gd_val_mse"]
        band = [i for i, lam in enumerate(lams) if 10.0 <= lam <= 50.0]
        falling = all(gd[b] <= gd[a] for a, b in zip(band, band[1:]))
        lowest = min(band, key=lambda i: gd[i])
        small_wd = gd[_lam_index(forum, wd)]
        rescued = forum["init_sd1"]["wd"] <= 2 * small_wd
        # "constant": within FLAT of the λ = 0 value, from PyTorch's init (the poster's); up to which λ?
        torch_val = forum["torch_val_mse"]
        flat_until = next((i - 1 for i in range(1, len(lams)) if abs(torch_val[i] / torch_val[0] - 1) >= FLAT),
                          len(lams) - 1)
        items += [
            ("forum", "Why is the validation loss constant whatever λ?", "forum", ("derived", "poster_change"),
             lambda v: f"From PyTorch's init the gradient never touches the null-space part; λ = 0.1 changes the "
                       f"loss by {pct(v)}" + (f", λ = {fmt(lams[flat_until + 1])} by "
                                              f"{pct(abs(torch_val[flat_until + 1] / torch_val[0] - 1))}."
                                              if flat_until + 1 < len(lams) else "."),
             "holds" if flat_until == len(lams) - 1 else "refuted" if flat_until == 0 else
             f"holds only up to λ = {fmt(lams[flat_until])}"),
            ("forum", "Why did the validation loss look higher with decay?", "forum",
             ("derived", "penalty_share_at_wd"),
             lambda v: f"d2l plots the objective: at λ = {wd:g} the penalty is {pct(v)} of the plotted value; the "
                       f"data MSE alone is " + ("lower" if gd[_lam_index(forum, wd)] < gd[0] else "not lower")
                       + " with decay.",
             "holds for the plotted objective only" if gd[_lam_index(forum, wd)] < gd[0] else "holds"),
            ("forum", "Why does the loss not go far below 0.01?", "forum", ("derived", "constant_val_loss_d2l_units"),
             lambda v: f"Predicting the mean already gives {fmt(v)} in d2l's units (half the MSE); "
                       + ("no λ gets far below it." if forum["derived"]["best_over_constant"] > 0.8
                          else "the best λ does clearly better."),
             _verdict(forum["derived"]["best_over_constant"] > 0.8)),
            ("forum", "Why does a very large λ fail to converge?", "forum", ("div_predicted",),
             lambda v: f"Stable only while η(h_max + λ) < 2, h_max the data term's largest curvature: divergence starts at λ = {fmt(v)}.",
             _verdict(_finite(forum["div_onset"]))),
            ("forum", "Why does λ of 10–50 keep helping?", "forum", ("gd_val_mse", lowest),
             lambda v: (f"d2l's run keeps improving up to λ = 50 (validation MSE {fmt(v)}): decay erases the init's "
                        f"null-space part, (1 − ηλ)^T = {fmt(forum['null_factor'][_lam_index(forum, 10.0)])} at λ = 10."
                        if falling else
                        f"d2l's run is best at λ = {fmt(lams[lowest])} (validation MSE {fmt(v)}) and worse after it; "
                        f"what helps up to there is decay erasing the init's null-space part."),
             _verdict(falling)),
            ("forum", "Is this a bad example (‖w*‖²/2 = 0.01, init sd 1)?", "forum", ("init_sd1", "wd"),
             lambda v: f"From N(0, 1) the λ = 0 run ends at validation MSE {fmt(forum['init_sd1']['0'])} and "
                       f"λ = {wd:g} at {fmt(v)}, "
                       + (f"close to the small-init run's {fmt(small_wd)}: decay rescues it." if rescued else
                          f"{fmt(v / small_wd)}× the small-init run's {fmt(small_wd)}: in {forum['steps']} steps "
                          f"decay does not rescue it."),
             _verdict(forum["init_sd1"]["0"] > 10 * gd[0])),   # the premise: from N(0, 1) the init dominates
            ("blog and notebook", "Adam + L2 or AdamW?", "forum", ("adam_long", "AdamW", "max_from_ridge"),
             lambda v: ("Adam + L2 settles on the ridge solution; " if settles else "") +
                       f"AdamW ends {fmt(v)} away from it."),
            ("blog and notebook", "Does the null-space law hold under Adam?", "forum",
             ("adam", "Adam, λ = 0", "law_error"),
             lambda v: f"Adam's per-coordinate scaling leaves the rows' span; the law is off by {pct(v)}.",
             _verdict(forum["adam"]["Adam, λ = 0"]["law_error"] < 1e-6)),
        ]
    return items


def answer_card(numbers: dict) -> list[dict]:
    """The card for the sections that ran; ``numbers`` maps a section's name to its results.json numbers."""
    card = []
    for source, question, name, path, line, *verdict in _items(numbers):
        value = _get(numbers[name], path)
        verdict = verdict[0] if verdict else None      # questions without a premise have none
        answer = line(value) if verdict is None else f"{verdict[0].upper()}{verdict[1:]}. {line(value)}"
        card.append({"source": source, "question": question, "answer": answer, "section": name,
                     "path": list(path), "value": value, "verdict": verdict})
    return card
