"""HDF5 datasets and Parquet files: as --data / load_dataset (file.h5:/group/X, file.parquet), and
streamed chunk by chunk (ChunkedRows) into fit."""

import numpy as np
import pytest

from latentspace import AutoEncoder, load
from latentspace.data import ChunkedRows, load_dataset, read_data_file
from latentspace.errors import DataError

h5py = pytest.importorskip("h5py", reason="h5py is not installed: pip install 'latentspace[hdf5]'")
pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install 'latentspace[parquet]'")
import pyarrow.parquet as pq  # noqa: E402


@pytest.fixture(scope="module")
def files(digits, tmp_path_factory):
    """digits' training rows as an HDF5 file (a contiguous and a chunked, compressed dataset) and as a
    Parquet file of 64 feature columns and a label column, in row groups of 300."""
    folder = tmp_path_factory.mktemp("columnar")
    X, y = digits.X_train.astype(np.float32), digits.y_train
    with h5py.File(folder / "d.h5", "w") as f:
        f.create_dataset("images/X", data=X)
        f.create_dataset("images/packed", data=X, chunks=(100, 64), compression="gzip")
    columns = {f"px{i}": X[:, i] for i in range(64)} | {"digit": y}
    pq.write_table(pa.table(columns), folder / "d.parquet", row_group_size=300)
    return folder, X, y


def test_hdf5_dataset_paths_load_and_contiguous_ones_are_memory_mapped(files):
    folder, X, _ = files
    contiguous = load_dataset(f"{folder / 'd.h5'}:/images/X")
    packed = load_dataset(f"{folder / 'd.h5'}:/images/packed")
    assert isinstance(contiguous.X_train, np.memmap) and not isinstance(packed.X_train, np.memmap)
    both = np.concatenate([contiguous.X_train, contiguous.X_test])
    assert sorted(map(tuple, both)) == sorted(map(tuple, X))
    np.testing.assert_array_equal(read_data_file(f"{folder / 'd.h5'}:/images/packed"), X)


def test_parquet_columns_are_features_and_the_label_column_labels(files):
    folder, X, y = files
    data = load_dataset(folder / "d.parquet", label_column="digit")
    assert data.X_train.shape[1] == 64 and data.feature_names[:2] == ["px0", "px1"]
    assert len(data.y_train) == len(data.X_train) and set(np.unique(data.y_train)) <= set(range(10))


@pytest.mark.parametrize("spec, message", [
    ("d.h5", "holds 2 datasets"),
    ("d.h5:/images/nothing", "no dataset '/images/nothing'"),
    ("missing.h5:/X", "file not found"),
])
def test_bad_hdf5_paths_are_one_line(files, spec, message):
    folder, _, _ = files
    with pytest.raises(DataError, match=message):
        load_dataset(f"{folder}/{spec}")


def test_a_misspelt_parquet_label_column_is_named_with_the_closest_one(files):
    folder = files[0]
    with pytest.raises(DataError, match=r"no label column named 'digits' \(did you mean 'digit'\?\)"):
        load_dataset(folder / "d.parquet", label_column="digits")


def test_cli_trains_on_hdf5_and_parquet(files, cli, tmp_path):
    folder, _, _ = files
    for data in (f"{folder / 'd.h5'}:/images/X", str(folder / "d.parquet")):
        out = tmp_path / ("h5" if data.endswith("X") else "pq")
        labels = () if data.endswith("X") else ("--label-column", "digit")
        code, _, err = cli("train", "ae", "--data", data, *labels, "--hidden", 16, "--epochs", 2, "--out", out, "--quiet")
        assert code == 0, err
        assert load(out).n_features_in_ == 64


@pytest.mark.parametrize("name", ["d.h5:/images/packed", "d.parquet"])
def test_chunked_rows_visit_every_row_once_per_pass_in_a_new_order(files, name):
    folder, X, _ = files
    columns = [f"px{i}" for i in range(64)]
    rows = ChunkedRows(f"{folder}/{name}", batch_size=64, columns=columns, chunk_rows=256, seed=1)
    first, second = np.concatenate(list(rows)), np.concatenate(list(rows))
    assert len(rows) == -(-256 // 64) * 5 + -(-(len(X) - 5 * 256) // 64)
    for seen in (first, second):
        assert sorted(map(tuple, seen)) == sorted(map(tuple, X))
    assert not np.array_equal(first, second)  # shuffled anew each pass
    shares = [np.concatenate(list(ChunkedRows(f"{folder}/{name}", 64, columns=columns, chunk_rows=256, rank=r, world=2)))
              for r in (0, 1)]
    assert sorted(map(tuple, np.concatenate(shares))) == sorted(map(tuple, X))


def test_fit_streams_chunked_rows(files):
    folder, X, _ = files
    model = AutoEncoder(2, hidden=(16,), epochs=2, random_state=0).fit(
        ChunkedRows(f"{folder / 'd.h5'}:/images/X", batch_size=64, chunk_rows=300), validation_data=X[:200])
    assert model.n_iter_ == 2 and "val_loss" in model.history_[-1]


def test_a_corrupt_parquet_file_is_one_line(tmp_path):
    (tmp_path / "d.parquet").write_bytes(b"PAR1....")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load_dataset(tmp_path / "d.parquet")
