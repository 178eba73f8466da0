"""Training budgets that scale with the data: the rule behind ``epochs="auto"`` and friends.

A fixed number of epochs is wrong at both ends: 50 epochs of a 1,300-row data set are 550 optimiser
steps (a VAE is far from converged), 50 epochs of a 60,000-row one are 23,000 (hours on a laptop).
The rule gives every model at least ``STEP_BUDGET`` optimiser steps, and at least ``MIN_EPOCHS``
passes over the data, whichever is more, capped at ``MAX_EPOCHS`` (``DEFAULT_RULE``; the linear AE,
whose tuned schedule converges in fewer steps, has ``LINEAR_RULE``). Early stopping on the validation
loss (the VAE's is its negative ELBO at full KL weight) ends a run whose budget was too generous, and
restores the best epoch's weights. The KL warm-up spans the first ``WARMUP_FRACTION`` of the epochs.
docs/training.md states the rule and the measurements behind it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class EpochRule:
    """``epochs="auto"``: enough epochs for ``steps`` optimiser steps, and at least ``min_epochs``
    passes over the data, whichever is more; at most ``max_epochs``."""

    steps: int
    min_epochs: int
    max_epochs: int

    def epochs(self, n_train: int, batch_size: int, world_size: int = 1) -> int:
        by_steps = math.ceil(self.steps / steps_per_epoch(n_train, batch_size, world_size))
        return int(min(self.max_epochs, max(self.min_epochs, by_steps)))

    def describe(self) -> str:
        """The rule in words, for parameter help texts."""
        return (f"{self.steps:,} optimiser steps and at least {self.min_epochs} passes, "
                f"at most {self.max_epochs:,}")


#: the deep AE's and the VAE's rule
DEFAULT_RULE = EpochRule(steps=6000, min_epochs=20, max_epochs=1000)
# The linear AE's own schedule (lr 0.05, cosine, batches of 512) was measured to reach PCA's subspace
# within 0.2 degrees on digits in 300 epochs (900 steps) and within 0.74 degrees on Fashion-MNIST
# (60,000 rows, k = 16) in 60 epochs (7,080 steps). A flat 300 epochs there is 35,400 steps: 3.5
# minutes of a 2-core machine per fit for no better subspace. See docs/pca.md.
LINEAR_RULE = EpochRule(steps=7000, min_epochs=20, max_epochs=300)
# The VAE's defaults (lr 5e-3, "warmup_cosine") converge in fewer steps than Adam's usual constant 1e-3
# (docs/training.md, "Time to a good model"): on digits 2,000 steps reach the held-out IW-NLL that 6,000
# steps at 1e-3 did (23.3 nats). On Fashion-MNIST's 54,000 training rows, 10 passes (4,220 steps) reach
# the held-out -ELBO that 20 passes at 1e-3 reach in 8.5 of them (15 passes: in 11, at 1.5 nats better
# IW-NLL); the minimum binds only above ~25,600 rows. benchmarks/time_to_quality.py has the table.
VAE_RULE = EpochRule(steps=2000, min_epochs=10, max_epochs=1000)
#: optimiser steps every model gets at least (small data sets: many epochs)
STEP_BUDGET = DEFAULT_RULE.steps
#: passes over the data every model gets at least (large data sets: enough epochs)
MIN_EPOCHS = DEFAULT_RULE.min_epochs
#: no more than this many epochs, however small the data
MAX_EPOCHS = DEFAULT_RULE.max_epochs
#: share of the epochs over which a VAE's KL weight ramps from 0 to beta. Half, not a tenth (docs/training.md,
#: "The KL warm-up"): on digits (VAE(16), auto budget, two random states) the held-out IW-NLL is 23.28-23.30
#: nats against 23.51-23.54 with a tenth; on Fashion-MNIST (the time-to-quality workload, 10 passes) 233.8
#: against 234.9, reaching the plain loop's 20-epoch -ELBO as soon (8.5 epochs). Short fixed budgets gain
#: most: a tenth's warm-up is over before the encoder carries anything, and the posterior collapses (digits,
#: 300 steps at k = 1, 2, 4 over three random states: 3 of 9 fits kept no active unit; 500 steps with half,
#: five states: none of 15).
WARMUP_FRACTION = 0.5
#: early stopping waits this share of the epochs (at least MIN_PATIENCE) for a better validation loss
PATIENCE_FRACTION = 0.2
MIN_PATIENCE = 10

AUTO = "auto"


def steps_per_epoch(n_train: int, batch_size: int, world_size: int = 1) -> int:
    return max(1, math.ceil(math.ceil(n_train / max(1, world_size)) / max(1, batch_size)))


def auto_warmup(epochs: int) -> int:
    return int(math.ceil(WARMUP_FRACTION * epochs))


def auto_patience(epochs: int) -> int:
    return int(max(MIN_PATIENCE, math.ceil(PATIENCE_FRACTION * epochs)))


def resolve_epochs(value, n_train: int, batch_size: int, world_size: int = 1, rule: EpochRule = DEFAULT_RULE) -> int:
    return rule.epochs(n_train, batch_size, world_size) if value == AUTO else int(value)


def resolve_warmup(value, epochs: int) -> int:
    return auto_warmup(epochs) if value == AUTO else int(value)


def resolve_patience(value, epochs: int, has_validation: bool) -> int | None:
    """``"auto"``: early stopping whenever there is a validation set; None: never; an int: as given."""
    if value == AUTO:
        return auto_patience(epochs) if has_validation else None
    return None if value is None else int(value)
