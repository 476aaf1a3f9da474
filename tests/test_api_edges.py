"""The public API's edges: every numeric argument gives a finite result or a ValueError naming the argument.

The cases of the reliability issue (round three, item 7) one by one, then hypothesis-generated values for
the numeric arguments of the public functions.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bayeswd
import bayeswd.training  # noqa: F401  (PyMC raises the recursion limit on import: not inside a hypothesis test)
import bayeswd.inference  # noqa: F401
from bayeswd.exceptions import BudgetError

D2L = bayeswd.d2l_data(seed=0)


def _houses_csv(tmp_path):
    path = tmp_path / "h.csv"
    rng = np.random.default_rng(0)
    np.savetxt(path, rng.standard_normal((20, 3)), delimiter=",", header="a,b,price", comments="")
    return path


CASES = {
    "ridge, λ = 1e308": (lambda t: bayeswd.ridge(D2L.X_train, D2L.y_train, 1e308), "ridge solution"),
    "ridge, X·1e200": (lambda t: bayeswd.ridge(D2L.X_train * 1e200, D2L.y_train, 1), "ridge solution"),
    "ridge, complex X": (lambda t: bayeswd.ridge(D2L.X_train + 0j, D2L.y_train, 1), "X is complex"),
    "ridge_path, text grid": (lambda t: bayeswd.ridge_path(D2L.X_train, D2L.y_train, "abc"), "lams"),
    "load, target=True": (lambda t: bayeswd.load(_houses_csv(t), target=True), "target"),
    "load, target=1.5": (lambda t: bayeswd.load(_houses_csv(t), target=1.5), "target"),
    "load, noise_sd=-1": (lambda t: bayeswd.load(_houses_csv(t), noise_sd=-1), "noise"),
    "train, b0=inf": (lambda t: bayeswd.train(D2L, 1.0, b0=math.inf), "b0"),
    "train, w0 of the wrong shape": (lambda t: bayeswd.train(D2L, 1.0, w0=np.zeros(3)), "w0"),
    "train, w0 with NaN": (lambda t: bayeswd.train(D2L, 1.0, w0=np.full(200, np.nan)), "w0"),
    "train, shuffle='no'": (lambda t: bayeswd.train(D2L, 1.0, shuffle="no"), "shuffle"),
    "train, epochs=inf": (lambda t: bayeswd.train(D2L, 1.0, epochs=math.inf), "epochs"),
    "train, epochs=None": (lambda t: bayeswd.train(D2L, 1.0, epochs=None), "epochs"),
    "train, seed=2**64": (lambda t: bayeswd.train(D2L, 1.0, seed=2**64), "seed"),
    "train, seed='a'": (lambda t: bayeswd.train(D2L, 1.0, seed="a"), "seed"),
    "sample_posterior, tune=-5": (lambda t: bayeswd.sample_posterior(D2L, "gaussian", 0.01, sampler="exact",
                                                                     tune=-5), "tune"),
    "sample_posterior, scale=1e-300": (lambda t: bayeswd.sample_posterior(D2L, "gaussian", 1e-300, sampler="exact"),
                                       "prior_sd"),
    "sample_posterior, draws=10**12": (lambda t: bayeswd.sample_posterior(D2L, "gaussian", 0.01, sampler="exact",
                                                                          draws=10**12), "draws"),
    "lam_from_prior, n=0": (lambda t: bayeswd.lam_from_prior(0.01, 0.01, 0), "n must"),
    "lam_from_prior, τ=1e-300": (lambda t: bayeswd.lam_from_prior(0.01, 1e-300, 20), "prior_sd"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_edge_is_a_named_value_error(case, tmp_path):
    call, named = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # no RuntimeWarning on the way to the refusal
        with pytest.raises(ValueError, match=named):
            call(tmp_path)


def test_a_memory_refusal_is_a_budget_error():
    with pytest.raises(BudgetError, match="GiB"):
        bayeswd.sample_posterior(D2L, "gaussian", 0.01, sampler="exact", draws=10**12)


def test_estimator_options_and_numpy_scalars():
    sklearn = pytest.importorskip("sklearn")  # noqa: F841
    from bayeswd import PriorRegressor

    X, y = D2L.X_train, D2L.y_train
    for lam in (np.int64(2), np.float32(0.5), np.float64(1.0)):
        assert np.isfinite(PriorRegressor(lam=lam).fit(X, y).coef_).all()
    with pytest.raises(ValueError, match=r"options \['epoch'\]"):
        PriorRegressor(method="gd", options={"epoch": 3}).fit(X, y)
    with pytest.raises(ValueError, match="options must be a dict"):
        PriorRegressor(options=5).fit(X, y)
    with pytest.raises(ValueError, match="lam"):
        PriorRegressor(lam=True).fit(X, y)


# Hypothesis: numbers of every kind (extremes, NaN, infinities, ints, numpy scalars) in every numeric argument.
NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.integers(min_value=-2**70, max_value=2**70),
                    st.sampled_from([0, 1, -1, 1e-300, 1e300, 5e-324, np.float64(2.5), np.int64(3)]))


def _finite_or_named(call, names):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            out = call()
        except ValueError as err:
            assert any(name in str(err) for name in names), (names, str(err))
            return
    values = np.asarray([v for v in np.ravel(out) if v is not None], dtype=np.float64)
    assert np.all(np.isfinite(values)), (names, out)


@settings(deadline=None, max_examples=60)
@given(lam=NUMBERS)
def test_ridge_lam(lam):
    _finite_or_named(lambda: np.append(bayeswd.ridge(D2L.X_train, D2L.y_train, lam).w, 0.0), ["lam", "ridge"])


@settings(deadline=None, max_examples=60)
@given(sigma=NUMBERS, tau=NUMBERS, n=NUMBERS)
def test_prior_conversions(sigma, tau, n):
    _finite_or_named(lambda: bayeswd.lam_from_prior(sigma, tau, n), ["noise_sd", "prior_sd", "n ", "n must", "λ"])
    _finite_or_named(lambda: bayeswd.prior_sd_from_lam(tau, sigma, n), ["noise_sd", "lam", "n must"])


@settings(deadline=None, max_examples=40)
@given(sigma=NUMBERS, tau=NUMBERS)
def test_gaussian_posterior_scales(sigma, tau):
    _finite_or_named(lambda: bayeswd.gaussian_posterior(D2L.X_train, D2L.y_train, sigma, tau).mean,
                     ["noise_sd", "prior_sd"])


@settings(deadline=None, max_examples=60)
@given(wd=NUMBERS, lr=NUMBERS, n=NUMBERS, batch=NUMBERS, sigma=NUMBERS)
def test_implied_prior_numbers(wd, lr, n, batch, sigma):
    def call():
        r = bayeswd.implied_prior("pytorch", "sgd", wd, n=n, lr=lr, batch_size=batch, steps=10, noise_sd=sigma)
        g = r.groups["weight"]
        return [g.lam, g.prior_sd, r.decay_per_step, r.null_space_survival]

    _finite_or_named(call, ["weight_decay", "lr", "n must", "batch_size", "noise_sd", "λ", "prior"])


def _finite_or_refused(call, names):
    """Like ``_finite_or_named`` for the trainers and samplers: a diverged run (TrainingDiverged names the
    learning rate) is a refusal too, and only numpy's own RuntimeWarnings (a silent overflow) fail."""
    from bayeswd.exceptions import TrainingDiverged

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # bayeswd's own warnings (an unstable lr) are allowed
        warnings.filterwarnings("error", message=".*(overflow|invalid value|divide by zero)", category=RuntimeWarning)
        try:
            out = call()
        except (ValueError, TrainingDiverged) as err:
            assert any(name in str(err) for name in names), (names, str(err))
            return
    assert np.all(np.isfinite(np.asarray(out, dtype=np.float64))), (names, out)


