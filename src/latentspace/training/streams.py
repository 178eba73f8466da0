"""Batch sources over data that arrive in batches: a torch ``Dataset``, a ``DataLoader``, or any
re-iterable of batches (arrays or tensors, optionally with labels) — data that need not fit in memory.

:func:`stream_source` wraps what the user gave; :func:`scan` makes one pass over it (the scaling's
column statistics, the finiteness check, the row count, one example's shape); :class:`StreamBatches`
is the training loop's batch source over it, with the same interface as the in-memory and memmap
ones. Memory stays bounded by a few batches: nothing is kept between batches.

- A map-style ``Dataset`` (with ``__len__``): this module draws the order (the epoch's seeded
  permutation, sharded across ranks the way ``DistributedSampler`` does) and fetches each batch through
  a ``DataLoader`` over those indices, so a Dataset with ``__getitems__`` reads a whole batch at once.
  ``validation_fraction`` holds out a seeded share of its indices.
- A ``DataLoader`` or another iterable: its own batches in its own order (shuffling is the loader's;
  a ``DistributedSampler``'s ``set_epoch`` is called every epoch). Under torchrun each process's
  loader gives its own shard; every rank takes the smallest rank's number of steps (DDP steps
  together). Every pass must give the same number of batches. Validation comes from
  ``validation_data``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset
from torch.utils.data import default_collate as collate

from ..errors import DataError
from . import distributed
from .batches import ColumnAccumulator, ColumnStats, EpochPlan, shard
from .distributed import SINGLE, World

#: items per batch of a sequential pass over a map-style Dataset (scan, validation, inference): small,
#: since an item may be a large decoded image
PASS_ROWS = 256


def is_stream(X) -> bool:
    """Whether ``X`` arrives in batches: a torch Dataset or DataLoader, a list/tuple of batches, or any
    other iterable that is not an array (arrays, DataFrames and sparse matrices have a ``shape``)."""
    if isinstance(X, (Dataset, DataLoader)):
        return True
    if X is None or isinstance(X, (str, bytes, Mapping)) or hasattr(X, "shape") or hasattr(X, "__array__"):
        return False
    if isinstance(X, (list, tuple)):
        return len(X) > 0 and is_batch(X[0])
    return hasattr(X, "__iter__")


def is_batch(item) -> bool:
    """An array or tensor of at least 2 dimensions, or a (features, labels, ...) tuple starting with one."""
    if isinstance(item, (tuple, list)) and item:
        item = item[0]
    return hasattr(item, "shape") and len(item.shape) >= 2


def batch_rows(batch) -> tuple[torch.Tensor, tuple[int, ...] | None]:
    """A batch as float32 rows ``(n, n_features)`` and the shape of one example when it came as images
    (``(n, C, H, W)`` / ``(n, H, W)``), else None. Labels after the features are dropped."""
    if isinstance(batch, (tuple, list)) and batch and not np.isscalar(batch[0]):
        batch = batch[0]
    if isinstance(batch, Mapping):
        raise DataError("a batch is a dict; give batches as arrays/tensors, or (features, labels) tuples")
    try:
        x = torch.as_tensor(np.asarray(batch) if not isinstance(batch, torch.Tensor) else batch)
    except (TypeError, ValueError, RuntimeError) as e:
        raise DataError(f"a batch of type {type(batch).__name__} is not an array of numbers ({e})") from None
    if x.ndim < 2 or x.ndim > 4:
        raise DataError(f"a batch must be rows (n, n_features) or images (n, C, H, W) / (n, H, W), got shape "
                        f"{tuple(x.shape)}" + (" (a Dataset's items are single examples: pass the Dataset itself)"
                                               if x.ndim == 1 else ""))
    if not (x.is_floating_point() or x.dtype in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
                                                 torch.bool)):
        raise DataError(f"a batch has dtype {x.dtype}; need numbers")
    example = tuple(int(s) for s in x.shape[1:]) if x.ndim > 2 else None
    return x.detach().reshape(x.shape[0], -1).to(torch.float32), example


def collate_batch(items):
    """torch's ``default_collate``, except that a whole batch (a tensor or array that a Dataset's
    ``__getitems__`` read in one go) passes as it is."""
    return items if isinstance(items, (torch.Tensor, np.ndarray)) else collate(items)


class DatasetSource:
    """A map-style Dataset, or the part ``indices`` of one; batches fetched through a DataLoader."""

    def __init__(self, dataset: Dataset, indices: np.ndarray | None = None):
        self.dataset = dataset
        self.indices = np.arange(len(dataset)) if indices is None else indices
        self.n = len(self.indices)

    def _loader(self, batches: Iterable[list[int]]) -> Iterator[torch.Tensor]:
        for batch in DataLoader(self.dataset, batch_sampler=batches, collate_fn=collate_batch, num_workers=0):
            yield batch

    def sequential(self, rows: int = PASS_ROWS) -> Iterator:
        """Every item once, in order (the scan, validation, inference)."""
        return self._loader(IndexBatches(self.indices, rows))

    def epoch(self, generator: torch.Generator, batch_size: int, world: World) -> tuple[list[int], object]:
        order = self.indices[shard(torch.randperm(self.n, generator=generator), world).numpy()]
        sizes = [min(batch_size, len(order) - a) for a in range(0, len(order), batch_size)]
        return sizes, lambda start: self._loader(IndexBatches(order, batch_size, start))


class IndexBatches:
    """The index lists of batches of ``order``, from batch ``start`` on, made as they are asked for (a
    list of them all would hold a Python int per row: 70 MB for 2 million rows)."""

    def __init__(self, order: np.ndarray, batch_size: int, start: int = 0):
        self.order, self.batch_size, self.start = order, batch_size, start

    def __len__(self) -> int:
        return max(0, -(-len(self.order) // self.batch_size) - self.start)

    def __iter__(self) -> Iterator[list[int]]:
        for a in range(self.start * self.batch_size, len(self.order), self.batch_size):
            yield self.order[a : a + self.batch_size].tolist()


class IterableSource:
    """A DataLoader or any re-iterable of batches: its own batches, in its own order."""

    def __init__(self, batches: Iterable):
        if isinstance(batches, Iterator):  # (asking iter() would start a pass of a re-iterable one)
            raise DataError(
                "the data source is an iterator, which gives one pass only; training needs a new pass every "
                "epoch: pass a list of batches, a DataLoader, a Dataset, or an object whose __iter__ starts a "
                "new pass")
        self.batches = batches
        self.n: int | None = None
        self.sizes: list[int] | None = None  # this rank's batch sizes, from the scan
        self.steps: int | None = None  # the same on every rank: the smallest rank's count

    def sequential(self, rows: int = PASS_ROWS) -> Iterator:
        return iter(self.batches)

    def epoch(self, generator: torch.Generator, batch_size: int, world: World) -> tuple[list[int], object]:
        sampler = getattr(self.batches, "sampler", None)
        if callable(getattr(sampler, "set_epoch", None)):  # a DistributedSampler: a new order each epoch
            sampler.set_epoch(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        steps, sizes = self.steps, self.sizes

        def batches(start: int) -> Iterator:
            given = start
            for batch in itertools.islice(iter(self.batches), start, steps):
                given += 1
                yield batch
            if given < steps:  # reached only when the source ran out early
                raise DataError(f"the data source gave {given} batches this pass but {len(sizes)} in the first; "
                                "every pass must give the same batches")

        return sizes[:steps], batches


def stream_source(X, validation_fraction: float = 0.0, seed: int = 0, batch_size: int = PASS_ROWS
                  ) -> tuple[object, object | None]:
    """``(train, validation)`` sources over ``X``; a map-style Dataset gives a seeded share of its items
    to validation, other sources none (pass ``validation_data`` to ``fit`` for theirs). An
    ``IterableDataset`` (which yields examples) is batched by a DataLoader of ``batch_size``."""
    if isinstance(X, IterableDataset):
        return IterableSource(DataLoader(X, batch_size=batch_size, num_workers=0)), None
    if isinstance(X, Dataset) and hasattr(X, "__len__"):
        n = len(X)
        if n < 1:
            raise DataError("the Dataset is empty; need at least one example")
        n_val = int(round(validation_fraction * n))
        if n_val == 0 or n_val >= n:
            return DatasetSource(X), None
        order = np.random.default_rng(seed).permutation(n)
        return DatasetSource(X, np.sort(order[n_val:])), DatasetSource(X, np.sort(order[:n_val]))
    if isinstance(X, Dataset):
        raise DataError(f"a {type(X).__name__} has no __len__: give it one, or wrap it in a DataLoader")
    return IterableSource(X), None


@dataclass
class Scan:
    """What one pass over a source found: column statistics, one example's shape (None for rows)."""

    stats: ColumnStats
    example: tuple[int, ...] | None


