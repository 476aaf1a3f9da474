"""``Context.once``: a computation two sections share, made once per process and copied on each use."""

import warnings

import numpy as np
import pytest

from bayeswd.protocol import context
from bayeswd.protocol.context import Context

CALLS = []


def costly(data, scale=2.0, *, tag=""):
    CALLS.append((tag, scale))
    if tag == "warns":
        warnings.warn("a diagnostic failed", UserWarning, stacklevel=1)
    return {"value": np.asarray(data) * scale}


@pytest.fixture
def ctx(monkeypatch):
    monkeypatch.setattr(context, "_ONCE", type(context._ONCE)())
    CALLS.clear()
    return Context(dataset=None)


def test_equal_arguments_compute_once_defaults_included(ctx):
    first = ctx.once(costly, [1.0, 2.0])
    second = ctx.once(costly, data=[1.0, 2.0], scale=2.0, tag="")   # the same call, spelled out
    assert CALLS == [("", 2.0)]
    np.testing.assert_array_equal(first["value"], second["value"])
    ctx.once(costly, [1.0, 2.0], 3.0)
    ctx.once(costly, [1.0, 2.5])
    assert len(CALLS) == 3                               # another argument is another computation


def test_each_use_gets_its_own_copy(ctx):
    ctx.once(costly, [1.0])["value"][0] = -99.0          # one section changing what it got
    assert ctx.once(costly, [1.0])["value"][0] == 2.0    # is not seen by the next
    assert len(CALLS) == 1


def test_warnings_are_raised_again_on_every_use(ctx):
    for _ in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ctx.once(costly, [1.0], tag="warns")
        assert [str(w.message) for w in caught] == ["a diagnostic failed"]
        assert caught[0].filename.endswith("test_once.py")   # where it was raised: the report keeps bayeswd's own
    assert len(CALLS) == 1


def test_only_a_few_results_are_kept(ctx):
    for k in range(context._ONCE_SIZE + 2):
        ctx.once(costly, [float(k)])
    ctx.once(costly, [0.0])                              # the oldest was dropped: computed again
    assert len(CALLS) == context._ONCE_SIZE + 3 and len(context._ONCE) == context._ONCE_SIZE


def test_an_error_is_not_kept(ctx):
    with pytest.raises(TypeError):
        ctx.once(costly, [1.0], unknown=1)
    assert not context._ONCE
