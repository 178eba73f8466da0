"""Binary array readers: IDX (raw or gzip), .npy (optionally memory-mapped) and .npz.

Each reader raises ``DataError`` whose message starts with the file's path and names the problem.
Nothing here ever unpickles: object arrays are refused.
"""

from __future__ import annotations

import gzip
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .._files import check_allocation, check_regular_file
from ..errors import DataError, first_line

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
GZIP_MAGIC = b"\x1f\x8b"
#: numpy's limit on an array's dimensions
MAX_DIMENSIONS = 32


# ---- files -----------------------------------------------------------------------------------------
def check_file(path: Path) -> None:
    """The path exists, is a regular file (not a FIFO, device or /proc file) and is not empty."""
    if check_regular_file(path, DataError).st_size == 0:
        raise DataError(f"{path}: file is empty")


#: bytes per value a load holds beyond the file's own array: the float32 train and test parts the split
#: writes from it (the validation and the split work a bounded chunk of rows at a time)
SPLIT_BYTES_PER_VALUE = 4


def load_bytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    """The peak of loading an array of ``shape`` and ``dtype``: the reader's array and its float32 copy."""
    return int(np.prod(shape, dtype=object)) * (np.dtype(dtype).itemsize + SPLIT_BYTES_PER_VALUE)


def check_array_size(shapes: list[tuple[tuple[int, ...], np.dtype]], where: Path | str) -> None:
    """The whole load of the declared arrays (``(shape, dtype)`` each) fits the memory budget: every
    copy counted (``load_bytes``), checked before a byte of any is allocated."""
    described = ", ".join(f"{np.dtype(d).name} {tuple(s)}" for s, d in shapes[:3]) + (" ..." if len(shapes) > 3 else "")
    check_allocation(sum(load_bytes(s, d) for s, d in shapes),
                     f"{where}: loading {described} (the file's values and their float32 copy)", DataError)


# ---- IDX -------------------------------------------------------------------------------------------
def read_idx(path: str | Path, mmap: bool = False) -> np.ndarray:
    """Read an IDX file (raw or gzip), the format of MNIST and Fashion-MNIST: shape ``(n, ...)``.

    With ``mmap=True`` a raw (uncompressed) file is memory-mapped read-only instead of read; a gzip
    file must be decompressed and is always read into memory.
    """
    path = Path(path)
    check_file(path)
    with path.open("rb") as f:
        compressed = f.read(2) == GZIP_MAGIC
    if compressed:
        return _read_gzip_idx(path)
    with path.open("rb") as f:
        dtype, shape, header = _idx_header(f.read(1028), path)
    _check_idx_size(path.stat().st_size - header, dtype, shape, path)
    if mmap and int(np.prod(shape)) > 0:
        return np.memmap(path, dtype=dtype, mode="r", offset=header, shape=shape)
    check_array_size([(shape, dtype)], path)
    return np.fromfile(path, dtype=dtype, offset=header).reshape(shape)


#: gzip data are decompressed this many bytes at a time, straight into the array.
GZIP_CHUNK = 1 << 20


def _read_gzip_idx(path: Path) -> np.ndarray:
    """A gzip IDX file streamed into an array of its declared size: the header is read first, the
    size checked against the memory budget, and decompression stops at the first byte past it, so a
    small file that expands to gigabytes (a decompression bomb) never allocates more than it declared."""
    try:
        with gzip.open(path, "rb") as f:
            head = f.read(4)
            ndim = head[3] if len(head) == 4 else 0
            dtype, shape, _ = _idx_header(head + f.read(4 * ndim), path)
            expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
            check_array_size([(shape, dtype)], path)
            out = np.empty(expected, dtype=np.uint8)
            view, filled = memoryview(out), 0
            while filled < expected:
                n = f.readinto(view[filled : filled + GZIP_CHUNK])
                if not n:
                    break
                filled += n
            extra = len(f.read(GZIP_CHUNK))
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt gzip data ({first_line(e)})") from None
    if filled < expected:
        raise DataError(f"{path}: truncated IDX data: {filled} bytes for shape {shape}, expected {expected}")
    if extra:
        raise DataError(f"{path}: IDX data go on past the {expected} bytes that shape {shape} needs")
    return out.view(dtype).reshape(shape)