def scan(source, world: World = SINGLE) -> Scan:
    """One pass over ``source``: statistics for the scaling, finiteness, the row count, the batch sizes
    (an iterable source's, agreed across ranks), and one example's shape (the same in every batch)."""
    stats, example, sizes = None, None, []
    for batch in source.sequential():
        rows, shape = batch_rows(batch)
        if stats is None:
            stats, example = ColumnAccumulator(rows.shape[1]), shape
        elif shape != example or rows.shape[1] != len(stats.total):
            raise DataError(f"batches differ in shape: one example is {shape or rows.shape[1]} in batch "
                            f"{len(sizes) + 1}, {example or len(stats.total)} in the first")
        stats.add(rows.numpy(), stats.count)
        sizes.append(rows.shape[0])
    if stats is None or stats.count == 0:
        raise DataError("the data source gave no rows; need at least one example")
    if isinstance(source, IterableSource):  # under torchrun each rank scanned its own shard: pool them
        merge_across(stats, world)
        source.n, source.sizes = stats.count, sizes
        source.steps = int(distributed.reduce_across(torch.tensor([len(sizes)]), world, "min").item())
        if source.steps == 0:
            raise DataError("a process's data source gave no batches; every process needs its shard")
    return Scan(stats.result(), example)


def merge_across(stats: ColumnAccumulator, world: World) -> None:
    """Pool every rank's column statistics, so that all ranks scale their shards alike."""
    if not world.distributed:
        return
    sums = distributed.reduce_across(torch.from_numpy(np.concatenate([stats.total, stats.total_sq, [stats.count]])),
                                     world, "sum").numpy()
    d = len(stats.total)
    stats.total, stats.total_sq, stats.count = sums[:d], sums[d : 2 * d], int(sums[-1])
    stats.low = distributed.reduce_across(torch.from_numpy(stats.low), world, "min").numpy()
    stats.high = distributed.reduce_across(torch.from_numpy(stats.high), world, "max").numpy()


