import os

import numpy as np
import pytest
import torch

# Two pytest-xdist workers share two cores: one thread each avoids oversubscription.
torch.set_num_threads(int(os.environ.get("LATENTSPACE_TEST_THREADS", "1")))

from latentspace.data import fashion_mnist_available, load_digits  # noqa: E402


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits scaled to [0, 1], seeded 80/20 split."""
    return load_digits(seed=0)


@pytest.fixture(scope="session")
def small_digits(digits):
    """A 400-example slice for tests that only need real data of the right kind."""
    return digits.X_train[:400], digits.X_test[:100]


requires_fashion_mnist = pytest.mark.skipif(
    not fashion_mnist_available(),
    reason="Fashion-MNIST IDX files not found (apt-get install dataset-fashion-mnist)",
)


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
