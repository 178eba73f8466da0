"""A folder of PNG/JPEG images as one array, with labels from sub-folder names when there are any."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np

from .._files import check_allocation, check_regular_file, memory_budget
from ..errors import DataError, first_line

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
COLOR_MODES = ("auto", "grey", "rgb")


def read_image_folder(
    folder: str | Path, *, size: tuple[int, int] | None = None, color: str = "auto"
) -> tuple[np.ndarray, np.ndarray | None, list[str], tuple[int, ...]]:
    """``(X, y, class_names, image_shape)`` from a folder of images.

    X is float32 ``(n_images, C*H*W)`` in [0, 1], rows in channels-first order; ``image_shape`` is
    ``(H, W)`` for grey images or ``(3, H, W)`` for colour. Images are taken from the folder itself,
    or from its sub-folders (one per class: ``folder/cat/1.png``) in which case ``y`` holds class
    indices into the sorted ``class_names``; not both. ``color``: ``"grey"``, ``"rgb"``, or ``"auto"``
    (grey when every image is grey). ``size=(H, W)`` resizes every image; without it all images must
    share one size. Alpha channels are dropped.
    """
    folder = Path(folder)
    if color not in COLOR_MODES:
        raise DataError(f"unknown color mode {color!r}; choose one of {', '.join(COLOR_MODES)}")
    files, labels, class_names = _list_images(folder)
    headers = [_read_header(path) for path in files]  # (mode, (W, H)): nothing decoded yet
    grey = color == "grey" or (color == "auto" and all(_is_grey(mode) for mode, _ in headers))
    _check_pixel_budget(headers, files, grey, size, folder)
    X = None
    for i, path in enumerate(files):
        with _open_image(path) as image:
            array = _to_array(image, grey, size, path)
        if X is None:
            image_shape = array.shape
            X = np.empty((len(files), array.size), dtype=np.float32)
        elif array.shape != image_shape:
            _shapes_differ(folder, files[0], image_shape, path, array.shape)
        X[i] = array.reshape(-1)
    return X, labels, class_names, tuple(int(s) for s in image_shape)


#: Most pixels one image may have before it is decoded (PIL's own warning starts at 89M, its refusal
#: at 179M; a 12000x12000 PNG can be 140 KB on disk and 576 MB decoded).
MAX_IMAGE_PIXELS = 64_000_000


def _read_header(path: Path) -> tuple[str, tuple[int, int]]:
    """``(mode, (width, height))`` from an image file's header, without decoding its pixels."""
    from PIL import Image, UnidentifiedImageError

    check_regular_file(path, DataError, "image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file_bytes(path)) as image:
                return image.mode, image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise DataError(f"{path}: not a readable image ({first_line(e)})") from None


def _check_pixel_budget(headers, files: list[Path], grey: bool, size, folder: Path) -> None:
    """Per image, the decoded pixels are capped; in total, the float32 array is within the memory budget."""
    channels = 1 if grey else 3
    budget = memory_budget()
    for (_, (width, height)), path in zip(headers, files):
        if width * height > MAX_IMAGE_PIXELS:
            raise DataError(
                f"{path}: {width}x{height} pixels is more than the {MAX_IMAGE_PIXELS:,} an image may have"
            )
        check_allocation(width * height * 4 * 4, f"{path}: decoding this {width}x{height} image", DataError, budget)
    pixels = sum(w * h for _, (w, h) in headers) if size is None else len(files) * int(size[0]) * int(size[1])
    check_allocation(pixels * channels * 4, f"{folder}: {len(files)} images as float32", DataError, budget)


def file_bytes(path: Path) -> io.BytesIO:
    """The image file's bytes, for PIL to parse from memory: a damaged chunk length in a file makes PIL
    call ``read(length)``, which on a file object allocates ``length`` bytes up front (50 MB for an 8x6
    PNG in the fuzz tests, up to 2 GB), but on bytes in memory returns only what there is."""
    check_allocation(check_regular_file(path, DataError, "image").st_size, f"{path}: reading the image file", DataError)
    try:
        return io.BytesIO(path.read_bytes())
    except OSError as e:
        raise DataError(f"{path}: not a readable image ({first_line(e)})") from None


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def _list_images(folder: Path) -> tuple[list[Path], np.ndarray | None, list[str]]:
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found")
    top = sorted(p for p in folder.iterdir() if _is_image(p))
    sub = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    per_class = {d.name: sorted(p for p in d.iterdir() if _is_image(p)) for d in sub}
    per_class = {name: paths for name, paths in per_class.items() if paths}
    if top and per_class:
        raise DataError(
            f"{folder}: images both in the folder and in sub-folders ({', '.join(per_class)}); "
            "put all of them in class sub-folders, or none"
        )
    if top:
        return top, None, []
    if not per_class:
        raise DataError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) in the folder or its sub-folders")
    names = sorted(per_class)
    files = [p for name in names for p in per_class[name]]
    labels = np.array([i for i, name in enumerate(names) for _ in per_class[name]], dtype=np.int64)
    return files, labels, names


def _open_image(path: Path):
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # its size was checked
            image = Image.open(file_bytes(path))
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise DataError(f"{path}: not a readable image ({first_line(e)})") from None
    return image


def _is_wide_grey(mode: str) -> bool:
    return mode in ("I", "F") or mode.startswith("I;16")


def _is_grey(mode: str) -> bool:
    return mode in ("1", "L", "LA") or _is_wide_grey(mode)


def _to_array(image, grey: bool, size: tuple[int, int] | None, path: Path) -> np.ndarray:
    """``(H, W)`` or ``(3, H, W)`` float32 in [0, 1]."""
    from PIL import Image

    if _is_wide_grey(image.mode):  # 16-bit / float greys: scale to 8 bits by their own range
        a = np.asarray(image, dtype=np.float64)
        span = a.max() - a.min()
        image = Image.fromarray(((a - a.min()) / (span if span > 0 else 1.0) * 255).astype(np.uint8))
    image = image.convert("L" if grey else "RGB")
    if size is not None:
        image = image.resize((int(size[1]), int(size[0])), Image.Resampling.BILINEAR)
    a = np.asarray(image, dtype=np.float32) / 255.0
    return a if grey else a.transpose(2, 0, 1)


def _shapes_differ(folder: Path, first_path: Path, first: tuple, path: Path, shape: tuple) -> None:
    raise DataError(
        f"{folder}: image shapes differ: {first_path.name} is {_shape_text(first)}, "
        f"{path.relative_to(folder)} is {_shape_text(shape)}; pass a size to resize them to one"
    )


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape[-2:])) + (f" with {shape[0]} channels" if len(shape) == 3 else "")
