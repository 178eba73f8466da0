"""Writers the data tests use to make their own files (good and bad) in a temp folder."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
             np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(a: np.ndarray) -> bytes:
    a = np.asarray(a)
    dtype = a.dtype if a.dtype.itemsize == 1 else a.dtype.newbyteorder(">")
    header = bytes([0, 0, IDX_CODES[np.dtype(dtype)], a.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in a.shape
    )
    return header + a.astype(dtype).tobytes()


def write_idx(path: Path, a: np.ndarray, compress: bool = False) -> Path:
    data = idx_bytes(a)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_idx_folder(folder: Path, n_train: int = 12, n_test: int = 5, compress: bool = True, seed: int = 0) -> Path:
    """A tiny MNIST-layout folder: 6x5 uint8 images and labels 0..9."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if compress else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, 6, 5), dtype=np.uint8), compress)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, n, dtype=np.uint8), compress)
    return folder


def write_png(path: Path, a: np.ndarray) -> Path:
    """``a`` (H, W) or (H, W, 3) uint8."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a).save(path)
    return path
