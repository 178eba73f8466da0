"""The one training loop, shared by every model, on one process or many (DDP under torchrun).

Data come from a batch source (``batches``): in memory, one tensor sliced by a shuffled index; or
streamed from a memory-mapped file. Randomness comes only from the ``generator`` passed in: it yields
a shuffle seed (the same on every rank, so all ranks draw one permutation and take their shard) and a
noise seed (offset by rank, so each rank's VAE noise differs). Each epoch's order is a pure function
of (shuffle seed, epoch), and the noise generator's state is checkpointed, so a resumed run continues
bit-for-bit where it stopped.

The hot loop (``run_steps``) does no host sync and no per-step Python beyond the step itself: the
loss terms of each step are stacked into a preallocated device tensor, which is summed and checked
for NaN/inf once per epoch and at each checkpoint (see ``check_finite``).
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .._files import read_json
from ..errors import Advice, CheckpointError, Setting, TrainingDivergedError, TrainingInterrupted
from ..nn import backend, denormals
from ..nn.models import LatentModel
from . import budget, distributed
from . import state as train_state
from .batches import MemmapBatches, TensorBatches
from .callbacks import StepHook, call_all, step_hook
from .config import CheckpointPlan, TrainConfig, WarmStart
from .distributed import World
from .interrupts import InterruptFlag, catch_interrupts
from .progress import on_terminal, progress_bar
from .state import TrainingState


@dataclass
class History:
    """Per-epoch records: ``epoch``, ``train_<term>`` and ``val_<term>`` for every loss term, ``seconds``."""

    records: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    #: how the products ran: kernel, precision, how chosen, timings (ms), threads (nn.backend.Choice)
    compute: dict[str, Any] = field(default_factory=dict)
    #: the optimiser's state at the end (for a warm start)
    optimizer_state: dict[str, Any] | None = None


_optimizer_import: threading.Thread | None = None


def _import_optimizer_machinery() -> None:
    import torch._dynamo  # noqa: F401  (torch.optim's param-group code imports it on first use)


def preload_optimizer() -> None:
    """Start importing what the first optimiser construction needs (torch._dynamo: 1-10 s, once per
    process) in the background, so that it overlaps a fit's data preparation instead of following it."""
    global _optimizer_import
    if _optimizer_import is None and "torch._dynamo" not in sys.modules:
        _optimizer_import = threading.Thread(target=_import_optimizer_machinery, daemon=True)
        _optimizer_import.start()


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if _optimizer_import is not None:
        _optimizer_import.join()
    params = [p for p in model.parameters() if p.requires_grad]
    # Adam's coupled weight decay adds lambda * w to the gradient, so its fixed points minimise
    # loss + lambda/2 ||w||^2: a true L2 penalty, which the linear-AE theory (Kunin et al.) assumes.
    # AdamW's decoupled decay has different fixed points.
    fused = all(p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused)


#: "warmup_cosine": the share of the steps over which the learning rate ramps up linearly from lr / steps
LR_WARMUP_FRACTION = 0.05
#: "warmup_cosine": the learning rate at the last step, as a share of ``lr``
LR_FLOOR = 0.1
LR_SCHEDULES = ("constant", "cosine", "warmup_cosine")


def lr_factor(schedule: str, step: int, total: int) -> float:
    """The learning rate of optimiser step ``step`` (0-based) of ``total``, as a share of ``lr``.

    "cosine" decays from 1 to 0. "warmup_cosine" ramps up linearly over the first ``LR_WARMUP_FRACTION``
    of the steps (a high rate at the first steps, while Adam's moment estimates are still poor, can throw
    a VAE into a bad region), then decays along a cosine to ``LR_FLOOR``: measured on Fashion-MNIST
    (docs/training.md), lr 5e-3 with this schedule reached in 13 epochs the held-out -ELBO a constant
    1e-3 reaches in 20.
    """
    step = min(step, total)
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * step / total))
    warmup = max(1, int(LR_WARMUP_FRACTION * total))
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return LR_FLOOR + (1.0 - LR_FLOOR) * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int):
    if config.lr_schedule == "constant":
        return None
    if config.lr_schedule in LR_SCHEDULES:
        total, schedule = max(1, config.epochs * steps_per_epoch), config.lr_schedule
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(schedule, step, total))
    raise ValueError(f"unknown lr_schedule {config.lr_schedule!r}; choose one of {', '.join(LR_SCHEDULES)}")


