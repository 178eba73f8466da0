"""How many CPU threads torch uses while latentspace computes: one setting, one implementation.

OpenMP threads that share busy cores wait on each other at every parallel region, and a training
step is hundreds of small regions: on a 2-core machine shared with other jobs, torch's default of 2
threads trained 8-36x slower than 1 (measured; see benchmarks/README.md). The default here therefore
takes as many threads as there are CPUs this process may use (``os.sched_getaffinity``) that are
idle by the 1-minute load average (this process's own recent use not counted), and one thread for
networks whose step is too small to share out. An explicit ``threads`` always wins. Worker processes of
one thread each (``side_by_side``) go by what is idle now (``idle_cpus_now``), where a wrong guess costs
far less than an OpenMP thread's on a busy core.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
import time
from collections.abc import Callable, Iterator

import torch

from ..errors import LatentspaceError

#: environment variable: what threads=None means when set (a positive integer), e.g. for a test run
THREADS_ENV = "LATENTSPACE_THREADS"
#: below this many matrix-product FLOPs per step one thread is fastest: splitting a small product
#: costs more in thread hand-offs than it saves
SMALL_STEP_FLOPS = 50e6


def _usable_cpu_set() -> set[int]:
    """The numbers of the CPUs this process may run on (its affinity mask)."""
    try:
        return set(os.sched_getaffinity(0)) or {0}
    except (AttributeError, OSError):
        return set(range(max(1, os.cpu_count() or 1)))


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask), not the machine's count."""
    return len(_usable_cpu_set())


def _cpu_seconds() -> float:
    """CPU time of this process and of its children: the finished ones (``side_by_side``'s workers, once
    joined) and the running ones (a pool kept by ``side_by_side.shared_workers``)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system + _running_children_cpu_seconds()


def _running_cpu_seconds() -> float:
    """CPU time of this process's threads and of its running children: not of those reaped (a worker
    reaped during a span of ``idle_cpus_now`` did not run in it)."""
    return time.process_time() + _running_children_cpu_seconds()


def _running_children_cpu_seconds() -> float:
    """CPU time of this process's children that have not been reaped, from Linux's /proc (0 elsewhere)."""
    children: set[str] = set()
    try:
        for thread in os.scandir("/proc/self/task"):
            with open(os.path.join(thread.path, "children"), encoding="ascii") as listed:
                children.update(listed.read().split())
    except OSError:
        return 0.0
    ticks = 0
    for pid in children:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rpartition(")")[2].split()  # the name in parentheses may hold spaces
            ticks += int(fields[11]) + int(fields[12])  # utime, stime: the stat's 14th and 15th fields
        except (OSError, ValueError, IndexError):
            continue  # it ended meanwhile
    return ticks / _clock_ticks()


@functools.cache
def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


#: seconds over which the 1-minute load average damps what it saw (Linux: e^(-5/60) every 5 s)
LOAD_AVERAGE_SECONDS = 60.0


class _OwnUse:
    """This process's CPU use (CPUs' worth), its finished workers' included, damped over time as the
    1-minute load average damps everyone's, so that its own work is not read as others' load. An undamped
    reading of the last few seconds said 1 CPU after a minute at 2, while the load average still held
    ~1.8: the next fits read the machine as half busy and ran on one CPU.

    ``clock`` and ``cpu`` read seconds (wall; CPU of this process and its finished children)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, cpu: Callable[[], float] = _cpu_seconds) -> None:
        self.clock, self.cpu = clock, cpu
        self.wall, self.cpu_seconds, self.use = clock(), cpu(), 0.0

    def recent(self) -> float:
        # Every call updates: a short span weighs its CPU seconds by its length (~seconds/60), so it can
        # neither swing the average nor hide CPU that just arrived (a pool's workers, counted when they
        # are reaped: a cached reading missed them, and a sweep right after ran one at a time).
        wall, cpu_seconds = self.clock(), self.cpu()
        span = wall - self.wall
        if span > 0.0:
            kept = math.exp(-span / LOAD_AVERAGE_SECONDS)
            used = max(0.0, (cpu_seconds - self.cpu_seconds) / span)  # CPUs' worth over the span
            self.use = kept * self.use + (1.0 - kept) * used
            self.wall, self.cpu_seconds = wall, cpu_seconds
        return self.use


_own = _OwnUse()


