"""Independent computations side by side: one worker process per idle CPU, one thread each.

A light training step (a digits-sized network, a table of tens of columns: fewer than
``nn.backend.LIGHT_STEP_FLOPS``) is mostly per-call overhead, which a second thread does not shorten, so
one fit leaves a second CPU idle; a heavy one (Fashion-MNIST's networks) splits its products over two
threads, but gains little from the second (one 2-thread fit ~1.1x a 1-thread fit beside another). So
independent fits (the rows of a latent-size sweep) finish sooner side by side: on digits the full demo's
sweep took 30.5 and 29.1 s in two processes against 50.7 and 41.4 s in one; eight Fashion-MNIST fits of
three passes 51.4 and 51.8 s against 66.9 and 73.7 s (alternating, one run each; docs/speed.md).

Workers are spawned, not forked (a fork copies torch's thread pools in whatever state they are), ignore
SIGINT (the parent stops them: Ctrl-C, an error, or a caller that stops iterating terminates the pool),
compute on one thread each (so their numbers can differ from a two-thread run's in the last digits,
as numpy's BLAS rounds by its thread count). ``task(state, item)`` must be a module-level function;
``state`` is pickled once to a private temporary file that each worker reads once, each ``item`` and result
is sent once; results come back in the order of ``items``. A worker costs ~2-4 s to start (importing torch
and the package), which a sweep's fits repay; within ``shared_workers()`` (the demo) one pool serves every
computation, and is started once.
A spawned worker imports the program's ``__main__`` again: a script that computes outside
``if __name__ == "__main__":`` would run again in every worker, so there the work runs in this process,
with a ``OneProcessWarning`` that says how to have it side by side.
"""

from __future__ import annotations

import ast
import collections
import contextlib
import dataclasses
import functools
import itertools
import multiprocessing
import pickle
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..errors import LatentspaceError, LatentspaceWarning
from ..nn.backend import LIGHT_STEP_FLOPS
from . import threads
from .loop import preload_optimizer
from .threads import pin_process, resolve_workers

Item = TypeVar("Item")
Result = TypeVar("Result")

#: memory a worker takes besides its copy of the state: the interpreter, torch and the package (~300 MB
#: resident), a network, its optimiser and its activations
WORKER_BYTES = 600 * 2**20
#: work (in light steps: ``light_steps``) below which worker processes do not repay their start (~4 s
#: each, while a light step takes ~1 ms): digits' quick demo sweep (3,000 steps) stays in one process,
#: its full one (29,500) and Fashion-MNIST's do not
SIDE_BY_SIDE_MIN_STEPS = 10_000
#: the same, where a pool kept by ``shared_workers`` already runs: a computation then costs its workers only
#: its state (pickled once, read once by each) and its results, ~0.1 s for digits, while 1,000 light steps
#: take ~1 s: the digits demo's fit stage (8,900) and three families (6,600) go side by side there
WARM_MIN_STEPS = 1_000

_job: tuple[str, Callable[[Any, Any], Any], Any] | None = None  # (its file, task, state), in a worker
def _start_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pin_process(1)
    preload_optimizer()  # torch._dynamo's import (~1 s), overlapping the first task's preparation


def _job_from(path: str) -> tuple[Callable[[Any, Any], Any], Any]:
    """The task and state pickled to ``path`` by this worker's parent (``WorkerPool.hand_over``), read once
    per worker and kept until a task brings another (the last one is let go first: one in memory)."""
    global _job
    if _job is None or _job[0] != path:
        _job = None
        with open(path, "rb") as file:
            _job = (path, *pickle.load(file))  # written by this worker's parent process, never a user's file
    return _job[1], _job[2]


def _run(numbered: tuple[int, str, bytes]) -> tuple[int, Any, list[tuple[Warning, str, int]]]:
    """The item's number, the task's result and the warnings it gave, which the parent gives again (to its
    own filters and printer: the command line's one-line warnings). The job and the item are unpickled
    here, where an error (a task the worker cannot import) comes back to the parent as itself: in the
    pool's own unpickling it would end the worker and leave the parent waiting for ever."""
    index, path, item = numbered
    task, state = _job_from(path)
    with warnings.catch_warnings(record=True) as caught:
        result = task(state, pickle.loads(item))
    return index, result, [(w.message, w.filename, w.lineno) for w in caught]


