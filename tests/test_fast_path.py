"""The row-space fast path (bayeswd.training.coordinates) against the full computation, to 1e-10.

Both paths train the same PyMC objective; the fast one on the reduced design [X R, 0] with
r + 1 coordinates per output. Every returned array — w, b, the starts and each history
entry — must agree, across the optimizers where the path is exact, batch sizes, several
outputs, seeds, init sds (0 included: no null part), fixed starts and λ lists.
"""

import numpy as np
import pytest

from bayeswd.training import coordinates as rowspace
from bayeswd.data import Dataset
from bayeswd.training import train

TOL = dict(rtol=1e-10, atol=1e-12)


def _assert_same(fast, full):
    assert fast.config["fast_path"] and not full.config["fast_path"]
    assert fast.result.sizes == full.result.sizes
    for name in full.result.data_vars:
        np.testing.assert_allclose(fast.result[name], full.result[name], err_msg=name, **TOL)
    np.testing.assert_array_equal(fast.w0, full.w0)
    np.testing.assert_array_equal(fast.b0, full.b0)


CASES = {
    "sgd d2l minibatches": dict(lam=[0.0, 0.5, 3.0], seed=[0, 1], init_sd=[0.0, 0.01, 1.0]),
    "sgd batch 1": dict(lam=[0.0, 3.0], batch_size=1, lr=0.002, init_sd=0.5),
    "sgd full batch, no shuffle": dict(lam=[0.1, 30.0], batch_size=None, shuffle=False, init_sd=0.3, epochs=40),
    "sgd batch 3 (ragged last batch)": dict(lam=[0.0, 1.0], batch_size=3, seed=[4, 5], init_sd=2.0),
    "momentum": dict(lam=[0.0, 3.0], optimizer="momentum", lr=0.002, init_sd=[0.01, 1.0]),
    "nesterov": dict(lam=[0.0, 3.0], optimizer="nesterov", lr=0.002, init_sd=0.5),
    "decoupled sgd": dict(lam=[0.5, 3.0], decay="decoupled", init_sd=0.5),
    "decoupled momentum, decayed bias": dict(lam=[0.5, 3.0], decay="decoupled", optimizer="momentum", lr=0.002,
                                              decay_bias=True),
    "torch init": dict(lam=[0.0, 3.0], init="torch", seed=[0, 1, 2]),
    "fixed start": dict(lam=3.0, w0=np.linspace(-1, 1, 200), b0=0.25),
    # 16 λ × 4 epochs per start: the validation loss goes through the QR factor (coordinates.COMPACT_VALIDATION_AFTER)
    "many λ, validation by QR": dict(lam=np.linspace(0.0, 5.0, 16), seed=[0, 1], init_sd=[0.01, 2.0]),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_fast_path_equals_full_computation(d2l, case):
    case = {"epochs": 4, **case}
    _assert_same(train(d2l, **case), train(d2l, fast_path=False, **case))


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_fast_path_with_several_outputs(optimizer):
    # One null direction per output column: each column's null part decays on its own.
    rng = np.random.default_rng(3)
    X, W = rng.standard_normal((20, 60)), rng.standard_normal((60, 3)) / 8
    data = Dataset(X, X @ W + 0.1 * rng.standard_normal((20, 3)), rng.standard_normal((30, 60)),
                   rng.standard_normal((30, 3)))
    case = dict(lam=[0.0, 0.05], seed=[0, 1], init_sd=[0.0, 0.3], epochs=3, batch_size=6, lr=0.005,
                optimizer=optimizer)
    _assert_same(train(data, **case), train(data, fast_path=False, **case))


def test_reduced_coordinates_are_exact():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 30))
    R = rowspace.row_space_basis(X)
    assert R.shape == (30, 7)
    np.testing.assert_allclose(R.T @ R, np.eye(7), atol=1e-14)
    for w0 in (rng.standard_normal(30), rng.standard_normal((30, 3)), np.zeros(30), X[0] * 1.0):
        u, a0 = (np.asarray(v) for v in rowspace.reduce_start(R, w0))
        np.testing.assert_allclose(rowspace.expand(R, u, a0), w0, atol=1e-14)
        np.testing.assert_allclose(X @ u, 0.0, atol=1e-13)            # u is in the null space
        np.testing.assert_allclose(np.sum(a0**2), np.sum(w0**2), rtol=1e-13, atol=1e-28)  # ‖a‖ = ‖w‖


def test_fast_path_is_chosen_only_where_exact(d2l):
    assert train(d2l, 3.0, epochs=1).config["fast_path"]
    for kwargs in (dict(optimizer="adam"), dict(penalty="l1"), dict(penalty="l1", l1_method="proximal")):
        assert not train(d2l, 0.01, epochs=1, **kwargs).config["fast_path"]
        with pytest.raises(ValueError, match="exact only"):
            train(d2l, 0.01, epochs=1, fast_path=True, **kwargs)
    # n > p: the row space is everything, there is nothing to skip and the full path runs
    rng = np.random.default_rng(1)
    tall = Dataset(rng.standard_normal((30, 4)), rng.standard_normal(30), rng.standard_normal((5, 4)),
                   rng.standard_normal(5))
    assert not train(tall, 0.1, epochs=2).config["fast_path"]
    _assert_same(train(tall, [0.0, 0.1], epochs=2, fast_path=True), train(tall, [0.0, 0.1], epochs=2, fast_path=False))


def test_rank_deficient_rows(d2l):
    # Duplicate training rows: rank r < n, R has r columns, the path stays exact.
    X = np.vstack([d2l.X_train[:10], d2l.X_train[:10]])
    data = Dataset(X, d2l.y_train, d2l.X_val, d2l.y_val)
    assert rowspace.row_space_basis(X).shape[1] == 10
    case = dict(lam=[0.0, 3.0], init_sd=0.5, epochs=3)
    _assert_same(train(data, **case), train(data, fast_path=False, **case))
