"""HDF5 datasets and Parquet files: read whole (bounded by the memory budget), memory-mapped when the
layout allows, or streamed chunk by chunk as batches (:class:`ChunkedRows`).

``h5py`` and ``pyarrow`` are optional extras (``pip install 'latentspace[hdf5]'`` / ``[parquet]``); a
missing one is a one-line error naming the extra.

- ``file.h5:/group/X`` names an HDF5 dataset (the key may be left out when the file holds exactly one).
  A contiguous, uncompressed dataset is memory-mapped, so ``fit`` streams it like a memmapped ``.npy``
  however large it is; a chunked or compressed one is read whole, within the memory budget.
- A Parquet file's numeric columns are the features (``label_column`` names one to keep apart as labels);
  it is read whole, within the memory budget. For tables larger than memory, :class:`ChunkedRows`
  streams either kind one chunk at a time.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .._files import check_allocation
from ..errors import DataError, first_line
from .readers import load_bytes
from .validate import FLOAT32_MAX, no_such_column

HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf", ".he5")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: rows a streamed chunk holds at most, in bytes
CHUNK_BYTES = 64 << 20


def optional(module: str, extra: str):
    """Import an optional dependency, or one line saying which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DataError(f"reading this file needs {module}: pip install 'latentspace[{extra}]'") from None


def split_hdf5_spec(spec: str) -> tuple[Path, str | None] | None:
    """``"file.h5:/group/X"`` -> ``(Path("file.h5"), "/group/X")``; ``"file.h5"`` -> ``(path, None)``;
    None when ``spec`` does not name an HDF5 file."""
    head, sep, key = spec.rpartition(":")
    if sep and Path(head).suffix.lower() in HDF5_SUFFIXES:
        return Path(head), key or None
    if Path(spec).suffix.lower() in HDF5_SUFFIXES:
        return Path(spec), None
    return None


def hdf5_dataset(h5file, key: str | None, path: Path):
    """The dataset ``key`` of an open HDF5 file (the only one when ``key`` is None)."""
    h5py = optional("h5py", "hdf5")
    if key is None:
        names: list[str] = []
        h5file.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        if len(names) != 1:
            raise DataError(f"{path}: holds {len(names)} datasets ({', '.join(names[:5]) or 'none'}); name one as "
                            f"{path}:/NAME")
        key = names[0]
    found = h5file.get(key)
    if not isinstance(found, h5py.Dataset):
        raise DataError(f"{path}: no dataset {key!r} in the file")
    if found.dtype.kind not in "biuf" or found.ndim < 2:
        raise DataError(f"{path}:{key}: need a numeric array of at least 2 dimensions, got {found.dtype} {found.shape}")
    return found


def read_hdf5(path: Path, key: str | None) -> np.ndarray:
    """The HDF5 dataset ``key``: memory-mapped when it is contiguous and uncompressed, else read whole."""
    h5py = optional("h5py", "hdf5")
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with h5py.File(path, "r") as f:
            ds = hdf5_dataset(f, key, path)
            offset = ds.id.get_offset()
            if ds.chunks is None and ds.compression is None and offset is not None and ds.dtype.isnative:
                return np.memmap(path, dtype=ds.dtype, mode="r", offset=offset, shape=ds.shape)
            check_allocation(load_bytes(ds.shape, ds.dtype), f"{path}:{ds.name}: loading {ds.dtype} {ds.shape} (the "
                             "file's values and their float32 copy)", DataError)
            return ds[()]
    except DataError:
        raise
    except Exception as e:  # h5py raises OSError, RuntimeError, KeyError, ValueError on damaged files
        raise DataError(f"{path}: not a readable HDF5 file ({first_line(e)})") from None


