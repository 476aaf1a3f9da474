import warnings

import jax
import numpy as np
import pytest

import bayeswd
from bayeswd import conventions as cv
from bayeswd.data import Dataset, multioutput_data
from bayeswd.subspace import decompose, null_space_factor
from bayeswd.training import TrainingDiverged, stability_bound, train


def _centred(d):
    mean = d.X_train.mean(axis=0)
    return Dataset(d.X_train - mean, d.y_train, d.X_val - mean, d.y_val, noise_sd=d.noise_sd)


@pytest.mark.parametrize("lam", [0.05, 3.0])
def test_full_batch_gd_converges_to_ridge(d2l, lam):
    data = _centred(d2l)
    lr = 0.9 * stability_bound(data.X_train, lam)
    # Centred, the Hessian is block-diagonal: S + λI for w and 1 for b; the slowest rate is min(λ, 1).
    epochs = int(np.ceil(40 / (lr * min(lam, 1.0))))
    run = train(data, lam, lr=lr, epochs=epochs, batch_size=None, w0=np.zeros(200))
    fit = bayeswd.ridge(data.X_train, data.y_train, lam)
    np.testing.assert_allclose(run.w, fit.w, atol=1e-8, rtol=0)
    assert run.b == pytest.approx(fit.b, abs=1e-8)


def test_lambda_zero_from_zero_reaches_augmented_min_norm(d2l):
    X, y = d2l.X_train, d2l.y_train
    lr = 0.9 * stability_bound(X)
    run = train(d2l, 0.0, lr=lr, epochs=20_000, batch_size=None, w0=np.zeros(200), b0=0.0)
    theta = np.linalg.pinv(np.column_stack([X, np.ones(20)])) @ y
    np.testing.assert_allclose(run.w, theta[:-1], atol=1e-8)
    assert run.b == pytest.approx(theta[-1], abs=1e-8)


@pytest.mark.parametrize("batch_size", [1, 3, 5, 20])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_null_space_decays_exactly(d2l, batch_size, optimizer, lam):
    lr = 0.001  # stable for every batch size here, momentum included (0.01 diverges at batch 1)
    run = train(d2l, lam, lr=lr, epochs=4, batch_size=batch_size, optimizer=optimizer, init_sd=0.5, seed=1)
    _, null0 = decompose(run.w0, d2l.X_train)
    _, null_t = decompose(run.w, d2l.X_train)
    factor = null_space_factor(lr, lam, run.steps, 0.9 if optimizer == "momentum" else 0.0)
    if optimizer == "sgd":
        assert factor == pytest.approx((1 - lr * lam) ** run.steps, rel=1e-14)
    assert np.linalg.norm(run.w) < 10 * np.linalg.norm(run.w0)
    np.testing.assert_allclose(null_t, factor * null0, atol=1e-10, rtol=0)


def test_momentum_with_decay_breaks_the_plain_sgd_law(d2l):
    # (1 − ηλ)^T does not hold with momentum once λ > 0: the factor is a 2 × 2 recurrence (docs/theory.md §4).
    run = train(d2l, 3.0, lr=0.01, epochs=4, optimizer="momentum", init_sd=0.5)
    _, null0 = decompose(run.w0, d2l.X_train)
    _, null_t = decompose(run.w, d2l.X_train)
    assert np.abs(null_t - (1 - 0.03) ** run.steps * null0).max() > 1e-3


@pytest.mark.parametrize("decay", ["coupled", "decoupled"])
def test_adam_moves_the_null_space(d2l, decay):
    run = train(d2l, 0.0, lr=0.01, epochs=4, optimizer="adam", decay=decay, init_sd=0.5)
    _, null0 = decompose(run.w0, d2l.X_train)
    _, null_t = decompose(run.w, d2l.X_train)
    assert np.linalg.norm(null_t - null0) > 1e-3 * np.linalg.norm(null0)


def test_decoupled_equals_coupled_for_sgd_but_not_adam(d2l):
    for optimizer, equal in (("sgd", True), ("adam", False)):
        a = train(d2l, 3.0, optimizer=optimizer, decay="coupled")
        b = train(d2l, 3.0, optimizer=optimizer, decay="decoupled")
        assert np.allclose(a.w, b.w, atol=1e-12) is equal


def test_seed_002_three_ways_agree():
    """The notebook's hand update, the PyTensor gradient and optax's built-in decay (seed 002)."""
    from bayeswd.analyses.seed002_multioutput import notebook_update, optax_update

    data = multioutput_data()
    X, Y = data.X_train, data.y_train
    wd, lr, epochs, batch = 0.01, 0.01, 16, len(X) // 3
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(6)
    w0, b0 = rng.uniform(-bound, bound, (6, 3)), rng.uniform(-bound, bound, 3)
    w, b, _ = notebook_update(X, Y, w0, b0, wd, lr, epochs, batch)
    lam, lr_c, decay_bias = cv.from_framework("pytorch", wd, lr, n_targets=3)
    ours = train(data, lam, lr=lr_c, epochs=epochs, batch_size=batch, shuffle=False, w0=w0, b0=b0,
                 decay_bias=decay_bias)
    w_optax, b_optax = optax_update(X, Y, w0, b0, wd, lr, epochs, batch)
    for got_w, got_b in ((ours.w, ours.b), (w_optax, b_optax)):
        np.testing.assert_allclose(got_w, w, atol=1e-12, rtol=0)
        np.testing.assert_allclose(got_b, b, atol=1e-12, rtol=0)


