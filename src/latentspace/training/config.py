"""The training loop's settings: how to optimise (``TrainConfig``) and where to keep resumable
checkpoints (``CheckpointPlan``). Kept apart because the first is a model's hyper-parameters and the
second is plumbing of one run: changing where checkpoints go never changes what is learned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

BatchTransform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass
class TrainConfig:
    """How to optimise: Adam with these settings for ``epochs`` passes over the data."""

    epochs: int = 50
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    #: stop when the validation loss has not improved for this many epochs (None: never)
    patience: int | None = None
    #: "constant", "cosine" (cosine decay to 0 over ``epochs``) or "warmup_cosine" (a linear warm-up over
    #: the first steps, then cosine decay to a tenth of ``lr``; see ``loop.make_scheduler``)
    lr_schedule: str = "constant"
    #: clip the global gradient norm to this value (None: no clipping)
    grad_clip: float | None = None
    verbose: bool = False
    #: applied to every training batch, e.g. dynamic binarisation; gets the loop's noise generator
    batch_transform: BatchTransform | None = None
    #: "auto", "32" or "bf16": the precision of the dense layers' matrix products (nn.backend.resolve_precision)
    precision: str = "auto"
    #: the dense layers use this build's default kernel, not the one a timing finds faster: the result
    #: then depends on the data, the parameters and the machine's build only, never on its load
    reproducible: bool = False


@dataclass(frozen=True)
class CheckpointPlan:
    """Where a run keeps its resumable checkpoints (``folder`` None: none), and whether to continue one."""

    #: folder for resumable checkpoints, written at epoch ends (at most ~5% of the run: loop.save_due), at
    #: the end and on interrupts (None: no checkpoints)
    folder: str | Path | None = None
    #: also checkpoint (and check for NaN/inf) every this many optimiser steps
    every: int | None = None
    #: continue from the checkpoint in ``folder`` (a fresh start if there is none yet)
    resume: bool = False
    #: how a user resumes this run, quoted in interrupt and divergence messages (None: the library call)
    hint: str | None = None
    #: JSON facts about the data and parameters that a resumed run must match
    fingerprint: dict[str, Any] | None = None

    def how_to_resume(self) -> str:
        return self.hint or f"fit(X, checkpoint_dir={str(self.folder)!r}, resume=True)"


@dataclass(frozen=True)
class WarmStart:
    """Training on from an earlier fit (``warm_start=True``): its epoch count and, when it was kept,
    its optimiser state. The loop numbers the new epochs from ``epoch`` on."""

    epoch: int = 0
    optimizer_state: dict[str, Any] | None = None
