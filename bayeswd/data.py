"""Datasets: the d2l weight-decay data, the seeds' other data, and user files.

A :class:`Dataset` is a frozen bundle of training and validation arrays plus
what is known about how they were made (true weights, noise sd).
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bayeswd._validate import as_count, as_design, as_fraction, as_positive, as_target

__all__ = ["Dataset", "d2l_data", "multioutput_data", "mlp_binary_data", "load", "D2L_PROTOCOL", "D2L_LAMBDA"]

# The d2l chapter's training run (English editions, §3.7): minibatch SGD at lr 0.01 on batches of 5
# for 10 epochs from N(0, 0.01²) weights, and its λ (``lambd=3``). Every analysis takes them from here.
D2L_PROTOCOL = {"lr": 0.01, "batch_size": 5, "epochs": 10, "init_sd": 0.01}
D2L_LAMBDA = 3.0


@dataclass(frozen=True, eq=False)
class Dataset:
    """Training and validation arrays, float64.

    ``y`` is (n,) for one target or (n, k) for k targets. ``w_true``, ``b_true``
    and ``noise_sd`` are ``None`` when unknown.

    Parameters
    ----------
    X_train, X_val : ndarray, (n, p) and (m, p)
        Training and validation inputs.
    y_train, y_val : ndarray, (n,) or (n, k); (m,) or (m, k)
        Training and validation targets.
    w_true : ndarray or None
        The weights that generated the data, (p,) or (p, k), when known.
    b_true : float, ndarray or None
        The generating intercept, when known.
    noise_sd : float or None
        The generating noise sd σ, when known.
    name : str
        A label for reports and figures.
    meta : dict
        Free-form facts about the data (a CSV's ``features`` and ``target`` names, the generator's settings).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    w_true: np.ndarray | None = None
    b_true: float | np.ndarray | None = None
    noise_sd: float | None = None
    name: str = "data"
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        X_train = as_design(self.X_train, "X_train")
        X_val = as_design(self.X_val, "X_val")
        if X_val.shape[1] != X_train.shape[1]:
            raise ValueError(
                f"X_val has {X_val.shape[1]} columns but X_train has {X_train.shape[1]}; "
                "training and validation rows must have the same features"
            )
        y_train = as_target(self.y_train, X_train.shape[0], "y_train")
        y_val = as_target(self.y_val, X_val.shape[0], "y_val")
        if y_train.shape[1:] != y_val.shape[1:]:
            raise ValueError("y_train and y_val must have the same number of targets")
        for name, value in (("X_train", X_train), ("y_train", y_train), ("X_val", X_val), ("y_val", y_val)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def n_train(self) -> int:
        return self.X_train.shape[0]

    @property
    def num_inputs(self) -> int:
        return self.X_train.shape[1]

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, train {self.X_train.shape} -> {self.y_train.shape}, "
            f"val {self.X_val.shape}, noise_sd={self.noise_sd})"
        )


def feature_names(dataset: Dataset) -> list:
    """The weights' coordinate labels: a CSV's column names, else 0 … p − 1."""
    names = dataset.meta.get("features") if isinstance(dataset.meta, dict) else None
    return list(names) if names and len(names) == dataset.num_inputs else list(range(dataset.num_inputs))


def d2l_data(seed: int = 0, n_train: int = 20, n_val: int = 100, num_inputs: int = 200,
             noise_sd: float = 0.01, w: float = 0.01, b: float = 0.05) -> Dataset:
    """The d2l weight-decay data: y = b + Σᵢ w·xᵢ + N(0, noise_sd²), x ~ N(0, I).

    The first ``n_train`` rows are the training set, as in d2l's ``Data`` class.

    Parameters
    ----------
    seed : int
        The run's seed; the data take their own stream of it (:mod:`bayeswd.streams`).
    n_train, n_val : int
        Training and validation rows (d2l: 20 and 100).
    num_inputs : int
        The feature count p (d2l: 200).
    noise_sd : float
        The noise sd σ.
    w, b : float
        Every true weight, and the true intercept.

    Returns
    -------
    Dataset
        With ``w_true``, ``b_true`` and ``noise_sd`` filled in.
    """
    rng = np.random.default_rng(seed)
    n = n_train + n_val
    X = rng.standard_normal((n, num_inputs))
    w_true = np.full(num_inputs, float(w))
    y = X @ w_true + b + noise_sd * rng.standard_normal(n)
    return Dataset(X[:n_train], y[:n_train], X[n_train:], y[n_train:], w_true, float(b), float(noise_sd),
                   name="d2l", meta={"seed": seed})