#: the seeds of different ranks' noise generators are this far apart
NOISE_RANK_STRIDE = 1_000_003
#: the validation noise's seed is the run's noise seed plus this (the same every epoch)
VALIDATION_NOISE_OFFSET = 7_777_777


def as_batches(X) -> TensorBatches | MemmapBatches:
    """A batch source: tensors take the in-memory fast path; sources (anything with ``plan``, as the
    memmap and stream ones) pass through."""
    return X if isinstance(X, (TensorBatches, MemmapBatches)) or hasattr(X, "plan") else TensorBatches(X)


#: rows per forward pass when a loss is scored on held-out data
SCORE_CHUNK = 4096


def score_chunk(model: LatentModel, batch_size: int) -> int:
    """Rows per forward pass when scoring ``model``'s loss: ``SCORE_CHUNK``; the training ``batch_size`` for
    a loss that couples a batch's rows (``batch_coupled``: a WAE's MMD, a beta-TCVAE's minibatch estimate
    of q(z)). Its estimate depends on how many rows it sees, so it is scored as it was trained, and its
    cost grows with their square: a WAE's validation at 4,096 rows took 5 s an epoch on Fashion-MNIST,
    twice its 422 training steps."""
    return int(batch_size) if getattr(model, "batch_coupled", False) else SCORE_CHUNK


@torch.inference_mode()
def evaluate_loss(model: LatentModel, X, generator: torch.Generator, chunk: int = SCORE_CHUNK) -> dict[str, float]:
    """Mean of every loss term over ``X`` (a tensor ``(n, n_features)`` or a batch source), in chunks of
    ``chunk`` rows, each weighted by its rows."""
    source = as_batches(X)
    model.eval()
    sums: dict[str, torch.Tensor] = {}
    for xb in source.chunks(chunk):
        for name, value in model(xb, generator=generator).items():
            term = value.detach().double() * xb.shape[0]
            sums[name] = sums[name] + term if name in sums else term
    model.train()
    return {name: float(total) / source.n for name, total in sums.items()}


def draw_seed(generator: torch.Generator) -> int:
    return int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device).item())


def epoch_generator(shuffle_seed: int, epoch: int) -> torch.Generator:
    """The generator of one epoch's order: the same on every rank and on a resumed run."""
    return torch.Generator().manual_seed(shuffle_seed + epoch)


@dataclass
class Loop:
    """What one training run holds, so the epoch functions take one argument instead of twelve."""

    model: LatentModel
    step_fn: Callable[..., dict[str, torch.Tensor]]  # the model, or its DDP wrapper
    params: list[torch.nn.Parameter]
    data: TensorBatches | MemmapBatches
    val: TensorBatches | MemmapBatches | None
    config: TrainConfig
    checkpoints: CheckpointPlan
    optimizer: torch.optim.Optimizer
    scheduler: Any
    noise: torch.Generator
    world: World
    device: torch.device
    seeds: dict[str, int]
    flag: InterruptFlag = field(default_factory=InterruptFlag)
    #: called after every optimiser step, or None (then the hot loop makes no call at all)
    on_step: StepHook | None = None
    #: (1-based epoch, global steps before this epoch's step 0), for the step hook's record
    step_base: tuple[int, int] = (1, 0)
    #: when the last checkpoint was saved and how long saving took (perf_counter seconds), for ``save_due``
    last_save: tuple[float, float] = (float("-inf"), 0.0)