class WorkerPool:
    """Spawned worker processes of one thread each, started once and given any number of side-by-side
    computations (``start``), several at a time if need be; each computation's task and state are pickled
    once to a private file that every worker reads once. ``close()`` ends them."""

    def __init__(self, processes: int):
        self.processes = int(processes)
        # started with one thread for every pool they load later too: a kept pool receives its state after
        # its start, so scikit-learn's OpenMP (loaded by a sweep row's mixture fit) took the machine's size,
        # and a row of the digits demo's sweep took 8-16 s instead of 5-6 (two threads, two workers, two CPUs)
        with threads.environment(threads.thread_environment(1)):  # the workers are started here, and inherit it
            self._pool = multiprocessing.get_context("spawn").Pool(self.processes, initializer=_start_worker)
        # its workers, watched (``ended_worker``): multiprocessing.Pool replaces a worker that dies (the
        # out-of-memory killer) without a word, and the task it computed is lost for good. (One killed while
        # it waited for a task can take the pool's task lock with it: then every worker, and even the pool's
        # terminate, waits for ever; only concurrent.futures' ProcessPoolExecutor survives that.)
        self._workers = list(getattr(self._pool, "_pool", ()))
        self._folder = Path(tempfile.mkdtemp(prefix="latentspace-workers-"))
        self._calls = itertools.count()
        self._lock = threading.Lock()  # the pool's result thread hands items over and counts them too
        self._outstanding = 0  # items handed to the workers and not finished, of every computation
        self._running: set[Computation] = set()  # computations with items not yet finished
        self._files: dict[tuple[int, int], _JobFile] = {}  # by the ids of (task, state)

    def hand_over(self, task: Callable[[Any, Any], Any], state: Any) -> Path:
        """``task`` and ``state`` pickled to a file of the pool's private folder (an OSError where it cannot be
        written: a full disk), for ``start``. The same task and state handed over again while a computation
        still holds their file (the demo's fits and its families' fits, begun together: one training set)
        share it, and the workers do not read it again."""
        key = (id(task), id(state))
        if key in self._files:
            self._files[key].users += 1
            return self._files[key].path
        path = self._folder / f"job-{next(self._calls)}.pickle"
        try:
            with open(path, "wb") as file:
                pickle.dump((task, state), file, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        self._files[key] = _JobFile(path, (task, state))  # kept: their ids stay theirs while the file lives
        return path

    def let_go(self, path: Path) -> None:
        """One computation is done with the file ``hand_over`` gave it; the last one removes it."""
        for key, job in list(self._files.items()):
            if job.path == path:
                job.users -= 1
                if job.users == 0:
                    del self._files[key]
                    path.unlink(missing_ok=True)

    def start(self, path: Path, items: Sequence[Any], order: Sequence[int], workers: int) -> Computation:
        """The items handed to the workers in ``order`` for the task and state handed over to ``path``: all at
        once where the computation may use every worker (the pool's queue is first in, first out, so a
        computation started earlier is served first: the demo starts its later stages' fits before its
        first stage needs its own), else ``workers`` at a time. They run whether or not anyone reads them."""
        return Computation(self, path, items, order, workers)

    def _count(self, change: int) -> None:
        """Items outstanding changed by ``change`` (call with ``_lock`` held); so many workers compute now."""
        busy = min(self._outstanding, self.processes)
        self._outstanding += change
        threads.busy_workers.add(min(self._outstanding, self.processes) - busy)

    @property
    def alive(self) -> bool:
        return self._pool is not None

    def ended_worker(self) -> str | None:
        """How a worker of this pool ended while it should be running (killed by a signal, or an exit
        code), or None while all run (or once the pool has ended)."""
        if self._pool is None:
            return None
        for worker in self._workers:
            code = worker.exitcode
            if code is not None:
                if code < 0:
                    return f"killed by signal {-code} ({signal.Signals(-code).name}{OOM_HINT if -code == signal.SIGKILL else ''})"
                return f"ended with exit code {code}"
        return None

    def close(self) -> None:
        """Let the workers finish and reap them (their CPU then counts as this process's: training.threads);
        work that no one has read yet (a computation begun ahead and never read) is stopped instead."""
        self._end(now=self._outstanding > 0)

    def terminate(self, error: LatentspaceError | None = None) -> None:
        """Stop the workers where they are (a computation abandoned while they compute) and reap them; every
        computation still running gets ``error`` (default: a ``WorkersStopped``) instead of its remaining
        results."""
        self._end(now=True, error=error)

    def _end(self, now: bool, error: LatentspaceError | None = None) -> None:
        if self._pool is not None:
            (self._pool.terminate if now else self._pool.close)()
            self._pool.join()
            self._pool = None
        with self._lock:
            self._count(-self._outstanding)
            for computation in list(self._running):
                computation.stopped(error or WorkersStopped("the worker processes were stopped before this "
                                                            "computation finished"))
        self._files.clear()
        shutil.rmtree(self._folder, ignore_errors=True)


class WorkersStopped(LatentspaceError):
    """The worker processes were stopped before a computation finished (another computation of the same
    pool was abandoned while they computed, or the pool's block ended)."""


class WorkerDied(WorkersStopped):
    """A worker process ended while the pool's computations still waited for it (killed by the
    out-of-memory killer, most often): what it computed is lost, so every computation of the pool stops."""


#: said of a worker killed by SIGKILL, which is what Linux's out-of-memory killer sends
OOM_HINT = (": out of memory? each worker holds its own copy of the data; --threads 1 or LATENTSPACE_THREADS=1 "
            "fit in one process")
#: seconds between looks at the workers while a computation waits for a result
WATCH_SECONDS = 1.0


@dataclasses.dataclass
class _JobFile:
    path: Path
    job: tuple[Any, Any]  # held, so that no other object takes its ids while the file is shared
    users: int = 1


class Computation:
    """One computation's items on a ``WorkerPool``: iterate for ``(index, result)`` as each finishes. Items
    are handed over as the pool allows (``WorkerPool.start``), from this thread and, as results arrive,
    from the pool's result thread. Stopped early (an error, Ctrl-C, a caller that stops iterating) while a
    worker still computes for it, the pool is terminated."""

    def __init__(self, pool: WorkerPool, path: Path, items: Sequence[Any], order: Sequence[int], workers: int):
        self._pool, self._path, self._items = pool, path, items
        self._waiting = collections.deque(order)
        self._limit = len(self._waiting) if workers >= pool.processes else max(1, workers)
        self._in_flight = 0  # handed to the workers, not finished
        self._unread = len(self._waiting)
        self._finished: queue.SimpleQueue = queue.SimpleQueue()
        with pool._lock:
            pool._running.add(self)
            self._hand_over_more()

    def _hand_over_more(self) -> None:  # with the pool's lock held
        while self._waiting and self._in_flight < self._limit:
            index = self._waiting.popleft()
            item = pickle.dumps(self._items[index], protocol=pickle.HIGHEST_PROTOCOL)
            self._pool._pool.apply_async(_run, ((index, str(self._path), item),),
                                         callback=self._done, error_callback=self._done)
            self._in_flight += 1
            self._pool._count(1)

    def _done(self, outcome: Any) -> None:
        """An item's outcome (its result or its error), in the pool's result thread."""
        self._finished.put(outcome)
        with self._pool._lock:
            self._in_flight -= 1
            self._pool._count(-1)
            try:
                if not isinstance(outcome, BaseException):
                    self._hand_over_more()
            except Exception as error:  # noqa: BLE001 (the pool was stopped meanwhile: never raise in its thread)
                self._waiting.clear()
                self._finished.put(error)
            if not self._in_flight and not self._waiting:
                self._pool._running.discard(self)

    def stopped(self, error: WorkersStopped) -> None:
        """The pool ended under it (with its lock held): what it still waits for will not come; ``error`` will."""
        self._pool._running.discard(self)
        self._waiting.clear()
        self._in_flight = 0
        self._finished.put(error)

    def _next_outcome(self) -> Any:
        """The next result or error to arrive; a worker that ended meanwhile ends the pool (its task is lost:
        multiprocessing.Pool would start another worker and never say), which sends a ``WorkerDied``."""
        while True:
            try:
                return self._finished.get(timeout=WATCH_SECONDS)
            except queue.Empty:
                how = self._pool.ended_worker()
                if how is not None:
                    self._pool.terminate(WorkerDied(f"a worker process {how} while fitting side by side"))

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        try:
            while self._unread:
                outcome = self._next_outcome()
                self._unread -= 1
                if isinstance(outcome, BaseException):
                    raise outcome
                index, result, given = outcome
                for message, filename, lineno in given:
                    warnings.warn_explicit(message, type(message), filename, lineno)
                yield index, result
        except BaseException:  # a task's error, Ctrl-C, or the caller stopped reading
            if self._in_flight:  # a worker still computes for a result no one will read: stop them all
                self._pool.terminate()
            raise  # (a caller that lets go after the last result stops nothing: a zip() over two lists does)
        finally:
            with self._pool._lock:
                self._waiting.clear()  # not handed over: never will be
                if not self._in_flight:
                    self._pool._running.discard(self)
            self._pool.let_go(self._path)


class _Block:
    """What a ``shared_workers()`` block keeps: its pool, once started."""

    pool: WorkerPool | None = None


_block: _Block | None = None  # inside shared_workers()


@contextlib.contextmanager
def shared_workers(start: bool = False) -> Iterator[None]:
    """Within the block, every side-by-side computation uses one pool of worker processes, kept until the
    block ends, instead of starting a pool each: the demo's four (its fits, the regularisers, the memorising
    AE, the latent-size sweep) paid a start each, 2-5 s on a 2-core machine (importing torch, receiving the
    data). ``start``: start it now where more than one worker is available (``resolve_workers``) and workers
    can run (not an unguarded script: ``_unguarded_main``); its workers import torch while this process goes
    on, and once it runs, computations of as little as ``WARM_MIN_STEPS`` use it (``auto_workers``). Else it
    starts with the first computation that needs it. An inner block uses the enclosing block's pool. At the
    block's end, work begun and never read is stopped, not waited for."""
    global _block
    if _block is not None:
        yield
        return
    _block = _Block()
    try:
        with contextlib.ExitStack() as pinned:
            if start and _unguarded_main() is None and (workers := resolve_workers()) > 1:
                _block.pool = WorkerPool(workers)
                # its workers hold the other CPUs all through the block (the demo hands them its stages'
                # fits at once): this process's idle native threads must not spin-wait on them
                pinned.enter_context(threads.native_threads(max(1, threads.usable_cpus() - workers)))
            yield
    finally:
        pool, _block = _block.pool, None
        if pool is not None:
            pool.close()


def _warm_pool() -> WorkerPool | None:
    """The running pool of the enclosing ``shared_workers()`` block, if any."""
    pool = None if _block is None else _block.pool
    return pool if pool is not None and pool.alive else None


def _pool_for(workers: int) -> tuple[WorkerPool, bool]:
    """A pool for ``workers`` processes, and whether the caller owns it (closes it when done): inside
    ``shared_workers()`` the block's pool (started here if it is not running; a running one serves with the
    processes it has, rather than be ended under the work begun on it), else a new one."""
    if _block is None:
        return WorkerPool(workers), True
    pool = _warm_pool()
    if pool is None:
        pool = _block.pool = WorkerPool(workers)
    return pool, False


def available_memory() -> int | None:
    """Bytes of memory available to new processes (Linux's MemAvailable), None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def affordable_workers(wanted: int, state_bytes: int) -> int:
    """At most ``wanted`` workers, and no more than half the available memory holds, each with its own
    copy of a ``state_bytes`` state (a data set is copied into every worker)."""
    available = available_memory()
    if available is None:
        return wanted
    return max(1, min(wanted, available // 2 // (state_bytes + WORKER_BYTES)))


class OneProcessWarning(LatentspaceWarning):
    """Independent fits ran one at a time because worker processes could not be started safely."""


def _is_quiet(statement: ast.stmt) -> bool:
    """Whether a top-level statement only defines things: an import, a def or class, a docstring, an
    assignment without calls, an edit of ``sys.path`` (``sys.path.insert(0, ...)`` before an import), the
    ``if __name__ == "__main__":`` guard, or an if/try of such."""
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(statement, ast.Expr):
        return isinstance(statement.value, ast.Constant) or _edits_sys_path(statement.value)
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        return statement.value is None or not any(isinstance(n, ast.Call) for n in ast.walk(statement.value))
    if isinstance(statement, ast.If):
        test = statement.test
        if (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
                and [type(op) for op in test.ops] == [ast.Eq] and isinstance(test.comparators[0], ast.Constant)
                and test.comparators[0].value == "__main__"):
            return True
        return all(_is_quiet(s) for s in statement.body + statement.orelse)
    if isinstance(statement, ast.Try):
        handlers = [s for handler in statement.handlers for s in handler.body]
        return all(_is_quiet(s) for s in statement.body + handlers + statement.orelse + statement.finalbody)
    return False


def _edits_sys_path(expression: ast.expr) -> bool:
    """``sys.path.insert(...)``, ``sys.path.append(...)`` and the like."""
    target = expression.func if isinstance(expression, ast.Call) else None
    return (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute)
            and target.value.attr == "path" and isinstance(target.value.value, ast.Name)
            and target.value.value.id == "sys")


@functools.cache
def _unguarded_main() -> str | None:
    """The file of this program's ``__main__`` when a spawned worker would run its top level again (a
    script that computes outside ``if __name__ == "__main__":``), else None. ``python -m package`` and
    interactive sessions are never run again; an unreadable script counts as unguarded."""
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None) or ""
    path = getattr(main, "__file__", None)
    if name == "__main__" or name.endswith(".__main__") or path is None:
        return None
    try:
        with open(path, encoding="utf-8") as source:
            tree = ast.parse(source.read())
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return str(path)
    return None if all(_is_quiet(statement) for statement in tree.body) else str(path)


def side_by_side(task: Callable[[Any, Item], Result], state: Any, items: Iterable[Item], workers: int,
                 costs: Sequence[float] | None = None) -> Iterator[Result]:
    """``task(state, item)`` for each of ``items``, in the order of ``items``, each as soon as it and those
    before it are done: ``as_finished`` put back in order (and, like it, begun at once in worker processes)."""
    return _in_order(as_finished(task, state, items, workers, costs))


def _in_order(finished: Iterator[tuple[int, Result]]) -> Iterator[Result]:
    waiting: dict[int, Result] = {}
    next_index = 0
    for index, result in finished:
        waiting[index] = result
        while next_index in waiting:
            yield waiting.pop(next_index)
            next_index += 1


def as_finished(task: Callable[[Any, Item], Result], state: Any, items: Iterable[Item], workers: int,
                costs: Sequence[float] | None = None) -> Iterator[tuple[int, Result]]:
    """``(index, task(state, item))`` for each of ``items`` as it finishes: in this process, in order, when
    ``workers`` <= 1 (or there is one item), each computed when it is asked for; else in ``workers`` spawned
    processes (at most one per item), handed to them now: they compute while the caller does other work
    until it reads them (the demo begins its later stages' fits before its first stage).
    ``costs``: each item's expected cost, in any unit; the workers take the costliest first (longest
    processing time first), so the items that start last are short and no worker waits long on another's
    last one (a Fashion-MNIST sweep in the order of k ended on two deep fits of k = 32)."""
    items = list(items)
    if costs is not None and len(costs) != len(items):
        raise ValueError(f"{len(costs)} costs for {len(items)} items")
    if workers > 1 and len(items) > 1 and (script := _unguarded_main()) is not None:
        warnings.warn(OneProcessWarning(
            f"fitting one at a time: {script} computes outside 'if __name__ == \"__main__\":', and every "
            "worker process would run it again; guard it to fit independent models side by side"), stacklevel=3)
        workers = 1
    if workers <= 1 or len(items) <= 1:
        return _here(task, state, items)
    order = range(len(items)) if costs is None else sorted(range(len(items)), key=lambda i: -costs[i])
    workers = min(workers, len(items))
    pool, owned = _pool_for(workers)
    try:
        path = pool.hand_over(task, state)
    except OSError as error:  # the temporary folder is full or gone: the work is still done, here
        if owned:
            pool.close()
        warnings.warn(OneProcessWarning(
            f"fitting one at a time: the data for worker processes could not be written to {tempfile.gettempdir()} "
            f"({error.strerror or error}); set TMPDIR to a folder with room to fit side by side"), stacklevel=3)
        return _here(task, state, items)
    try:
        computation = pool.start(path, items, order, workers)
    except BaseException:
        pool.let_go(path)
        if owned:
            pool.terminate()
        raise
    return _read(computation, pool if owned else None, len(items))


def _here(task: Callable[[Any, Item], Result], state: Any, items: list[Item]) -> Iterator[tuple[int, Result]]:
    for index, item in enumerate(items):
        yield index, task(state, item)


def _read(computation: Computation, owned: WorkerPool | None, count: int) -> Iterator[tuple[int, Any]]:
    """The computation's results; a pool it ``owned`` is closed after the last one, or when reading stops."""
    runs = iter(computation)
    try:
        for received, (index, result) in enumerate(runs, start=1):
            if owned is not None and received == count:  # ended here, not when a caller that read its last
                owned.close()  # result lets go: its workers are reaped (their CPU counts as this process's own
            yield index, result  # use, training.threads) before the caller decides anything next
    finally:
        runs.close()  # a run stopped early (an error, Ctrl-C, a caller that stopped reading) ends its pool
        if owned is not None:
            owned.close()


