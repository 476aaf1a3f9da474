"""Sweeps cut into blocks: on a Dask LocalCluster, and into a Zarr store, equal to the local run."""

import numpy as np
import pytest

from bayeswd.training import TrainingDiverged, stability_bound, train

distributed = pytest.importorskip("dask.distributed", reason="the 'distributed' extra is not installed")


def _assert_equal(got, want, tol=1e-12):
    assert dict(got.result.sizes) == dict(want.result.sizes)
    for name in want.result.data_vars:
        np.testing.assert_allclose(np.asarray(got.result[name]), want.result[name], rtol=tol, atol=tol, err_msg=name)
    np.testing.assert_array_equal(np.asarray(got.w0), want.w0)


def test_768_models_on_a_two_worker_local_cluster_equal_the_local_sweep(d2l, tmp_path, capsys):
    lams, seeds = np.linspace(0, 10, 96), list(range(8))          # 96 × 8 = 768 models, two blocks of 512
    local = train(d2l, lams, seed=seeds)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream:
            remote = train(d2l, lams, seed=seeds, client=client)
        _assert_equal(remote, local)
        assert remote.traces >= 1               # each worker process compiled its block's shape
        # named tasks: the dashboard and the task stream say what runs, not a hash
        keys = [str(task["key"]) for task in stream.data]
        assert keys and all(k.startswith("bayeswd-train-block-") for k in keys), keys
        capsys.readouterr()
        stored = train(d2l, lams, seed=seeds, client=client, store=tmp_path / "sweep.zarr", progress=True)
        _assert_equal(stored, local)
        # progress: one plain line per finished block
        lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("bayeswd: train block")]
        assert [line.split()[3] for line in lines] == ["1/2", "2/2"], lines
    # the store says what made it
    import json

    import zarr

    attrs = zarr.open_group(str(tmp_path / "sweep.zarr"), mode="r").attrs
    assert json.loads(attrs["config"])["lr"] == 0.01 and len(json.loads(attrs["features"])) == d2l.num_inputs
    assert attrs["bayeswd_version"] and attrs["device"]


def test_feature_names_survive_training(tmp_path):
    import bayeswd

    rng = np.random.default_rng(0)
    path = tmp_path / "mine.csv"
    X = rng.standard_normal((30, 3))
    np.savetxt(path, np.column_stack([X, X @ [1.0, 2.0, 0.0]]), delimiter=",", header="age,dose,noise,y", comments="")
    data = bayeswd.load(path)
    run = train(data, 0.1, epochs=2)
    assert list(run.result["feature"].values) == ["age", "dose", "noise"]


@pytest.mark.parametrize("sweep", [dict(lam=np.linspace(0, 5, 70), seed=[0, 1]),              # cut along λ
                                   dict(lam=[0.0, 3.0], seed=list(range(40)), init_sd=[0.01, 1.0])])  # seeds
def test_zarr_store_written_by_region_equals_the_in_memory_result(d2l, tmp_path, sweep, monkeypatch):
    from bayeswd.training import executor

    monkeypatch.setattr(executor, "BLOCK_MODELS", 64)             # many blocks, the last one padded
    stored = train(d2l, epochs=3, store=tmp_path / "a.zarr", **sweep)
    assert stored.result["w"].chunks is not None                     # lazy: read from the store
    _assert_equal(stored, train(d2l, epochs=3, **sweep))


def test_store_is_checked_before_any_work(d2l, tmp_path):
    (tmp_path / "taken.zarr").mkdir()
    for store, match in ((tmp_path / "taken.zarr", "already exists"), (tmp_path / "sweep.txt", "ending in .zarr"),
                         (tmp_path / "missing" / "s.zarr", "does not exist")):
        with pytest.raises(ValueError, match=match):
            train(d2l, [0.0, 1.0], store=store)
    assert list((tmp_path / "taken.zarr").iterdir()) == []          # never touched


def test_divergence_in_a_block_is_reported(d2l, tmp_path):
    lr = 3 * stability_bound(d2l.X_train)
    with pytest.raises(TrainingDiverged, match=r"epoch \d+"):
        with pytest.warns(RuntimeWarning, match="stability bound"):
            train(d2l, [0.0, 0.1], batch_size=None, lr=lr, epochs=300, store=tmp_path / "d.zarr")
    assert not (tmp_path / "d.zarr").exists()          # the failed run's own store is removed