def train(
    model: LatentModel,
    X,
    config: TrainConfig,
    generator: torch.Generator,
    X_val=None,
    checkpoints: CheckpointPlan | None = None,
    callbacks: Sequence[Any] = (),
    params: dict[str, Any] | None = None,
    warm: WarmStart | None = None,
) -> History:
    """Fit ``model`` on ``X`` (a tensor ``(n, n_features)`` or a batch source); return the history.

    Under torchrun this joins the process group and trains with DistributedDataParallel: ``X`` is the
    whole data set on every rank, each rank trains on its shard. With ``X_val`` and
    ``config.patience``, the weights of the best validation epoch are restored. ``checkpoints`` says
    where resumable checkpoints go and whether to continue from one (None: no checkpoints).
    ``callbacks`` get the hooks of ``callbacks.py`` (rank 0 only), ``params`` is what their
    ``on_train_begin`` reports; ``warm`` continues an earlier fit (epoch numbering, optimiser state).
    """
    checkpoints = checkpoints or CheckpointPlan()
    device = next(model.parameters()).device
    world = distributed.setup(device)
    data = as_batches(X)
    val = None if X_val is None else as_batches(X_val)
    seeds = {"shuffle_seed": draw_seed(generator), "noise_seed": draw_seed(generator)}
    noise = torch.Generator(device=device).manual_seed(seeds["noise_seed"] + NOISE_RANK_STRIDE * world.rank)
    # a stream of the user's own batches knows its step count; the others follow the batch size
    steps_per_epoch = getattr(data, "steps_per_epoch", None) or budget.steps_per_epoch(data.n, config.batch_size, world.size)
    backend.check_precision(config.precision, device)
    choice = backend.choose_kernels(model, config.batch_size, config.precision, reproducible=config.reproducible)
    optimizer = make_optimizer(model, config)
    if warm is not None and warm.optimizer_state is not None:
        optimizer.load_state_dict(warm.optimizer_state)
    loop = Loop(
        model=model,
        step_fn=wrap_for_ddp(model, world, device),
        params=[p for p in model.parameters() if p.requires_grad],
        data=data,
        val=None if val is None or val.n == 0 else val,
        config=config,
        checkpoints=checkpoints,
        optimizer=optimizer,
        scheduler=make_scheduler(optimizer, config, steps_per_epoch),
        noise=noise,
        world=world,
        device=device,
        seeds=seeds,
    )
    state = TrainingState(terms=loss_terms(model, data), epoch=warm.epoch if warm else 0)
    if checkpoints.resume and checkpoints.folder is not None and train_state.exists(checkpoints.folder):
        state, kernel = resume(loop, state)
        choice = backend.resumed_choice(choice, kernel)
    model.train()
    progress = step_progress(config, state, steps_per_epoch, show=config.verbose and world.is_main)
    hooks = (tuple(callbacks) if world.is_main else ()) + ((progress,) if progress is not None else ())
    loop.on_step = step_hook(hooks)
    info = {"params": params or {}, "epochs": config.epochs, "initial_epoch": state.epoch,
            "steps_per_epoch": steps_per_epoch}
    call_all(hooks, "on_train_begin", info)
    try:
        with backend.using(choice.kernels), denormals.flushing(device) as flushed, \
                catch_interrupts(world, enabled=checkpoints.folder is not None) as loop.flag:
            while not state.finished and state.epoch < config.epochs:
                call_all(hooks, "on_epoch_end", run_epoch(loop, state))
    finally:
        call_all(hooks, "on_train_end", state.records)
    if state.best_state is not None:
        model.load_state_dict(state.best_state)
    model.eval()
    return History(state.records, state.best_epoch, {**choice.record(), "denormals": "flushed" if flushed else "kept"},
                   optimizer_state=optimizer.state_dict())