def test_sweep_is_an_xarray_and_compiles_once(d2l, monkeypatch):
    from bayeswd import _jax_setup
    from bayeswd.training import program

    monkeypatch.setattr(_jax_setup, "_PROGRAMS", None)   # a library call's own trace, not one read back from disk
    program.program_for.cache_clear()     # each program counts its own traces; start from none
    run = train(d2l, [0.0, 0.5, 3.0], seed=[0, 1], init_sd=[0.01, 1.0], epochs=3)
    assert run.traces == 1
    assert run.result["val_mse"].dims == ("lam", "seed", "init_sd", "epoch")
    assert run.w.shape == (3, 2, 2, 200)
    again = train(d2l, [0.1, 0.2, 0.4], seed=[5, 6], init_sd=[0.1, 2.0], epochs=3)
    assert again.traces == 0  # new values, same shapes: no retrace
    single = train(d2l, 0.5, seed=1, init_sd=1.0, epochs=3)
    np.testing.assert_allclose(single.w, run.result["w"].sel(lam=0.5, seed=1, init_sd=1.0), atol=1e-12)
    assert again.device.startswith(jax.devices()[0].platform)


@pytest.mark.parametrize("sweep", [dict(lam=np.linspace(0, 10, 200)),  # split along λ, last part padded
                                   dict(lam=[0.0, 3.0], seed=list(range(130)))])  # along the seeds
def test_large_sweep_in_parallel_parts_equals_one_program(d2l, sweep):
    parts = train(d2l, epochs=3, workers=3, **sweep)
    assert parts.traces <= 1  # equal parts: one shape, one compile
    whole = train(d2l, epochs=3, workers=1, **sweep)
    assert parts.result.sizes == whole.result.sizes
    for name in whole.result.data_vars:
        np.testing.assert_allclose(parts.result[name], whole.result[name], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(parts.w0, whole.w0)
    last = {dim: parts.result[dim].values[-1] for dim in ("lam", "seed") if dim in parts.result.dims}
    alone = train(d2l, float(last["lam"]), seed=int(last.get("seed", 0)), epochs=3)  # one model, no batching
    np.testing.assert_allclose(parts.result["w"].sel(last), alone.w, rtol=1e-12, atol=1e-15)


def test_same_seed_same_numbers(d2l):
    a, b = train(d2l, 3.0, seed=7), train(d2l, 3.0, seed=7)
    np.testing.assert_array_equal(a.w, b.w)
    assert not np.array_equal(a.w, train(d2l, 3.0, seed=8).w)


def test_d2l_jax_revision_runs(d2l):
    # The printed "L2 norm of w" is ‖w‖²/2: at λ = 0 it stays near the init's p·0.01²/2 = 0.01.
    free, decayed = train(d2l, 0.0), train(d2l, 3.0)
    assert free.result["l2_penalty"][-1] == pytest.approx(0.01, rel=0.3)
    assert decayed.result["l2_penalty"][-1] < 0.3 * free.result["l2_penalty"][-1]
    assert decayed.result["val_mse"][-1] < free.result["val_mse"][-1]


def test_torch_init_and_l1_options(d2l):
    run = train(d2l, 0.0, init="torch", epochs=1)
    assert np.abs(run.w0).max() <= 1 / np.sqrt(200) and run.b0 != 0
    prox = train(d2l, 0.01, penalty="l1", l1_method="proximal", epochs=20, lr=0.05)
    sub = train(d2l, 0.01, penalty="l1", l1_method="subgradient", epochs=20, lr=0.05)
    assert np.count_nonzero(prox.w == 0) > 20  # exact zeros from the soft threshold
    assert np.count_nonzero(sub.w == 0) == 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(lam=-1.0), ">= 0"),
    (dict(batch_size=0), "positive integer"),
    (dict(epochs=0), "positive integer"),
    (dict(lr=-0.1), "> 0"),
    (dict(optimizer="lbfgs"), "choose one of"),
    (dict(lam=[0.1, -2.0]), ">= 0"),
])
def test_bad_input(d2l, kwargs, match):
    with pytest.raises(ValueError, match=match):
        train(d2l, **kwargs)


