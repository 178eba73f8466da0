"""Resumable training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint folder holds

    state.json                 epoch, step, history, optimiser hyper-parameters, scheduler, seeds,
                               the data's fingerprint, and the name + SHA-256 of the tensors file
    tensors-NNNNNN.safetensors model weights, Adam moments, the noise generator's state, the best
                               weights for early stopping, this epoch's per-step losses so far

The tensors go to a new numbered file first; then ``state.json`` is replaced atomically to point at it;
only then are older tensor files deleted. A process killed at any instant therefore leaves a
``state.json`` whose tensors file exists and matches its checksum: every checkpoint on disk loads.
Nothing is pickled.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .._files import (
    atomic_write_bytes,
    atomic_write_json,
    read_checksummed_safetensors,
    read_json_document,
    safetensors_bytes,
)
from ..errors import CheckpointError, first_line

STATE_FILE = "state.json"
FORMAT = "latentspace-training-state"
FORMAT_VERSION = 1


@dataclass
class TrainingState:
    """Where a run stands. ``epoch``/``step``: the next step to run (0-based, step within the epoch)."""

    epoch: int = 0
    step: int = 0
    global_step: int = 0
    records: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    best_val: float = float("inf")
    bad_epochs: int = 0
    stopped_early: bool = False
    finished: bool = False
    saves: int = 0
    #: names of the loss terms, the columns of ``rows``
    terms: list[str] = field(default_factory=list)
    #: (steps_this_epoch, len(terms)) per-step losses of the current epoch; rows >= ``step`` are unused
    rows: torch.Tensor | None = None
    best_state: dict[str, torch.Tensor] | None = None

    def meta(self) -> dict[str, Any]:
        names = ("epoch", "step", "global_step", "records", "best_epoch", "best_val", "bad_epochs",
                 "stopped_early", "finished", "saves", "terms")
        return {name: getattr(self, name) for name in names}


def optimizer_to_files(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    state = optimizer.state_dict()
    tensors = {
        f"optim.{pid}.{key}": value.detach().cpu().contiguous()
        for pid, per_param in state["state"].items()
        for key, value in per_param.items()
        if isinstance(value, torch.Tensor)
    }
    scalars = {
        str(pid): {k: v for k, v in per_param.items() if not isinstance(v, torch.Tensor)}
        for pid, per_param in state["state"].items()
    }
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def optimizer_from_files(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    per_param: dict[int, dict[str, Any]] = {int(pid): dict(v) for pid, v in meta["scalars"].items()}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, pid, key = name.split(".", 2)
            per_param.setdefault(int(pid), {})[key] = value
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in meta["param_groups"]]
    optimizer.load_state_dict({"state": per_param, "param_groups": groups})


def save(
    folder: str | Path,
    state: TrainingState,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler,
    noise: torch.Generator,
    extra: dict[str, Any],
) -> Path:
    """Write a checkpoint of ``state`` into ``folder``; returns the folder."""
    folder = Path(folder)
    state.saves += 1
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    optim_tensors, optim_meta = optimizer_to_files(optimizer)
    tensors.update(optim_tensors)
    tensors["rng.noise"] = noise.get_state()
    if state.rows is not None:
        tensors["epoch.rows"] = state.rows[: state.step].detach().cpu().contiguous()
    if state.best_state is not None:
        tensors.update({f"best.{k}": v.detach().cpu().contiguous() for k, v in state.best_state.items()})
    data, sha256 = safetensors_bytes(tensors)
    tensors_file = f"tensors-{state.saves:06d}.safetensors"
    atomic_write_bytes(folder / tensors_file, data)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **state.meta(),
        "optimizer": optim_meta,
        "scheduler": None if scheduler is None else _scheduler_state(scheduler),
        **extra,
        "tensors_file": tensors_file,
        "tensors_sha256": sha256,
    }
    atomic_write_json(folder / STATE_FILE, meta)
    for old in folder.glob("tensors-*.safetensors"):
        if old.name != tensors_file:
            old.unlink(missing_ok=True)
    return folder


def _scheduler_state(scheduler) -> dict[str, Any]:
    return {k: v for k, v in scheduler.state_dict().items() if k != "lr_lambdas"}


def exists(folder: str | Path) -> bool:
    return (Path(folder) / STATE_FILE).exists()  # a FIFO or folder there is refused by ``read``, not skipped


def read(folder: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """``(meta, tensors)`` of the checkpoint in ``folder``; CheckpointError if missing or damaged."""
    folder = Path(folder)
    state_path = folder / STATE_FILE
    if not state_path.exists():
        raise CheckpointError(f"{folder}: no training checkpoint to resume ({STATE_FILE} missing)")
    meta = read_json_document(state_path, FORMAT, FORMAT_VERSION, "latentspace training checkpoint")
    check_meta(meta, state_path)
    return meta, read_checksummed_safetensors(folder / meta["tensors_file"], meta["tensors_sha256"])


TENSORS_FILE = re.compile(r"tensors-\d{6}\.safetensors")
SHA256 = re.compile(r"[0-9a-f]{64}")
#: far more epochs or steps than any run: a larger count is a tampered file
MAX_COUNT = 1 << 40


def _whole(value, low: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= MAX_COUNT


def _number_or_null(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value))


def check_meta(meta: dict[str, Any], where: Path) -> None:
    """Every field of ``state.json`` has its type and range (one CheckpointError line otherwise), so a
    tampered file cannot make ``--resume`` crash, loop, or call an 11-epoch run finished."""

    def need(ok: bool, field: str, expected: str) -> None:
        if not ok:
            text = repr(meta.get(field))
            raise CheckpointError(f"{where}: {field} must be {expected}, got {text[:60] + '...' if len(text) > 60 else text}")

    for name in ("epoch", "step", "global_step", "bad_epochs", "saves"):
        need(_whole(meta.get(name)), name, "a whole number >= 0")
    for name in ("shuffle_seed", "noise_seed"):
        seed = meta.get(name)
        need(isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**63, name, "a whole number in [0, 2**63)")
    need(meta.get("world_size", 1) is None or _whole(meta.get("world_size", 1), 1), "world_size", "a whole number >= 1")
    need(meta.get("best_epoch") is None or _whole(meta.get("best_epoch"), 1), "best_epoch", "a whole number >= 1 or null")
    need(_number_or_null(meta.get("best_val")), "best_val", "a number or null")
    for name in ("stopped_early", "finished"):
        need(isinstance(meta.get(name), bool), name, "true or false")
    records = meta.get("records")
    need(isinstance(records, list) and all(isinstance(r, dict) and all(_number_or_null(v) for v in r.values())
                                           for r in records), "records", "a list of records of numbers")
    need(len(records) == meta["epoch"], "records", f"one record per finished epoch ({meta['epoch']})")
    terms = meta.get("terms")
    need(isinstance(terms, list) and bool(terms) and all(isinstance(t, str) for t in terms), "terms", "a list of names")
    optimizer = meta.get("optimizer")
    need(isinstance(optimizer, dict) and isinstance(optimizer.get("param_groups"), list)
         and all(isinstance(g, dict) for g in optimizer["param_groups"])
         and isinstance(optimizer.get("scalars"), dict)
         and all(isinstance(v, dict) and k.isdigit() for k, v in optimizer["scalars"].items()), "optimizer",
         "the optimiser's state")
    need(meta.get("scheduler") is None or isinstance(meta.get("scheduler"), dict), "scheduler", "an object or null")
    need(meta.get("fingerprint") is None or isinstance(meta.get("fingerprint"), dict), "fingerprint", "an object or null")
    need(meta.get("kernel") in (None, "onednn", "aten"), "kernel", "\"onednn\", \"aten\" or null")
    need(isinstance(meta.get("tensors_file"), str) and bool(TENSORS_FILE.fullmatch(meta["tensors_file"])),
         "tensors_file", "a name like tensors-000001.safetensors")
    need(isinstance(meta.get("tensors_sha256"), str) and bool(SHA256.fullmatch(meta["tensors_sha256"])),
         "tensors_sha256", "a SHA-256 hex digest")


def check_tensors(meta: dict[str, Any], tensors: dict[str, torch.Tensor], model: torch.nn.Module, optimizer,
                  noise: torch.Generator) -> None:
    """The optimiser moments have their parameters' shapes, the generator state its size, the epoch's
    loss rows ``(step, terms)``: a wrong size would otherwise fail steps later, or train on garbage."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, pid, key = name.split(".", 2)
            if not pid.isdigit() or int(pid) >= len(params):
                raise CheckpointError(f"checkpoint tensor {name}: no parameter {pid}")
            expected = tuple(params[int(pid)].shape) if key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") else None
            if expected is not None and tuple(value.shape) != expected:
                raise CheckpointError(f"checkpoint tensor {name} has shape {tuple(value.shape)}, its parameter {expected}")
            if not bool(torch.isfinite(value).all()):
                raise CheckpointError(f"checkpoint tensor {name} holds NaN or infinite values")
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    best = {k[len("best.") :]: tuple(v.shape) for k, v in tensors.items() if k.startswith("best.")}
    if best and best != shapes:
        raise CheckpointError("checkpoint's best weights (best.*) do not fit the model")
    rng = tensors.get("rng.noise")
    if rng is None or rng.dtype != torch.uint8 or tuple(rng.shape) != tuple(noise.get_state().shape):
        raise CheckpointError("checkpoint lacks the noise generator's state, or it has the wrong size")
    rows = tensors.get("epoch.rows")
    if rows is not None and tuple(rows.shape) != (meta["step"], len(meta["terms"])):
        raise CheckpointError(
            f"checkpoint's epoch.rows has shape {tuple(rows.shape)}, expected ({meta['step']}, {len(meta['terms'])})"
        )


