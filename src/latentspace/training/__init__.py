"""The one training loop and what it stands on: batch sources, resumable state, DDP, signals.

    loop.py         ``train(model, X, config, generator)``: epochs, steps, validation, early stopping
    config.py       ``TrainConfig`` (how to optimise) and ``CheckpointPlan`` (where to keep checkpoints)
    batches.py      in-memory and memory-mapped batch sources
    state.py        resumable training checkpoints (safetensors + JSON)
    distributed.py  DistributedDataParallel under torchrun
    interrupts.py   SIGINT/SIGTERM: checkpoint, then stop
"""

from .config import CheckpointPlan, TrainConfig
from .loop import History, train

__all__ = ["train", "TrainConfig", "CheckpointPlan", "History"]
