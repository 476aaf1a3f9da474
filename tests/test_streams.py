"""Independent random streams: no purpose replays another's numbers, and same seed → same numbers."""

from __future__ import annotations

import numpy as np
import pytest

import bayeswd
from bayeswd.data import multioutput_data
from bayeswd.gaussian import gaussian_posterior
from bayeswd.streams import PURPOSES, child_seed, stream


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_no_purpose_replays_the_data_or_another_purpose(seed):
    data = bayeswd.d2l_data(seed=seed)
    seen = {"data": set(np.concatenate([data.X_train.ravel(), data.X_val.ravel()]).tolist())}
    for purpose in PURPOSES:
        draws = set(stream(seed, purpose).standard_normal(5000).tolist())
        for other, values in seen.items():
            assert not draws & values, f"{purpose} replays {other}"
        seen[purpose] = draws


def test_same_seed_same_stream_and_repeats_do_not_reuse_neighbouring_seeds():
    assert np.array_equal(stream(3, "init").standard_normal(10), stream(3, "init").standard_normal(10))
    seeds = [child_seed(0, "repeat", r) for r in range(1, 50)]
    assert len(set(seeds)) == len(seeds) and not set(seeds) & set(range(0, 60))
    with pytest.raises(ValueError, match="unknown random purpose"):
        stream(0, "initialisation")


def test_posterior_draws_and_inits_are_not_data_rows():
    data = bayeswd.d2l_data(seed=0)
    post = gaussian_posterior(data.X_train, data.y_train, prior_sd=1.0, noise_sd=1.0)
    w, _ = post.sample(50, seed=0)
    # With a unit prior the null-space part of a draw is the standard normal it was drawn from; before
    # the streams were split, it was the null-space part of a training row.
    rows = np.concatenate([data.X_train, data.X_val])
    assert np.min(np.abs(w[:, None, :] - rows[None, :, :]).max(axis=2)) > 0.1
    X = multioutput_data(seed=0).X_train
    w0 = stream(0, "init").uniform(-1, 1, X.shape)
    assert not set(w0.ravel().tolist()) & set(X.ravel().tolist())


def test_the_sliders_null_space_term_is_the_sgd_law_with_the_raw_row_projector():
    """The slider's "validation MSE the init's null-space part adds" against minibatch SGD simulated here.

    SGD with a trained bias is affine in the start, so the change a start's null-space part makes to the
    validation predictions is one linear map; applied to s·I (each column a start) it gives the expected
    added MSE s²·‖map‖²_F/m exactly. The centred projector (the old page) is off by several percent.
    """
    from bayeswd.analyses import weight_decay_is_a_prior as W
    from bayeswd.subspace import row_space_projector

    data = bayeswd.d2l_data(seed=0)
    X, y, Xv = data.X_train, data.y_train, data.X_val
    n, p = X.shape
    lam, init_sd = 0.05, 0.01
    gd = W.GD
    steps = gd["epochs"] * -(-n // gd["batch"])
    null = np.eye(p) - row_space_projector(X)
    starts = init_sd * np.eye(p)                       # p starts, one per column
    orders = [stream(0, "init").permutation(n) for _ in range(gd["epochs"])]

    def sgd(W0):
        Wt, bt = W0.copy(), np.zeros(W0.shape[1])
        for order in orders:
            for k in range(0, n, gd["batch"]):
                rows = order[k:k + gd["batch"]]
                r = X[rows] @ Wt + bt - y[rows, None]
                Wt, bt = Wt - gd["lr"] * (X[rows].T @ r / len(rows) + lam * Wt), bt - gd["lr"] * r.mean(axis=0)
        return Wt, bt

    (w_full, b_full), (w_row, b_row) = sgd(starts), sgd(starts - null @ starts)
    assert np.abs(b_full - b_row).max() < 1e-12        # the bias never sees the null-space part
    effect = Xv @ (w_full - w_row)                     # (m, p): each start's null-space effect on predictions
    measured = float(np.sum(effect**2) / len(Xv))      # E over w₀ ~ N(0, s²I) of the added validation MSE
    page = W._slider_numbers(data, 0.01, lam, init_sd, steps)["init_part"]
    assert page == pytest.approx(measured, rel=1e-10)
    Xc, Xvc = X - X.mean(axis=0), Xv - X.mean(axis=0)
    centred = init_sd**2 * (1 - gd["lr"] * lam) ** (2 * steps) * np.trace(
        Xvc @ (np.eye(p) - row_space_projector(Xc)) @ Xvc.T) / len(Xv)
    assert abs(centred / measured - 1) > 0.01
