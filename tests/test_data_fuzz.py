"""Property tests: whatever bytes or text a file holds, a reader returns data or raises DataError, within
the memory budget (tests/fuzzing.py: each property over a few dozen examples by default, 2,000 with -m slow)."""

import gzip
import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from data_files import idx_bytes
from fuzzing import fuzz_pair, memory_budget, mutated
from hypothesis import strategies as st

from latentspace.data import (
    load_dataset,
    read_csv,
    read_idx,
    read_image_folder,
    read_npy,
    read_npz,
)
from latentspace.errors import DataError

# numpy's .npy header parser warns about escapes in garbage headers; the warning is not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "error::RuntimeWarning")


def outcome(read, name: str, blob: bytes, **kwargs):
    """Write ``blob`` to a fresh file and read it within the memory budget: the result, or the DataError
    naming the file (anything else fails)."""
    with tempfile.TemporaryDirectory() as folder, memory_budget():
        path = Path(folder) / name
        path.write_bytes(blob)
        try:
            return read(path, **kwargs)
        except DataError as e:
            assert str(path) in str(e) or name in str(e), str(e)
            return e


def npy_bytes(a: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, a)
    return buffer.getvalue()


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


VALID_IDX = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
VALID_NPY = npy_bytes(np.arange(12.0).reshape(3, 4))
VALID_NPZ = npz_bytes(X=np.arange(12.0).reshape(3, 4), y=np.arange(3))


@fuzz_pair(st.one_of(st.binary(max_size=200), mutated(VALID_IDX), mutated(gzip.compress(VALID_IDX))))
def test_idx_reader(blob):
    result = outcome(read_idx, "f-idx3-ubyte", blob)
    assert isinstance(result, (np.ndarray, DataError))


test_idx_reader, test_idx_reader_long = test_idx_reader


@fuzz_pair(st.one_of(st.binary(max_size=200), mutated(VALID_NPY)), st.booleans())
def test_npy_reader(blob, mmap):
    result = outcome(read_npy, "f.npy", blob, mmap=mmap)
    assert isinstance(result, (np.ndarray, DataError))


test_npy_reader, test_npy_reader_long = test_npy_reader


@fuzz_pair(st.one_of(st.binary(max_size=200), mutated(VALID_NPZ)))
def test_npz_reader(blob):
    result = outcome(read_npz, "f.npz", blob)
    assert isinstance(result, (dict, DataError))


test_npz_reader, test_npz_reader_long = test_npz_reader


@fuzz_pair(st.one_of(st.binary(max_size=200), mutated(VALID_NPY), mutated(VALID_NPZ)))
def test_load_dataset_on_any_bytes(blob):
    for name in ("f.npy", "f.npz", "f.gz"):
        outcome(load_dataset, name, blob)


test_load_dataset_on_any_bytes, test_load_dataset_on_any_bytes_long = test_load_dataset_on_any_bytes


CSV_ALPHABET = st.sampled_from(list("0123456789.,-+eE\n\r\"' \tnaifx;") + ["nan", "inf", "1e999", "\x00", "é"])


@fuzz_pair(
    st.one_of(st.text(max_size=120), st.lists(CSV_ALPHABET, max_size=60).map("".join)),
    st.sampled_from([None, 0, -1, 3, "a", "1"]),
    st.sampled_from([None, True, False]),
)
def test_csv_reader(text, label_column, header):
    result = outcome(read_csv, "f.csv", text.encode("utf-8"), label_column=label_column, header=header)
    if not isinstance(result, DataError):
        X, y, _ = result
        assert X.ndim == 2 and X.dtype == np.float64 and (y is None or len(y) == len(X))
    outcome(load_dataset, "f.csv", text.encode("utf-8"), label_column=label_column)


test_csv_reader, test_csv_reader_long = test_csv_reader


def test_fuzz_helpers_make_readable_files():
    """The valid seeds the mutations start from really are valid, so near misses are near."""
    assert outcome(read_idx, "f-ubyte", VALID_IDX).shape == (2, 3, 4)
    assert outcome(read_npy, "f.npy", VALID_NPY).shape == (3, 4)
    assert set(outcome(read_npz, "f.npz", VALID_NPZ)) == {"X", "y"}
    assert zipfile.is_zipfile(io.BytesIO(VALID_NPZ))


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.arange(48, dtype=np.uint8).reshape(6, 8)).save(buffer, format="PNG")
    return buffer.getvalue()


@fuzz_pair(st.one_of(st.binary(max_size=100), mutated(png_bytes())))
def test_image_reader(blob):
    def read_folder_of(path):
        return read_image_folder(path.parent)

    result = outcome(read_folder_of, "a.png", blob)
    assert isinstance(result, (tuple, DataError))


test_image_reader, test_image_reader_long = test_image_reader



def parquet_bytes() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"a": np.arange(6.0), "b": np.arange(6, dtype=np.int32), "y": np.arange(6) % 2}), buffer)
    return buffer.getvalue()


def hdf5_bytes() -> bytes:
    import h5py

    with tempfile.TemporaryDirectory() as folder:
        with h5py.File(Path(folder) / "f.h5", "w") as f:
            f.create_dataset("X", data=np.arange(24.0).reshape(6, 4))
            f.create_dataset("Z", data=np.arange(24.0).reshape(6, 4), compression="gzip")
        return (Path(folder) / "f.h5").read_bytes()


@fuzz_pair(st.one_of(st.binary(max_size=100), mutated(parquet_bytes())), st.sampled_from([None, "y", 0, "9"]))
def test_parquet_reader(blob, label_column):
    pytest.importorskip("pyarrow")
    outcome(load_dataset, "f.parquet", blob, label_column=label_column)


test_parquet_reader, test_parquet_reader_long = test_parquet_reader


@fuzz_pair(st.one_of(st.binary(max_size=100), mutated(hdf5_bytes())), st.sampled_from(["", ":/X", ":/Z", ":/nope"]))
def test_hdf5_reader(blob, key):
    pytest.importorskip("h5py")
    outcome(lambda path: load_dataset(f"{path}{key}"), "f.h5", blob)


test_hdf5_reader, test_hdf5_reader_long = test_hdf5_reader
