"""Where the training loop's batches come from.

Two sources with one interface:

- :class:`TensorBatches`, the fast path: the whole (scaled) training set is one tensor on the device
  and each batch is ``X.index_select(0, order[i*B:(i+1)*B])`` of a shuffled index. No DataLoader, no
  per-example Python.
- :class:`MemmapBatches`, for a ``np.memmap`` larger than RAM: the rows are cut into contiguous chunks
  (~64 MB); each epoch visits the chunks in a shuffled order and each chunk's rows in a shuffled
  order, reading one chunk at a time with ``pread`` into a reused buffer. Reading through the file
  rather than touching the mapping keeps the pages out of the process's resident set.

Both shard an epoch across ranks the way ``DistributedSampler`` does (every rank draws the same
permutation from the shared seed, then takes every ``world``-th entry), and both are a pure function
of (seed, epoch), so a resumed run rebuilds exactly the order it was killed in.
"""

from __future__ import annotations

import math
import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DataError
from .distributed import SINGLE, World

CHUNK_BYTES = 64 << 20


@dataclass
class EpochPlan:
    """One epoch on this rank: ``sizes[i]`` rows in step ``i``; ``batches(start)`` yields from step ``start``."""

    sizes: list[int]
    batches: object  # Callable[[int], Iterator[torch.Tensor]]

    @property
    def steps(self) -> int:
        return len(self.sizes)


def shard(order: torch.Tensor, world: World) -> torch.Tensor:
    """This rank's share of ``order``: padded by wrapping to a multiple of ``world``, every world-th entry."""
    if not world.distributed:
        return order
    total = math.ceil(order.shape[0] / world.size) * world.size
    if total > order.shape[0]:
        order = torch.cat([order, order[: total - order.shape[0]]])
    return order[world.rank :: world.size]


def batch_sizes(n: int, batch_size: int) -> list[int]:
    return [min(batch_size, n - start) for start in range(0, n, batch_size)]


class TensorBatches:
    """In-memory rows ``(n, n_features)`` on the training device."""

    def __init__(self, X: torch.Tensor):
        self.X = X
        self.n = int(X.shape[0])

    def plan(self, generator: torch.Generator, batch_size: int, world: World = SINGLE) -> EpochPlan:
        order = shard(torch.randperm(self.n, generator=generator), world).to(self.X.device)
        X, B = self.X, batch_size

        def batches(start: int) -> Iterator[torch.Tensor]:
            for i in range(start * B, order.shape[0], B):
                yield X.index_select(0, order[i : i + B])

        return EpochPlan(batch_sizes(order.shape[0], B), batches)

    def chunks(self, rows: int) -> Iterator[torch.Tensor]:
        for start in range(0, self.n, rows):
            yield self.X[start : start + rows]

    def head(self, rows: int) -> torch.Tensor:
        return self.X[:rows]


