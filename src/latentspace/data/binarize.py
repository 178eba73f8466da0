"""Binarisation protocols used to compare Bernoulli VAEs with the literature.

* dynamic: every time a training example is used, each pixel is redrawn as Bernoulli(intensity)
  (``dynamic_binarizer``, a ``TrainConfig.batch_transform``);
* static: a test set binarised once with a fixed seed (``binarize``), so that every model is
  scored on exactly the same binary images.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError

if TYPE_CHECKING:  # torch is imported where a transform is made: reading data needs no torch
    import torch

BINARIZE_MODES = ("dynamic",)


def check_unit_interval(X: np.ndarray, what: str = "data") -> None:
    """Binarisation reads pixels as probabilities: they must lie in [0, 1]."""
    lo, hi = float(np.min(X)), float(np.max(X))
    if lo < 0.0 or hi > 1.0:
        raise DataError(f"binarisation needs {what} in [0, 1] (pixel probabilities), got [{lo:.4g}, {hi:.4g}]")


def binarize(X, seed: int = 0) -> np.ndarray:
    """A fixed binarisation: each entry is 1 with probability ``X`` ``(n, n_features)``; float32 0/1.

    The same ``seed`` gives the same binary array on every machine (numpy's PCG64).
    """
    X = np.asarray(X, dtype=np.float32)
    if X.size == 0:
        raise DataError("binarize: empty array")
    check_unit_interval(X)
    u = np.random.default_rng(seed).random(X.shape, dtype=np.float32)
    return (u < X).astype(np.float32)


def dynamic_binarizer() -> Callable[[torch.Tensor, torch.Generator], torch.Tensor]:
    """A batch transform that resamples each pixel as Bernoulli(intensity) from the loop's generator."""
    import torch

    def transform(xb: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        # Draw on the generator's device (the loop keeps a CPU generator even for GPU data).
        u = torch.rand(xb.shape, generator=generator, device=generator.device, dtype=xb.dtype)
        return (u.to(xb.device) < xb).to(xb.dtype)

    return transform
