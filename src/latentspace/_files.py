"""Files written whole or not at all, and the readers that check them: the bottom layer for every module
that touches disk.

- ``atomic_write_bytes`` / ``atomic_write_json``: a temporary file in the same folder, fsync, rename.
- ``read_json_document``: a JSON object of a named format and version.
- ``write_safetensors`` / ``read_checksummed_safetensors``: tensors with their SHA-256, never pickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .errors import CheckpointError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600 files; give the result the mode a plain open() would (0666 & ~umask).
        os.fchmod(fd, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=json_default) + "\n").encode())


def json_default(value: Any) -> Any:
    """JSON for numpy scalars, tuples and arrays; None for what JSON cannot hold (e.g. a RandomState)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, np.ndarray)):
        return list(value)
    return None  # e.g. a RandomState passed as random_state: not reproducible from JSON


def read_json_document(path: Path, fmt: str, version: int, what: str) -> dict:
    """The JSON object at ``path`` whose ``format`` is ``fmt`` and ``format_version`` at most ``version``."""
    try:
        document = json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: corrupt JSON ({e})") from None
    if not isinstance(document, dict) or document.get("format") != fmt:
        raise CheckpointError(f"{path}: not a {what}")
    if document.get("format_version", 0) > version:
        raise CheckpointError(f"{path}: format version {document['format_version']} is newer than this library's")
    return document


def safetensors_bytes(tensors: dict[str, torch.Tensor]) -> tuple[bytes, str]:
    """``(file contents, SHA-256 hex digest)`` of ``tensors`` in the safetensors format."""
    data = st_save(tensors)
    return data, hashlib.sha256(data).hexdigest()


def read_checksummed_safetensors(path: Path, expected_sha256: str | None) -> dict[str, torch.Tensor]:
    """The tensors in ``path``; CheckpointError when it is missing, fails its checksum or is unreadable."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path.parent}: tensors file {path.name} is missing")
    data = path.read_bytes()
    if expected_sha256 is not None and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise CheckpointError(f"{path}: checksum mismatch (file truncated or modified)")
    try:
        return st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: unreadable safetensors file ({e})") from None