class StepProgress:
    """The progress bar, counting optimiser steps (an epoch of Fashion-MNIST is hundreds of them), the
    last epoch's losses beside it; a callback like any other, so a quiet run pays nothing for it."""

    def __init__(self, total: int, initial: int, epoch: int, epochs: int):
        self.bar = progress_bar(total=total, initial=initial, desc=f"epoch {epoch}/{epochs}", unit="step", leave=False)
        self.epochs = epochs

    def on_step(self, record: dict[str, Any]) -> None:
        self.bar.update(1)
        self.bar.set_description(f"epoch {record['epoch']}/{self.epochs}", refresh=False)

    def on_epoch_end(self, record: dict[str, float]) -> None:
        self.bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k.endswith("_loss")})

    def on_train_end(self, records) -> None:
        self.bar.close()


def step_progress(config: TrainConfig, state: TrainingState, steps_per_epoch: int, show: bool) -> StepProgress | None:
    if not (show and on_terminal()):
        return None
    done = state.epoch * steps_per_epoch + state.step
    return StepProgress(config.epochs * steps_per_epoch, done, min(state.epoch + 1, config.epochs), config.epochs)


def wrap_for_ddp(model: LatentModel, world: World, device: torch.device):
    """DistributedDataParallel around ``model`` under torchrun (its forward returns the loss dict, so
    DDP's gradient hooks see the whole computation); the model itself otherwise."""
    if not world.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


@torch.inference_mode()
def loss_terms(model: LatentModel, data: TensorBatches | MemmapBatches) -> list[str]:
    """The names of the model's loss terms, from a two-row forward pass with throwaway noise."""
    was_training = model.training
    model.eval()
    xb = data.head(2)
    names = list(model(xb, generator=torch.Generator(device=xb.device).manual_seed(0)))
    model.train(was_training)
    return names


def resume(loop: Loop, fresh: TrainingState) -> tuple[TrainingState, str | None]:
    """The state saved in the run's checkpoint folder, and the kernel it was computed with (if recorded)."""
    folder = loop.checkpoints.folder
    meta, tensors = train_state.read(folder)
    if loop.checkpoints.fingerprint is not None and meta.get("fingerprint") not in (None, loop.checkpoints.fingerprint):
        old, new = meta["fingerprint"], loop.checkpoints.fingerprint
        diff = ", ".join(f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k))
        raise CheckpointError(f"{folder}: the checkpoint was made with other data or parameters ({diff})")
    if meta.get("world_size", 1) != loop.world.size and meta.get("step", 0) != 0:
        raise CheckpointError(
            f"{folder}: checkpoint made mid-epoch by {meta.get('world_size')} processes; resume with the same number"
        )
    if meta.get("terms") != fresh.terms:
        raise CheckpointError(f"{folder}: checkpoint's loss terms {meta.get('terms')} differ from the model's {fresh.terms}")
    loop.seeds = {k: int(meta[k]) for k in loop.seeds}
    kernel = meta.get("kernel") if isinstance(meta.get("kernel"), str) else None
    state = train_state.restore(meta, tensors, loop.model, loop.optimizer, loop.scheduler, loop.noise)
    if state.finished and not state.stopped_early and state.epoch < loop.config.epochs:
        state.finished = False  # a finished run given more epochs: it goes on
    return state, kernel


def next_pause(state: TrainingState, steps: int, every: int | None) -> int:
    """The step at which to stop for a checkpoint: the epoch's end or the next multiple of ``every``."""
    if every is None:
        return steps
    return min(steps, state.step + every - state.global_step % every)