def test_unstable_learning_rate_warns_then_divergence_names_the_bound(d2l):
    bound = stability_bound(d2l.X_train)
    with pytest.warns(RuntimeWarning, match="stability bound"):
        with pytest.raises(TrainingDiverged, match=r"epoch \d+ \(step \d+\).*2/\(s_max \+ λ\)"):
            train(d2l, 0.0, lr=3 * bound, batch_size=None, epochs=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(d2l, 0.0, lr=0.5 * bound, batch_size=None, epochs=2)


def test_any_iterable_is_a_sweep(d2l):
    """The README's Dask example passes seed=range(244): a range, a generator or a tuple is a sweep like a list."""
    by_list = train(d2l, [0.0, 3.0], seed=[0, 1, 2], epochs=2)
    by_range = train(d2l, (lam for lam in (0.0, 3.0)), seed=range(3), epochs=2)
    assert by_range.w.shape == (2, 3, 200)
    np.testing.assert_array_equal(by_range.w, by_list.w)
    with pytest.raises(ValueError, match="seed"):
        train(d2l, 1.0, seed="01")   # a text is one (bad) value, never a sequence of characters


def test_train_leaves_jax_global_settings_alone():
    """A library call changes no JAX setting bayeswd chooses: the persistent compilation cache and the
    store of traced sweeps are the command's opt-in (run in a fresh interpreter: other tests' CLI calls opt
    in for their process)."""
    import subprocess
    import sys

    code = """
import jax, bayeswd
keys = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
        "jax_persistent_cache_min_entry_size_bytes")
before = {k: getattr(jax.config, k) for k in keys}
bayeswd.train(bayeswd.d2l_data(seed=0), [0.0, 1.0], epochs=2)
after = {k: getattr(jax.config, k) for k in keys}
assert before == after, (before, after)
from bayeswd import _jax_setup
assert _jax_setup.program_store_folder() is None      # nor keeps its traced sweeps on disk
print("same")
"""
    env = {k: v for k, v in __import__("os").environ.items() if k != "BAYESWD_COMPILE_CACHE"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0 and done.stdout.strip() == "same", done.stderr[-1500:]


@pytest.mark.parametrize("name, make", [("sgd", lambda lr: __import__("optax").sgd(lr)),
                                        ("momentum", lambda lr: __import__("optax").sgd(lr, momentum=0.9)),
                                        ("adam", lambda lr: __import__("optax").adam(lr))])
def test_an_optax_transformation_equals_its_shorthand(d2l, name, make):
    """optimizer=optax.sgd(lr) is optimizer="sgd" at lr (optax's own chain, on the full path)."""
    by_name = train(d2l, [0.0, 3.0], seed=[0, 1], optimizer=name, lr=0.01, epochs=4)
    by_transform = train(d2l, [0.0, 3.0], seed=[0, 1], optimizer=make(0.01), epochs=4)
    assert not by_transform.config["fast_path"]          # opaque to the row-space proof
    assert by_name.config["fast_path"] is (name != "adam")
    np.testing.assert_allclose(by_transform.w, by_name.w, atol=1e-12, rtol=0)
    np.testing.assert_allclose(by_transform.b, by_name.b, atol=1e-12, rtol=0)
    for metric in ("train_mse", "val_mse", "train_objective"):
        np.testing.assert_allclose(by_transform.result[metric], by_name.result[metric], rtol=1e-10, atol=0)


def test_a_chain_the_fast_path_cannot_prove_runs_on_the_full_path(d2l):
    """Clipping is not linear in the gradient: the iterates leave the row-space ⊕ start span. The chain runs
    on the full path, its null-space part moves, and asking for the fast path is refused."""
    import optax

    from bayeswd.subspace import decompose

    clipped = optax.chain(optax.clip(1e-4), optax.sgd(0.01))
    run = train(d2l, 0.0, optimizer=clipped, init_sd=0.5, epochs=3)
    assert not run.config["fast_path"] and "optax transformation" in run.config["optimizer"]
    plain = train(d2l, 0.0, optimizer=optax.sgd(0.01), init_sd=0.5, epochs=3)
    _, null_clipped = decompose(run.w, d2l.X_train)
    _, null_plain = decompose(plain.w, d2l.X_train)
    _, null0 = decompose(run.w0, d2l.X_train)
    np.testing.assert_allclose(null_plain, null0, atol=1e-12)          # plain SGD at λ = 0: null part frozen
    assert np.abs(null_clipped - null0).max() > 1e-6                   # clipping moved it
    with pytest.raises(ValueError, match="fast path is exact only"):
        train(d2l, 0.0, optimizer=clipped, fast_path=True)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0.01), "lr is part of the optax transformation"),
    (dict(decay="decoupled"), "put the decay in the transformation"),
    (dict(penalty="l1", l1_method="proximal"), "proximal L1 step is defined for plain SGD"),
])
def test_a_transformation_refuses_the_shorthands_options(d2l, kwargs, match):
    import optax

    with pytest.raises(ValueError, match=match):
        train(d2l, 1.0, optimizer=optax.sgd(0.01), **kwargs)


def test_unknown_optimizer_names_both_forms(d2l):
    with pytest.raises(ValueError, match="GradientTransformation"):
        train(d2l, 1.0, optimizer=object())
