"""Checks every loaded array passes before anyone trains on it. Each failure is one ``DataError``."""

from __future__ import annotations

import difflib
import hashlib
import mmap
import os
from collections.abc import Callable

import numpy as np

from ..errors import DataError

# Memory-mapped arrays are checked this many rows at a time, so checking never loads them whole.
CHECK_CHUNK_ROWS = 16384
#: in-memory arrays are checked (and converted, and split) this many bytes of rows at a time: the masks
#: and temporaries of a check stay small beside the data
CHUNK_BYTES = 16 << 20

#: what to give instead of complex numbers
COMPLEX_ADVICE = "; give the parts you mean (np.abs(X), or X.real and X.imag as columns)"
#: what latentspace accepts instead of missing values (it has no missing-value support of its own)
NOT_FINITE_ADVICE = ("; latentspace needs finite numbers: drop those rows or fill them in first "
                     "(e.g. sklearn.impute.SimpleImputer in a Pipeline)")


def check_array_data(X: np.ndarray, source: str) -> np.ndarray:
    """2-D (more dimensions are flattened per row), numeric, non-empty, finite.

    In-memory arrays come back as float32 ``(n_samples, n_features)``. A ``np.memmap`` comes back as a
    memmap view with its own dtype, checked in chunks of rows, so nothing is loaded whole.
    """
    X = checked_values(X, source)
    return X if isinstance(X, np.memmap) else X.astype(np.float32, copy=False)


def checked_values(X: np.ndarray, source: str) -> np.ndarray:
    """``check_array_data``'s checks without its float32 copy: ``X`` as rows, in its own dtype."""
    if X.dtype.kind == "c":
        raise DataError(f"{source}: data must be real numbers, got dtype {X.dtype}{COMPLEX_ADVICE}")
    if X.dtype.kind not in "biuf":
        raise DataError(f"{source}: data must be numeric, got dtype {X.dtype}")
    if X.ndim == 0:
        raise DataError(f"{source}: expected a 2-D array (samples x features), got a single number")
    if X.ndim == 1:
        raise DataError(f"{source}: expected a 2-D array (samples x features), got 1-D of length {X.shape[0]}")
    if X.shape[0] == 0 or int(np.prod(X.shape[1:])) == 0:
        raise DataError(f"{source}: empty array of shape {X.shape}")
    if X.ndim > 2:
        X = X.reshape(X.shape[0], -1)
    _check_values(X, source, CHECK_CHUNK_ROWS if isinstance(X, np.memmap) else chunk_rows(X))
    return X


