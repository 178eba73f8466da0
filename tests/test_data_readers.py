"""Each file format round-trips real data (digits) through load_dataset and its reader."""

import numpy as np
import pytest
from data_files import write_idx, write_idx_folder, write_png

from latentspace.data import (
    check_array_data,
    load_dataset,
    read_csv,
    read_idx,
    read_image_folder,
    read_npy,
    train_test_split_arrays,
    train_validation_split,
)


@pytest.fixture(scope="module")
def digits_all(digits):
    return np.concatenate([digits.X_train, digits.X_test]), np.concatenate([digits.y_train, digits.y_test])


def same_rows(data, X):
    """The train and test parts together are exactly the rows of X (in some order)."""
    got = np.concatenate([data.X_train, data.X_test])
    return got.shape == X.shape and np.array_equal(np.sort(got, axis=0), np.sort(X.astype(np.float32), axis=0))


def test_npy_round_trip_and_seeded_split(tmp_path, digits_all):
    X, _ = digits_all
    np.save(tmp_path / "d.npy", X)
    a = load_dataset(tmp_path / "d.npy", seed=1)
    assert same_rows(a, X) and len(a.X_test) == round(0.2 * len(X)) and a.y_train is None
    assert np.array_equal(a.X_test, load_dataset(tmp_path / "d.npy", seed=1).X_test)
    assert not np.array_equal(a.X_test, load_dataset(tmp_path / "d.npy", seed=2).X_test)


def test_npy_of_images_keeps_the_image_shape(tmp_path, digits_all):
    np.save(tmp_path / "im.npy", digits_all[0].reshape(-1, 8, 8))
    data = load_dataset(tmp_path / "im.npy")
    assert data.image_shape == (8, 8) and data.n_features == 64


def test_memory_mapped_npy_loads_nothing_and_splits_into_views(tmp_path, digits_all):
    X = digits_all[0]
    np.save(tmp_path / "d.npy", X)
    mapped = read_npy(tmp_path / "d.npy", mmap=True)
    assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
    data = load_dataset(tmp_path / "d.npy", mmap=True)
    assert data.memory_mapped and isinstance(data.X_test, np.memmap)
    # Contiguous ranges of the one file mapping: views, not copies.
    assert data.X_train.base is data.X_test.base and not data.X_train.flags.owndata
    assert str(data.X_train.filename) == str((tmp_path / "d.npy").resolve())
    assert np.array_equal(np.concatenate([data.X_train, data.X_test]), X)
    X_tr, X_val, _, _ = train_validation_split(data.X_train, validation_fraction=0.25)
    assert isinstance(X_val, np.memmap) and len(X_val) == round(0.25 * len(data.X_train))
    assert np.array_equal(X_val, X[len(X_tr) : len(data.X_train)])


def test_memmap_check_finds_a_nan_in_a_late_chunk(tmp_path, monkeypatch):
    import latentspace.data.validate as validate

    monkeypatch.setattr(validate, "CHECK_CHUNK_ROWS", 7)
    X = np.zeros((50, 4), np.float32)
    X[33, 2] = np.nan
    X[40, 0] = np.inf
    np.save(tmp_path / "bad.npy", X)
    with pytest.raises(ValueError, match=r"2 NaN or infinite values, the first at index \(33, 2\)"):
        check_array_data(read_npy(tmp_path / "bad.npy", mmap=True), "bad.npy")


def test_memmap_split_of_labels_is_contiguous_too(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(20.0).reshape(10, 2))
    X = read_npy(tmp_path / "a.npy", mmap=True)
    X_train, X_test, y_train, y_test = train_test_split_arrays(X, np.arange(10), 0.3, seed=5)
    assert X_test[:, 0].tolist() == [14.0, 16.0, 18.0] and y_test.tolist() == [7, 8, 9]
    assert y_train.tolist() == list(range(7))