def idle_cpus() -> float:
    """Usable CPUs minus the 1-minute load average of other processes (never below 0)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return float(usable_cpus())
    return max(0.0, usable_cpus() - max(0.0, load - _own.recent()))


class WorkerCount:
    """How many of this process's worker processes compute now (``side_by_side``'s pools count them, from
    this thread and from a pool's result thread): their CPUs are not idle for this process's own threads,
    though their CPU time counts as its own use (``_cpu_seconds``)."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def add(self, change: int) -> None:
        with self._lock:
            self._count += change

    def __int__(self) -> int:
        return self._count


busy_workers = WorkerCount()


def default_threads(step_flops: float | None = None) -> int:
    """Threads for a computation whose step does ``step_flops`` matrix-product FLOPs (None: unknown).

    One for small steps; otherwise the idle usable CPUs (rounded, at least one), less those this
    process's own workers compute on now.
    """
    if step_flops is not None and step_flops < SMALL_STEP_FLOPS:
        return 1
    return max(1, min(usable_cpus(), int(idle_cpus() - int(busy_workers) + 0.5)))


#: seconds over which worker processes read what the CPUs do now (``idle_cpus_now``)
NOW_SECONDS = 0.3


def _cpu_ticks(cpus: set[int]) -> tuple[int, int] | None:
    """(busy, all) clock ticks of the CPUs numbered ``cpus`` since boot, from Linux's /proc/stat (steal
    counts as busy: the hypervisor gave the CPU to another guest); None where unreadable."""
    busy = total = 0
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            for line in stat:
                name, *fields = line.split()
                if not name.startswith("cpu"):
                    break  # the per-CPU lines come first
                if name != "cpu" and int(name[3:]) in cpus:
                    ticks = [int(field) for field in fields[:8]]  # user nice system idle iowait irq softirq steal
                    total += sum(ticks)
                    busy += sum(ticks) - ticks[3] - ticks[4]
    except (OSError, ValueError, IndexError):
        return None
    return (busy, total) if total else None


def idle_cpus_now(seconds: float = NOW_SECONDS, ticks: Callable[[set[int]], tuple[int, int] | None] = _cpu_ticks,
                  cpu: Callable[[], float] = _running_cpu_seconds, clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep) -> float | None:
    """Usable CPUs minus what other processes use of them over the next ``seconds`` (never below 0); None
    where /proc/stat cannot tell. Unlike the load average, which still holds most of a job that ended
    half a minute ago (a demo started right after another read 0.8-1.4 idle CPUs and fitted its first
    stage one model at a time), this reads what is busy now; a job that pauses for these few tenths of a
    second reads as idle. This process's own use and its running workers' (a pool kept by
    ``side_by_side.shared_workers``, still importing torch when the demo's first stage asks) is not
    another's. ``ticks``, ``cpu``, ``clock`` and ``sleep``: as ``_cpu_ticks``, ``_running_cpu_seconds``,
    time.monotonic and time.sleep."""
    cpus = _usable_cpu_set()
    before, own_before, start = ticks(cpus), cpu(), clock()
    sleep(seconds)
    after, own_after, end = ticks(cpus), cpu(), clock()
    if before is None or after is None or after[1] <= before[1] or end <= start:
        return None
    busy = (after[0] - before[0]) / (after[1] - before[1]) * len(cpus)  # CPUs' worth, this process's too
    own = max(0.0, own_after - own_before) / (end - start)
    return max(0.0, len(cpus) - max(0.0, busy - own))


#: share of a CPU that must be idle for it to take a worker process of one thread: such a worker shares
#: a busy core without the spin-waits that make OpenMP threads slow there (8-36x), so a wrong "idle" costs
#: it little, while a wrong "busy" fits one model at a time (a Fashion-MNIST demo run right after another:
#: idle 1.41 by the load average, one process, its fit stage 75 s against 55 s side by side)
WORKER_IDLE_SHARE = 0.25


def default_workers() -> int:
    """Worker processes of one thread each for independent work: the usable CPUs of which more than
    ``WORKER_IDLE_SHARE`` is idle now (1.41 idle CPUs: 2 workers; 1.2: 1), at least one. Idle now
    (``idle_cpus_now``), not by the load average (``idle_cpus``, where /proc/stat cannot tell): a worker
    misplaced beside a job that paused costs little, a job that ended a minute ago fitting one model at
    a time costs a stage its second CPU."""
    idle = idle_cpus_now()
    if idle is None:
        idle = idle_cpus()
    return max(1, min(usable_cpus(), math.ceil(idle - WORKER_IDLE_SHARE)))


def resolve_workers() -> int:
    """Worker processes for independent work: the thread count a command's ``--threads`` or
    ``LATENTSPACE_THREADS`` set, else :func:`default_workers`."""
    chosen = _chosen_threads()
    return default_workers() if chosen is None else chosen


