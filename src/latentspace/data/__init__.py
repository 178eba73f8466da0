"""The data layer: named data sets, file readers, validation, seeded splits.

``load_dataset(name_or_path)`` is the one entry point: a named set (``digits``, ``fashion-mnist``,
``mnist``), an array file (``.npy``, ``.npz``, ``.csv``/``.tsv``, IDX raw or ``.gz``, ``.parquet``, an
HDF5 dataset ``file.h5:/group/X``), a folder of images, or a folder holding MNIST's four IDX files.
See docs/data.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .._files import MEMORY_BUDGET_ENV, human_bytes, memory_budget
from ..errors import DataError
from .binarize import binarize, dynamic_binarizer
from .columnar import PARQUET_SUFFIXES, ChunkedRows, read_hdf5, read_parquet, split_hdf5_spec
from .dataset import Dataset, Units, train_test_split_arrays, train_validation_split
from .images import read_image_folder
from .named import (
    NAMED,
    NamedSet,
    fashion_mnist_available,
    is_idx_folder,
    list_datasets,
    load_digits,
    load_fashion_mnist,
    load_idx_folder,
    load_mnist,
)
from .readers import (
    GZIP_MAGIC,
    check_file,
    pick_npz_arrays,
    read_idx,
    read_npy,
    read_npz,
)
from .tables import read_csv, read_csv_table
from .validate import check_array_data, check_labels, checked_values

# .npy and raw IDX files larger than this are memory-mapped when ``mmap`` is left to decide.
MMAP_THRESHOLD_BYTES = 1 << 30
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def load_dataset(
    name_or_path: str | Path,
    *,
    data_dir: str | Path | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
    mmap: bool | None = None,
    x_key: str | None = None,
    y_key: str | None = None,
    label_column: str | int | None = None,
    header: bool | None = None,
    image_size: tuple[int, int] | None = None,
    color: str = "auto",
) -> Dataset:
    """A named data set or the data in a file or folder, split into train and test parts.

    Files without a stored split are split with a seeded shuffle (``test_fraction``, ``seed``);
    memory-mapped arrays are split into contiguous views instead (see ``train_test_split_arrays``).
    ``mmap``: memory-map a ``.npy`` or raw IDX file (True), never (False), or when it is larger than
    1 GiB (None). ``x_key``/``y_key`` pick a ``.npz``'s arrays; ``label_column``/``header`` shape a
    CSV; ``image_size=(H, W)`` and ``color`` ("auto", "grey", "rgb") shape an image folder.
    """
    with named_in_memory_errors(name_or_path):
        return _load_dataset(name_or_path, data_dir, test_fraction, seed, mmap, x_key, y_key, label_column, header,
                             image_size, color)


def _load_dataset(name_or_path, data_dir, test_fraction, seed, mmap, x_key, y_key, label_column, header,
                  image_size, color) -> Dataset:
    key = str(name_or_path)
    if key in NAMED:
        return NAMED[key](data_dir, seed, test_fraction)
    columnar = _read_columnar(key, label_column)
    if columnar is not None:
        (X, y, feature_names), path = columnar
        data = _split_dataset(path.stem, X, y, key, test_fraction, seed, _image_shape(X), [])
        data.feature_names = feature_names
        return data
    path = Path(key)
    if not path.exists():
        if path.suffix == "" and len(path.parts) == 1:
            raise DataError(f"unknown data set {key!r}; named sets: {', '.join(NAMED)}; or give a file or folder path")
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        if is_idx_folder(path):
            return load_idx_folder(path.name, path)
        X, y, names, image_shape = read_image_folder(path, size=image_size, color=color)
        return _split_dataset(path.name, X, y, str(path), test_fraction, seed, image_shape, names)
    kind = _file_kind(path)
    label_names: list[str] = []
    feature_names: list[str] = []
    X_test = y_test = None
    if kind == "npy":
        X, y = read_npy(path, mmap=_wants_mmap(path, mmap)), None
    elif kind == "npz":
        X, y, X_test, y_test = pick_npz_arrays(read_npz(path), path, x_key, y_key)
    elif kind == "csv":
        X, y, label_names, feature_names = read_csv_table(path, header=header, label_column=label_column)
    else:
        X, y = read_idx(path, mmap=_wants_mmap(path, mmap)), None
    image_shape = _image_shape(X)
    if X_test is not None:
        return _stored_split(path, X, y, X_test, y_test, image_shape)
    data = _split_dataset(path.stem, X, y, str(path), test_fraction, seed, image_shape, label_names)
    data.feature_names = feature_names
    return data


def read_data_file(
    path: str | Path,
    *,
    mmap: bool | None = None,
    x_key: str | None = None,
    label_column: str | int | None = None,
    header: bool | None = None,
    image_size: tuple[int, int] | None = None,
    color: str = "auto",
) -> np.ndarray:
    """Every example in one file or image folder, unsplit (what ``encode`` and its kin read): the same
    readers and checks as ``load_dataset``. A ``.npz`` gives its data array (``x_key``, or the one
    ``load_dataset`` would pick; with a stored train/test split, train then test); a CSV drops its
    ``label_column``. Rows of more than one dimension (images) come back flat."""
    with named_in_memory_errors(path):
        X = checked_values(_read_unsplit(Path(path), mmap, x_key, label_column, header, image_size, color), str(path))
    if X.dtype.kind in "biu" and not isinstance(X, np.memmap):  # as the estimators would, but in float32
        X = X.astype(np.float32)
    return X


def _read_columnar(spec: str, label_column) -> tuple[tuple, Path] | None:
    """``(X, y, feature names)`` and the file of an HDF5 dataset (``file.h5:/group/X``) or a Parquet
    file; None for anything else."""
    hdf5 = split_hdf5_spec(spec)
    if hdf5 is not None:
        return (read_hdf5(*hdf5), None, []), hdf5[0]
    path = Path(spec)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return read_parquet(path, label_column), path
    return None


def _read_unsplit(path: Path, mmap, x_key, label_column, header, image_size, color) -> np.ndarray:
    columnar = _read_columnar(str(path), label_column)
    if columnar is not None:
        return columnar[0][0]
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        if is_idx_folder(path):
            data = load_idx_folder(path.name, path)
            return np.concatenate([data.X_train, data.X_test])
        return read_image_folder(path, size=image_size, color=color)[0]
    kind = _file_kind(path)
    if kind == "npy":
        return read_npy(path, mmap=_wants_mmap(path, mmap))
    if kind == "npz":
        X, _, X_test, _ = pick_npz_arrays(read_npz(path), path, x_key, None)
        return X if X_test is None else np.concatenate([X, X_test])
    if kind == "csv":
        return read_csv(path, header=header, label_column=label_column)[0]
    return read_idx(path, mmap=_wants_mmap(path, mmap))


@contextmanager
def named_in_memory_errors(source: str | Path) -> Iterator[None]:
    """A MemoryError while loading ``source`` (the budget counts every copy, but the machine may have less
    than it thought, or an address-space limit) becomes one DataError naming the file and the budget."""
    try:
        yield
    except MemoryError:
        raise DataError(
            f"{source}: out of memory while loading it (memory budget {human_bytes(memory_budget())}); free memory, "
            f"or set {MEMORY_BUDGET_ENV} below what this machine can give so the load is refused up front"
        ) from None


def _file_kind(path: Path) -> str:
    """'npy', 'npz', 'csv' or 'idx', by suffix, else by the file's first bytes."""
    suffix = path.suffix.lower()
    if suffix in (".npy", ".npz"):
        return suffix[1:]
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix == ".gz" or "idx" in path.name.lower() or path.name.lower().endswith("-ubyte"):
        return "idx"
    check_file(path)
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith(b"\x93NUMPY"[:4]):
        return "npy"
    if head.startswith(b"PK"):
        return "npz"
    if head.startswith(GZIP_MAGIC) or head[:2] == b"\x00\x00":
        return "idx"
    raise DataError(
        f"{path}: unsupported file type {suffix or '(no suffix)'}; use .npy, .npz, .csv, IDX (.gz), .parquet, FILE.h5:/DATASET or a folder of images"
    )