def read_parquet(path: Path, label_column: str | int | None = None) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """A Parquet file's numeric columns as float32 rows ``(n, n_columns)``, its ``label_column`` apart,
    and the feature columns' names."""
    pq = optional("pyarrow.parquet", "parquet")
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        meta = pq.ParquetFile(path)
    except Exception as e:  # pyarrow's own error types: one line naming the file
        raise DataError(f"{path}: not a readable Parquet file ({e})") from None
    names = list(meta.schema_arrow.names)
    if isinstance(label_column, str) and label_column not in names and label_column.isdigit():
        label_column = int(label_column)  # the command line's --label-column 3
    if isinstance(label_column, int) and not 0 <= label_column < len(names):
        raise DataError(f"{path}: no column {label_column}; the file has {len(names)}")
    label = names[label_column] if isinstance(label_column, int) else label_column
    if label is not None and label not in names:
        raise no_such_column(str(path), label, names)
    features = [n for n in names if n != label]
    # the Arrow table in its own types, the float32 rows made from it, and the split's float32 parts
    rows = meta.metadata.num_rows
    arrow = sum(max(1, getattr(meta.schema_arrow.field(n).type, "bit_width", 64) // 8) for n in names)
    check_allocation(rows * (arrow + 2 * 4 * len(features)),
                     f"{path}: loading {rows:,} rows of {len(names)} columns (the table, its float32 rows and their split)",
                     DataError)
    try:
        table = meta.read()
    except Exception as e:  # a damaged page or column chunk: pyarrow's OSError, ArrowInvalid, ...
        raise DataError(f"{path}: not a readable Parquet file ({first_line(e)})") from None
    X = columns_as_rows(table, features, path)
    y = None if label is None else table.column(label).to_numpy()
    return X, y, features


def columns_as_rows(table, names: list[str], path: Path) -> np.ndarray:
    """Numeric Arrow columns as float32 rows; a column of another type is one line naming it."""
    out = np.empty((table.num_rows, len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        column = table.column(name)
        try:
            values = column.to_numpy(zero_copy_only=False)
        except Exception as e:
            raise DataError(f"{path}: column {name!r} cannot be read as numbers ({e})") from None
        if values.dtype.kind not in "biuf":
            raise DataError(f"{path}: column {name!r} holds {column.type}; features must be numbers")
        with np.errstate(invalid="ignore"):
            too_large = values.dtype.kind == "f" and bool((np.abs(values) > FLOAT32_MAX).any())
        if too_large:
            raise DataError(f"{path}: column {name!r} holds values too large for float32 (|x| > 3.4e38)")
        out[:, j] = values
    return out


class ChunkedRows:
    """Batches of rows of an HDF5 dataset or a Parquet file, read one chunk at a time: a re-iterable
    that ``fit`` streams (each pass visits the chunks in a new seeded order and shuffles the rows
    within each; memory holds one chunk). Under torchrun give each process its ``rank``/``world``
    share of the chunks.

    ``path``: ``file.h5:/group/X`` (or a ``.h5`` with one dataset) or ``file.parquet``;
    ``columns``: a Parquet file's feature columns (default: all).
    """

    def __init__(self, path: str | Path, batch_size: int = 128, *, columns: list[str] | None = None,
                 chunk_rows: int | None = None, shuffle: bool = True, seed: int = 0, rank: int = 0, world: int = 1):
        spec = split_hdf5_spec(str(path))
        self.hdf5 = spec is not None
        self.path, self.key = spec if spec is not None else (Path(path), None)
        self.columns, self.batch_size, self.shuffle, self.seed = columns, int(batch_size), shuffle, seed
        self.rank, self.world, self.passes = rank, world, 0
        self.n_rows, row_bytes = self._layout()
        self.chunk_rows = chunk_rows or max(self.batch_size, CHUNK_BYTES // max(row_bytes, 1))

    def _layout(self) -> tuple[int, int]:
        if self.hdf5:
            with optional("h5py", "hdf5").File(self.path, "r") as f:
                ds = hdf5_dataset(f, self.key, self.path)
                self.key = ds.name
                return int(ds.shape[0]), int(np.prod(ds.shape[1:])) * 4
        meta = optional("pyarrow.parquet", "parquet").ParquetFile(self.path)
        self.columns = self.columns or list(meta.schema_arrow.names)
        return int(meta.metadata.num_rows), len(self.columns) * 4

    def _chunks(self) -> Iterator[np.ndarray]:
        """This process's chunks, each ``(rows, ...)`` float32, in this pass's order."""
        # the same chunks every pass (so every pass takes the same steps), visited in a new order
        mine = list(range(0, self.n_rows, self.chunk_rows))[self.rank :: self.world]
        if self.shuffle:
            mine = [mine[i] for i in np.random.default_rng([self.seed, self.passes]).permutation(len(mine))]
        if self.hdf5:
            with optional("h5py", "hdf5").File(self.path, "r") as f:
                ds = f[self.key]
                for a in mine:
                    yield np.asarray(ds[a : a + self.chunk_rows], dtype=np.float32)
            return
        pq = optional("pyarrow.parquet", "parquet")
        table = pq.ParquetFile(self.path)
        # Parquet reads by row group: a chunk is the row groups it overlaps, cut to its rows
        bounds = np.cumsum([0] + [table.metadata.row_group(i).num_rows for i in range(table.num_row_groups)])
        for a in mine:
            b = min(a + self.chunk_rows, self.n_rows)
            groups = [i for i in range(table.num_row_groups) if bounds[i] < b and bounds[i + 1] > a]
            part = table.read_row_groups(groups, columns=self.columns)
            rows = columns_as_rows(part, self.columns, self.path)
            yield rows[a - bounds[groups[0]] : b - bounds[groups[0]]]

    def __iter__(self) -> Iterator[np.ndarray]:
        rng = np.random.default_rng([self.seed, self.passes, 1])
        self.passes += 1
        for chunk in self._chunks():
            order = rng.permutation(chunk.shape[0]) if self.shuffle else np.arange(chunk.shape[0])
            for i in range(0, chunk.shape[0], self.batch_size):
                yield chunk[order[i : i + self.batch_size]]

    def __len__(self) -> int:
        """Batches per pass on this process (each chunk is cut into batches, its last one short)."""
        mine = list(range(0, self.n_rows, self.chunk_rows))[self.rank :: self.world]
        return sum(-(-min(self.chunk_rows, self.n_rows - a) // self.batch_size) for a in mine)
