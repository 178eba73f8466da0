"""SIGINT / SIGTERM during training: finish the current step, save a checkpoint, then stop.

The handler only sets a flag. In a single process the loop looks at ``flag.now`` after every step (a
Python attribute read: no tensor work). Under DDP every rank must stop at the same step, so ranks
agree at the next checkpoint boundary instead (one all-reduce there, none per step).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .distributed import World


@dataclass
class InterruptFlag:
    #: stop after this step (single process only)
    now: bool = False
    #: a signal arrived; under DDP acted on at the next checkpoint boundary
    pending: bool = False
    signal_name: str = ""


@contextmanager
def catch_interrupts(world: World, enabled: bool) -> Iterator[InterruptFlag]:
    """Install SIGINT/SIGTERM handlers for the duration (main thread only; else a plain flag)."""
    flag = InterruptFlag()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag.pending and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: the user does not want to wait for the save
        flag.pending, flag.signal_name = True, signal.Signals(signum).name
        flag.now = not world.distributed

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
