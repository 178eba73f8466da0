"""Where a fit's rows come from when they are not one in-memory array: a memory-mapped file (read in
row ranges), a torch Dataset/DataLoader or an iterable of batches (one pass for statistics first),
and ``validation_data`` of any of these kinds. A mixin of :class:`~._base.BaseAutoEncoder`, which
supplies the scaling (``_set_scaling``, ``offset_``, ``scale_``), ``device_`` and the in-memory checks.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..training import distributed
from ..training.batches import MemmapBatches, RowReader, column_stats, default_chunk_rows
from ..training.streams import StreamBatches, is_stream, scan, stream_source


class DataSources:
    """Batch sources over data that does not sit in memory as one array (see the module's docstring)."""

    def _streamed(self, X: np.memmap, seed: int, warm: bool = False, split: bool = True):
        """Batch sources over a memory-mapped array; scaling statistics computed chunk by chunk
        (kept from the earlier fit on a warm start); without ``split`` every row trains."""
        reader = RowReader(X)
        if reader.n_rows < 1 or reader.n_features < 1:
            raise DataError(f"memory-mapped array has shape {X.shape}; need at least one row and column")
        if not np.issubdtype(X.dtype, np.number):
            raise DataError(f"memory-mapped array has dtype {X.dtype}; need numbers")
        self._adopt_width(reader.n_features, warm)
        train_ranges, val_ranges = self._split_ranges(reader.n_rows, seed) if split else ([(0, reader.n_rows)], [])
        chunk = default_chunk_rows(reader.row_bytes, 1) // 4  # float64 copies: keep them small
        stats = column_stats(reader, train_ranges, chunk)
        if val_ranges:
            column_stats(reader, val_ranges, chunk)  # finiteness of the held-out rows
        low, high = self._adopt_stats(stats, warm)
        train_data = MemmapBatches(reader, train_ranges, self.offset_, self.scale_, self.device_)
        val_data = MemmapBatches(reader, val_ranges, self.offset_, self.scale_, self.device_) if val_ranges else None
        return train_data, val_data, reader.n_features, low, high

    def _from_stream(self, X, seed: int, warm: bool, world, split: bool):
        """Batch sources over a Dataset, DataLoader or iterable of batches, after one pass for the
        scaling's statistics (kept from the earlier fit on a warm start) and the data's checks."""
        fraction = float(self.validation_fraction) if split else 0.0
        source, val_source = stream_source(X, fraction, seed, int(self.batch_size))
        found = scan(source, world)
        n_features = int(found.stats.mean.shape[0])
        self._adopt_width(n_features, warm)
        low, high = self._adopt_stats(found.stats, warm)
        train_data = StreamBatches(source, self.offset_, self.scale_, self.device_)
        val_data = None
        if val_source is not None:
            scan(val_source, world)  # finiteness of the held-out items
            val_data = StreamBatches(val_source, self.offset_, self.scale_, self.device_)
        return train_data, val_data, n_features, low, high, found.example

    def _validation_source(self, V):
        """``validation_data`` (any kind ``fit`` takes) as a batch source in the model's scale."""
        if is_stream(V):
            source, _ = stream_source(V, batch_size=int(self.batch_size))
            found = scan(source, distributed.setup(self.device_))
            if found.stats.mean.shape[0] != self.n_features_in_:
                raise DataError(f"validation_data has {found.stats.mean.shape[0]} features, but X has "
                                f"{self.n_features_in_}")
            self._check_example_shape(found.example)
            return StreamBatches(source, self.offset_, self.scale_, self.device_)
        V = self._checked_data(self._fitted_rows(V), reset=False)
        return self._to_tensor(self._scale(V))

    def _split_ranges(self, n: int, seed: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The streamed split: validation is one seeded contiguous range of rows, training the rest."""
        n_val = self._n_validation(n)
        if n_val == 0:
            return [(0, n)], []
        start = int(np.random.default_rng(seed).integers(0, n - n_val + 1))
        train = [(a, b) for a, b in ((0, start), (start + n_val, n)) if b > a]
        return train, [(start, start + n_val)]

    def _adopt_width(self, n_features: int, warm: bool) -> None:
        """The streamed data's feature count becomes ``n_features_in_`` (a warm start must match it);
        streams carry no column names, so a fresh fit forgets earlier ones."""
        if warm and n_features != self.n_features_in_:
            raise DataError(f"X has {n_features} features, but the fitted model has {self.n_features_in_}")
        self.n_features_in_ = n_features
        if hasattr(self, "feature_names_in_") and not warm:
            del self.feature_names_in_

    def _adopt_stats(self, stats, warm: bool) -> tuple[float, float]:
        """Scaling from the one-pass column statistics (kept from the earlier fit on a warm start);
        returns the data's range as the model sees it, (low, high)."""
        if not warm:
            self._set_scaling(stats.mean, stats.std, stats.min, stats.max)
        low = float(np.min((stats.min - self.offset_) / self.scale_))
        high = float(np.max((stats.max - self.offset_) / self.scale_))
        return low, high