def run_epoch(loop: Loop, state: TrainingState) -> dict[str, float]:
    """Run (the rest of) epoch ``state.epoch``; checkpoint at pauses and at the end; return its record."""
    config, world = loop.config, loop.world
    epoch = state.epoch
    loop.model.start_epoch(epoch)
    started = time.perf_counter()
    plan = loop.data.plan(epoch_generator(loop.seeds["shuffle_seed"], epoch), config.batch_size, world)
    rows = torch.zeros(plan.steps, len(state.terms), device=loop.device)
    if state.step and state.rows is not None:
        rows[: state.step] = state.rows[: state.step]
    state.rows = rows
    batches = plan.batches(state.step)
    loop.step_base = (epoch + 1, state.global_step - state.step)
    while state.step < plan.steps:
        reached = run_steps(loop, batches, state.step, next_pause(state, plan.steps, loop.checkpoints.every), rows, state.terms)
        state.global_step += reached - state.step
        state.step = reached
        if reached < plan.steps:  # a checkpoint boundary, or an interrupt
            stop_for_bad_loss(loop, state, plan.steps)
            stop_for_bad_weights(loop, state)
            pause(loop, state)
    stop_for_bad_loss(loop, state, plan.steps)
    stop_for_bad_weights(loop, state)
    sizes = torch.tensor(plan.sizes, dtype=torch.float64, device=loop.device)
    totals = distributed.sum_across(torch.cat([(rows.double() * sizes[:, None]).sum(0), sizes.sum()[None]]), world)
    totals = totals.tolist()
    record: dict[str, float] = {"epoch": float(epoch + 1)}
    record.update({f"train_{name}": total / totals[-1] for name, total in zip(state.terms, totals)})
    if loop.val is not None:
        val = validation_loss(loop)
        stop_for_bad_outputs(loop, state, val, "validation loss")
        record.update({f"val_{k}": v for k, v in val.items()})
    elif last_look(loop, state):  # finite weights can still give NaN (1e30 * 1e30): score a few training rows
        probe = evaluate_loss(loop.model, loop.data.head(PROBE_ROWS), torch.Generator(loop.device).manual_seed(0),
                              score_chunk(loop.model, loop.config.batch_size))
        stop_for_bad_outputs(loop, state, probe, "loss")
    record["seconds"] = time.perf_counter() - started
    state.records.append(record)
    update_early_stopping(loop, state, record)
    state.epoch, state.step, state.rows = epoch + 1, 0, None
    state.finished = state.stopped_early or state.epoch >= config.epochs
    pause(loop, state)
    return record


def run_steps(loop: Loop, batches: Iterator[torch.Tensor], start: int, stop: int, rows: torch.Tensor, terms: list[str]) -> int:
    """The hot loop: steps ``[start, stop)`` of the epoch; returns the step reached (sooner on SIGINT).

    No host sync here: each step's loss terms go into ``rows[step]`` on the device.
    """
    step_fn, params, optimizer, scheduler, noise, flag = (
        loop.step_fn, loop.params, loop.optimizer, loop.scheduler, loop.noise, loop.flag
    )
    transform, clip, on_step = loop.config.batch_transform, loop.config.grad_clip, loop.on_step
    for step, xb in zip(range(start, stop), batches):
        if transform is not None:
            xb = transform(xb, noise)
        losses = step_fn(xb, generator=noise)
        optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        with torch.no_grad():
            torch.stack([losses[name] for name in terms], out=rows[step])
        if on_step is not None:
            report_step(loop, step, losses)
        if flag.now:
            return step + 1
    return stop


def report_step(loop: Loop, step: int, losses: dict[str, torch.Tensor]) -> None:
    """The step hook's record: 1-based epoch and global step, and the step's loss terms (device tensors)."""
    epoch, base = loop.step_base
    loop.on_step({"epoch": epoch, "step": base + step + 1, **{k: v.detach() for k, v in losses.items()}})


def validation_loss(loop: Loop) -> dict[str, float]:
    """Every rank scores the whole validation set; the mean over ranks keeps their decisions equal.

    Every epoch draws the same noise (a generator seeded afresh from the run's noise seed): epochs are
    compared on common random numbers, so early stopping reacts to the model, not to the draws (with
    fresh draws a VAE's validation ELBO on 144 digits jittered enough to stop training early), and
    validation never consumes the training noise.
    """
    noise = torch.Generator(device=loop.device).manual_seed(loop.seeds["noise_seed"] + VALIDATION_NOISE_OFFSET)
    val = evaluate_loss(loop.model, loop.val, noise, score_chunk(loop.model, loop.config.batch_size))
    if not loop.world.distributed:
        return val
    mean = distributed.sum_across(torch.tensor(list(val.values()), dtype=torch.float64, device=loop.device), loop.world)
    return {name: value / loop.world.size for name, value in zip(val, mean.tolist())}


