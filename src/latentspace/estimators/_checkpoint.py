"""Checkpoints: weights in safetensors, everything else in JSON. Nothing is ever unpickled.

A checkpoint folder holds ``config.json`` (estimator class, parameters, fitted scalars, library
version, and the SHA-256 of the weights file) and ``weights.safetensors`` (the torch state dict plus
fitted numpy arrays under ``fitted.*``). Files are written to a temporary name and renamed, so a
crash leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch

from .._files import (
    atomic_write_bytes,
    atomic_write_json,
    json_default,
    read_checksummed_safetensors,
    read_json_document,
    safetensors_bytes,
)
from .._version import __version__
from ..errors import CheckpointError, DeviceFallbackWarning, LatentspaceError, first_line
from ..nn.devices import device_missing, resolve_device
from ..training.state import SHA256
from ._card import CARD_FILE, model_card
from ._modules import PARTS, check_class_path, describe, rebuild

FORMAT = "latentspace-checkpoint"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
FITTED_ARRAYS = ("offset_", "scale_")
#: fitted arrays of models saved by this version (older checkpoints lack them): ``(rows, n_latent)`` codes
FITTED_CODES = "training_codes_"
#: the most rows of training codes a checkpoint may hold (``fit`` keeps 4,096)
MAX_CODE_ROWS = 1 << 16
FITTED_SCALARS = ("n_features_in_", "n_iter_", "best_epoch_", "active_units_", "epochs_", "patience_", "likelihood_",
                  "warmup_epochs_", "n_components_", "noise_variance_", "n_samples_")
#: Fitted tuples or None; JSON turns tuples into lists, so they are turned back on loading.
FITTED_SHAPES = ("image_shape_", "example_shape_")
#: Fitted values of parameters given as "auto", which the model is built from.
RESOLVED_SETTINGS = ("likelihood_", "warmup_epochs_", "n_components_")
#: parameters that are not part of a model: not saved (None in config.json), not restored
RUNTIME_PARAMS = ("callbacks",)


def jsonable_params(estimator) -> dict:
    """The estimator's parameters as JSON: modules by their class's import path, callbacks left out."""
    params = {k: (None if k in RUNTIME_PARAMS else describe(v)) for k, v in estimator.get_params(deep=False).items()}
    return json.loads(json.dumps(params, default=json_default))


def save_estimator(estimator, path) -> None:
    """Save a fitted estimator to the folder ``path`` (created if needed)."""
    path = Path(path)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in estimator.model_.state_dict().items()}
    extras = [name for name in estimator._extra_array_shapes(estimator.n_features_in_) if hasattr(estimator, name)]
    for name in (*FITTED_ARRAYS, *extras):
        tensors[f"fitted.{name}"] = torch.from_numpy(np.ascontiguousarray(getattr(estimator, name)))
    if getattr(estimator, FITTED_CODES, None) is not None:
        tensors[f"fitted.{FITTED_CODES}"] = torch.from_numpy(np.ascontiguousarray(getattr(estimator, FITTED_CODES)))
    weights, weights_sha256 = safetensors_bytes(tensors)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "estimator": type(estimator).__name__,
        "params": jsonable_params(estimator),
        "fitted": {
            **{name: getattr(estimator, name) for name in FITTED_SCALARS + FITTED_SHAPES if hasattr(estimator, name)},
            **estimator._fitted_json(),
        },
        "feature_names_in": list(getattr(estimator, "feature_names_in_", [])) or None,
        "history": estimator.history_,
        "weights_sha256": weights_sha256,
        "torch_version": torch.__version__,
        "training_data": getattr(estimator, "training_data_", None),
    }
    # Weights first: a config.json on disk always describes weights that are fully written.
    atomic_write_bytes(path / WEIGHTS_FILE, weights)
    atomic_write_json(path / CONFIG_FILE, config)
    atomic_write_bytes(path / CARD_FILE, model_card(json.loads(json.dumps(config, default=json_default)),
                                                    str(path)).encode())


def read_config(path: Path) -> dict:
    config_path = Path(path) / CONFIG_FILE
    if not config_path.exists():
        raise CheckpointError(f"{path}: not a latentspace checkpoint (no {CONFIG_FILE})")
    config = read_json_document(config_path, FORMAT, FORMAT_VERSION, "latentspace checkpoint config")
    check_config_fields(config, config_path)
    return config


def read_weights(path: Path, expected_sha256: str | None) -> dict[str, torch.Tensor]:
    return read_checksummed_safetensors(Path(path) / WEIGHTS_FILE, expected_sha256)


#: Bounds on what a checkpoint may declare, far above any real model, far below an allocation bomb.
MAX_FEATURES = 1 << 31
MAX_HISTORY = 1_000_000


def _is_int(value, low: int = 0, high: int | None = None) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high)


def check_config_fields(config: dict, where: Path) -> None:
    """Every field of a checkpoint config has its type and range; one CheckpointError line otherwise."""

    def bad(field: str, expected: str, value) -> CheckpointError:
        text = repr(value)
        return CheckpointError(f"{where}: {field} must be {expected}, got {text[:60] + '...' if len(text) > 60 else text}")

    if not isinstance(config.get("estimator"), str):
        raise bad("estimator", "a class name", config.get("estimator"))
    if not isinstance(config.get("params", {}), dict):
        raise bad("params", "an object of parameters", config.get("params"))
    fitted = config.get("fitted", {})
    if not isinstance(fitted, dict):
        raise bad("fitted", "an object", fitted)
    if not _is_int(fitted.get("n_features_in_"), 1, MAX_FEATURES):
        raise bad("fitted n_features_in_", f"a whole number in [1, {MAX_FEATURES}]", fitted.get("n_features_in_"))
    for name in ("n_iter_", "best_epoch_", "active_units_"):
        if fitted.get(name) is not None and not _is_int(fitted[name]):
            raise bad(f"fitted {name}", "a whole number >= 0 or null", fitted[name])
    names = config.get("feature_names_in")
    if names is not None and (
        not isinstance(names, list) or len(names) != fitted["n_features_in_"] or not all(isinstance(n, str) for n in names)
    ):
        raise bad("feature_names_in", f"null or {fitted['n_features_in_']} strings", names)
    history = config.get("history", [])
    if not isinstance(history, list) or len(history) > MAX_HISTORY or not all(
        isinstance(r, dict) and all(v is None or isinstance(v, (int, float)) for v in r.values()) for r in history
    ):
        raise bad("history", "a list of records of numbers", history)
    sha = config.get("weights_sha256")
    if sha is not None and not (isinstance(sha, str) and SHA256.fullmatch(sha)):
        raise bad("weights_sha256", "a SHA-256 hex digest", sha)


def rebuild_modules(params: dict, path, *, encoder=None, decoder=None, allow_import: bool = False) -> None:
    """Replace, in a saved model's ``params``, the records of its own encoder/decoder classes
    (``{"module": "pkg.mod:Class"}``) by modules: the ``encoder``/``decoder`` given, or with
    ``allow_import`` the recorded classes built with no arguments (``_modules.rebuild``); ``path``
    names the saved model in errors. Every recorded path is checked before any is imported."""
    given = {"encoder": encoder, "decoder": decoder}
    for part in PARTS:
        check_class_path(part, params.get(part), path)
    for part in PARTS:
        if part in params or given[part] is not None:
            params[part] = rebuild(part, params.get(part), given[part], allow_import, path)


def load_estimator(path, classes: dict[str, type], *, device=None, encoder=None, decoder=None,
                   allow_import: bool = False):
    """Load an estimator saved by ``save_estimator`` (or the ``model/`` of a run folder); its class is
    looked up by name in ``classes``, never unpickled.

    ``device``: where the model goes ("auto", "cpu", "cuda", ...); None keeps the saved ``device``
    parameter when this machine has that device, and otherwise loads on the CPU with a warning (the
    weights are stored device-free, so a GPU-trained model loads anywhere). ``encoder``/``decoder``:
    for a model saved with its own modules, an instance (or class) of each saved module's class;
    ``allow_import=True`` instead imports the recorded class and builds it with no arguments.

    Every field is checked before the model is built: types and ranges of the config, the parameters
    through the estimator's constraint table, the model's parameter count (on the meta device) against
    the memory budget and then against the weights file's size (read only within the budget and
    checksummed), and the fitted arrays' shapes. Any failure is one CheckpointError line naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint folder")
    if (path / "model").is_dir():  # a run folder: its checkpoint is in model/ (and errors name that folder)
        path = path / "model"
    config = read_config(path)
    cls = classes.get(config.get("estimator"))
    if cls is None:
        raise CheckpointError(f"{path}: unknown estimator {config.get('estimator')!r}")
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in config.get("params", {}).items()}
    rebuild_modules(params, path, encoder=encoder, decoder=decoder, allow_import=allow_import)
    params["device"] = load_device(params.get("device"), device, path)
    try:
        estimator = cls(**params)
    except TypeError as e:
        raise CheckpointError(f"{path}: parameters do not match {cls.__name__} ({first_line(e)})") from None
    n_features = config["fitted"]["n_features_in_"]
    for name in FITTED_SHAPES:  # before the model is built: a conv model is built from image_shape_
        if name in config["fitted"]:
            setattr(estimator, name, restore_shape(config["fitted"][name], name, path))
    for name in RESOLVED_SETTINGS:  # likewise: "auto" parameters build the model they resolved to
        if isinstance(config["fitted"].get(name), (str, int)):
            setattr(estimator, name, config["fitted"][name])
    try:
        estimator._restore_fitted_json(config["fitted"])  # a conditional model's classes build its decoder
        estimator._check_loadable(n_features)
    except (LatentspaceError, TypeError, ValueError, OverflowError, RuntimeError) as e:
        raise CheckpointError(f"{path}: invalid parameters ({first_line(e)})") from None
    tensors = read_weights(path, config.get("weights_sha256"))  # bounded by the budget; checksummed
    check_weights_size(path, estimator, n_features)
    restore_fitted(estimator, config, tensors, path)
    return estimator


