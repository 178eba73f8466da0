"""The ``Dataset`` record every loader returns, and the seeded splits."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError, printable
from .validate import chunk_rows


@dataclass(frozen=True)
class Units:
    """The affine map from the numbers a model sees back to the user's own units, per feature:
    ``X_user = X * scale + offset`` (``offset``, ``scale``: ``(n_features,)``). A data set that was
    rescaled for the models (the demo standardises real-valued data) keeps it, so that what is shown
    (figures, the explorer) reads in the user's units."""

    offset: np.ndarray
    scale: np.ndarray

    def to_units(self, X: np.ndarray) -> np.ndarray:
        """Rows ``(n, n_features)`` in the models' scale -> the user's units (float64)."""
        return np.asarray(X, np.float64) * self.scale + self.offset

    def then(self, outer: Units | None) -> Units:
        """This map followed by ``outer`` (a data set rescaled twice keeps one map to the first units)."""
        if outer is None:
            return self
        return Units(outer.offset + outer.scale * self.offset, outer.scale * self.scale)


@dataclass
class Dataset:
    """Train/test arrays of one data set.

    ``X_train`` ``(n_train, n_features)`` and ``X_test`` ``(n_test, n_features)`` are float32 (images
    scaled to [0, 1]), or read-only ``np.memmap`` views of a memory-mapped file in its own dtype;
    labels are int64 arrays or None; ``image_shape`` is ``(H, W)`` or ``(C, H, W)`` for image data (to
    display rows of X), else None; ``label_names[i]`` names class ``i`` where the classes had names;
    ``feature_names[j]`` names column ``j`` where the columns had names; ``units`` maps the rows back to
    the user's units where they were rescaled after loading (None: they are in the user's units).
    """

    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray | None = None
    y_test: np.ndarray | None = None
    image_shape: tuple[int, ...] | None = None
    label_names: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    units: Units | None = None

    def in_units(self, X: np.ndarray) -> np.ndarray:
        """Rows of this data set (or decoded like them) in the user's units."""
        return np.asarray(X) if self.units is None else self.units.to_units(X)

    def __post_init__(self) -> None:
        # names come from file and folder names and CSV cells: shown in pages, plots and messages, they
        # must be one printable line (matplotlib refuses the lone surrogates of a non-UTF-8 file name)
        self.name = printable(self.name)
        self.label_names = [printable(n) for n in self.label_names]

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    def named_labels(self, part: str) -> np.ndarray | None:
        """The labels of ``part`` ("train" or "test") by their class names where the classes have names
        (``label_names``), else as they are; None for unlabelled data. A conditional model fitted on
        these speaks the data's own words (``sample --class Sneaker``)."""
        y = self.y_train if part == "train" else self.y_test
        if y is None or not self.label_names or np.max(y, initial=0) >= len(self.label_names):
            return y
        return np.asarray(self.label_names, dtype=object)[y]

    @property
    def memory_mapped(self) -> bool:
        return isinstance(self.X_train, np.memmap)

    def describe(self) -> str:
        rows = f"image {'x'.join(map(str, self.image_shape))}" if self.image_shape else "table rows"
        labels = "no"
        if self.y_train is not None:
            n_classes = len(self.label_names) or len(np.unique(self.y_train))
            labels = f"{n_classes} classes"
        mapped = ", memory-mapped" if self.memory_mapped else ""
        return (
            f"{self.name}: {len(self.X_train)} train + {len(self.X_test)} test, "
            f"{self.n_features} features, {rows}, labels {labels}{mapped}"
        )


def train_test_split_arrays(
    X: np.ndarray, y: np.ndarray | None, test_fraction: float, seed: int, dtype: np.dtype | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(X_train, X_test, y_train, y_test)``: the test part has ``round(test_fraction * n)`` rows
    (at least 1 when n > 1).

    In-memory arrays are shuffled with ``seed`` first; with ``dtype`` their rows are written into the
    two parts in that dtype a chunk at a time, so the split holds ``X`` and one copy of it, never a
    converted copy and then its parts. A ``np.memmap`` is split into two contiguous ranges instead (the
    last rows are the test part) so both parts stay views of the file and nothing is copied; shuffle
    such a file's rows when you write it if its order matters.
    """
    if not 0.0 < float(test_fraction) < 1.0:
        raise DataError(f"the held-out fraction must be in (0, 1), got {test_fraction}")
    n = X.shape[0]
    n_test = min(n - 1, max(1, int(round(test_fraction * n)))) if n > 1 else 0
    if isinstance(X, np.memmap):
        cut = n - n_test
        split = lambda a: (None, None) if a is None else (a[:cut], a[cut:])  # noqa: E731
        (X_train, X_test), (y_train, y_test) = split(X), split(y)
        return X_train, X_test, y_train, y_test
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    y_train = None if y is None else y[train]
    y_test = None if y is None else y[test]
    return take_rows(X, train, dtype), take_rows(X, test, dtype), y_train, y_test


def take_rows(X: np.ndarray, rows: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    """``X[rows]`` (in ``dtype``), written a chunk of rows at a time: no full-size temporary."""
    if dtype is None:
        return X[rows]
    out = np.empty((len(rows), *X.shape[1:]), dtype=dtype)
    step = chunk_rows(X)
    for start in range(0, len(rows), step):
        out[start : start + step] = X[rows[start : start + step]]
    return out


def train_validation_split(
    X: np.ndarray, y: np.ndarray | None = None, validation_fraction: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(X_train, X_val, y_train, y_val)``: the same seeded split, named for holding out a validation
    part of a training set (memory-mapped arrays again split into contiguous views)."""
    return train_test_split_arrays(X, y, validation_fraction, seed)
