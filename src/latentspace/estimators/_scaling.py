"""The scaling an estimator keeps with its model: offsets and scales fitted to the training data (the
``scaling`` parameter), applied on the way in and undone on the way out, and the range check of the
likelihoods that need data in [0, 1]. A mixin of :class:`~._base.BaseAutoEncoder`, which supplies
``scaling``; ``_sources.DataSources`` fits it from a stream's statistics through ``_set_scaling``.
"""

from __future__ import annotations

import numpy as np

from ..errors import Advice, LatentspaceError, Setting
from ..nn.models import LatentModel


class Scaling:
    """``offset_``/``scale_`` fitted, applied and undone; the [0, 1] check (see the module's docstring)."""

    def _fit_scaling(self, X: np.ndarray) -> None:
        needs = self.scaling != "none"
        self._set_scaling(
            X.mean(axis=0) if needs else None, X.std(axis=0) if needs else None,
            X.min(axis=0) if needs else None, X.max(axis=0) if needs else None, n=X.shape[1],
        )

    def _set_scaling(self, mean, std, low, high, n: int | None = None) -> None:
        n = len(mean) if n is None else n
        offset, scale = np.zeros(n), np.ones(n)
        if self.scaling in ("center", "standard"):
            offset = mean
        if self.scaling == "standard":
            scale = std
        if self.scaling == "minmax":
            offset, scale = low, high - low
        scale = np.where(scale > 1e-12, scale, 1.0)  # constant features stay as they are
        self.offset_, self.scale_ = offset.astype(np.float32), scale.astype(np.float32)

    def _scale(self, X: np.ndarray) -> np.ndarray:
        """``X`` as float32 in the model's scale; float32 data with scaling="none" pass without a copy."""
        X = np.asarray(X, dtype=np.float32)
        return X if self.scaling == "none" else (X - self.offset_) / self.scale_

    def _unscale(self, X: np.ndarray) -> np.ndarray:
        return X * self.scale_ + self.offset_

    def _needs_range(self, model: LatentModel) -> bool:
        """Whether ``_check_range`` has anything to check (else the data are not scanned for it)."""
        return bool(getattr(model.likelihood, "needs_unit_interval", False))

    def _check_range(self, low: float, high: float, model: LatentModel) -> None:
        """``low``/``high``: the smallest and largest value of the scaled training data."""
        if getattr(model.likelihood, "needs_unit_interval", False) and (low < -1e-6 or high > 1 + 1e-6):
            raise LatentspaceError(Advice(
                f"this likelihood needs data in [0, 1] but the (scaled) data span [{low:.4g}, {high:.4g}]; use ",
                Setting("scaling", "minmax"), " or a gaussian/mse likelihood"))
