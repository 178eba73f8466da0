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
from ..errors import CheckpointError

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
    return (Path(folder) / STATE_FILE).is_file()


def read(folder: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """``(meta, tensors)`` of the checkpoint in ``folder``; CheckpointError if missing or damaged."""
    folder = Path(folder)
    state_path = folder / STATE_FILE
    if not state_path.is_file():
        raise CheckpointError(f"{folder}: no training checkpoint to resume ({STATE_FILE} missing)")
    meta = read_json_document(state_path, FORMAT, FORMAT_VERSION, "latentspace training checkpoint")
    return meta, read_checksummed_safetensors(folder / str(meta.get("tensors_file")), meta.get("tensors_sha256"))


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
        raise CheckpointError(f"checkpoint weights do not fit the model ({str(e).splitlines()[0]})") from None
    optimizer_from_files(optimizer, tensors, meta["optimizer"])
    if scheduler is not None and meta.get("scheduler") is not None:
        # The schedule's function is rebuilt from the config, not stored: None keeps it as it is.
        scheduler.load_state_dict({**meta["scheduler"], "lr_lambdas": [None] * len(scheduler.lr_lambdas)})
    noise.set_state(tensors["rng.noise"])
    state = TrainingState(**{k: meta[k] for k in TrainingState().meta()})
    state.rows = tensors.get("epoch.rows")
    if state.rows is not None:
        state.rows = state.rows.to(device)
    best = {k[len("best.") :]: v.to(device) for k, v in tensors.items() if k.startswith("best.")}
    state.best_state = best or None
    return state