class StreamBatches:
    """A stream source as the training loop's batch source, each batch scaled by ``(x - offset) / scale``
    and moved to ``device`` as it is drawn."""

    def __init__(self, source, offset: np.ndarray, scale: np.ndarray, device: torch.device | str):
        self.source, self.device = source, torch.device(device)
        self.offset = torch.as_tensor(offset, dtype=torch.float32)
        self.scale = torch.as_tensor(scale, dtype=torch.float32)
        self.n = int(source.n)

    @property
    def steps_per_epoch(self) -> int | None:
        """An iterable source's own step count (its batch size is its own); None: the loop's rule."""
        return getattr(self.source, "steps", None)

    def _scaled(self, batch) -> torch.Tensor:
        rows, _ = batch_rows(batch)
        return rows.sub_(self.offset).div_(self.scale).to(self.device, non_blocking=True)

    def plan(self, generator: torch.Generator, batch_size: int, world: World = SINGLE) -> EpochPlan:
        sizes, batches = self.source.epoch(generator, batch_size, world)

        def scaled(start: int) -> Iterator[torch.Tensor]:
            return (self._scaled(b) for b in batches(start))

        return EpochPlan(sizes, scaled)

    def chunks(self, rows: int) -> Iterator[torch.Tensor]:
        return (self._scaled(b) for b in self.source.sequential(min(rows, PASS_ROWS)))

    def head(self, rows: int) -> torch.Tensor:
        taken, n = [], 0
        for x in self.chunks(rows):
            taken.append(x[: rows - n])
            n += taken[-1].shape[0]
            if n >= rows:
                break
        return torch.cat(taken)


def per_batch_rows(X) -> Iterator[np.ndarray]:
    """The batches of a stream (any kind), each as an array in its own layout (images stay images),
    labels dropped: for inference, one batch at a time."""
    source, _ = stream_source(X) if not isinstance(X, Iterator) else (None, None)
    batches = source.sequential() if source is not None else X
    for batch in batches:
        if isinstance(batch, (tuple, list)) and batch and not np.isscalar(batch[0]):
            batch = batch[0]
        yield batch.numpy() if isinstance(batch, torch.Tensor) else np.asarray(batch)

