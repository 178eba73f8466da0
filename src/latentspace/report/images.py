"""Rows of X shown as pictures: a grid of images, written as PNG with matplotlib (no display)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from .._files import atomic_write_bytes
from ..errors import LatentspaceError

MIN_TILE_PIXELS = 64


def image_grid(X: np.ndarray, image_shape: tuple[int, ...], n_cols: int | None = None, pad: int = 1) -> np.ndarray:
    """Tile rows of ``X`` ``(n, prod(image_shape))`` into one ``(H', W')`` (or ``(H', W', C)``) array.

    ``image_shape`` is ``(H, W)`` or ``(C, H, W)``; gaps of ``pad`` pixels are left at 0.
    """
    shape = tuple(int(s) for s in image_shape)
    if len(shape) not in (2, 3) or int(np.prod(shape)) != X.shape[1]:
        raise LatentspaceError(f"image shape {shape} does not match rows of {X.shape[1]} features")
    images = X.reshape((X.shape[0], *shape))
    if len(shape) == 3:  # (C, H, W) -> (H, W, C)
        images = np.moveaxis(images, 1, -1)
    n = images.shape[0]
    cols = n_cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    h, w = images.shape[1:3]
    grid = np.zeros((rows * (h + pad) + pad, cols * (w + pad) + pad, *images.shape[3:]), dtype=np.float64)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = image
    return grid


def save_image_grid(path: str | Path, X: np.ndarray, image_shape: tuple[int, ...], n_cols: int | None = None) -> None:
    """Write ``image_grid(X, image_shape)`` to a PNG, intensities clipped to [0, 1], grey for 1 channel."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import image as mpimg

    grid = np.clip(image_grid(np.asarray(X, np.float64), image_shape, n_cols), 0.0, 1.0)
    # Small images are enlarged by whole pixels to at least MIN_TILE_PIXELS a side, so that a grid of
    # 8x8 digits is legible (64 of them: 584 pixels wide rather than 219).
    zoom = max(1, math.ceil(MIN_TILE_PIXELS / max(1, min(image_shape[-2:]))))
    grid = grid.repeat(zoom, axis=0).repeat(zoom, axis=1)
    if grid.ndim == 3 and grid.shape[-1] == 1:
        grid = grid[..., 0]
    buffer = io.BytesIO()
    mpimg.imsave(buffer, grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0, format="png")
    atomic_write_bytes(Path(path), buffer.getvalue())
