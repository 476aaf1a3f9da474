import numpy as np
import pytest
from stats_budget import assert_z_within

from bayeswd.subspace import (decompose, explain_run, gd_trajectory, init_risk, interpolant_from,
                              row_space_projector)
from bayeswd.training import stability_bound, train


def test_decomposition_sums_back_and_is_orthogonal(d2l):
    rng = np.random.default_rng(0)
    for w in (rng.standard_normal(200), rng.standard_normal((200, 3))):
        row, null = decompose(w, d2l.X_train)
        np.testing.assert_allclose(row + null, w, atol=1e-12)
        np.testing.assert_allclose(d2l.X_train @ null, 0, atol=1e-12)
    with pytest.raises(ValueError, match="columns"):
        decompose(np.ones(5), d2l.X_train)


def test_projector_is_a_projector(d2l):
    P = row_space_projector(d2l.X_train)
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    assert np.trace(P) == pytest.approx(20, abs=1e-9)


@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_closed_form_trajectory_equals_engine_at_every_step(d2l, lam):
    lr, epochs = 0.5 * stability_bound(d2l.X_train, lam), 30
    rng = np.random.default_rng(1)
    w0 = 0.3 * rng.standard_normal(200)
    w_t, b_t = gd_trajectory(d2l.X_train, d2l.y_train, lam, lr, epochs, w0, 0.1)
    # Full batch: one step per epoch; run the engine for 1, 2, …, epochs epochs from the same start.
    for t in (1, 2, 7, epochs):
        run = train(d2l, lam, lr=lr, epochs=t, batch_size=None, w0=w0, b0=0.1)
        np.testing.assert_allclose(run.w, w_t[t], atol=1e-10)
        assert run.b == pytest.approx(b_t[t], abs=1e-10)


def test_lambda_zero_limit_keeps_the_init_null_space(d2l):
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal(200)
    w_inf, b_inf = interpolant_from(d2l.X_train, d2l.y_train, w0, 0.0)
    w_t, b_t = gd_trajectory(d2l.X_train, d2l.y_train, 0.0, 0.9 * stability_bound(d2l.X_train), 30_000, w0)
    np.testing.assert_allclose(w_t[-1], w_inf, atol=1e-8)
    np.testing.assert_allclose(d2l.X_train @ w_inf + b_inf, d2l.y_train, atol=1e-10)  # interpolates
    _, null0 = decompose(w0, d2l.X_train)
    _, null_inf = decompose(w_inf, d2l.X_train)
    np.testing.assert_allclose(null_inf, null0, atol=1e-10)


def check_init_risk(d2l, kind, sd, seeds):
    """The engine's own random starts, each taken to its λ = 0 limit in closed form, against the init law."""
    run = train(d2l, 0.0, seed=seeds, init=kind, init_sd=sd if sd else 0.0, epochs=1)
    risks = [explain_run(*interpolant_from(d2l.X_train, d2l.y_train, w0, b0), w0, d2l.X_train, d2l.w_true,
                         d2l.b_true)["excess_risk"] for w0, b0 in zip(run.w0, run.b0)]
    var_w = sd**2 if kind == "normal" else 1 / (3 * 200)
    var_b = 0.0 if kind == "normal" else 1 / (3 * 200)
    base, expected = init_risk(d2l.X_train, d2l.y_train, d2l.w_true, d2l.b_true, var_w, var_b)
    mc_se = np.std(risks, ddof=1) / np.sqrt(len(risks))
    assert expected > base
    return (np.mean(risks) - expected) / mc_se


def check_init_risk_law(d2l, seeds):
    """The four inits' z-scores share one budget (tests/stats_budget.py)."""
    inits = [("normal", 0.01), ("normal", 1.0), ("normal", 0.1), ("torch", None)]
    assert_z_within([check_init_risk(d2l, kind, sd, seeds) for kind, sd in inits], what="z")


def test_init_risk_formula_matches_monte_carlo(d2l):
    """240 seeds for each of four inits. Seed sweep (20 disjoint blocks of 240 seeds): 0 failures in 20."""
    check_init_risk_law(d2l, list(range(240)))


def test_init_sd_one_dominates_the_risk(d2l):
    base, risk_en = init_risk(d2l.X_train, d2l.y_train, d2l.w_true, d2l.b_true, 0.01**2)
    _, risk_zh = init_risk(d2l.X_train, d2l.y_train, d2l.w_true, d2l.b_true, 1.0)
    _, risk_torch = init_risk(d2l.X_train, d2l.y_train, d2l.w_true, d2l.b_true, 1 / 600, 1 / 600)
    assert 1.5 < risk_en / base < 2.5          # docs/theory.md §4: about twice the min-norm risk
    assert risk_zh / base > 100                # two orders of magnitude
    assert 10 < risk_torch / base < 25         # about 17×
