"""Named data sets: digits, the real Fashion-MNIST files, MNIST from a folder, the registry."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
from conftest import requires_fashion_mnist
from data_files import write_idx_folder

from latentspace.data import (
    NAMED,
    fashion_mnist_available,
    list_datasets,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    read_idx,
)
from latentspace.data.named import find_idx_file
from latentspace.errors import DataError

# Computed once from Debian's dataset-fashion-mnist (the four .gz files of June 2020): SHA-256 of
# the decoded arrays' bytes (uint8, C order), so re-compressed or raw copies hash the same.
FASHION_MNIST = {
    "train-images-idx3-ubyte": ((60000, 28, 28), "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012", 3431114169),
    "train-labels-idx1-ubyte": ((60000,), "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7", 270000),
    "t10k-images-idx3-ubyte": ((10000, 28, 28), "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a", 573469082),
    "t10k-labels-idx1-ubyte": ((10000,), "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9", 45000),
}


@requires_fashion_mnist
@pytest.mark.parametrize("stem", sorted(FASHION_MNIST))
def test_fashion_mnist_files_match_recorded_hashes(stem):
    shape, sha256, pixel_sum = FASHION_MNIST[stem]
    folder = Path(NAMED["fashion-mnist"].availability()[1])
    a = read_idx(find_idx_file(folder, stem))
    assert a.shape == shape and a.dtype == np.uint8
    assert hashlib.sha256(a.tobytes()).hexdigest() == sha256
    assert int(a.sum(dtype=np.int64)) == pixel_sum


@requires_fashion_mnist
def test_fashion_mnist_loads_as_float_images_with_balanced_labels():
    data = load_fashion_mnist()
    assert data.X_train.shape == (60000, 784) and data.X_test.shape == (10000, 784)
    assert data.X_train.dtype == np.float32 and data.image_shape == (28, 28)
    assert 0.0 <= data.X_train.min() and data.X_train.max() <= 1.0
    # Back to bytes, the pixels sum to the recorded totals: scaling lost nothing.
    assert int(np.rint(data.X_test * 255).sum(dtype=np.int64)) == FASHION_MNIST["t10k-images-idx3-ubyte"][2]
    assert np.bincount(data.y_train).tolist() == [6000] * 10
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    assert len(data.label_names) == 10 and data.label_names[9] == "Ankle boot"


def test_digits_are_scaled_split_and_seeded():
    a, b = load_digits(seed=0), load_digits(seed=1)
    assert (len(a.X_train), len(a.X_test)) == (1438, 359)
    assert a.X_train.dtype == np.float32 and a.X_train.max() == 1.0 and a.X_train.min() == 0.0
    assert a.image_shape == (8, 8) and set(np.unique(a.y_train)) == set(range(10))
    assert np.array_equal(a.X_train, load_digits(seed=0).X_train)
    assert not np.array_equal(a.X_train, b.X_train)
    # The split partitions the 1,797 images: every pixel total is kept.
    total = a.X_train.sum(dtype=np.float64) + a.X_test.sum(dtype=np.float64)
    assert total == pytest.approx(b.X_train.sum(dtype=np.float64) + b.X_test.sum(dtype=np.float64))


def test_load_dataset_by_name_matches_the_loader():
    assert np.array_equal(load_dataset("digits", seed=3).X_test, load_digits(seed=3).X_test)


def test_mnist_reads_a_folder_the_user_gives(tmp_path):
    write_idx_folder(tmp_path / "mnist", n_train=12, n_test=5)
    data = load_dataset("mnist", data_dir=tmp_path / "mnist")
    assert data.X_train.shape == (12, 30) and data.X_test.shape == (5, 30) and data.image_shape == (6, 5)
    expected = read_idx(tmp_path / "mnist" / "train-images-idx3-ubyte.gz").reshape(12, -1) / 255.0
    assert np.allclose(data.X_train, expected)
    # DATA_DIR/mnist is looked in too, so one --data-dir can hold several sets.
    assert load_dataset("mnist", data_dir=tmp_path).X_train.shape == (12, 30)


def test_fashion_mnist_from_a_data_dir(tmp_path):
    write_idx_folder(tmp_path, compress=False)
    data = load_dataset("fashion-mnist", data_dir=tmp_path)
    assert data.X_train.shape == (12, 30) and data.name == "fashion-mnist"


def test_missing_fashion_mnist_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match=r"lacks train-images-idx3-ubyte.*apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist", data_dir=tmp_path)


def test_mnist_without_a_folder_says_to_give_one(monkeypatch):
    monkeypatch.delenv("LATENTSPACE_MNIST", raising=False)
    with pytest.raises(DataError, match="mnist: pass --data-dir FOLDER"):
        load_dataset("mnist")


def test_unknown_name_lists_the_named_sets():
    with pytest.raises(DataError, match="unknown data set 'fashion'; named sets: digits, fashion-mnist, mnist"):
        load_dataset("fashion")


def test_registry_lists_sets_and_availability(tmp_path, monkeypatch):
    monkeypatch.delenv("LATENTSPACE_MNIST", raising=False)
    rows = {r["name"]: r for r in list_datasets()}
    assert set(rows) == set(NAMED) == {"digits", "fashion-mnist", "mnist", "digits-counts", "wine", "breast-cancer",
                                       "diabetes", "iris"}
    assert rows["digits"]["available"] and not rows["mnist"]["available"]
    assert rows["fashion-mnist"]["available"] == fashion_mnist_available()
    write_idx_folder(tmp_path / "mnist")
    assert {r["name"]: r for r in list_datasets(tmp_path)}["mnist"]["available"]
    # The registry's advertised sizes are what the loader gives.
    for name in ("digits", "digits-counts", "wine", "breast-cancer", "diabetes", "iris"):
        data = NAMED[name]()
        assert (len(data.X_train), len(data.X_test)) == (NAMED[name].n_train, NAMED[name].n_test), name
        assert data.n_features == (NAMED[name].n_features or 64) and rows[name]["available"]