def check_weights_size(path: Path, estimator, n_features: int) -> None:
    """The model the config describes must be the size of the weights file; checked on a meta-device
    model, so a tampered ``hidden: [30000, 30000]`` costs nothing before it is refused. Called after
    ``read_weights`` (the file is there) and ``_check_loadable`` (the model fits the memory budget)."""
    n_params = estimator._parameter_count(n_features)
    size = (Path(path) / WEIGHTS_FILE).stat().st_size
    if 4 * n_params > size:
        raise CheckpointError(
            f"{path}: the config describes a model of {n_params:,} parameters ({4 * n_params:,} bytes) but "
            f"{WEIGHTS_FILE} holds {size:,} bytes (a tampered config)"
        )


def load_device(saved, asked, path: Path) -> str:
    """The ``device`` parameter of a loaded estimator: ``asked`` if given (checked here: one line if this
    machine lacks it); else the saved one if this machine has it; else "cpu", with a warning."""
    if asked is not None:
        try:
            resolve_device(asked)
        except LatentspaceError as e:
            raise CheckpointError(f"{path}: cannot load on {e}") from None
        return str(asked)
    if saved is None or saved == "auto":
        return "auto"
    try:
        missing = device_missing(torch.device(saved))
    except (RuntimeError, TypeError, ValueError):
        missing = "unknown device"
    if missing is None:
        return str(saved)
    warnings.warn(f"{path}: saved for device {saved!r}, which is not available here ({missing}); loaded on the CPU",
                  DeviceFallbackWarning, stacklevel=3)
    return "cpu"


