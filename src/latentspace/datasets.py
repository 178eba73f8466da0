"""Public data API: ``from latentspace.datasets import load_dataset``."""

from .data import Dataset, fashion_mnist_available, load_dataset

__all__ = ["Dataset", "load_dataset", "fashion_mnist_available"]
