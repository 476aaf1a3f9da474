import numpy as np
import pytest

import bayeswd
from bayeswd.data import load, mlp_binary_data, multioutput_data


def test_d2l_shapes_and_truth(d2l):
    assert d2l.X_train.shape == (20, 200) and d2l.X_val.shape == (100, 200)
    assert d2l.y_train.shape == (20,) and d2l.noise_sd == 0.01 and d2l.b_true == 0.05
    np.testing.assert_array_equal(d2l.w_true, np.full(200, 0.01))
    resid = np.concatenate([d2l.y_train - d2l.X_train @ d2l.w_true, d2l.y_val - d2l.X_val @ d2l.w_true]) - 0.05
    assert abs(resid.std() - 0.01) < 0.003  # the noise sd it was built with


def test_same_seed_same_data_other_seed_differs():
    a, b, c = bayeswd.d2l_data(seed=3), bayeswd.d2l_data(seed=3), bayeswd.d2l_data(seed=4)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)


def test_dataset_is_read_only(d2l):
    with pytest.raises(ValueError):
        d2l.X_train[0, 0] = 1.0


def test_multioutput_matches_seed_002_shapes():
    data = multioutput_data()
    assert data.X_train.shape == (100, 6) and data.y_train.shape == (100, 3)
    assert data.X_val.shape == (10_000, 6) and data.y_val.shape == (10_000, 3)
    assert np.count_nonzero(np.any(data.w_true != 0, axis=1)) == 5
    assert 0 <= data.b_true < 1


def test_mlp_binary_matches_seed_004():
    data = mlp_binary_data()
    assert data.X_train.shape == (670, 1000) and data.X_val.shape == (330, 1000)
    assert np.concatenate([data.y_train, data.y_val]).sum() == 500


def test_load_npz_and_csv_roundtrip(tmp_path, d2l):
    path = tmp_path / "d.npz"
    np.savez(path, X_train=d2l.X_train, y_train=d2l.y_train, X_val=d2l.X_val, y_val=d2l.y_val)
    loaded = load(path, noise_sd=0.01)
    np.testing.assert_array_equal(loaded.X_val, d2l.X_val)
    assert loaded.noise_sd == 0.01

    table = np.column_stack([d2l.X_train[:, :3], d2l.y_train])
    csv = tmp_path / "d.csv"
    np.savetxt(csv, table, delimiter=",", header="a,b,c,target", comments="")
    loaded = load(csv, target="target", val_fraction=0.25)
    assert loaded.X_train.shape == (15, 3) and loaded.X_val.shape == (5, 3)
    assert sorted(np.concatenate([loaded.y_train, loaded.y_val])) == sorted(d2l.y_train)


@pytest.mark.parametrize("content, match", [
    ("a,b\n1,nan\n2,3\n3,4\n4,5\n", "missing or NA"),
    ("a,b\n1,x\n", "non-numeric"),
    ("a,b\n1,2,3\n", "fields"),
    ("a,b\n", "header row and at least one data row"),
])
def test_bad_csv(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        load(path, target="b")


def test_bad_files(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot read"):
        load(junk)
    pickled = tmp_path / "obj.npz"
    np.savez(pickled, X=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    with pytest.raises(ValueError, match="cannot read"):
        load(pickled)
    text = tmp_path / "x.txt"
    text.write_text("1")
    with pytest.raises(ValueError, match=".npz or .csv"):
        load(text)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, X=np.ones((5, 2)), y=np.ones(4))
    with pytest.raises(ValueError, match="one target per row"):
        load(wrong)


def test_dataset_validation():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="same features"):
        bayeswd.Dataset(X, np.ones(4), np.ones((3, 3)), np.ones(3))
    with pytest.raises(ValueError, match="2-D"):
        bayeswd.Dataset(np.ones(4), np.ones(4), X, np.ones(4))
    with pytest.raises(ValueError, match="infinite"):
        bayeswd.Dataset(X, np.array([1, 2, np.inf, 3]), X, np.ones(4))


# ---- the CSV loader (pandas) ----------------------------------------------------------------------

def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


_ROWS = "".join(f"{i},{2 * i},{i % 3},{0.5 * i}\n" for i in range(10))


def test_csv_keeps_column_names_and_ignores_a_byte_order_mark(tmp_path):
    path = _write(tmp_path, "bom.csv", "\ufeffa,b,c,target\n" + _ROWS)
    data = load(path, target="target")
    assert data.meta == {"features": ["a", "b", "c"], "target": "target"}
    assert data.X_train.shape[1] == 3


def test_csv_detects_semicolons(tmp_path):
    path = _write(tmp_path, "semi.csv", "a;b;c;t\n" + _ROWS.replace(",", ";"))
    data = load(path)
    assert data.meta["target"] == "t" and data.X_train.shape[1] == 3


@pytest.mark.parametrize("text, target, match", [
    ("a,b,c,t\n1,2,NA,4\n" + _ROWS, -1, r"missing or NA fields \(first: column 'c', data row 1\)"),
    ("a,b,c,t\n1,2,,4\n" + _ROWS, -1, "missing or NA fields"),
    (_ROWS, -1, "no header row"),
    ("a,b,c,t\n" + _ROWS, 10, "target column 10 does not exist: .* has 4 columns"),
    ("a,b,c,t\n" + _ROWS, -5, "target column -5 does not exist"),
    ("a,b,c,t\n" + _ROWS, "z", "target column 'z' is not in"),
    ("a,b,c,t\nx,2,3,4\n" + _ROWS, -1, r"non-numeric columns \['a'\]"),
    ("a,b,c,t\n", -1, "at least one data row"),
])
def test_csv_errors_name_the_fix(tmp_path, text, target, match):
    with pytest.raises(ValueError, match=match):
        load(_write(tmp_path, "bad.csv", text), target=target)
