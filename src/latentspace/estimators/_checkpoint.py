"""Checkpoints: weights in safetensors, everything else in JSON. Nothing is ever unpickled.

A checkpoint folder holds ``config.json`` (estimator class, parameters, fitted scalars, library
version, and the SHA-256 of the weights file) and ``weights.safetensors`` (the torch state dict plus
fitted numpy arrays under ``fitted.*``). Files are written to a temporary name and renamed, so a
crash leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .._files import (
    atomic_write_bytes,
    atomic_write_json,
    read_checksummed_safetensors,
    read_json_document,
    safetensors_bytes,
)
from .._version import __version__
from ..errors import CheckpointError, LatentspaceError

FORMAT = "latentspace-checkpoint"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
FITTED_ARRAYS = ("offset_", "scale_")
FITTED_SCALARS = ("n_features_in_", "n_iter_", "best_epoch_", "active_units_")
#: Fitted tuples or None; JSON turns tuples into lists, so they are turned back on loading.
FITTED_SHAPES = ("image_shape_", "example_shape_")


def save_estimator(estimator, path) -> None:
    """Save a fitted estimator to the folder ``path`` (created if needed)."""
    path = Path(path)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in estimator.model_.state_dict().items()}
    for name in FITTED_ARRAYS:
        tensors[f"fitted.{name}"] = torch.from_numpy(np.ascontiguousarray(getattr(estimator, name)))
    weights, weights_sha256 = safetensors_bytes(tensors)
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
        "weights_sha256": weights_sha256,
    }
    # Weights first: a config.json on disk always describes weights that are fully written.
    atomic_write_bytes(path / WEIGHTS_FILE, weights)
    atomic_write_json(path / CONFIG_FILE, config)


def read_config(path: Path) -> dict:
    config_path = Path(path) / CONFIG_FILE
    if not config_path.is_file():
        raise CheckpointError(f"{path}: not a latentspace checkpoint (no {CONFIG_FILE})")
    return read_json_document(config_path, FORMAT, FORMAT_VERSION, "latentspace checkpoint config")


def read_weights(path: Path, expected_sha256: str | None) -> dict[str, torch.Tensor]:
    return read_checksummed_safetensors(Path(path) / WEIGHTS_FILE, expected_sha256)


def load_estimator(path, classes: dict[str, type]):
    """Load an estimator saved by ``save_estimator`` (or the ``model/`` of a run folder); its class is
    looked up by name in ``classes``, never unpickled."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint folder")
    if (path / "model" / CONFIG_FILE).is_file():  # a run folder: its checkpoint is in model/
        path = path / "model"
    config = read_config(path)
    cls = classes.get(config.get("estimator"))
    if cls is None:
        raise CheckpointError(f"{path}: unknown estimator {config.get('estimator')!r}")
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in config.get("params", {}).items()}
    try:
        estimator = cls(**params)
        estimator._validate_params()
    except TypeError as e:
        raise CheckpointError(f"{path}: parameters do not match {cls.__name__} ({e})") from None
    except LatentspaceError as e:
        raise CheckpointError(f"{path}: {e}") from None
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