@pytest.mark.parametrize(
    "arrays, kwargs",
    [
        ({"X": "X", "y": "y"}, {}),
        ({"data": "X", "labels": "y"}, {}),
        ({"pixels": "X", "classes": "y", "other": "y"}, {"x_key": "pixels", "y_key": "classes"}),
        ({"only": "X"}, {}),
    ],
)
def test_npz_picks_the_named_arrays(tmp_path, digits_all, arrays, kwargs):
    X, y = digits_all
    np.savez(tmp_path / "d.npz", **{name: X if what == "X" else y for name, what in arrays.items()})
    data = load_dataset(tmp_path / "d.npz", **kwargs)
    assert same_rows(data, X)
    if "y" in arrays.values() and "only" not in arrays:
        # Each row keeps its own label through the shuffle.
        lookup = {row.tobytes(): label for row, label in zip(X.astype(np.float32), y)}
        assert all(lookup[row.tobytes()] == label for row, label in zip(data.X_test, data.y_test))


def test_npz_with_a_stored_split_keeps_it(tmp_path, digits):
    np.savez_compressed(tmp_path / "s.npz", x_train=digits.X_train, y_train=digits.y_train,
                        x_test=digits.X_test, y_test=digits.y_test)
    data = load_dataset(tmp_path / "s.npz")
    assert np.array_equal(data.X_train, digits.X_train) and np.array_equal(data.y_test, digits.y_test)


def test_csv_with_header_and_named_label_column(tmp_path, digits_all):
    X, y = digits_all
    header = ",".join([f"p{i}" for i in range(64)] + ["digit"])
    rows = "\n".join(",".join([repr(float(v)) for v in x] + [str(label)]) for x, label in zip(X, y))
    (tmp_path / "d.csv").write_text(header + "\n" + rows + "\n")
    X_read, y_read, names = read_csv(tmp_path / "d.csv", label_column="digit")
    assert np.array_equal(X_read, X.astype(np.float64)) and np.array_equal(y_read, y) and names == []
    data = load_dataset(tmp_path / "d.csv", label_column="digit")
    assert same_rows(data, X) and data.y_test is not None


def test_csv_without_header_label_by_index_and_text_labels(tmp_path):
    (tmp_path / "t.csv").write_text("setosa,1,2\nvirginica,3,4\n\nsetosa,5,6\n")
    X, y, names = read_csv(tmp_path / "t.csv", label_column=0)
    assert X.tolist() == [[1, 2], [3, 4], [5, 6]] and y.tolist() == [0, 1, 0] and names == ["setosa", "virginica"]
    (tmp_path / "n.csv").write_text("1,2,7\n3,4,8\n")
    assert read_csv(tmp_path / "n.csv", label_column=-1)[1].tolist() == [7, 8]
    assert read_csv(tmp_path / "n.csv")[0].shape == (2, 3)


def test_csv_label_column_on_rows_long_enough_to_be_parsed_as_arrays(tmp_path):
    """Rows over a megabyte are converted a slice at a time, as arrays: the label comes out of those too."""
    values = np.random.default_rng(0).random((2, 200_000))
    (tmp_path / "long.csv").write_text("".join(f"{label}," + ",".join(f"{v:.6f}" for v in row) + "\n"
                                               for label, row in zip((7, 8), values)))
    X, y, _ = read_csv(tmp_path / "long.csv", label_column=0)
    assert X.shape == (2, 200_000) and np.allclose(X, values, atol=1e-6) and y.tolist() == [7, 8]  # as on short rows


def test_csv_quoted_cells_and_tsv(tmp_path):
    (tmp_path / "q.csv").write_text('"a","b"\n"1.5","2"\n3,4\n')
    assert read_csv(tmp_path / "q.csv")[0].tolist() == [[1.5, 2.0], [3.0, 4.0]]
    (tmp_path / "t.tsv").write_text("1\t2\n3\t4\n")
    assert read_csv(tmp_path / "t.tsv")[0].tolist() == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"])
def test_idx_round_trip(tmp_path, compress, dtype):
    a = (np.arange(60) % 50).reshape(3, 4, 5).astype(dtype)
    path = write_idx(tmp_path / ("a.idx" + (".gz" if compress else "")), a, compress)
    assert np.array_equal(read_idx(path), a)