class RowReader:
    """Reads row ranges of a C-ordered 2-D ``np.memmap`` by ``pread``, without touching its mapping."""

    def __init__(self, X: np.ndarray):
        if X.ndim != 2:
            raise DataError(f"expected a 2-D array (n_samples, n_features), got shape {X.shape}")
        self.X, self.n_rows, self.n_features = X, int(X.shape[0]), int(X.shape[1])
        self.row_bytes = X.dtype.itemsize * self.n_features
        self.fd, self.first_byte = self._file_position(X)
        self._buffer: np.ndarray | None = None

    def _file_position(self, X: np.ndarray) -> tuple[int | None, int]:
        contiguous_rows = X.strides == (self.row_bytes, X.dtype.itemsize) and X.dtype.isnative
        mapping = getattr(X, "_mmap", None)
        if not (contiguous_rows and mapping is not None and getattr(X, "filename", None)):
            return None, 0  # fall back to slicing the array itself
        base = np.frombuffer(mapping, dtype=np.uint8).ctypes.data
        mapped_from = X.offset - X.offset % mmap.ALLOCATIONGRANULARITY
        return os.open(X.filename, os.O_RDONLY), mapped_from + (X.ctypes.data - base)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``[start, stop)`` in the file's dtype ``(stop - start, n_features)``.

        The result is a view of a buffer reused by the next read: copy or convert it before then.
        """
        if self.fd is None:
            return np.array(self.X[start:stop])
        rows = stop - start
        if self._buffer is None or self._buffer.shape[0] < rows:
            self._buffer = np.empty((rows, self.n_features), dtype=self.X.dtype)
        out = self._buffer
        view = memoryview(out[:rows].reshape(-1).view(np.uint8))
        done, offset = 0, self.first_byte + start * self.row_bytes
        while done < view.nbytes:
            got = os.preadv(self.fd, [view[done:]], offset + done)
            if got <= 0:
                raise DataError(f"{self.X.filename}: file ended early at row {start + done // self.row_bytes}")
            done += got
        return out[:rows]

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __del__(self):
        self.close()


def chunk_ranges(ranges: list[tuple[int, int]], rows: int) -> list[tuple[int, int]]:
    return [(a, min(a + rows, b)) for start, b in ranges for a in range(start, b, rows)]


def default_chunk_rows(row_bytes: int, batch_size: int) -> int:
    rows = max(batch_size, CHUNK_BYTES // max(1, row_bytes))
    return rows - rows % batch_size


class MemmapBatches:
    """Rows ``ranges`` of a memory-mapped array, scaled by ``(x - offset) / scale`` as they are read."""

    def __init__(
        self,
        reader: RowReader,
        ranges: list[tuple[int, int]],
        offset: np.ndarray,
        scale: np.ndarray,
        device: torch.device | str,
        chunk_rows: int | None = None,
    ):
        self.reader, self.ranges, self.device = reader, ranges, torch.device(device)
        self.offset = torch.as_tensor(offset, dtype=torch.float32)
        self.scale = torch.as_tensor(scale, dtype=torch.float32)
        self.chunk_rows = chunk_rows or default_chunk_rows(reader.row_bytes, 1)
        self.n = sum(b - a for a, b in ranges)

    def load(self, start: int, stop: int) -> torch.Tensor:
        """Rows ``[start, stop)`` of the file, scaled, float32, on the device."""
        x = torch.from_numpy(self.reader.read(start, stop)).to(torch.float32, copy=True)  # frees the buffer
        x.sub_(self.offset).div_(self.scale)
        return x.to(self.device, non_blocking=True)

    def plan(self, generator: torch.Generator, batch_size: int, world: World = SINGLE) -> EpochPlan:
        chunks = chunk_ranges(self.ranges, max(batch_size, self.chunk_rows - self.chunk_rows % batch_size))
        visit = torch.randperm(len(chunks), generator=generator)
        perms = [torch.randperm(chunks[c][1] - chunks[c][0], generator=generator) for c in visit.tolist()]
        # Chunks are dealt to ranks without padding (a repeated chunk would be a lot of repeated rows).
        mine = list(range(world.rank, len(chunks), world.size))
        per_rank_steps = [
            sum(math.ceil(perms[p].shape[0] / batch_size) for p in range(r, len(chunks), world.size))
            for r in range(world.size)
        ]
        # Every rank must take the same number of steps (DDP all-reduces each one): the surplus is dropped.
        steps = min(per_rank_steps)
        sizes = [s for p in mine for s in batch_sizes(perms[p].shape[0], batch_size)][:steps]

        def batches(start: int) -> Iterator[torch.Tensor]:
            step = 0
            for p in mine:
                n_steps = math.ceil(perms[p].shape[0] / batch_size)
                if step + n_steps <= start:
                    step += n_steps
                    continue
                a, b = chunks[visit[p]]
                rows = self.load(a, b)
                perm = perms[p].to(self.device)
                for i in range(max(0, start - step), n_steps):
                    if step + i >= steps:
                        return
                    yield rows.index_select(0, perm[i * batch_size : (i + 1) * batch_size])
                del rows  # before the next chunk is read: one chunk in memory at a time
                step += n_steps

        return EpochPlan(sizes, batches)

    def chunks(self, rows: int) -> Iterator[torch.Tensor]:
        for a, b in chunk_ranges(self.ranges, max(rows, self.chunk_rows)):
            yield self.load(a, b)

    def head(self, rows: int) -> torch.Tensor:
        a, b = self.ranges[0]
        return self.load(a, min(b, a + rows))


@dataclass
class ColumnStats:
    """Per-feature statistics of rows, accumulated chunk by chunk in float64."""

    count: int
    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray


class ColumnAccumulator:
    """Per-feature count, sum, sum of squares, min and max of rows added chunk by chunk, in float64."""

    def __init__(self, n_features: int):
        d = n_features
        self.total, self.total_sq = np.zeros(d), np.zeros(d)
        self.low, self.high = np.full(d, np.inf), np.full(d, -np.inf)
        self.count = 0

    def add(self, chunk: np.ndarray, first_row: int) -> None:
        """Rows ``(m, n_features)`` numbered from ``first_row``; DataError naming the first non-finite value."""
        chunk = np.asarray(chunk, dtype=np.float64)
        sums = chunk.sum(0)
        if not np.isfinite(sums).all():  # NaN/inf make the sum non-finite: look closer only then
            bad = np.argwhere(~np.isfinite(chunk))
            row, col = int(bad[0, 0]) + first_row, int(bad[0, 1])
            raise DataError(f"array has NaN or infinite values; the first at row {row}, column {col}")
        self.total += sums
        self.total_sq += np.einsum("ij,ij->j", chunk, chunk)
        self.low, self.high = np.minimum(self.low, chunk.min(0)), np.maximum(self.high, chunk.max(0))
        self.count += chunk.shape[0]

    def result(self) -> ColumnStats:
        mean = self.total / max(self.count, 1)
        std = np.sqrt(np.maximum(self.total_sq / max(self.count, 1) - mean**2, 0.0))
        return ColumnStats(self.count, mean, std, self.low, self.high)


def column_stats(reader: RowReader, ranges: list[tuple[int, int]], chunk_rows: int) -> ColumnStats:
    """Streams ``ranges`` once; raises DataError naming the first non-finite value."""
    stats = ColumnAccumulator(reader.n_features)
    for a, b in chunk_ranges(ranges, chunk_rows):
        stats.add(reader.read(a, b), a)
    return stats.result()
