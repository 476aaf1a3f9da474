"""The store of traced sweeps: read back instead of traced, the same numbers, and a key that names
everything that changes the program."""

import numpy as np
import optax
import pytest

from bayeswd import _jax_setup
from bayeswd.training import program, program_store, train
from bayeswd.training.config import Spec, TrainConfig


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The store on, in a folder of this test's own, and no program compiled yet in this process."""
    folder = tmp_path / "bayeswd-programs"
    monkeypatch.setattr(_jax_setup, "_PROGRAMS", str(folder))
    program.program_for.cache_clear()
    yield folder
    program.program_for.cache_clear()


def _sweep(d2l):
    return train(d2l, [0.0, 0.5, 3.0], seed=[0, 1], init_sd=[0.01, 1.0], epochs=3)


def _arrays(run):
    return {name: run.result[name].values for name in ("w", "b", "train_mse", "val_mse")}


def test_a_stored_sweep_is_read_back_not_traced(d2l, store, monkeypatch):
    first = _sweep(d2l)
    assert first.traces == 1
    assert len(list(store.glob("*.exported"))) == 1

    program.program_for.cache_clear()        # as a new process: no program in memory, the file on disk
    again = _sweep(d2l)
    assert again.traces == 0
    for name, values in _arrays(first).items():
        np.testing.assert_array_equal(_arrays(again)[name], values, err_msg=name)

    monkeypatch.setattr(_jax_setup, "_PROGRAMS", None)     # the plain jit-compiled program, never stored
    program.program_for.cache_clear()
    plain = _sweep(d2l)
    assert plain.traces == 1
    for name, values in _arrays(plain).items():
        np.testing.assert_allclose(_arrays(again)[name], values, rtol=0, atol=1e-12, err_msg=name)


def test_a_damaged_file_is_traced_again_and_replaced(d2l, store):
    first = _sweep(d2l)
    (path,) = store.glob("*.exported")
    path.write_bytes(path.read_bytes()[:100])       # cut short, as by a crash of another process

    program.program_for.cache_clear()
    again = _sweep(d2l)
    assert again.traces == 1
    for name, values in _arrays(first).items():
        np.testing.assert_array_equal(_arrays(again)[name], values, err_msg=name)
    program.program_for.cache_clear()
    assert _sweep(d2l).traces == 0                  # the file written again reads back
    assert not list(store.glob(".*.part"))          # no half-written file left behind


def _spec(**changes):
    return Spec.build(TrainConfig(**changes), n=20, p=21, k=None, fixed_start=False, coordinates="row_space")


def _args(n_lam=3, lr=0.01):
    lam_grid = np.zeros((n_lam, 2))
    data = (np.zeros((20, 200)), np.zeros(20), np.zeros((100, 200)), np.zeros(100))
    return (lam_grid, np.zeros(2, dtype=np.int64), np.ones(2), lr, {}, data, np.zeros((200, 20)))


def test_the_key_names_what_changes_the_program(store, monkeypatch):
    base = program_store.key(_spec(), _args())
    assert base == program_store.key(_spec(), _args())                     # deterministic
    assert base != program_store.key(_spec(epochs=11), _args())            # the spec
    assert base != program_store.key(_spec(), _args(n_lam=4))              # a shape
    assert base != program_store.key(_spec(), _args(lr=np.float64(0.01)))  # a weak type against a strong one
    monkeypatch.setattr(program_store, "_environment", lambda: "another jax, or another bayeswd source")
    assert base != program_store.key(_spec(), _args())


def test_a_users_transformation_or_model_is_never_stored(store):
    assert program_store.key(_spec(optimizer=optax.sgd(0.01)), _args()) is None


def test_the_store_is_an_opt_in(monkeypatch, tmp_path):
    monkeypatch.setattr(_jax_setup, "_PROGRAMS", None)
    assert program_store.key(_spec(), _args()) is None                     # a library call: off
    monkeypatch.setenv("BAYESWD_COMPILE_CACHE", "off")
    assert _jax_setup.enable_compilation_cache() is None
    assert _jax_setup.program_store_folder() is None
    monkeypatch.delenv("BAYESWD_COMPILE_CACHE")
    where = _jax_setup.enable_compilation_cache(programs=False)            # a Dask worker of a process without it
    assert where and _jax_setup.program_store_folder() is None
    _jax_setup.enable_compilation_cache()                                  # the command
    assert _jax_setup.program_store_folder() == f"{where}/bayeswd-programs"