def chunk_rows(X: np.ndarray) -> int:
    """Rows of ``X`` in one chunk of at most ``CHUNK_BYTES`` (at least one row)."""
    return max(1, CHUNK_BYTES // max(1, int(np.prod(X.shape[1:], dtype=np.int64)) * X.dtype.itemsize))


def diagnosis(X, source: str) -> str | None:
    """Why the array-like ``X`` cannot be used, in this package's words (``check_array_data``'s
    message), or None when these checks find nothing (for an error raised elsewhere to explain)."""
    try:
        A = np.asarray(X)
    except Exception:  # noqa: BLE001 - whatever a foreign object raises, there is no array to diagnose
        return None
    if A.dtype == object:
        return None
    try:
        checked_values(A, source)
    except DataError as e:
        return str(e)
    return None


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _problems(dtype: np.dtype) -> list[tuple[str, Callable[[np.ndarray], np.ndarray], str]]:
    """(what, mask of bad entries, what to do) for data of this dtype: NaN / infinity, and finite float64 values
    that become infinite as float32."""
    if dtype.kind != "f":
        return []
    checks = [("NaN or infinite values", lambda a: ~np.isfinite(a), NOT_FINITE_ADVICE)]
    if dtype.itemsize > 4:
        checks.append(("values too large for float32 (|x| > 3.4e38)", lambda a: np.abs(a) > FLOAT32_MAX, ""))
    return checks


def _check_values(X: np.ndarray, source: str, chunk_rows: int) -> None:
    """Scan ``chunk_rows`` rows at a time; count every bad value only once there is one."""
    n = X.shape[0]
    for what, mask, advice in _problems(X.dtype):
        for start in range(0, n, chunk_rows):
            bad = mask(np.asarray(X[start : start + chunk_rows]))
            if bad.any():
                row, col = (int(i) for i in np.argwhere(bad)[0])
                total = int(bad.sum()) + sum(
                    int(mask(np.asarray(X[s : s + chunk_rows])).sum()) for s in range(start + chunk_rows, n, chunk_rows)
                )
                raise DataError(f"{source}: {total} {what}, the first at index ({start + row}, {col}){advice}")
            _release_pages(X)


def _release_pages(X: np.ndarray) -> None:
    """Drop the pages a read-only file mapping has read from this process's resident set.

    They stay in the kernel's page cache and are read again on the next access, so checking a file
    larger than RAM leaves the process's memory as it found it. Only for mode 'r' mappings: on a
    copy-on-write mapping this would discard changes.
    """
    if getattr(X, "mode", None) != "r":
        return
    base = X
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        base.madvise(mmap.MADV_DONTNEED)


#: Arrays up to this size are hashed whole; larger ones (memory-mapped files) by sampled blocks.
DIGEST_FULL_BYTES = 256 << 20
DIGEST_BLOCKS = 256
DIGEST_BLOCK_BYTES = 256 << 10


def array_digest(X: np.ndarray) -> dict:
    """``{"sha256", "dtype", "shape", "sampled"}`` of an array's contents: every byte for arrays up to
    256 MB, else 256 evenly spaced blocks of 256 KB plus the first and last rows (a swapped pair of
    columns or rows changes it; reading a 100 GB memmap does not take minutes)."""
    h = hashlib.sha256(f"{X.dtype.str}{X.shape}".encode())
    n = X.shape[0] if X.ndim else 1
    row_bytes = max(1, X.nbytes // max(n, 1))
    block_rows = max(1, DIGEST_BLOCK_BYTES // row_bytes)
    sampled = X.nbytes > DIGEST_FULL_BYTES
    if sampled:
        starts = sorted(set(np.linspace(0, max(n - block_rows, 0), DIGEST_BLOCKS).astype(np.int64).tolist()))
    else:
        starts = list(range(0, n, block_rows))
    with RowBytes(X) as rows:
        for start in starts:
            h.update(rows(start, min(start + block_rows, n)))
        if sampled:
            h.update(rows(n - 1, n))
    return {"sha256": h.hexdigest(), "dtype": X.dtype.str, "shape": list(X.shape), "sampled": sampled}


class RowBytes:
    """``rows(start, stop)``: the bytes of rows ``[start, stop)`` of ``X``, C order. A memory-mapped file
    is read with ``pread``, not through its mapping: pages a mapping touches stay resident and count in
    the process's RSS (the sampled digest of a 3 GB .npy added 400 MB of it, half again the whole fit's)."""

    def __init__(self, X: np.ndarray):
        self.X, self.fd = X, None
        if isinstance(X, np.memmap) and isinstance(X.base, mmap.mmap) and X.flags.c_contiguous and X.filename:
            self.fd = os.open(X.filename, os.O_RDONLY)
            self.row_bytes = X.dtype.itemsize * int(np.prod(X.shape[1:], dtype=np.int64))

    def __call__(self, start: int, stop: int) -> bytes:
        if self.fd is None:
            return np.ascontiguousarray(self.X[start:stop]).tobytes()
        size = (stop - start) * self.row_bytes
        data = os.pread(self.fd, size, self.X.offset + start * self.row_bytes)
        if len(data) != size:
            raise DataError(f"{self.X.filename}: the file is shorter than its array (changed while reading?)")
        return data

    def __enter__(self) -> RowBytes:
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)


def check_labels(y: np.ndarray | None, n_samples: int, source: str) -> np.ndarray | None:
    """Labels as a 1-D int64 array with one entry per sample, or None."""
    if y is None:
        return None
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"{source}: labels must be 1-D, got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise DataError(f"{source}: {y.shape[0]} labels for {n_samples} samples; the counts must match")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise DataError(f"{source}: labels must be whole numbers, got values such as {y[y != np.round(y)][:1]}")
    elif y.dtype.kind not in "biu":
        raise DataError(f"{source}: labels must be integers, got dtype {y.dtype}")
    if y.size and y.dtype.kind in "fu" and float(np.max(np.abs(y))) >= 2.0**62:  # would not survive int64
        raise DataError(f"{source}: labels must be class numbers below 2**62, got {np.max(np.abs(y))}")
    return y.astype(np.int64)


def encode_labels(values: list[str], source: str) -> tuple[np.ndarray, list[str]]:
    """Integer labels for text labels: whole numbers stay numbers, other names get 0..k-1 in sorted order."""
    try:
        numbers = np.array([float(v) for v in values])
    except ValueError:
        names = sorted(set(values))
        index = {name: i for i, name in enumerate(names)}
        return np.array([index[v] for v in values], dtype=np.int64), names
    return check_labels(numbers, len(values), source), []


#: column names an unknown-column error lists (a wide table's header would be a page)
SHOWN_COLUMNS = 10


def no_such_column(source: str, name: object, columns: list[str] | None) -> DataError:
    """The one error for a label column the data do not have: the columns there are, and the closest
    name when one is close (``--label-column digits`` for a column ``digit``)."""
    if columns is None:
        return DataError(f"{source}: no label column named {name!r}; the file has no header")
    close = difflib.get_close_matches(str(name), columns, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    shown = ", ".join(columns[:SHOWN_COLUMNS]) + (f", ... ({len(columns)} in all)" if len(columns) > SHOWN_COLUMNS else "")
    return DataError(f"{source}: no label column named {name!r}{hint}; the header has {shown}")