def _idx_header(head: bytes, path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    """(dtype, shape, header length) from an IDX file's first bytes."""
    if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in IDX_DTYPES:
        raise DataError(f"{path}: wrong magic number {head[:4].hex() or '(none)'}, not an IDX file")
    dtype, ndim = np.dtype(IDX_DTYPES[head[2]]), head[3]
    header = 4 + 4 * ndim
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions")
    if ndim > MAX_DIMENSIONS:
        raise DataError(f"{path}: IDX header declares {ndim} dimensions; arrays have at most {MAX_DIMENSIONS}")
    if len(head) < header:
        raise DataError(f"{path}: truncated IDX header: {len(head)} bytes, the header needs {header}")
    shape = tuple(int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return dtype, shape, header


def _check_idx_size(data_bytes: int, dtype: np.dtype, shape: tuple[int, ...], path: Path) -> None:
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if data_bytes < expected:
        raise DataError(f"{path}: truncated IDX data: {data_bytes} bytes for shape {shape}, expected {expected}")
    if data_bytes > expected:
        raise DataError(f"{path}: IDX data has {data_bytes - expected} bytes more than shape {shape} needs")


# ---- .npy --------------------------------------------------------------------------------------------
def read_npy(path: str | Path, mmap: bool = False) -> np.ndarray:
    """A ``.npy`` array; with ``mmap=True`` a read-only ``np.memmap`` that loads nothing up front."""
    path = Path(path)
    check_file(path)
    with path.open("rb") as f:
        shape, dtype = _npy_header(f, path, path.stat().st_size)
    if mmap and int(np.prod(shape)) > 0:
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as e:
            raise DataError(f"{path}: cannot memory-map ({first_line(e)})") from None
    check_allocation(load_bytes(shape, dtype), f"{path}: loading {dtype.name} {shape} (the file's values and their "
                     "float32 copy; or memory-map it: --mmap / mmap=True)", DataError)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npy file ({first_line(e)})") from None


#: bytes of the header-length field of each .npy format version, and the longest header numpy reads
NPY_HEADER_LENGTH_BYTES = {(1, 0): 2, (2, 0): 4, (3, 0): 4}
NPY_MAX_HEADER = 10_000


def _npy_header(f: BinaryIO, path: Path | str, total_bytes: int) -> tuple[tuple[int, ...], np.dtype]:
    """Parse and check a .npy header, so a lying header fails here rather than in a huge allocation."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version not in NPY_HEADER_LENGTH_BYTES:
            raise DataError(f"{path}: not a .npy file (format version {version[0]}.{version[1]})")
        # the header's length is read here first: numpy would read() that many bytes, and a file
        # object allocates them up front (a damaged length made a 200-byte file cost 662 MB)
        start = f.tell()
        width = NPY_HEADER_LENGTH_BYTES[version]
        length = int.from_bytes(f.read(width), "little")
        if length > min(NPY_MAX_HEADER, total_bytes - start - width):
            raise DataError(f"{path}: not a .npy file (a header of {length:,} bytes)")
        f.seek(start)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = read_header(f)
    except DataError:
        raise
    except (SyntaxError, tokenize.TokenError):  # numpy's parser of the header's Python literal
        raise DataError(f"{path}: not a .npy file (malformed header)") from None
    except (ValueError, OSError, EOFError, TypeError) as e:
        raise DataError(f"{path}: not a .npy file ({first_line(e)})") from None
    if dtype.hasobject:
        raise DataError(f"{path}: holds Python objects, which are never loaded (pickles can run code)")
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    available = total_bytes - f.tell()
    if available < expected:
        raise DataError(f"{path}: truncated .npy: {available} data bytes for shape {shape}, expected {expected}")
    return shape, dtype


# ---- .npz --------------------------------------------------------------------------------------------
def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of a ``.npz`` archive by name (loaded into memory: zip members cannot be mapped)."""
    path = Path(path)
    check_file(path)
    try:
        archive = zipfile.ZipFile(path)
    # A damaged central directory raises BadZipFile, NotImplementedError (a "zip version" byte),
    # struct.error, UnicodeDecodeError...: every one means "not a usable archive".
    except Exception as e:  # noqa: BLE001
        raise DataError(f"{path}: not a .npz archive ({first_line(e)})") from None
    with archive:
        members = [info for info in archive.infolist() if info.filename.endswith(".npy")]
        if not members:
            raise DataError(f"{path}: the archive holds no arrays")
        # The zip's sizes can lie; the arrays' own headers are what read_array allocates: every member's
        # is read and their sum bounded before any member is.
        shapes = [_npz_member_header(archive, info, path) for info in members]
        check_array_size(shapes, path)
        return {info.filename[: -len(".npy")]: _read_npz_member(archive, info, path, shape)
                for info, (shape, _) in zip(members, shapes)}


def _npz_member_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    where = f"{path}[{info.filename[:-4]}]"
    try:
        with archive.open(info) as f:
            return _npy_header(f, where, info.file_size)
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - see _read_npz_member
        raise DataError(f"{where}: corrupt array in the archive ({first_line(e)})") from None


def _read_npz_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, shape: tuple[int, ...]) -> np.ndarray:
    where = f"{path}[{info.filename[:-4]}]"
    try:
        with archive.open(info) as f:
            array = np.lib.format.read_array(f, allow_pickle=False)
            if len(f.read(1)):
                raise DataError(f"{where}: the member holds more data than its header's shape {shape} needs")
            return array
    except DataError:
        raise
    # zipfile and zlib raise many types on a damaged member (BadZipFile, zlib.error, EOFError,
    # NotImplementedError for unknown compression, RuntimeError when encrypted...): all mean "corrupt".
    except Exception as e:  # noqa: BLE001
        raise DataError(f"{where}: corrupt array in the archive ({first_line(e)})") from None


# Names looked for in a .npz when the caller names no keys (compared case-insensitively).
NPZ_SPLIT_KEYS = (("x_train", "x_test"), ("train_x", "test_x"))
NPZ_SPLIT_LABEL_KEYS = (("y_train", "y_test"), ("train_y", "test_y"))
NPZ_DATA_KEYS = ("x", "data", "images", "features", "arr_0")
NPZ_LABEL_KEYS = ("y", "labels", "label", "target", "targets")


def pick_npz_arrays(
    arrays: dict[str, np.ndarray], path: Path, x_key: str | None = None, y_key: str | None = None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """``(X, y, X_test, y_test)`` out of a .npz's arrays; the test parts are None without a stored split.

    With ``x_key`` (and optionally ``y_key``) those arrays are used. Otherwise: a stored split
    ``x_train``/``x_test`` (with ``y_train``/``y_test`` if present); else ``X``, ``x``, ``data``,
    ``images`` or ``features`` with ``y``, ``labels``, ``label``, ``target`` or ``targets``; else the
    only array in the file.
    """
    lower = {k.lower(): k for k in arrays}

    def get(name: str | None) -> np.ndarray | None:
        if name is None:
            return None
        if name not in arrays:
            raise DataError(f"{path}: no array named {name!r}; the archive holds {', '.join(sorted(arrays))}")
        return arrays[name]

    if x_key is not None:
        return get(x_key), get(y_key), None, None
    for train, test in NPZ_SPLIT_KEYS:
        if train in lower and test in lower:
            labels = next(((a, b) for a, b in NPZ_SPLIT_LABEL_KEYS if a in lower and b in lower), (None, None))
            y_train, y_test = (get(lower[k]) if k else None for k in labels)
            return arrays[lower[train]], get(y_key) if y_key else y_train, arrays[lower[test]], y_test
    y = get(y_key) if y_key else next((arrays[lower[k]] for k in NPZ_LABEL_KEYS if k in lower), None)
    for name in NPZ_DATA_KEYS:
        if name in lower:
            return arrays[lower[name]], y, None, None
    if len(arrays) == 1:
        return next(iter(arrays.values())), None, None, None
    raise DataError(
        f"{path}: cannot tell which array is the data among {', '.join(sorted(arrays))}; "
        "name it (x_key / --x-key) or store it as 'X' (labels as 'y')"
    )
