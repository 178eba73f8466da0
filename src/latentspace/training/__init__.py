"""The one training loop and what it stands on: batch sources, resumable state, DDP, signals.

    loop.py         ``train(model, X, config, generator)``: epochs, steps, validation, early stopping
    config.py       ``TrainConfig`` (how to optimise) and ``CheckpointPlan`` (where to keep checkpoints)
    batches.py      in-memory and memory-mapped batch sources
    state.py        resumable training checkpoints (safetensors + JSON)
    distributed.py  DistributedDataParallel under torchrun
    interrupts.py   SIGINT/SIGTERM: checkpoint, then stop
    callbacks.py    the hooks: on_train_begin, on_step, on_epoch_end, on_train_end
    tracking.py     TensorBoard and MLflow loggers built on the hooks (optional extras)
"""

from .callbacks import Callback
from .config import CheckpointPlan, TrainConfig, WarmStart
from .loop import History, train
from .tracking import MLflowLogger, TensorBoardLogger

__all__ = ["train", "TrainConfig", "CheckpointPlan", "WarmStart", "History", "Callback", "TensorBoardLogger",
           "MLflowLogger"]
