"""The VAE's default learning-rate schedule ("warmup_cosine") and its step budget (VAE_RULE)."""

import pytest
import torch

from latentspace import VAE
from latentspace.training import budget
from latentspace.training.config import TrainConfig
from latentspace.training.loop import LR_FLOOR, LR_WARMUP_FRACTION, lr_factor, make_scheduler


def test_warmup_cosine_ramps_up_then_decays_to_the_floor():
    total = 1000
    warmup = int(LR_WARMUP_FRACTION * total)
    factors = [lr_factor("warmup_cosine", s, total) for s in range(total + 1)]
    assert factors[0] == pytest.approx(1 / warmup)
    assert all(a < b for a, b in zip(factors[:warmup], factors[1:warmup]))  # the ramp rises
    assert factors[warmup - 1] == pytest.approx(1.0) == factors[warmup]  # the peak is lr itself
    after = factors[warmup:]
    assert all(a >= b for a, b in zip(after, after[1:]))  # then it only falls
    assert factors[-1] == pytest.approx(LR_FLOOR)  # to a tenth, not to 0
    assert lr_factor("cosine", total, total) == pytest.approx(0.0)


def test_the_scheduler_sets_adams_rate_step_by_step():
    p = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([p], lr=5e-3)
    config = TrainConfig(epochs=4, lr=5e-3, lr_schedule="warmup_cosine")
    scheduler = make_scheduler(optimizer, config, steps_per_epoch=25)
    seen = []
    for _ in range(100):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen[0] == pytest.approx(5e-3 / 5)  # 5 warm-up steps of 100
    assert max(seen) == pytest.approx(5e-3)
    assert seen[-1] == pytest.approx(5e-3 * lr_factor("warmup_cosine", 99, 100))


def test_vae_defaults_use_the_schedule_and_their_own_budget(digits):
    vae = VAE()
    assert (vae.lr, vae.lr_schedule, vae.batch_size) == (5e-3, "warmup_cosine", 128)
    n_train = round(0.9 * len(digits.X_train))
    epochs = budget.VAE_RULE.epochs(n_train, 128)
    assert epochs * budget.steps_per_epoch(n_train, 128) >= budget.VAE_RULE.steps
    assert budget.VAE_RULE.epochs(54_000, 128) == budget.VAE_RULE.min_epochs  # large data: enough passes
    fitted = VAE(2, hidden=(32,), epochs=3, random_state=0).fit(digits.X_train[:300])
    assert fitted.history_[-1]["train_loss"] < fitted.history_[0]["train_loss"]
