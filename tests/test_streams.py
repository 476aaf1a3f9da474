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
