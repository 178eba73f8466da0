"""Denormal floats flushed to zero on every CPU thread that computes a fit.

Why: x86 CPUs compute a float32 below 1.2e-38 (a "denormal") 10-100x slower than a normal one, by a
microcode assist per operation. Training makes them: a ReLU unit that dies leaves its outgoing
weights with nothing but an L2 penalty's pull, which shrinks them geometrically into that range, and
every product that touches them slows down. Measured (docs/speed.md): ``RAE(2)`` on Fashion-MNIST's
60,000 images, float32, one thread, took 3.5, 3.0, 3.6, 23.0 and 46.0 s for its five epochs; flushed,
2.4-2.8 s each, ending at the same validation loss (22.3016). Values that small carry nothing a fit
can use: they are 38 orders of magnitude below a weight's scale.

``torch.set_flush_denormal`` sets the mode (MXCSR's flush-to-zero and denormals-are-zero bits) of
the calling thread only. OpenMP's worker threads keep their own, inherited when they were created,
so at two threads half of every product stayed slow. :func:`flushing` therefore also sets it inside
one parallel region of the OpenMP runtime PyTorch itself loaded, which runs on each of its threads.
Where that runtime cannot be found (a build without OpenMP, or not Linux), only the calling thread
is set, which covers one-thread fits.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
from collections.abc import Iterator
from pathlib import Path

import torch

# a float32 denormal: 1e-39 is below float32's smallest normal, 1.18e-38
_DENORMAL = 1e-39

_Body = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
# kept referenced for the life of the process: the runtime calls them from its threads
_SET_ON = _Body(lambda _: torch.set_flush_denormal(True))
_SET_OFF = _Body(lambda _: torch.set_flush_denormal(False))


def flushed_here() -> bool:
    """Whether the calling thread flushes denormals now (its float32 conversion of 1e-39 gives 0)."""
    return torch.tensor([_DENORMAL], dtype=torch.float32).item() == 0.0


@functools.cache
def _torch_openmp() -> ctypes.CDLL | None:
    """The OpenMP runtime this process's PyTorch already loaded (never a second copy: RTLD_NOLOAD)."""
    if not torch.backends.openmp.is_available() or not hasattr(os, "RTLD_NOLOAD"):
        return None
    bundled = Path(torch.__file__).parent / "lib" / "libgomp.so.1"
    for name in (str(bundled), "libgomp.so.1"):
        try:
            runtime = ctypes.CDLL(name, mode=os.RTLD_NOW | os.RTLD_NOLOAD)
        except OSError:
            continue
        if hasattr(runtime, "GOMP_parallel"):
            runtime.GOMP_parallel.argtypes = [_Body, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
            runtime.GOMP_parallel.restype = None
            return runtime
    return None


def _set_pool(on: bool) -> None:
    """Set the mode on each thread of the calling thread's OpenMP pool (as many as torch uses)."""
    runtime = _torch_openmp()
    if runtime is not None and torch.get_num_threads() > 1:
        runtime.GOMP_parallel(_SET_ON if on else _SET_OFF, None, torch.get_num_threads(), 0)


def reaches_pool() -> bool:
    """Whether :func:`flushing` reaches the worker threads too (else only the calling thread)."""
    return _torch_openmp() is not None


@contextlib.contextmanager
def flushing(device: torch.device | str = "cpu") -> Iterator[bool]:
    """Flush denormals to zero on every CPU thread of the block (a fit), then restore the mode.

    Yields whether the mode is on in the block. A caller that already flushes keeps its mode, and
    a device other than the CPU, or a CPU without the mode, is left alone.
    """
    already = flushed_here()
    if torch.device(device).type != "cpu" or already:
        yield already
        return
    if not torch.set_flush_denormal(True):  # the CPU has no such mode (pre-SSE3)
        yield False
        return
    _set_pool(True)
    try:
        yield True
    finally:
        torch.set_flush_denormal(False)
        _set_pool(False)