def light_steps(model: Any, n_train: int, n_features: int) -> float:
    """``model``'s training on ``n_train`` rows of ``n_features`` columns in light steps: its optimiser
    steps (``training_steps``), each weighing its products over ``LIGHT_STEP_FLOPS`` and at least one (a
    light step's time is per-call overhead; an unknown step, a convolution's or your own modules', counts
    as one). 0 for a model that does not train by steps (PCA)."""
    if not hasattr(model, "training_steps"):
        return 0.0
    flops = model.training_step_flops(n_features)
    weight = 1.0 if flops is None else max(1.0, flops / LIGHT_STEP_FLOPS)
    return model.training_steps(n_train) * weight


def auto_workers(costs: Sequence[float], state_bytes: int) -> int:
    """Processes for independent fits of ``costs`` light steps each (``light_steps``), each worker holding a
    ``state_bytes`` state: one below ``SIDE_BY_SIDE_MIN_STEPS`` in all (``WARM_MIN_STEPS`` where a kept pool
    runs: ``shared_workers``), else one per idle CPU (``training.threads.resolve_workers``; ``--threads 1``
    or ``LATENTSPACE_THREADS=1`` keep one process) that half the available memory holds, and no more than
    a kept pool has. Light and heavy steps alike: a light one cannot use a second CPU, a heavy one gains
    little from it."""
    warm = _warm_pool()
    if sum(costs) < (SIDE_BY_SIDE_MIN_STEPS if warm is None else WARM_MIN_STEPS):
        return 1
    workers = affordable_workers(resolve_workers(), state_bytes)
    return workers if warm is None else min(workers, warm.processes)


