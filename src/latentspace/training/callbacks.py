"""Hooks into the training loop: at the start, after every optimiser step, after every epoch, at the end.

Pass objects with any of these methods as the estimators' ``callbacks=[...]``:

    on_train_begin(info)   info: {"params": the estimator's parameters (JSON), "epochs", "initial_epoch",
                           "steps_per_epoch"}
    on_step(record)        record: {"epoch": 1-based epoch, "step": global optimiser step (1-based),
                           "loss": ..., and every other loss term} as 0-d tensors on the training
                           device. Reading one (``float(record["loss"])``) waits for the GPU: do it
                           every N steps, not every step.
    on_epoch_end(record)   record: the epoch's row of ``history_`` (``epoch``, ``train_<term>``,
                           ``val_<term>``, ``seconds``), plain floats
    on_train_end(records)  every record so far; called also when training stops on an error or an
                           interrupt, so files get closed

The step hook costs nothing when no callback defines ``on_step``: the loop then holds None and makes no
call. Under torchrun only rank 0 calls the hooks. :class:`Callback` is a convenient base class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

StepHook = Callable[[dict[str, Any]], None]


class Callback:
    """Base class with no-op hooks; define ``on_step`` in a subclass only if it is needed."""

    def on_train_begin(self, info: dict[str, Any]) -> None:
        """Training starts (or resumes); ``info`` as in the module docstring."""

    def on_epoch_end(self, record: dict[str, float]) -> None:
        """One epoch finished; ``record`` is its row of the history."""

    def on_train_end(self, records: list[dict[str, float]]) -> None:
        """Training stopped (finished, early-stopped, interrupted or failed)."""


def step_hook(callbacks: Sequence[Any]) -> StepHook | None:
    """One function calling every callback's ``on_step``, or None when none has one (the fast path)."""
    hooks = [cb.on_step for cb in callbacks if callable(getattr(cb, "on_step", None))]
    if not hooks:
        return None
    if len(hooks) == 1:
        return hooks[0]

    def every(record: dict[str, Any]) -> None:
        for hook in hooks:
            hook(record)

    return every


def call_all(callbacks: Sequence[Any], method: str, argument: Any) -> None:
    """``callback.method(argument)`` for every callback that has ``method``."""
    for callback in callbacks:
        hook = getattr(callback, method, None)
        if callable(hook):
            hook(argument)
