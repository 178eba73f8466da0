"""The data layer: named data sets, file readers, validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from .binarize import binarize, dynamic_binarizer
from .dataset import Dataset, train_test_split_arrays
from .named import NAMED, fashion_mnist_available, load_digits, load_fashion_mnist, load_mnist
from .readers import read_csv, read_idx, read_npy


def load_dataset(
    name_or_path: str | Path, *, data_dir: str | Path | None = None, test_fraction: float = 0.2, seed: int = 0
) -> Dataset:
    """A named data set (``digits``, ``fashion-mnist``, ``mnist``) or an array file (.npy, .csv).

    Arrays from a file are split into train and test parts with a seeded shuffle.
    """
    key = str(name_or_path)
    if key in NAMED:
        return NAMED[key](data_dir=data_dir, seed=seed)
    path = Path(key)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        X = read_npy(path)
    elif suffix == ".csv":
        X = read_csv(path)
    elif not path.exists() and suffix == "":
        raise DataError(f"unknown data set {key!r}; named sets: {', '.join(NAMED)}; or give a .npy/.csv path")
    else:
        raise DataError(f"{path}: unsupported file type {suffix or '(none)'}; use .npy or .csv")
    X = check_array_data(X, str(path))
    X_train, X_test, _, _ = train_test_split_arrays(X, None, test_fraction, seed)
    return Dataset(path.stem, X_train, X_test)


def check_array_data(X: np.ndarray, source: str) -> np.ndarray:
    """2-D, numeric, non-empty, finite; returned as float32."""
    if X.dtype.kind not in "biuf":
        raise DataError(f"{source}: data must be numeric, got dtype {X.dtype}")
    if X.ndim == 1:
        raise DataError(f"{source}: expected a 2-D array (samples x features), got 1-D of length {X.shape[0]}")
    if X.ndim > 2:
        X = X.reshape(X.shape[0], -1)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"{source}: empty array of shape {X.shape}")
    bad = ~np.isfinite(X)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError(f"{source}: {int(bad.sum())} NaN or infinite values, the first at index {first}")
    return X.astype(np.float32, copy=False)


__all__ = [
    "Dataset",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "fashion_mnist_available",
    "read_idx",
    "read_npy",
    "read_csv",
    "check_array_data",
    "train_test_split_arrays",
    "binarize",
    "dynamic_binarizer",
    "NAMED",
]