def _wants_mmap(path: Path, mmap: bool | None) -> bool:
    if mmap is not None:
        return bool(mmap)
    return path.is_file() and path.stat().st_size > MMAP_THRESHOLD_BYTES


def _image_shape(X: np.ndarray) -> tuple[int, ...] | None:
    """(H, W) for (n, H, W) arrays, (C, H, W) for (n, C, H, W) with 1 or 3 channels, else None."""
    if X.ndim == 3:
        return tuple(int(s) for s in X.shape[1:])
    if X.ndim == 4 and X.shape[1] in (1, 3):
        return tuple(int(s) for s in X.shape[1:])
    return None


def _split_dataset(name, X, y, source, test_fraction, seed, image_shape, label_names) -> Dataset:
    X = checked_values(X, source)  # in memory: converted to float32 by the split, a chunk at a time
    y = check_labels(y, X.shape[0], source)
    if X.shape[0] < 2:
        raise DataError(f"{source}: {X.shape[0]} sample; need at least 2 to split into train and test")
    dtype = None if isinstance(X, np.memmap) else np.float32
    X_train, X_test, y_train, y_test = train_test_split_arrays(X, y, test_fraction, seed, dtype)
    return Dataset(name, X_train, X_test, y_train, y_test, image_shape, list(label_names))


def _stored_split(path: Path, X, y, X_test, y_test, image_shape) -> Dataset:
    X = check_array_data(X, f"{path} (train part)")
    X_test = check_array_data(X_test, f"{path} (test part)")
    if X.shape[1] != X_test.shape[1]:
        raise DataError(f"{path}: train part has {X.shape[1]} features, test part {X_test.shape[1]}")
    y = check_labels(y, X.shape[0], f"{path} (train labels)")
    y_test = check_labels(y_test, X_test.shape[0], f"{path} (test labels)")
    return Dataset(path.stem, X, X_test, y, y_test, image_shape)


__all__ = [
    "ChunkedRows",
    "Dataset",
    "Units",
    "NamedSet",
    "NAMED",
    "load_dataset",
    "read_data_file",
    "list_datasets",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_idx_folder",
    "fashion_mnist_available",
    "read_idx",
    "read_npy",
    "read_npz",
    "pick_npz_arrays",
    "read_csv",
    "read_image_folder",
    "check_array_data",
    "check_labels",
    "train_test_split_arrays",
    "train_validation_split",
    "MMAP_THRESHOLD_BYTES",
    "binarize",
    "dynamic_binarizer",
]