def _fit_one(X: Any, item: tuple[Any, Any]) -> tuple[Any, float]:
    model, y = item
    started = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - started


def _rows_and_features(X: Any) -> tuple[int, int] | None:
    """(rows, features) of an array; None for anything else (a stream of chunks, a list)."""
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) < 2 or not hasattr(X, "nbytes"):
        return None
    return int(shape[0]), int(np.prod(shape[1:]))


def fit_side_by_side(models: Sequence[Any], X: Any, labels: Sequence[Any] | None = None,
                     workers: int | str = "auto") -> Iterator[tuple[Any, float]]:
    """Each of ``models`` fitted on ``X`` (and its entry of ``labels``; None: no labels), in order: the
    fitted model and its fit seconds. ``workers``: as ``side_by_side``, or "auto" (``auto_workers``; data
    that is not an array is fitted here). Side by side, the fits begin now, the longest first
    (``light_steps``), and each fitted model comes back from its worker as a copy: use the ones this yields,
    not the ones passed in. One at a time, each is fitted when its turn is asked for."""
    labels = [None] * len(models) if labels is None else list(labels)
    size = _rows_and_features(X)
    costs = None if size is None else [light_steps(model, *size) for model in models]
    if workers == "auto":
        workers = 1 if costs is None else auto_workers(costs, int(X.nbytes))
    return side_by_side(_fit_one, X, list(zip(models, labels)), workers, costs)
