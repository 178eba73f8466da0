"""The ``Dataset`` record every loader returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Dataset:
    """Train/test arrays of one data set.

    ``X_train`` ``(n_train, n_features)`` and ``X_test`` ``(n_test, n_features)`` are float32 (images
    scaled to [0, 1]); labels are int arrays or None; ``image_shape`` is ``(H, W)`` or ``(C, H, W)``
    for image data (to display rows of X), else None.
    """

    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray | None = None
    y_test: np.ndarray | None = None
    image_shape: tuple[int, ...] | None = None

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    def describe(self) -> str:
        shape = "x".join(map(str, self.image_shape)) if self.image_shape else "-"
        labels = "yes" if self.y_train is not None else "no"
        return (
            f"{self.name}: {len(self.X_train)} train + {len(self.X_test)} test, "
            f"{self.n_features} features, image {shape}, labels {labels}"
        )


def train_test_split_arrays(
    X: np.ndarray, y: np.ndarray | None, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Seeded shuffle-split; the test part has ``round(test_fraction * n)`` rows (at least 1 if n > 1)."""
    n = X.shape[0]
    n_test = min(n - 1, max(1, int(round(test_fraction * n)))) if n > 1 else 0
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    y_train = None if y is None else y[train]
    y_test = None if y is None else y[test]
    return X[train], X[test], y_train, y_test