def multioutput_data(seed: int = 0, n_samples: int = 10_100, n_features: int = 6, n_targets: int = 3,
                     n_informative: int = 5, noise_sd: float = 1.0, n_train: int = 100) -> Dataset:
    """Seed 002's data: ``sklearn.datasets.make_regression`` semantics, without sklearn.

    Informative coefficients are 100·U(0, 1), the others 0; the bias is U(0, 1)
    (the notebook's ``random.random()``); the first ``n_train`` rows train.

    Parameters
    ----------
    seed : int
        The run's seed.
    n_samples, n_train : int
        All rows, and how many of them train (the rest validate).
    n_features, n_targets, n_informative : int
        The feature count p, the target count k, and how many features carry signal.
    noise_sd : float
        The noise sd σ.

    Returns
    -------
    Dataset
        ``y`` of shape (n, k), with the true weights (p, k) and intercepts (k,).
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    coef = np.zeros((n_features, n_targets))
    coef[:n_informative] = 100.0 * rng.uniform(size=(n_informative, n_targets))
    coef = coef[rng.permutation(n_features)]
    bias = float(rng.uniform())
    Y = X @ coef + bias + noise_sd * rng.standard_normal((n_samples, n_targets))
    return Dataset(X[:n_train], Y[:n_train], X[n_train:], Y[n_train:], coef, bias, float(noise_sd),
                   name="multioutput", meta={"seed": seed})


def mlp_binary_data(seed: int = 0, dim: int = 1000, test_size: float = 0.33) -> Dataset:
    """Seed 004's data: dim×dim standard normal X, labels half 0 and half 1, no signal.

    Shuffled and split like ``train_test_split(test_size=0.33)``: the labels are
    independent of X, so nothing learnable exists and any fit is overfitting.

    Parameters
    ----------
    seed : int
        The run's seed.
    dim : int
        Rows and columns of X.
    test_size : float
        The share of rows held out for validation.

    Returns
    -------
    Dataset
        Labels 0/1 in ``y``; no true weights (there is no signal).
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((dim, dim))
    y = np.concatenate([np.zeros(dim // 2), np.ones(dim - dim // 2)])
    order = rng.permutation(dim)
    n_test = int(np.ceil(test_size * dim))
    test, train = order[:n_test], order[n_test:]
    return Dataset(X[train], y[train], X[test], y[test], None, None, None,
                   name="mlp-binary", meta={"seed": seed})


def load(path, target: str | int = -1, *, val_fraction: float = 0.2, noise_sd: float | None = None,
         seed: int = 0) -> Dataset:
    """Read a user's .npz or .csv file into a validated :class:`Dataset`.

    .npz: arrays ``X_train``, ``y_train``, ``X_val``, ``y_val`` or ``X``, ``y``
    (then split). Pickled objects are never loaded. .csv: a header row, numeric
    columns, separated by commas, semicolons or tabs; ``target`` is the name or index
    of the target column (the column names are kept in ``meta["features"]`` and
    ``meta["target"]``). Rows are split into training and validation with a seeded shuffle.
    ``target`` applies to .csv files only; an .npz names its target array.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npz`` or ``.csv`` file.
    target : str or int
        The target column of a ``.csv`` (name or index; default the last).
    val_fraction : float
        The share of rows held out when the file is not already split.
    noise_sd : float or None
        The noise sd, when the user knows it.
    seed : int
        Seeds the train/validation shuffle.

    Returns
    -------
    Dataset
        Validated float64 arrays; a bad file raises ``ValueError`` naming the fix.
    """
    path = Path(path).expanduser()
    if isinstance(target, (bool, np.bool_)) or not isinstance(target, (str, int, np.integer)):
        raise ValueError(f"target must be a column name or an integer index, got {target!r}")
    if noise_sd is not None:
        noise_sd = as_positive(noise_sd, "noise_sd")
    seed = as_count(seed, "seed", low=0, high=2**32 - 1)
    val_fraction = as_fraction(val_fraction, "val_fraction")
    if not path.is_file():
        raise ValueError(f"data file {str(path)!r} does not exist; pass the path of a .npz or .csv file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        if not (isinstance(target, (int, np.integer)) and target == -1):
            raise ValueError(f"target chooses a column of a .csv file; {path.name} is an .npz, whose target is its "
                             "array y (or y_train and y_val): leave target out")
        arrays = _read_npz(path)
    elif suffix == ".csv":
        arrays = _read_csv(path, target)
    else:
        raise ValueError(f"unsupported data file type {suffix!r} for {path.name}; use .npz or .csv")
    names = {key: arrays.pop(key) for key in ("features", "target") if key in arrays}
    if "X_train" not in arrays:
        arrays = _split(arrays["X"], arrays["y"], val_fraction, seed, path.name)
    try:
        return Dataset(arrays["X_train"], arrays["y_train"], arrays["X_val"], arrays["y_val"],
                       noise_sd=noise_sd, name=path.stem, meta=names)
    except ValueError as err:
        raise ValueError(f"{path.name}: {err}") from None


# Data larger than this (float64, all arrays of a file) is refused before it is decompressed.
MAX_DATA_BYTES = 2 * 2**30


def _npz_nbytes(path: Path) -> int:
    """Bytes the arrays of an .npz would take as float64, read from their headers (nothing decompressed but
    the few header bytes)."""
    import zipfile

    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as member:
                major, _ = np.lib.format.read_magic(member)
                read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                shape, _, _ = read(member)
            total += int(np.prod(shape, dtype=np.float64)) * 8
    return total


def _read_npz(path: Path) -> dict:
    try:
        size = _npz_nbytes(path)
    except Exception as err:  # not a zip, a damaged header
        raise ValueError(f"cannot read {path.name} as .npz ({err}); save it with numpy.savez") from None
    if size > MAX_DATA_BYTES:
        raise ValueError(f"{path.name} unpacks to {size / 2**30:.1f} GiB of float64 arrays, past bayeswd's "
                         f"{MAX_DATA_BYTES / 2**30:.0f} GiB budget for data; use fewer rows or columns")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except Exception as err:  # zipfile, pickle refusal, truncated data
        raise ValueError(f"cannot read {path.name} as .npz ({err}); save it with numpy.savez") from None
    if {"X_train", "y_train", "X_val", "y_val"} <= arrays.keys() or {"X", "y"} <= arrays.keys():
        return arrays
    raise ValueError(
        f"{path.name} has arrays {sorted(arrays)}; it needs X and y, or X_train, y_train, X_val and y_val"
    )


def _read_csv(path: Path, target: str | int) -> dict:
    """A CSV with a header row and numeric columns, read by pandas.

    The separator (comma, semicolon, tab) is detected; a byte-order mark is ignored. A
    missing header, an empty or ``NA`` field, a non-numeric column and a target column that
    does not exist each give a one-line error naming the fix.
    """
    import pandas as pd

    try:
        with warnings.catch_warnings():
            # a row longer than the header would silently become an index or lose fields
            warnings.simplefilter("error", pd.errors.ParserWarning)
            table = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig", index_col=False)
    except pd.errors.ParserWarning:
        raise ValueError(f"{path.name}: every row must have as many fields as the header") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as err:
        raise ValueError(f"cannot read {path.name} as a CSV table ({str(err).splitlines()[0]}); save it as "
                         f"comma-separated text with a header row") from None
    names = [str(c) for c in table.columns]
    if len(table) == 0:
        raise ValueError(f"{path.name} needs a header row and at least one data row")
    if all(_is_number(name) for name in names):
        raise ValueError(f"{path.name} has no header row (its first line is all numbers); add a first line "
                         f"of column names")
    if len(names) < 2:
        raise ValueError(f"{path.name} has one column; it needs input columns and a target column (is the "
                         f"separator a comma, semicolon or tab?)")
    column = _target_column(target, names, path.name)
    missing = table.isna()
    if missing.to_numpy().any():
        row, col = np.argwhere(missing.to_numpy())[0]
        raise ValueError(f"{path.name} has {int(missing.to_numpy().sum())} missing or NA fields (first: column "
                         f"{names[col]!r}, data row {row + 1}); fill or drop them before loading")
    text = [name for name, dtype in zip(names, table.dtypes) if not pd.api.types.is_numeric_dtype(dtype)]
    if text:
        raise ValueError(f"{path.name} has non-numeric columns {text[:3]}; encode every column as a number")
    values = table.to_numpy(dtype=np.float64)
    features = [name for i, name in enumerate(names) if i != column]
    return {"X": np.delete(values, column, axis=1), "y": values[:, column], "features": features,
            "target": names[column]}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _target_column(target: str | int, names: list[str], label: str) -> int:
    """The target's column index; a name must exist, an index must be in range (negative counts from the end)."""
    if isinstance(target, str) and target in names:
        return names.index(target)
    if isinstance(target, str) and not target.lstrip("-").isdigit():
        raise ValueError(f"target column {target!r} is not in {label}; its columns are {names}")
    index = int(target)
    if not -len(names) <= index < len(names):
        raise ValueError(f"target column {index} does not exist: {label} has {len(names)} columns (0 to "
                         f"{len(names) - 1}, or -1 for the last); give a column index or name")
    return index % len(names)


def _split(X, y, val_fraction: float, seed: int, label: str) -> dict:
    X = as_design(X, f"X in {label}")
    y = as_target(y, X.shape[0], f"y in {label}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    n_val = int(round(val_fraction * X.shape[0]))
    if n_val < 1 or n_val >= X.shape[0]:
        raise ValueError(f"{label} has {X.shape[0]} rows: too few to split into training and validation")
    order = np.random.default_rng(seed).permutation(X.shape[0])
    val, train = order[:n_val], order[n_val:]
    return {"X_train": X[train], "y_train": y[train], "X_val": X[val], "y_val": y[val]}
