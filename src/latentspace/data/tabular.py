"""Real-valued tables that ship with scikit-learn (its bundled files: nothing is downloaded), in their
own units, with class and feature names: wine, breast cancer, diabetes, iris, and digits' raw counts.

Most autoencoder users bring tables like these (measurements in mixed units), not [0, 1] images: they
are how the library, the demo and the report are tested on real-valued data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .dataset import Dataset, train_test_split_arrays

DIGIT_NAMES = [str(d) for d in range(10)]
#: the diabetes set's six blood serum measurements, as scikit-learn's description names them
DIABETES_SERUM = {"s1": "s1 total cholesterol", "s2": "s2 LDL", "s3": "s3 HDL", "s4": "s4 total/HDL",
                  "s5": "s5 log triglycerides", "s6": "s6 blood sugar"}
#: the diabetes target (disease progression one year on) in three bins of equal count
PROGRESSION_BINS = 3


@dataclass(frozen=True)
class BundledTable:
    """One of scikit-learn's bundled data sets: X in its own units, labels, class and feature names."""

    X: np.ndarray  # (n, n_features) float32
    y: np.ndarray  # (n,) int64
    label_names: list[str]
    feature_names: list[str]
    image_shape: tuple[int, ...] | None = None


def wine() -> BundledTable:
    """178 wines from three cultivars, 13 chemical measurements (alcohol %, magnesium mg/l, ...)."""
    from sklearn.datasets import load_wine

    bunch = load_wine()
    return BundledTable(bunch.data, bunch.target, ["cultivar 1", "cultivar 2", "cultivar 3"], list(bunch.feature_names))


def breast_cancer() -> BundledTable:
    """569 breast masses (Wisconsin diagnostic), 30 measurements of their cell nuclei; malignant or benign."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return BundledTable(bunch.data, bunch.target, [str(n) for n in bunch.target_names], list(bunch.feature_names))


def iris() -> BundledTable:
    """Fisher's 150 irises: sepal and petal length and width in cm; three species."""
    from sklearn.datasets import load_iris

    bunch = load_iris()
    return BundledTable(bunch.data, bunch.target, [str(n) for n in bunch.target_names], list(bunch.feature_names))


def diabetes() -> BundledTable:
    """442 diabetes patients: age, sex, BMI, blood pressure and six serum measurements, unscaled.

    The data set's target is a number (disease progression one year later, 25..346), not a class. The
    demo and the report colour and judge by classes, so the target is cut into three bins of equal
    count, named by their ranges ("progression 25-99", ...); the number itself is not kept.
    """
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(scaled=False)
    target = np.asarray(bunch.target, np.float64)
    edges = np.quantile(target, np.linspace(0, 1, PROGRESSION_BINS + 1))
    y = np.clip(np.searchsorted(edges, target, side="right") - 1, 0, PROGRESSION_BINS - 1)
    names = [f"progression {target[y == b].min():.0f}-{target[y == b].max():.0f}" for b in range(PROGRESSION_BINS)]
    features = [DIABETES_SERUM.get(f, f) for f in bunch.feature_names]
    return BundledTable(bunch.data, y, names, features)


def digit_counts() -> BundledTable:
    """scikit-learn's 1,797 8x8 digits as they are stored: each pixel a count 0..16 (not scaled)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return BundledTable(bunch.data, bunch.target, DIGIT_NAMES, [], image_shape=(8, 8))


TABLES: dict[str, Callable[[], BundledTable]] = {
    "wine": wine, "breast-cancer": breast_cancer, "diabetes": diabetes, "iris": iris, "digits-counts": digit_counts,
}


def load_table(name: str, seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """The bundled set ``name`` (a key of ``TABLES``), float32 in its own units, seeded split."""
    table = TABLES[name]()
    X = np.asarray(table.X, np.float32)
    X_train, X_test, y_train, y_test = train_test_split_arrays(X, np.asarray(table.y, np.int64), test_fraction, seed)
    return Dataset(name, X_train, X_test, y_train, y_test, image_shape=table.image_shape,
                   label_names=list(table.label_names), feature_names=list(table.feature_names))