def test_raw_idx_can_be_memory_mapped(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    mapped = read_idx(write_idx(tmp_path / "a-ubyte", a), mmap=True)
    assert isinstance(mapped, np.memmap) and np.array_equal(mapped, a)


def test_a_folder_of_idx_files_loads_with_its_split(tmp_path):
    write_idx_folder(tmp_path / "mine", n_train=9, n_test=4, compress=False)
    data = load_dataset(tmp_path / "mine")
    assert (len(data.X_train), len(data.X_test), data.name) == (9, 4, "mine")


def test_image_folder_grey_with_class_subfolders(tmp_path, digits):
    images = np.rint(digits.X_train[:6].reshape(-1, 8, 8) * 255).astype(np.uint8)
    for i, im in enumerate(images):
        write_png(tmp_path / ("even" if digits.y_train[i] % 2 == 0 else "odd") / f"{i}.png", im)
    X, y, names, shape = read_image_folder(tmp_path)
    assert shape == (8, 8) and names == ["even", "odd"] and X.shape == (6, 64)
    expected = {tuple(im.ravel()): int(digits.y_train[i] % 2) for i, im in enumerate(images)}
    assert all(expected[tuple(np.rint(x * 255).astype(np.uint8))] == label for x, label in zip(X, y))
    data = load_dataset(tmp_path, seed=0)
    assert data.label_names == ["even", "odd"] and data.image_shape == (8, 8)


def test_image_folder_colour_and_resize(tmp_path):
    rng = np.random.default_rng(0)
    write_png(tmp_path / "a.png", rng.integers(0, 256, (10, 12, 3), dtype=np.uint8))
    write_png(tmp_path / "b.png", rng.integers(0, 256, (20, 24, 3), dtype=np.uint8))
    X, y, names, shape = read_image_folder(tmp_path, size=(5, 6))
    assert shape == (3, 5, 6) and X.shape == (2, 90) and y is None
    X_grey, _, _, grey_shape = read_image_folder(tmp_path, size=(5, 6), color="grey")
    assert grey_shape == (5, 6) and 0.0 <= X_grey.min() and X_grey.max() <= 1.0


def test_image_folder_channels_first_order(tmp_path):
    im = np.zeros((2, 3, 3), np.uint8)
    im[..., 0] = 255  # pure red
    write_png(tmp_path / "r.png", im)
    X, _, _, shape = read_image_folder(tmp_path)
    assert shape == (3, 2, 3) and X.reshape(shape)[0].min() == 1.0 and X.reshape(shape)[1:].max() == 0.0


@pytest.mark.parametrize("scaling", ["center", "standard", "minmax"])
def test_estimator_scaling_works_on_file_data(tmp_path, digits_all, scaling):
    """Data far from [0, 1] (a CSV in raw units): the estimators' scaling is fitted on it and kept."""
    from latentspace import VAE, AutoEncoder

    X = digits_all[0][:300] * 160.0 + 40.0
    np.savetxt(tmp_path / "raw.csv", X, delimiter=",")
    data = load_dataset(tmp_path / "raw.csv")
    ae = AutoEncoder(n_components=2, hidden=(16,), epochs=1, scaling=scaling, validation_fraction=0.0, random_state=0).fit(data.X_train)
    if scaling == "minmax":
        assert np.allclose(ae.offset_, data.X_train.min(axis=0))
    else:
        assert np.allclose(ae.offset_, data.X_train.mean(axis=0), rtol=1e-5, atol=1e-3)
    assert np.abs(ae.reconstruct(data.X_test).mean() - data.X_test.mean()) < 60  # back in raw units
    if scaling == "minmax":  # a Bernoulli VAE needs [0, 1]: minmax makes raw data usable
        VAE(n_components=2, hidden=(16,), epochs=1, scaling="minmax", random_state=0).fit(data.X_train)
    else:
        with pytest.raises(ValueError, match="needs data in"):
            VAE(n_components=2, hidden=(16,), epochs=1, likelihood="bernoulli", scaling=scaling, random_state=0).fit(data.X_train)