def restore(
    meta: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler,
    noise: torch.Generator,
) -> TrainingState:
    """Load model, optimiser, scheduler and generator from a checkpoint read by :func:`read`."""
    device = next(model.parameters()).device
    model_state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(model_state, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"checkpoint weights do not fit the model ({first_line(e)})") from None
    check_tensors(meta, tensors, model, optimizer, noise)
    try:
        optimizer_from_files(optimizer, tensors, meta["optimizer"])
        if scheduler is not None and meta.get("scheduler") is not None:
            # The schedule's function is rebuilt from the config, not stored: None keeps it as it is.
            scheduler.load_state_dict({**meta["scheduler"], "lr_lambdas": [None] * len(scheduler.lr_lambdas)})
        noise.set_state(tensors["rng.noise"])
    except (KeyError, ValueError, TypeError, RuntimeError, IndexError) as e:
        raise CheckpointError(f"checkpoint's optimiser or generator state does not fit ({first_line(e)})") from None
    state = TrainingState(**{k: meta[k] for k in TrainingState().meta()})
    state.best_val = float("inf") if state.best_val is None else float(state.best_val)  # JSON has no inf
    state.rows = tensors.get("epoch.rows")
    if state.rows is not None:
        state.rows = state.rows.to(device)
    best = {k[len("best.") :]: v.to(device) for k, v in tensors.items() if k.startswith("best.")}
    state.best_state = best or None
    return state
