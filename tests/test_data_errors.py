"""Bad files, made here, each give one DataError (a ValueError) naming the file and the problem."""

import gzip
import re

import numpy as np
import pytest
from data_files import idx_bytes, write_idx, write_idx_folder, write_png

from latentspace.data import (
    load_dataset,
    read_csv,
    read_idx,
    read_image_folder,
    read_npy,
    read_npz,
)
from latentspace.errors import DataError

IMAGES = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)


def raises(path, pattern, load=load_dataset, **kwargs):
    """The error is a DataError, its message names ``path`` and matches ``pattern``."""
    with pytest.raises(DataError) as info:
        load(path, **kwargs)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert str(path) in message, message
    assert re.search(pattern, message), message
    assert "\n" not in message
    return message


# ---- missing and empty -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["x.npy", "x.npz", "x.csv", "x-idx3-ubyte.gz", "sub/x.npy"])
def test_file_not_found(tmp_path, name):
    raises(tmp_path / name, "file not found")


def test_image_folder_not_found(tmp_path):
    raises(tmp_path / "nope", "folder not found", load=read_image_folder)


@pytest.mark.parametrize("name", ["e.npy", "e.npz", "e.csv", "e-idx1-ubyte"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    raises(tmp_path / name, "file is empty")


def test_csv_with_only_a_header_has_no_data_rows(tmp_path):
    (tmp_path / "h.csv").write_text("a,b,c\n\n")
    raises(tmp_path / "h.csv", "no data rows")


def test_empty_array(tmp_path):
    np.save(tmp_path / "z.npy", np.zeros((0, 5)))
    raises(tmp_path / "z.npy", r"empty array of shape \(0, 5\)")


def test_empty_image_folder(tmp_path):
    (tmp_path / "a.txt").write_text("not an image")
    raises(tmp_path, "no images", load=read_image_folder)


# ---- IDX and gzip ------------------------------------------------------------------------------
def test_idx_wrong_magic(tmp_path):
    (tmp_path / "m-ubyte").write_bytes(b"\x01\x02\x08\x01" + bytes(8))
    raises(tmp_path / "m-ubyte", "wrong magic number 01020801, not an IDX file", load=read_idx)


def test_idx_unknown_type_code_is_wrong_magic(tmp_path):
    (tmp_path / "m-ubyte").write_bytes(b"\x00\x00\x07\x01" + bytes(8))
    raises(tmp_path / "m-ubyte", "wrong magic number", load=read_idx)


def test_idx_truncated_header(tmp_path):
    (tmp_path / "h-ubyte").write_bytes(idx_bytes(IMAGES)[:10])
    raises(tmp_path / "h-ubyte", r"truncated IDX header: 10 bytes, the header needs 16", load=read_idx)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_truncated_data(tmp_path, compress):
    data = idx_bytes(IMAGES)[:-5]
    path = tmp_path / ("t-idx3-ubyte" + (".gz" if compress else ""))
    path.write_bytes(gzip.compress(data) if compress else data)
    raises(path, r"truncated IDX data: 19 bytes for shape \(2, 3, 4\), expected 24", load=read_idx)


def test_idx_with_trailing_bytes(tmp_path):
    (tmp_path / "x-ubyte").write_bytes(idx_bytes(IMAGES) + b"junk")
    raises(tmp_path / "x-ubyte", "4 bytes more than shape", load=read_idx)


def test_gzip_corrupted_in_the_middle(tmp_path):
    blob = bytearray(gzip.compress(idx_bytes(np.arange(4000, dtype=np.uint8).reshape(40, 10, 10) % 7)))
    blob[len(blob) // 2] ^= 0xFF
    (tmp_path / "c-idx3-ubyte.gz").write_bytes(bytes(blob))
    raises(tmp_path / "c-idx3-ubyte.gz", "corrupt gzip data", load=read_idx)


def test_gzip_cut_short(tmp_path):
    blob = gzip.compress(idx_bytes(IMAGES))
    (tmp_path / "s.gz").write_bytes(blob[: len(blob) - 12])
    raises(tmp_path / "s.gz", "corrupt gzip data")


def test_idx_folder_with_a_missing_file_names_it(tmp_path):
    write_idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"lacks t10k-labels-idx1-ubyte \(raw or \.gz\)"):
        load_dataset("mnist", data_dir=tmp_path)


def test_idx_folder_with_a_corrupt_file_names_it(tmp_path):
    write_idx_folder(tmp_path, compress=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08")
    path = tmp_path / "train-labels-idx1-ubyte"
    with pytest.raises(DataError, match=re.escape(str(path)) + ": wrong magic number"):
        load_dataset("fashion-mnist", data_dir=tmp_path)


# ---- .npy / .npz -------------------------------------------------------------------------------
def test_npy_not_numpy(tmp_path):
    (tmp_path / "n.npy").write_bytes(b"hello, world")
    raises(tmp_path / "n.npy", "not a .npy file", load=read_npy)


def test_npy_with_a_malformed_header(tmp_path):
    """A header numpy's literal parser fails on with tokenize.TokenError (found by fuzzing)."""
    np.save(tmp_path / "ok.npy", np.ones(3))
    blob = bytearray((tmp_path / "ok.npy").read_bytes())
    length = int.from_bytes(blob[8:10], "little")
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,"
    blob[10 : 10 + length] = header + b" " * (length - len(header) - 1) + b"\n"
    (tmp_path / "m.npy").write_bytes(bytes(blob))
    raises(tmp_path / "m.npy", r"not a \.npy file \(malformed header\)", load=read_npy)


@pytest.mark.parametrize("mmap", [False, True])
def test_npy_truncated(tmp_path, mmap):
    np.save(tmp_path / "t.npy", np.ones((10, 10)))
    blob = (tmp_path / "t.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(blob[:-80])
    raises(tmp_path / "t.npy", r"truncated \.npy: 720 data bytes for shape \(10, 10\), expected 800", load=read_npy, mmap=mmap)


def test_npy_of_objects_is_never_unpickled(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    raises(tmp_path / "o.npy", "holds Python objects, which are never loaded", load=read_npy)


def test_npy_of_text_is_not_numeric(tmp_path):
    np.save(tmp_path / "s.npy", np.array([["a", "b"]]))
    raises(tmp_path / "s.npy", "data must be numeric, got dtype <U1")


def test_npy_one_dimensional(tmp_path):
    np.save(tmp_path / "v.npy", np.arange(5.0))
    raises(tmp_path / "v.npy", "expected a 2-D array .* got 1-D of length 5")


def test_npz_not_a_zip(tmp_path):
    (tmp_path / "z.npz").write_bytes(b"PK\x03\x04 but not really a zip archive")
    raises(tmp_path / "z.npz", "not a .npz archive", load=read_npz)


def test_npz_damaged_member(tmp_path):
    np.savez_compressed(tmp_path / "d.npz", X=np.arange(5000.0).reshape(100, 50))
    blob = bytearray((tmp_path / "d.npz").read_bytes())
    blob[200] ^= 0xFF
    (tmp_path / "d.npz").write_bytes(bytes(blob))
    raises(tmp_path / "d.npz", r"d\.npz\[X\]: (corrupt array in the archive|not a \.npy file)", load=read_npz)


def test_npz_ambiguous_and_unknown_keys(tmp_path):
    np.savez(tmp_path / "a.npz", first=np.ones((3, 2)), second=np.ones((3, 2)))
    raises(tmp_path / "a.npz", "cannot tell which array is the data among first, second")
    raises(tmp_path / "a.npz", "no array named 'third'; the archive holds first, second", x_key="third")


# ---- CSV -----------------------------------------------------------------------------------------
def test_csv_non_numeric_cell_names_line_and_column(tmp_path):
    (tmp_path / "c.csv").write_text("a,b,c\n1,2,3\n4,five,6\n")
    raises(tmp_path / "c.csv", r"non-numeric cell 'five' at line 3, column 2 \('b'\)")


def test_csv_empty_cell(tmp_path):
    (tmp_path / "c.csv").write_text("1,2\n3,\n")
    raises(tmp_path / "c.csv", "non-numeric cell '' at line 2, column 2")


def test_csv_ragged_rows(tmp_path):
    (tmp_path / "r.csv").write_text("1,2,3\n4,5,6\n7,8\n")
    raises(tmp_path / "r.csv", "ragged rows: line 3 has 2 cells, the first row has 3")


def test_a_wide_headers_columns_are_listed_up_to_ten(tmp_path):
    names = [f"px{i}" for i in range(64)] + ["digit"]
    (tmp_path / "w.csv").write_text(",".join(names) + "\n" + ",".join("0" * 65) + "\n")
    raises(tmp_path / "w.csv", r"named 'digits' \(did you mean 'digit'\?\); the header has px0, .*, px9, \.\.\. \(65 in all\)$",
           label_column="digits")


def test_csv_unknown_label_column(tmp_path):
    (tmp_path / "l.csv").write_text("x,y,cls\n1,2,0\n")
    raises(tmp_path / "l.csv", r"no label column named 'class' \(did you mean 'cls'\?\); the header has x, y, cls",
           label_column="class")
    raises(tmp_path / "l.csv", "no label column named 'colour'; the header has x, y, cls$", label_column="colour")
    raises(tmp_path / "l.csv", "label column 7 is out of range for 3 columns", label_column=7)


def test_csv_not_utf8(tmp_path):
    (tmp_path / "b.csv").write_bytes(b"1,2\n\xff\xfe,3\n")
    raises(tmp_path / "b.csv", r"not UTF-8 text \(byte 4\)", load=read_csv)


# ---- NaN / infinity --------------------------------------------------------------------------------
@pytest.mark.parametrize("mmap", [False, True])
def test_nan_and_infinity_counted_with_the_first_index(tmp_path, mmap):
    X = np.ones((6, 4))
    X[2, 3], X[4, 1], X[5, 0] = np.nan, np.inf, -np.inf
    np.save(tmp_path / "n.npy", X)
    raises(tmp_path / "n.npy", r"3 NaN or infinite values, the first at index \(2, 3\)", mmap=mmap)


@pytest.mark.parametrize("mmap", [False, True])
def test_values_too_large_for_float32(tmp_path, mmap):
    X = np.ones((4, 3))
    X[1, 2], X[3, 0] = 1e39, -1e300
    np.save(tmp_path / "big.npy", X)
    raises(tmp_path / "big.npy", r"2 values too large for float32 \(\|x\| > 3.4e38\), the first at index \(1, 2\)", mmap=mmap)


def test_nan_in_csv(tmp_path):
    (tmp_path / "n.csv").write_text("1,2\nnan,4\n5,inf\n")
    raises(tmp_path / "n.csv", r"2 NaN or infinite values, the first at index \(1, 0\)")


def test_nan_in_an_npz_test_part(tmp_path):
    X_test = np.ones((3, 2))
    X_test[1, 1] = np.nan
    np.savez(tmp_path / "s.npz", x_train=np.ones((4, 2)), x_test=X_test)
    raises(tmp_path / "s.npz", r"\(test part\): 1 NaN or infinite values, the first at index \(1, 1\)")


# ---- images ------------------------------------------------------------------------------------------
def test_image_shapes_differ(tmp_path):
    write_png(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    write_png(tmp_path / "b.png", np.zeros((8, 9), np.uint8))
    raises(tmp_path, "image shapes differ: a.png is 8x8, b.png is 8x9; pass a size", load=read_image_folder)


def test_unreadable_image(tmp_path):
    write_png(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    (tmp_path / "b.png").write_bytes(b"\x89PNG but broken")
    with pytest.raises(DataError, match=re.escape(str(tmp_path / "b.png")) + ": not a readable image"):
        read_image_folder(tmp_path)


def test_images_both_loose_and_in_class_folders(tmp_path):
    write_png(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    write_png(tmp_path / "cats" / "b.png", np.zeros((4, 4), np.uint8))
    raises(tmp_path, r"images both in the folder and in sub-folders \(cats\)", load=read_image_folder)


# ---- labels ------------------------------------------------------------------------------------------
def test_label_count_does_not_match_the_data(tmp_path):
    np.savez(tmp_path / "l.npz", X=np.ones((5, 3)), y=np.arange(4))
    raises(tmp_path / "l.npz", "4 labels for 5 samples; the counts must match")


def test_idx_folder_label_count_does_not_match(tmp_path):
    write_idx_folder(tmp_path, n_train=6, compress=False)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte: 5 labels for 6 samples"):
        load_dataset("mnist", data_dir=tmp_path)


def test_fractional_labels(tmp_path):
    np.savez(tmp_path / "f.npz", X=np.ones((3, 2)), y=np.array([0.0, 1.5, 2.0]))
    raises(tmp_path / "f.npz", "labels must be whole numbers")


# ---- names and types -----------------------------------------------------------------------------------
def test_unknown_data_set_lists_the_named_ones():
    with pytest.raises(DataError, match=r"unknown data set 'cifar10'; named sets: digits, fashion-mnist, mnist"):
        load_dataset("cifar10")


def test_unsupported_file_type(tmp_path):
    (tmp_path / "d.xlsx").write_bytes(b"<?xml version=\"1.0\"?>")
    raises(tmp_path / "d.xlsx", r"unsupported file type \.xlsx")


def test_one_sample_cannot_be_split(tmp_path):
    np.save(tmp_path / "one.npy", np.ones((1, 3)))
    raises(tmp_path / "one.npy", "need at least 2 to split")


def test_labels_too_large_for_int64_are_one_line(tmp_path):
    """Found by the slow Parquet fuzz: a whole-number float label of 1e300 overflowed the int64 cast."""
    from latentspace.data.validate import check_labels
    from latentspace.errors import DataError

    with pytest.raises(DataError, match="labels must be class numbers below 2"):
        check_labels(np.array([1e300, 0.0]), 2, "f.parquet")
