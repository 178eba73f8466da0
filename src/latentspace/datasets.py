"""Public data API: ``from latentspace.datasets import load_dataset``."""

from .data import (
    NAMED,
    Dataset,
    fashion_mnist_available,
    list_datasets,
    load_dataset,
    read_csv,
    read_idx,
    read_image_folder,
    read_npy,
    read_npz,
    train_test_split_arrays,
    train_validation_split,
)

__all__ = [
    "Dataset",
    "NAMED",
    "load_dataset",
    "list_datasets",
    "fashion_mnist_available",
    "read_npy",
    "read_npz",
    "read_csv",
    "read_idx",
    "read_image_folder",
    "train_test_split_arrays",
    "train_validation_split",
]
