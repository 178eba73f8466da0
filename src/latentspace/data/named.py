"""Named data sets and their registry. Nothing is ever downloaded: each reads files already here."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .dataset import Dataset, train_test_split_arrays
from .readers import read_idx
from .tabular import DIGIT_NAMES, load_table
from .validate import check_array_data, check_labels

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = {
    "X_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "X_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]


# ---- digits ------------------------------------------------------------------------------------------
def load_digits(seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """scikit-learn's 8x8 digits (1,797 images), pixels scaled from 0..16 to [0, 1]; seeded split."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    X = (bunch.data / 16.0).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split_arrays(X, bunch.target.astype(np.int64), test_fraction, seed)
    return Dataset("digits", X_train, X_test, y_train, y_test, image_shape=(8, 8), label_names=list(DIGIT_NAMES))


# ---- IDX folders (MNIST's layout) --------------------------------------------------------------------
def find_idx_file(folder: Path, stem: str) -> Path | None:
    """``stem``, ``stem.gz``, or the same with '.idx' for '-idx' (a common renaming)."""
    for base in (stem, stem.replace("-idx", ".idx")):
        for name in (base, base + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def is_idx_folder(folder: Path) -> bool:
    return folder.is_dir() and all(find_idx_file(folder, stem) for stem in IDX_FILES.values())


def load_idx_folder(name: str, folder: Path, how_to_get: str = "") -> Dataset:
    """The four MNIST-style IDX files (raw or .gz) in ``folder``; uint8 images scaled to [0, 1]."""
    folder = Path(folder)
    if not folder.is_dir():
        needs = ", ".join(IDX_FILES.values())
        raise DataError(f"{name}: folder {folder} not found (it should hold {needs}, raw or .gz); {how_to_get}".rstrip("; "))
    paths = {key: find_idx_file(folder, stem) for key, stem in IDX_FILES.items()}
    missing = [IDX_FILES[k] for k, p in paths.items() if p is None]
    if missing:
        raise DataError(f"{name}: {folder} lacks {', '.join(missing)} (raw or .gz); {how_to_get}".rstrip("; "))
    arrays = {key: read_idx(path) for key, path in paths.items()}
    parts: dict[str, np.ndarray] = {}
    for split in ("train", "test"):
        X, source = arrays[f"X_{split}"], str(paths[f"X_{split}"])
        if X.ndim < 2:
            raise DataError(f"{source}: expected images (n, height, width), got shape {X.shape}")
        scaled = X
        if X.dtype == np.uint8:  # scaled in place: the file's bytes and one float32 copy, as load_bytes counts
            scaled = X.astype(np.float32)
            scaled /= 255.0
        parts[f"X_{split}"] = check_array_data(scaled, source)
        parts[f"y_{split}"] = check_labels(arrays[f"y_{split}"], X.shape[0], str(paths[f"y_{split}"]))
    if parts["X_train"].shape[1] != parts["X_test"].shape[1]:
        raise DataError(f"{name}: train images are {arrays['X_train'].shape[1:]}, test images {arrays['X_test'].shape[1:]}")
    image_shape = tuple(int(s) for s in arrays["X_train"].shape[1:])
    return Dataset(name, parts["X_train"], parts["X_test"], parts["y_train"], parts["y_test"], image_shape=image_shape)


def _idx_folders(name: str, data_dir: str | Path | None, env: str, default: Path | None) -> list[Path]:
    """Where a named IDX set is looked for: DATA_DIR and DATA_DIR/NAME, else $ENV, else the default."""
    if data_dir is not None:
        return [Path(data_dir), Path(data_dir) / name]
    if os.environ.get(env):
        return [Path(os.environ[env])]
    return [default] if default is not None else []


def _load_idx_set(name: str, data_dir, env: str, default: Path | None, how: str) -> Dataset:
    folders = _idx_folders(name, data_dir, env, default)
    if not folders:
        raise DataError(f"{name}: {how}")
    folder = next((f for f in folders if is_idx_folder(f)), folders[0])
    return load_idx_folder(name, folder, how)


FASHION_HOW = (
    "install Debian's package (apt-get install dataset-fashion-mnist) or pass --data-dir FOLDER holding "
    "Fashion-MNIST's four IDX files"
)
MNIST_HOW = (
    "pass --data-dir FOLDER (or set LATENTSPACE_MNIST) holding MNIST's four IDX files "
    f"({', '.join(IDX_FILES.values())}, raw or .gz)"
)


def load_fashion_mnist(data_dir: str | Path | None = None) -> Dataset:
    """Fashion-MNIST's 60,000 + 10,000 28x28 images from ``data_dir``, $LATENTSPACE_FASHION_MNIST, or
    ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``)."""
    data = _load_idx_set("fashion-mnist", data_dir, "LATENTSPACE_FASHION_MNIST", FASHION_MNIST_DIR, FASHION_HOW)
    data.label_names = list(FASHION_MNIST_CLASSES)
    return data


def load_mnist(data_dir: str | Path | None = None) -> Dataset:
    """MNIST's four IDX files from ``data_dir`` (or $LATENTSPACE_MNIST); there is no default place."""
    return _load_idx_set("mnist", data_dir, "LATENTSPACE_MNIST", None, MNIST_HOW)


def _idx_availability(name: str, data_dir, env: str, default: Path | None) -> tuple[bool, str]:
    folders = _idx_folders(name, data_dir, env, default)
    found = next((f for f in folders if is_idx_folder(f)), None)
    if found is not None:
        return True, str(found)
    if not folders:
        return False, f"no folder given (--data-dir or ${env})"
    return False, f"not found in {' or '.join(map(str, folders))}"


def fashion_mnist_available(data_dir: str | Path | None = None) -> bool:
    return _idx_availability("fashion-mnist", data_dir, "LATENTSPACE_FASHION_MNIST", FASHION_MNIST_DIR)[0]


# ---- the registry ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NamedSet:
    """One named data set: what it holds, how to load it, and whether it is on this machine."""

    name: str
    description: str
    n_train: int
    n_test: int
    image_shape: tuple[int, ...] | None  # None: rows are tables of named features
    n_classes: int
    loader: Callable[[str | Path | None, int, float], Dataset]
    locator: Callable[[str | Path | None], tuple[bool, str]]
    n_features: int = 0  # the width of a table's rows (images: the product of image_shape)

    @property
    def shape(self) -> str:
        """``8x8`` for images, ``13 features`` for tables."""
        return "x".join(map(str, self.image_shape)) if self.image_shape else f"{self.n_features} features"

    def __call__(self, data_dir: str | Path | None = None, seed: int = 0, test_fraction: float = 0.2) -> Dataset:
        return self.loader(data_dir, seed, test_fraction)

    def availability(self, data_dir: str | Path | None = None) -> tuple[bool, str]:
        """``(available, where)`` or ``(False, why not)``."""
        return self.locator(data_dir)


def bundled_table(name: str, description: str, n_rows: int, n_features: int, n_classes: int,
                  image_shape: tuple[int, ...] | None = None) -> NamedSet:
    """A registry entry for one of scikit-learn's bundled sets (``tabular.TABLES``), split 80/20."""
    n_test = int(round(0.2 * n_rows))
    return NamedSet(name, description, n_rows - n_test, n_test, image_shape, n_classes,
                    lambda data_dir, seed, frac: load_table(name, seed, frac),
                    lambda data_dir: (True, "bundled with scikit-learn"), n_features)


NAMED: dict[str, NamedSet] = {
    s.name: s
    for s in (
        NamedSet(
            "digits", "scikit-learn's 8x8 handwritten digits (embedded); seeded 80/20 split",
            1438, 359, (8, 8), 10,
            lambda data_dir, seed, frac: load_digits(seed, frac),
            lambda data_dir: (True, "embedded in scikit-learn"),
        ),
        NamedSet(
            "fashion-mnist", "Zalando's 28x28 greyscale clothing images (IDX files)",
            60000, 10000, (28, 28), 10,
            lambda data_dir, seed, frac: load_fashion_mnist(data_dir),
            lambda data_dir: _idx_availability("fashion-mnist", data_dir, "LATENTSPACE_FASHION_MNIST", FASHION_MNIST_DIR),
        ),
        NamedSet(
            "mnist", "LeCun's 28x28 handwritten digits (IDX files at a path you give)",
            60000, 10000, (28, 28), 10,
            lambda data_dir, seed, frac: load_mnist(data_dir),
            lambda data_dir: _idx_availability("mnist", data_dir, "LATENTSPACE_MNIST", None),
        ),
        bundled_table("digits-counts", "the digits as stored: pixel counts 0..16, not scaled", 1797, 64, 10, (8, 8)),
        bundled_table("wine", "wines of three cultivars: 13 chemical measurements in their units", 178, 13, 3),
        bundled_table("breast-cancer", "Wisconsin breast masses: 30 cell-nucleus measurements; malignant "
                      "or benign", 569, 30, 2),
        bundled_table("diabetes", "442 patients: age, sex, BMI, blood pressure, 6 serum values; classes = "
                      "one-year disease progression in 3 equal-count bins", 442, 10, 3),
        bundled_table("iris", "Fisher's irises: sepal and petal length and width in cm; 3 species", 150, 4, 3),
    )
}


def list_datasets(data_dir: str | Path | None = None) -> list[dict]:
    """One dict per named set: name, description, sizes, image shape, classes, available, where."""
    rows = []
    for s in NAMED.values():
        available, where = s.availability(data_dir)
        rows.append({
            "name": s.name, "description": s.description, "n_train": s.n_train, "n_test": s.n_test,
            "image_shape": s.image_shape, "n_features": s.n_features, "shape": s.shape, "n_classes": s.n_classes,
            "available": available, "where": where,
        })
    return rows