def update_early_stopping(loop: Loop, state: TrainingState, record: dict[str, float]) -> None:
    if loop.config.patience is None or "val_loss" not in record:
        return
    if not loop.model.counts_for_early_stopping(int(record["epoch"])):
        return
    if record["val_loss"] < state.best_val:
        state.best_val, state.bad_epochs, state.best_epoch = record["val_loss"], 0, int(record["epoch"])
        state.best_state = snapshot(loop.model)
    else:
        state.bad_epochs += 1
        state.stopped_early = state.bad_epochs >= loop.config.patience


#: an epoch-end checkpoint is skipped while the time since the last one is under this many times what that
#: one took to save: checkpoints then cost at most ~5% of the training time. A small table's epoch takes
#: ~10 ms and its checkpoint ~20 ms (safetensors, JSON, fsync), so saving every epoch tripled the run
#: (wine, 211 epochs: 4.7 of 7.7 s in saving); Fashion-MNIST's 4-second epochs are still saved every one.
SAVE_INTERVAL_FACTOR = 20.0


def save_due(loop: Loop, state: TrainingState, interrupted: bool) -> bool:
    """Whether this pause writes a checkpoint: always when interrupted, at the run's end and at the
    ``every``-step boundaries asked for; at an epoch end only when ``SAVE_INTERVAL_FACTOR`` allows it."""
    if interrupted or state.finished or state.step:  # state.step > 0: a --checkpoint-every boundary
        return True
    last, took = loop.last_save
    return time.perf_counter() - last >= SAVE_INTERVAL_FACTOR * took


def pause(loop: Loop, state: TrainingState) -> None:
    """A checkpoint boundary: save (rank 0) when due, then stop here if a signal arrived on any rank."""
    world = loop.world
    interrupted = distributed.any_across(loop.flag.pending, world, loop.device)
    plan = loop.checkpoints
    if plan.folder is not None and world.is_main and save_due(loop, state, interrupted):
        # The kernel is saved so that a resumed run computes with the same one: two kernels round
        # differently, and a fresh measurement in the resuming process may pick the other.
        extra = {**loop.seeds, "world_size": world.size, "fingerprint": plan.fingerprint,
                 "kernel": backend.active().kernel}
        started = time.perf_counter()
        train_state.save(plan.folder, state, loop.model, loop.optimizer, loop.scheduler, loop.noise, extra)
        saved = time.perf_counter()
        loop.last_save = (saved, saved - started)
    if interrupted and not state.finished:
        where = f"epoch {state.epoch + 1}, step {state.step}" if state.step else f"the end of epoch {state.epoch}"
        raise TrainingInterrupted(
            f"{loop.flag.signal_name or 'interrupt'}: stopped at {where}; checkpoint saved in "
            f"{plan.folder}; resume with: {plan.how_to_resume()}"
        )


