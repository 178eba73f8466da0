"""Independent light computations side by side: one worker process per idle CPU, one thread each.

A light training step (a digits-sized network, a table of tens of columns: fewer than
``nn.backend.LIGHT_STEP_FLOPS``) is mostly per-call overhead, which a second thread does not shorten, so
one fit leaves a second CPU idle. Independent fits (the rows of a latent-size sweep) can use it: on
digits the full demo's sweep took 30.5 and 29.1 s in two processes against 50.7 and 41.4 s in one
(alternating, one run; docs/speed.md).

Workers are spawned, not forked (a fork copies torch's thread pools in whatever state they are), ignore
SIGINT (the parent stops them: Ctrl-C, an error, or a caller that stops iterating terminates the pool),
compute on one thread each (so their numbers can differ from a two-thread run's in the last digits,
as numpy's BLAS rounds by its thread count). ``task(state, item)`` must be a module-level function;
``state`` is sent to each worker once, each ``item`` and result once; results come back in the order of
``items``. A worker costs ~4 s to start (importing torch and the package), which a sweep's fits repay.
"""

from __future__ import annotations

import multiprocessing
import signal
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from .loop import preload_optimizer
from .threads import pin_process

Item = TypeVar("Item")
Result = TypeVar("Result")

_job: tuple[Callable[[Any, Any], Any], Any] | None = None  # (task, state), in a worker


def _start_worker(task: Callable[[Any, Any], Any], state: Any) -> None:
    global _job
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pin_process(1)
    preload_optimizer()  # torch._dynamo's import (~1 s), overlapping the first task's preparation
    _job = (task, state)


def _run(item: Any) -> tuple[Any, list[tuple[Warning, str, int]]]:
    """The task's result and the warnings it gave, which the parent gives again (to its own filters and
    printer: the command line's one-line warnings)."""
    task, state = _job
    with warnings.catch_warnings(record=True) as caught:
        result = task(state, item)
    return result, [(w.message, w.filename, w.lineno) for w in caught]


def side_by_side(task: Callable[[Any, Item], Result], state: Any, items: Iterable[Item], workers: int) -> Iterator[Result]:
    """``task(state, item)`` for each of ``items``, in order: in this process when ``workers`` <= 1 (or
    there is one item), else in ``workers`` spawned processes (at most one per item)."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield task(state, item)
        return
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(min(workers, len(items)), initializer=_start_worker, initargs=(task, state))
    try:
        for result, given in pool.imap(_run, items):
            for message, filename, lineno in given:
                warnings.warn_explicit(message, type(message), filename, lineno)
            yield result
        pool.close()
    except BaseException:  # Ctrl-C, a worker's error, or the caller stopped iterating (GeneratorExit)
        pool.terminate()
        raise
    finally:
        pool.join()
