"""The one training loop, shared by every model.

Data lives in one tensor and is sliced by a shuffled index: no DataLoader, no per-sample Python.
Randomness comes only from the ``generator`` passed in (shuffling and the model's own noise), so a
given seed reproduces a run exactly without touching global random state.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from .errors import TrainingDivergedError
from .models import LatentModel

BatchTransform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass
class TrainConfig:
    epochs: int = 50
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    #: stop when the validation loss has not improved for this many epochs (None: never)
    patience: int | None = None
    #: "constant" or "cosine" (cosine decay to 0 over ``epochs``)
    lr_schedule: str = "constant"
    #: clip the global gradient norm to this value (None: no clipping)
    grad_clip: float | None = None
    verbose: bool = False
    #: applied to every training batch, e.g. dynamic binarisation; gets the loop's generator
    batch_transform: BatchTransform | None = None


@dataclass
class History:
    """Per-epoch records: ``epoch``, ``train_<term>`` and ``val_<term>`` for every loss term, ``seconds``."""

    records: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def column(self, name: str) -> list[float]:
        return [r[name] for r in self.records if name in r]


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    # Adam's coupled weight decay adds lambda * w to the gradient, so its fixed points minimise
    # loss + lambda/2 ||w||^2: a true L2 penalty, which the linear-AE theory (Kunin et al.) assumes.
    # AdamW's decoupled decay has different fixed points.
    fused = all(p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int):
    if config.lr_schedule == "constant":
        return None
    if config.lr_schedule == "cosine":
        total = max(1, config.epochs * steps_per_epoch)
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))
        )
    raise ValueError(f"unknown lr_schedule {config.lr_schedule!r}; choose 'constant' or 'cosine'")


@torch.inference_mode()
def evaluate_loss(
    model: LatentModel, X: torch.Tensor, generator: torch.Generator, chunk: int = 4096
) -> dict[str, float]:
    """Mean of every loss term over ``X``, computed in large chunks."""
    model.eval()
    sums: dict[str, float] = {}
    for start in range(0, X.shape[0], chunk):
        xb = X[start : start + chunk]
        for name, value in model(xb, generator=generator).items():
            sums[name] = sums.get(name, 0.0) + float(value) * xb.shape[0]
    model.train()
    return {name: total / X.shape[0] for name, total in sums.items()}


def train(
    model: LatentModel,
    X: torch.Tensor,
    config: TrainConfig,
    generator: torch.Generator,
    X_val: torch.Tensor | None = None,
) -> History:
    """Fit ``model`` on ``X`` ``(n, n_features)``; return the per-epoch history.

    With ``X_val`` and ``config.patience``, the weights of the best validation epoch are restored.
    """
    n = X.shape[0]
    steps_per_epoch = math.ceil(n / config.batch_size)
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, config, steps_per_epoch)
    history = History()
    best_val, best_state, bad_epochs = math.inf, None, 0
    model.train()
    epochs = tqdm(range(config.epochs), desc="epochs", unit="ep", disable=not config.verbose, leave=False)
    for epoch in epochs:
        model.start_epoch(epoch)
        started = time.perf_counter()
        sums = train_one_epoch(model, X, optimizer, scheduler, config, generator)
        record: dict[str, float] = {"epoch": float(epoch + 1)}
        record.update({f"train_{k}": v / n for k, v in sums.items()})
        check_finite(record, epoch)
        if X_val is not None and X_val.shape[0] > 0:
            record.update({f"val_{k}": v for k, v in evaluate_loss(model, X_val, generator).items()})
        record["seconds"] = time.perf_counter() - started
        history.records.append(record)
        epochs.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k.endswith("_loss")})
        if config.patience is not None and "val_loss" in record:
            if record["val_loss"] < best_val:
                best_val, bad_epochs, history.best_epoch = record["val_loss"], 0, epoch + 1
                best_state = copy.deepcopy(model.state_dict())
            else:
                bad_epochs += 1
                if bad_epochs >= config.patience:
                    history.stopped_early = True
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def train_one_epoch(
    model: LatentModel,
    X: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    scheduler,
    config: TrainConfig,
    generator: torch.Generator,
) -> dict[str, float]:
    """One pass over a fresh permutation of ``X``; returns each loss term summed over examples."""
    n = X.shape[0]
    order = torch.randperm(n, generator=generator, device=generator.device).to(X.device)
    sums: dict[str, torch.Tensor] = {}
    for start in range(0, n, config.batch_size):
        xb = X.index_select(0, order[start : start + config.batch_size])
        if config.batch_transform is not None:
            xb = config.batch_transform(xb, generator)
        losses = model(xb, generator=generator)
        optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        # Summing detached tensors avoids a host sync per step; one .item() per term per epoch.
        for name, value in losses.items():
            term = value.detach() * xb.shape[0]
            sums[name] = sums[name] + term if name in sums else term
    return {name: float(total) for name, total in sums.items()}


def check_finite(record: dict[str, float], epoch: int) -> None:
    for name, value in record.items():
        if not math.isfinite(value):
            raise TrainingDivergedError(
                f"{name} became {value} in epoch {epoch + 1}; try a lower lr, grad_clip, "
                "or a likelihood that matches the data (bernoulli needs data in [0, 1])"
            )