def restore_shape(value, name: str, path: Path) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 4 or not all(_is_int(v, 1, MAX_FEATURES) for v in value):
        raise CheckpointError(f"{path}: fitted {name} must be a list of positive ints or null, got {value!r}")
    return tuple(value)


def restore_fitted(estimator, config: dict, tensors: dict[str, torch.Tensor], path: Path) -> None:
    fitted = config["fitted"]
    n_features = fitted["n_features_in_"]
    for name in FITTED_SCALARS:
        if name in fitted:
            setattr(estimator, name, fitted[name])
    if config.get("feature_names_in"):
        estimator.feature_names_in_ = np.asarray(config["feature_names_in"], dtype=object)
    for name in FITTED_ARRAYS:
        tensor = tensors.get(f"fitted.{name}")
        if tensor is None:
            raise CheckpointError(f"{path}: weights lack fitted array {name}")
        if tuple(tensor.shape) != (n_features,) or not tensor.is_floating_point():
            raise CheckpointError(
                f"{path}: fitted array {name} has shape {tuple(tensor.shape)} and dtype {tensor.dtype}; "
                f"expected ({n_features},) floats"
            )
        if not bool(torch.isfinite(tensor).all()) or (name == "scale_" and not bool((tensor != 0).all())):
            raise CheckpointError(f"{path}: fitted array {name} holds NaN, infinite{' or zero' if name == 'scale_' else ''} values")
        setattr(estimator, name, tensor.numpy().astype(np.float32, copy=False))
    restore_extra_arrays(estimator, tensors, n_features, path)
    model = estimator._new_model(n_features)
    state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit the model ({first_line(e)})") from None
    if not all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point()):
        raise CheckpointError(f"{path}: the model's weights hold NaN or infinite values")
    codes = tensors.get(f"fitted.{FITTED_CODES}")
    if codes is not None:
        if codes.dim() != 2 or codes.shape[1] != model.n_latent or codes.shape[0] > MAX_CODE_ROWS or \
                not codes.is_floating_point() or not bool(torch.isfinite(codes).all()):
            raise CheckpointError(f"{path}: fitted {FITTED_CODES} of shape {tuple(codes.shape)}, dtype {codes.dtype}: "
                                  f"expected at most {MAX_CODE_ROWS} finite rows of {model.n_latent} floats")
        setattr(estimator, FITTED_CODES, codes.numpy().astype(np.float32, copy=False))
    estimator.device_ = resolve_device(estimator.device)
    estimator.model_ = model.to(estimator.device_).eval()
    estimator.history_ = config.get("history", [])
    if isinstance(config.get("training_data"), dict):  # the model card's facts about the data
        estimator.training_data_ = config["training_data"]


def restore_extra_arrays(estimator, tensors: dict[str, torch.Tensor], n_features: int, path: Path) -> None:
    """The class's own fitted arrays (a linear AE's PCA attributes), each of its declared shape and finite;
    a checkpoint written before the class had them simply lacks them."""
    for name, shape in estimator._extra_array_shapes(n_features).items():
        tensor = tensors.get(f"fitted.{name}")
        if tensor is None:
            continue
        if tuple(tensor.shape) != shape or not tensor.is_floating_point() or not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{path}: fitted array {name} has shape {tuple(tensor.shape)} and dtype "
                                  f"{tensor.dtype}; expected {shape} finite floats")
        setattr(estimator, name, tensor.numpy().astype(np.float64, copy=False))
