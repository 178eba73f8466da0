"""Checkpoints: weights in safetensors, everything else in JSON. Nothing is ever unpickled.

A checkpoint folder holds ``config.json`` (estimator class, parameters, fitted scalars, library
version, and the SHA-256 of the weights file) and ``weights.safetensors`` (the torch state dict plus
fitted numpy arrays under ``fitted.*``). Files are written to a temporary name and renamed, so a
crash leaves either the old file or the new one, never half of one.
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

FORMAT = "latentspace-checkpoint"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
FITTED_ARRAYS = ("offset_", "scale_")
FITTED_SCALARS = ("n_features_in_", "n_iter_", "best_epoch_", "active_units_")
#: Fitted tuples or None; JSON turns tuples into lists, so they are turned back on loading.
FITTED_SHAPES = ("image_shape_", "example_shape_")


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
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=_json_default) + "\n").encode())


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, np.ndarray)):
        return list(value)
    return None  # e.g. a RandomState passed as random_state: not reproducible from JSON


def save_estimator(estimator, path) -> None:
    """Save a fitted estimator to the folder ``path`` (created if needed)."""
    from . import __version__

    path = Path(path)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in estimator.model_.state_dict().items()}
    for name in FITTED_ARRAYS:
        tensors[f"fitted.{name}"] = torch.from_numpy(np.ascontiguousarray(getattr(estimator, name)))
    weights = st_save(tensors)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "estimator": type(estimator).__name__,
        "params": estimator.get_params(deep=False),
        "fitted": {
            name: getattr(estimator, name) for name in FITTED_SCALARS + FITTED_SHAPES if hasattr(estimator, name)
        },
        "feature_names_in": list(getattr(estimator, "feature_names_in_", [])) or None,
        "history": estimator.history_,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }
    # Weights first: a config.json on disk always describes weights that are fully written.
    atomic_write_bytes(path / WEIGHTS_FILE, weights)
    atomic_write_json(path / CONFIG_FILE, config)


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


def read_config(path: Path) -> dict:
    config_path = Path(path) / CONFIG_FILE
    if not config_path.is_file():
        raise CheckpointError(f"{path}: not a latentspace checkpoint (no {CONFIG_FILE})")
    return read_json_document(config_path, FORMAT, FORMAT_VERSION, "latentspace checkpoint config")


def read_weights(path: Path, expected_sha256: str | None) -> dict[str, torch.Tensor]:
    weights_path = Path(path) / WEIGHTS_FILE
    if not weights_path.is_file():
        raise CheckpointError(f"{path}: weights file {WEIGHTS_FILE} is missing")
    data = weights_path.read_bytes()
    if expected_sha256 is not None and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise CheckpointError(f"{weights_path}: checksum mismatch (file truncated or modified)")
    try:
        return st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{weights_path}: unreadable safetensors file ({e})") from None


def load(path):
    """Load an estimator saved by ``save`` (or the ``model/`` of a run folder)."""
    from .estimators import ESTIMATORS

    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint folder")
    if (path / "model" / CONFIG_FILE).is_file():  # a run folder: its checkpoint is in model/
        path = path / "model"
    config = read_config(path)
    cls = ESTIMATORS.get(config.get("estimator"))
    if cls is None:
        raise CheckpointError(f"{path}: unknown estimator {config.get('estimator')!r}")
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in config.get("params", {}).items()}
    try:
        estimator = cls(**params)
    except TypeError as e:
        raise CheckpointError(f"{path}: parameters do not match {cls.__name__} ({e})") from None
    tensors = read_weights(path, config.get("weights_sha256"))
    restore_fitted(estimator, config, tensors, path)
    return estimator


def restore_shape(value, name: str, path: Path) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, int) and v > 0 for v in value):
        raise CheckpointError(f"{path}: fitted {name} must be a list of positive ints or null, got {value!r}")
    return tuple(value)


def restore_fitted(estimator, config: dict, tensors: dict[str, torch.Tensor], path: Path) -> None:
    fitted = config.get("fitted", {})
    n_features = fitted.get("n_features_in_")
    if not isinstance(n_features, int) or n_features < 1:
        raise CheckpointError(f"{path}: config has no valid n_features_in_")
    for name in FITTED_SCALARS:
        if name in fitted:
            setattr(estimator, name, fitted[name])
    for name in FITTED_SHAPES:  # before _new_model: a conv model is built from image_shape_
        if name in fitted:
            setattr(estimator, name, restore_shape(fitted[name], name, path))
    if config.get("feature_names_in"):
        estimator.feature_names_in_ = np.asarray(config["feature_names_in"], dtype=object)
    for name in FITTED_ARRAYS:
        if f"fitted.{name}" not in tensors:
            raise CheckpointError(f"{path}: weights lack fitted array {name}")
        setattr(estimator, name, tensors[f"fitted.{name}"].numpy())
    model = estimator._new_model(n_features)
    state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise CheckpointError(f"{path}: weights do not fit the model ({first})") from None
    estimator.model_ = model.to(estimator.device).eval()
    estimator.history_ = config.get("history", [])
