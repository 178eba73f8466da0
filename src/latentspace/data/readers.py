"""Array readers: IDX, .npy, .npz, .csv. Each raises ``DataError`` naming the file and the problem."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (raw or gzip), the format of MNIST and Fashion-MNIST."""
    path = Path(path)
    raw = _read_bytes(path)
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: corrupt gzip data ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise DataError(f"{path}: wrong magic number, not an IDX file")
    dtype, ndim = np.dtype(IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(f"{path}: truncated IDX data: {len(raw) - header} bytes for shape {shape}, expected {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def read_npy(path: str | Path, mmap: bool = False) -> np.ndarray:
    path = Path(path)
    _check_file(path)
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npy file ({_first_line(e)})") from None


def read_csv(path: str | Path) -> np.ndarray:
    """A numeric CSV; a first row that is not numeric is taken as a header and skipped."""
    path = Path(path)
    text = _read_bytes(path).decode("utf-8", errors="replace")
    rows = [line.split(",") for line in text.splitlines() if line.strip()]
    if rows and not _is_numeric_row(rows[0]):
        rows = rows[1:]
    if not rows:
        raise DataError(f"{path}: no data rows")
    width = len(rows[0])
    out = np.empty((len(rows), width), dtype=np.float64)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataError(f"{path}: ragged rows: row {i + 1} has {len(row)} cells, the first has {width}")
        for j, cell in enumerate(row):
            try:
                out[i, j] = float(cell)
            except ValueError:
                raise DataError(f"{path}: non-numeric cell {cell.strip()!r} at row {i + 1}, column {j + 1}") from None
    return out


def _is_numeric_row(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except ValueError:
        return False
    return True


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if not path.is_file():
        raise DataError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")


def _read_bytes(path: Path) -> bytes:
    _check_file(path)
    return path.read_bytes()


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
