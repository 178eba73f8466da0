"""Turning rows of X into pictures: reshaping, tiling many small images into one mosaic, labelling,
and writing a grid of them as a PNG file.

Tiling into one array and drawing it with a single ``imshow`` is much faster than one axes per image
and keeps every tile on the same grey scale.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Colormap

from .._files import atomic_write_bytes
from ..errors import LatentspaceError

PAD = 1  # pixels of separator between tiles
STRIP_HEIGHT = 4  # pixels per row of non-image data, so that a 1-pixel separator stays thin
SEPARATOR = "#9aa5b1"  # tiles are grey; a light blue-grey gap reads as a frame, not as ink
MIN_TILE_PIXELS = 32  # tiles in figures are drawn at least this many pixels a side (see show_tiles)
MIN_GRID_TILE_PIXELS = 64  # tiles of a saved PNG grid: 64 digits make a 584-pixel grid, not 219


def as_images(X: np.ndarray, image_shape: Sequence[int] | None) -> np.ndarray:
    """Rows ``(n, n_features)`` -> images ``(n, H, W)`` or ``(n, H, W, 3)``.

    Without an image shape a row is shown as a strip ``(n, STRIP_HEIGHT, n_features)``; a
    ``(C, H, W)`` shape with one channel is squeezed, with three it is moved last for display.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise LatentspaceError(f"expected rows of shape (n, n_features), got {X.shape}")
    if image_shape is None:
        return np.repeat(X[:, None, :], STRIP_HEIGHT, axis=1)
    shape = tuple(int(s) for s in image_shape)
    if int(np.prod(shape)) != X.shape[1]:
        raise LatentspaceError(f"image shape {shape} does not hold {X.shape[1]} features")
    images = X.reshape(X.shape[0], *shape)
    if len(shape) == 3 and shape[0] == 1:
        return images[:, 0]
    if len(shape) == 3 and shape[0] == 3:
        return np.moveaxis(images, 1, -1)
    if len(shape) != 2:
        raise LatentspaceError(f"cannot display images of shape {shape}; expected (H, W), (1, H, W) or (3, H, W)")
    return images


def mosaic(grid: np.ndarray, pad: int = PAD) -> np.ndarray:
    """Tiles ``(rows, cols, H, W[, 3])`` -> one image with NaN separators, ``(rows*(H+pad)-pad, ...)``."""
    rows, cols, h, w = grid.shape[:4]
    extra = grid.shape[4:]
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad, *extra), np.nan)
    for r in range(rows):
        for c in range(cols):
            out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = grid[r, c]
    return out


def display_range(*arrays: np.ndarray) -> tuple[float, float]:
    """[0, 1] for data in the unit interval (images); else the 1st..99th percentile of the data."""
    values = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])
    lo, hi = float(values.min()), float(values.max())
    if lo >= -1e-3 and hi <= 1 + 1e-3:
        return 0.0, 1.0
    lo, hi = np.percentile(values, [1, 99])
    return float(lo), float(hi if hi > lo else lo + 1.0)


def grey_map() -> Colormap:
    return colormaps["gray"].with_extremes(bad=SEPARATOR)


def show_tiles(
    ax: Axes,
    grid: np.ndarray,
    vrange: tuple[float, float],
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
) -> None:
    """Draw tiles ``(rows, cols, H, W[, 3])`` on ``ax``, with optional labels at each row and column."""
    rows, cols, h, w = grid.shape[:4]
    # Small tiles (8x8 digits) are enlarged by whole pixels first, so the one-pixel separator is a thin
    # line between them instead of a ninth of every tile.
    zoom = max(1, -(-MIN_TILE_PIXELS // max(1, min(h, w))))
    if zoom > 1:
        grid = grid.repeat(zoom, axis=2).repeat(zoom, axis=3)
        h, w = h * zoom, w * zoom
    image = mosaic(grid)
    if image.ndim == 3:  # colour: scale into [0, 1] and paint separators by hand
        lo, hi = vrange
        image = np.clip((image - lo) / (hi - lo), 0, 1)
        image = np.where(np.isnan(image), 0.35, image)
        ax.imshow(image, interpolation="nearest")
    else:
        # Long strips of non-image data may stretch; images keep square pixels.
        aspect = "equal" if w <= 4 * h else "auto"
        ax.imshow(image, cmap=grey_map(), vmin=vrange[0], vmax=vrange[1], interpolation="nearest", aspect=aspect)
    ax.set_xticks([c * (w + PAD) + (w - 1) / 2 for c in range(cols)] if col_labels else [])
    ax.set_yticks([r * (h + PAD) + (h - 1) / 2 for r in range(rows)] if row_labels else [])
    if col_labels:
        ax.set_xticklabels(col_labels, fontsize=8)
    if row_labels:
        ax.set_yticklabels(row_labels, fontsize=9)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


def grid_of(images: np.ndarray, n_cols: int) -> np.ndarray:
    """Images ``(n, H, W[, 3])`` -> ``(rows, n_cols, H, W[, 3])``, padding the last row with NaN."""
    n = images.shape[0]
    rows = max(1, -(-n // n_cols))
    padded = np.full((rows * n_cols, *images.shape[1:]), np.nan)
    padded[:n] = images
    return padded.reshape(rows, n_cols, *images.shape[1:])


def save_image_grid(path: str | Path, X: np.ndarray, image_shape: Sequence[int], n_cols: int | None = None) -> None:
    """Write rows of ``X`` ``(n, prod(image_shape))`` as one PNG grid of images, ``n_cols`` wide (default:
    square), with 1-pixel black gaps and border; intensities clipped to [0, 1], grey for one channel."""
    from matplotlib import image as mpimg

    images = as_images(X, image_shape)
    tiles = mosaic(grid_of(images, n_cols or math.ceil(math.sqrt(len(images)))))
    border = ((PAD, PAD), (PAD, PAD)) + ((0, 0),) * (tiles.ndim - 2)
    grid = np.clip(np.nan_to_num(np.pad(tiles, border, constant_values=np.nan), nan=0.0), 0.0, 1.0)
    # Small images are enlarged by whole pixels to at least MIN_GRID_TILE_PIXELS a side, so the grid is legible.
    zoom = max(1, math.ceil(MIN_GRID_TILE_PIXELS / max(1, min(images.shape[1:3]))))
    grid = grid.repeat(zoom, axis=0).repeat(zoom, axis=1)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    mpimg.imsave(buffer, grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0, format="png")
    atomic_write_bytes(path, buffer.getvalue())