_pinned: int | None = None  # set by pinned_threads: what threads=None means inside the block


def check_threads(threads) -> None:
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise LatentspaceError(f"threads must be a positive integer or None, got {threads!r}")


def resolve_threads(threads: int | None, step_flops: float | None = None) -> int:
    """``threads`` checked (a positive int); for None the count pinned by an enclosing
    :func:`pinned_threads` (a command's ``--threads``), else ``LATENTSPACE_THREADS``, else the
    default for this machine and step."""
    check_threads(threads)
    if threads is not None:
        return threads
    chosen = _chosen_threads()
    return default_threads(step_flops) if chosen is None else chosen


def _chosen_threads() -> int | None:
    """The count a command's ``--threads`` (:func:`pinned_threads`) or ``LATENTSPACE_THREADS`` chose; None."""
    if _pinned is not None:
        return _pinned
    env = os.environ.get(THREADS_ENV, "").strip()
    if not env:
        return None
    if not env.isdigit() or int(env) < 1:
        raise LatentspaceError(f"{THREADS_ENV} must be a positive integer, got {env!r}")
    return int(env)


@contextlib.contextmanager
def pinned_threads(threads: int | None) -> Iterator[None]:
    """Within the block torch uses ``threads`` and estimators with ``threads=None`` use it too (a
    command's ``--threads``, the demo's ``threads``); None changes nothing. Restored afterwards."""
    global _pinned
    check_threads(threads)
    if threads is None:
        yield
        return
    previous = _pinned
    _pinned = threads
    try:
        with using_threads(threads):
            yield
    finally:
        _pinned = previous


def pin_process(threads: int) -> None:
    """For the rest of this process, ``threads`` for torch, every BLAS and OpenMP pool (scikit-learn's
    k-means too), and what ``threads=None`` means (a worker process that shares the machine's CPUs with
    others: ``side_by_side``)."""
    global _pinned
    check_threads(threads)
    _pinned = threads
    torch.set_num_threads(threads)
    _blas_pools().limit(limits=threads)  # kept: never restored in this process


@functools.cache
def _blas_pools():
    """The process's BLAS thread pools, found once (threadpoolctl, scikit-learn's own dependency).

    Finding them scans the loaded libraries: threadpool_limits() does it on every call, 4.8 ms, which
    every transform and inverse_transform paid; limiting through the kept controller takes 45 us.
    Pools are found at the first fit or transform, after numpy, scipy and torch have loaded theirs."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """numpy's BLAS on one thread for the block, restored afterwards: for many small products, where
    OpenBLAS's hand-offs between its threads cost more than the products (a Gaussian mixture's EM over
    5,000 codes of 16 dimensions: 0.34 s on one thread against 1.28 s on two; docs/speed.md)."""
    with _blas_pools().limit(limits=1, user_api="blas"):
        yield


#: environment variables that native thread pools read their size from when they load (OpenMP's, the BLAS
#: libraries', numexpr's): a pool loaded after its process pinned its threads (scikit-learn's OpenMP, loaded
#: by its first k-means) takes its size from them, not from the pin
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def thread_environment(threads: int) -> dict[str, str]:
    """``THREAD_VARIABLES``, each set to ``threads``."""
    return {name: str(int(threads)) for name in THREAD_VARIABLES}


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` updated by ``values`` for the block (processes started in it inherit them), restored after."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def native_threads(threads: int) -> Iterator[None]:
    """This process's native threads limited to ``threads`` for the block: torch's, every BLAS and OpenMP
    pool loaded now, and those that load in the block (``THREAD_VARIABLES``; those keep the size after it);
    the others are restored. Not what ``threads=None`` means to an estimator (``pinned_threads``): for a
    process whose own worker processes hold the other CPUs (``side_by_side.shared_workers``). Its idle
    OpenMP and OpenBLAS threads spin-wait for work on the CPUs the workers need: in a full digits demo they
    took ~15 s of CPU (user time 154 s against 135 s with one thread; wall 80.3 s against 70.1 s)."""
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with environment(thread_environment(threads)), threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def using_threads(threads: int) -> Iterator[int]:
    """torch's intra-op threads and numpy's BLAS threads set to ``threads`` for the block, restored
    afterwards. (OpenBLAS otherwise runs a thread per core whatever ``threads`` says, and its threads
    busy-wait: on a shared 2-core machine that cost a fifth of the test suite's CPU.)"""
    previous = torch.get_num_threads()
    if threads != previous:
        torch.set_num_threads(threads)
    try:
        with _blas_pools().limit(limits=threads, user_api="blas"):
            yield threads
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