SMALL = bayeswd.Dataset(D2L.X_train[:, :6], D2L.y_train, D2L.X_val[:, :6], D2L.y_val, noise_sd=0.01)


@settings(deadline=None, max_examples=30)
@given(lam=NUMBERS, lr=NUMBERS, init_sd=NUMBERS)
def test_train_numbers(lam, lr, init_sd):
    def call():
        run = bayeswd.train(SMALL, lam, lr=lr, epochs=2, batch_size=None, init_sd=init_sd)
        return np.append(run.w, [run.b, run.result["train_mse"].values[-1]])

    _finite_or_refused(call, ["lam", "lr", "init_sd", "learning rate", "λ"])


@settings(deadline=None, max_examples=30)
@given(scale=NUMBERS, noise_sd=NUMBERS)
def test_exact_posterior_numbers(scale, noise_sd):
    def call():
        tree = bayeswd.sample_posterior(SMALL, "gaussian", scale, noise_sd=noise_sd, sampler="exact", draws=20,
                                        chains=1)
        return tree.posterior["w"].values

    _finite_or_refused(call, ["prior_sd", "scale", "noise_sd"])


@settings(deadline=None, max_examples=30)
@given(alpha=NUMBERS)
def test_lasso_alpha(alpha):
    def call():
        fit = bayeswd.lasso(SMALL.X_train, SMALL.y_train, alpha)
        return np.append(fit.w, fit.b)

    _finite_or_refused(call, ["alpha", "α"])


@settings(deadline=None, max_examples=12)
@given(scale=NUMBERS, prior=st.sampled_from(["gaussian", "laplace"]))
def test_map_estimate_scale(scale, prior):
    def call():
        fit = bayeswd.map_estimate(SMALL, prior, scale, noise_sd=0.01)
        return np.append(fit.w, fit.b)

    _finite_or_refused(call, ["scale", "prior_sd", "laplace_scale"])
