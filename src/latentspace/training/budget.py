"""Training budgets that scale with the data: the rule behind ``epochs="auto"`` and friends.

A fixed number of epochs is wrong at both ends: 50 epochs of a 1,300-row data set are 550 optimiser
steps (a VAE is far from converged), 50 epochs of a 60,000-row one are 23,000 (hours on a laptop).
The rule gives every model at least ``STEP_BUDGET`` optimiser steps, and at least ``MIN_EPOCHS``
passes over the data, whichever is more, capped at ``MAX_EPOCHS``. Early stopping on the validation
loss (the VAE's is its negative ELBO at full KL weight) ends a run whose budget was too generous, and
restores the best epoch's weights. The KL warm-up spans the first ``WARMUP_FRACTION`` of the epochs.
docs/training.md states the rule and the measurements behind it.
"""

from __future__ import annotations

import math

#: optimiser steps every model gets at least (small data sets: many epochs)
STEP_BUDGET = 6000
#: passes over the data every model gets at least (large data sets: enough epochs)
MIN_EPOCHS = 20
#: no more than this many epochs, however small the data
MAX_EPOCHS = 1000
#: share of the epochs over which a VAE's KL weight ramps from 0 to beta
WARMUP_FRACTION = 0.1
#: early stopping waits this share of the epochs (at least MIN_PATIENCE) for a better validation loss
PATIENCE_FRACTION = 0.2
MIN_PATIENCE = 10

AUTO = "auto"


def steps_per_epoch(n_train: int, batch_size: int, world_size: int = 1) -> int:
    return max(1, math.ceil(math.ceil(n_train / max(1, world_size)) / max(1, batch_size)))


def auto_epochs(n_train: int, batch_size: int, world_size: int = 1) -> int:
    """Epochs that give ``STEP_BUDGET`` steps and at least ``MIN_EPOCHS`` passes, at most ``MAX_EPOCHS``."""
    by_steps = math.ceil(STEP_BUDGET / steps_per_epoch(n_train, batch_size, world_size))
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, by_steps)))


def auto_warmup(epochs: int) -> int:
    return int(math.ceil(WARMUP_FRACTION * epochs))


def auto_patience(epochs: int) -> int:
    return int(max(MIN_PATIENCE, math.ceil(PATIENCE_FRACTION * epochs)))


def resolve_epochs(value, n_train: int, batch_size: int, world_size: int = 1) -> int:
    return auto_epochs(n_train, batch_size, world_size) if value == AUTO else int(value)


def resolve_warmup(value, epochs: int) -> int:
    return auto_warmup(epochs) if value == AUTO else int(value)


def resolve_patience(value, epochs: int, has_validation: bool) -> int | None:
    """``"auto"``: early stopping whenever there is a validation set; None: never; an int: as given."""
    if value == AUTO:
        return auto_patience(epochs) if has_validation else None
    return None if value is None else int(value)