def stop_for_bad_loss(loop: Loop, state: TrainingState, steps: int) -> None:
    """Raise TrainingDivergedError if any loss so far this epoch is NaN/inf (one host sync).

    Called at every checkpoint boundary and epoch end, before anything is saved, so the checkpoint on
    disk is always the last good one.
    """
    rows = state.rows[: state.step]
    bad = ~torch.isfinite(rows)
    if not distributed.any_across(bool(bad.any()), loop.world, loop.device):
        return
    where, term, value = "on another rank", "loss", float("nan")
    if bad.any():
        first = int(bad.any(1).nonzero()[0, 0])
        columns = [c for c in range(len(state.terms)) if bad[first, c]]
        col = next((c for c in columns if state.terms[c] != "loss"), columns[0])
        term, value = state.terms[col], float(rows[first, col])
        step_number = state.global_step - state.step + first + 1
        where = f"at step {step_number} (epoch {state.epoch + 1}, step {first + 1} of {steps})"
    raise diverged(loop, f"loss term {term!r} became {value} {where}")


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the model's state dict (the best epoch's weights): a clone per tensor, an eighth of
    ``copy.deepcopy``'s cost, which an epoch of one step felt."""
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def weights_finite(params: Sequence[torch.Tensor]) -> bool:
    """Whether every entry of every tensor in ``params`` is finite (one host sync).

    Each tensor's minimum and maximum (NaN propagates through both, -inf shows in the one, +inf in the
    other) rather than torch.isfinite, whose CPU kernel took 1.3-1.6 ms an epoch on a 300,000-weight
    MLP (this: 0.2 ms)."""
    extremes = [torch.stack(torch.aminmax(p.detach())) for p in params if p.numel()]  # aminmax refuses empty tensors
    return not extremes or bool(torch.stack(extremes).isfinite().all())


def stop_for_bad_weights(loop: Loop, state: TrainingState) -> None:
    """Raise TrainingDivergedError when an update left a weight NaN/inf: the losses of the steps so far
    were computed before their updates, so a blow-up on the last step shows only here."""
    if distributed.any_across(not weights_finite(loop.params), loop.world, loop.device):
        raise diverged(loop, f"the weights became NaN or infinite in epoch {state.epoch + 1} (after step {state.global_step})")


#: training rows scored after the last epoch (and each checkpointed one) when there is no validation set
PROBE_ROWS = 256


def last_look(loop: Loop, state: TrainingState) -> bool:
    """Whether these end-of-epoch weights are kept without another training step scoring them first:
    the last epoch's, or a checkpoint's. Any other epoch's are scored by the next epoch's first step,
    whose loss ``stop_for_bad_loss`` checks, so probing them too would only repeat that (and cost a
    third of a one-step epoch: 20% of a small-data fit)."""
    return state.epoch + 1 >= loop.config.epochs or loop.checkpoints.folder is not None


def stop_for_bad_outputs(loop: Loop, state: TrainingState, losses: dict[str, float], what: str) -> None:
    """Raise TrainingDivergedError when the end-of-epoch weights give a NaN/inf ``what``."""
    bad = {k: v for k, v in losses.items() if not math.isfinite(v)}
    if distributed.any_across(bool(bad), loop.world, loop.device):
        term, value = next(iter(bad.items()), ("loss", float("nan")))
        raise diverged(loop, f"the {what} term {term!r} of the weights after epoch {state.epoch + 1} is {value}")


def diverged(loop: Loop, what: str) -> TrainingDivergedError:
    """The one divergence message: what went wrong, which checkpoint is kept, what to try."""
    config, folder = loop.config, loop.checkpoints.folder
    if folder is None:
        kept = "no checkpoint was kept (pass checkpoint_dir to keep one)"
    elif train_state.exists(folder):
        meta = read_json(Path(folder) / train_state.STATE_FILE, CheckpointError, "training checkpoint")
        epoch = meta["epoch"] + (1 if meta["step"] else 0)
        kept = f"the last good checkpoint (after step {meta['global_step']}, epoch {epoch}) is kept in {folder}"
    else:
        kept = "it diverged before the first checkpoint was written"
    clip = ((Setting("grad_clip"), f" (now {config.grad_clip:g})") if config.grad_clip is not None
            else (Setting("grad_clip", 1.0),))
    return TrainingDivergedError(Advice(
        f"training diverged: {what}; {kept}; try a lower ", Setting("lr"), f" (now {config.lr:g}), ", *clip,
        ", or a ", Setting("likelihood"), " that matches the data (bernoulli needs data in [0, 1]; gaussian for "
        "real values)"))
