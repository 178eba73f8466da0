"""Named data sets. Nothing is ever downloaded: each reads files that are already on the machine."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import DataError
from .dataset import Dataset, train_test_split_arrays
from .readers import read_idx

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = {
    "X_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "X_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def load_digits(seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """scikit-learn's 8x8 digits (1,797 images), pixels scaled from 0..16 to [0, 1]; seeded split."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    X = (bunch.data / 16.0).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split_arrays(X, bunch.target.astype(np.int64), test_fraction, seed)
    return Dataset("digits", X_train, X_test, y_train, y_test, image_shape=(8, 8))


def find_idx_file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_folder(name: str, folder: Path, how_to_get: str) -> Dataset:
    """The four MNIST-style IDX files (raw or .gz) in ``folder``."""
    folder = Path(folder)
    paths = {key: find_idx_file(folder, stem) for key, stem in IDX_FILES.items()}
    missing = [IDX_FILES[k] for k, p in paths.items() if p is None]
    if missing:
        raise DataError(f"{name}: {folder} lacks {', '.join(missing)}(.gz); {how_to_get}")
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for split in ("train", "test"):
        X, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        if X.shape[0] != y.shape[0]:
            raise DataError(f"{paths['X_' + split]}: {X.shape[0]} images but {y.shape[0]} labels")
    image_shape = tuple(arrays["X_train"].shape[1:])
    flat = lambda a: (a.reshape(a.shape[0], -1).astype(np.float32) / 255.0)  # noqa: E731
    return Dataset(
        name,
        flat(arrays["X_train"]),
        flat(arrays["X_test"]),
        arrays["y_train"].astype(np.int64),
        arrays["y_test"].astype(np.int64),
        image_shape=image_shape,
    )


def load_fashion_mnist(data_dir: str | Path | None = None) -> Dataset:
    folder = Path(data_dir or os.environ.get("LATENTSPACE_FASHION_MNIST", FASHION_MNIST_DIR))
    how = "install Debian's package (apt-get install dataset-fashion-mnist) or pass --data-dir FOLDER"
    return load_idx_folder("fashion-mnist", folder, how)


def load_mnist(data_dir: str | Path | None = None) -> Dataset:
    if data_dir is None:
        raise DataError("mnist: give the folder holding MNIST's four IDX files with --data-dir FOLDER")
    return load_idx_folder("mnist", Path(data_dir), "pass the folder holding MNIST's four IDX files")


def fashion_mnist_available(data_dir: str | Path | None = None) -> bool:
    folder = Path(data_dir or os.environ.get("LATENTSPACE_FASHION_MNIST", FASHION_MNIST_DIR))
    return all(find_idx_file(folder, stem) for stem in IDX_FILES.values())


NAMED: dict[str, Callable[..., Dataset]] = {
    "digits": lambda data_dir=None, seed=0: load_digits(seed),
    "fashion-mnist": lambda data_dir=None, seed=0: load_fashion_mnist(data_dir),
    "mnist": lambda data_dir=None, seed=0: load_mnist(data_dir),
}
