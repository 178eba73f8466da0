"""Helpers of the fuzz tests: one property, two budgets (the default suite's and the slow one's), JSON
and byte mutations, and the outcome check (a value or a one-line LatentspaceError, within the memory
budget)."""

from __future__ import annotations

import os
import tracemalloc
import types
from collections.abc import Callable
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latentspace.errors import LatentspaceError

#: examples per property: the default suite's (LATENTSPACE_FUZZ_EXAMPLES raises it) and the slow suite's
FAST = int(os.environ.get("LATENTSPACE_FUZZ_EXAMPLES", "40"))
SLOW = 2000
#: the memory budget every fuzzed read runs under, and what its peak may reach (Python's own objects,
#: the interpreter's caches, rounding)
BUDGET = 32 << 20
PEAK_LIMIT = int(1.25 * BUDGET)


def fuzz_pair(*strategies, fast: int = FAST, slow: int = SLOW):
    """Decorate a property ``body(*drawn)``: returns ``(test, test_long)``, the same property over
    ``fast`` examples and, marked slow, over ``slow`` examples."""

    def make(body: Callable, examples: int, suffix: str):
        copy = types.FunctionType(body.__code__, body.__globals__, body.__name__ + suffix, body.__defaults__,
                                  body.__closure__)
        copy.__doc__ = body.__doc__
        return settings(max_examples=examples, deadline=None, derandomize=not suffix,
                        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                               HealthCheck.data_too_large])(given(*strategies)(copy))

    def decorate(body: Callable):
        return make(body, fast, ""), pytest.mark.slow(make(body, slow, "_long"))

    return decorate


@contextmanager
def memory_budget(budget: int = BUDGET):
    """``LATENTSPACE_MEMORY_BUDGET`` set to ``budget`` and the peak of Python and numpy allocations traced
    (numpy reports its buffers to tracemalloc); the peak must stay under ``PEAK_LIMIT``."""
    before = os.environ.get("LATENTSPACE_MEMORY_BUDGET")
    os.environ["LATENTSPACE_MEMORY_BUDGET"] = str(budget)
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        if not tracing:
            tracemalloc.stop()
        if before is None:
            del os.environ["LATENTSPACE_MEMORY_BUDGET"]
        else:
            os.environ["LATENTSPACE_MEMORY_BUDGET"] = before
    assert peak <= PEAK_LIMIT, f"peak {peak:,} bytes under a budget of {budget:,}"


def value_or_error(call: Callable, *args, error: type[LatentspaceError] = LatentspaceError, **kwargs):
    """``call(*args, **kwargs)`` within the budget: its value, or the ``error`` it raised, which says
    something (anything else fails the test with its traceback)."""
    with memory_budget():
        try:
            return call(*args, **kwargs)
        except error as e:
            assert str(e).strip(), f"{type(e).__name__} without a message"
            return e


JSON_LEAVES = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
               | st.text(max_size=12) | st.sampled_from(["", "auto", "none", "cuda", "x:Y", "..", "/dev/zero", "nan"]))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


@st.composite
def json_edits(draw, document):
    """``document`` (a JSON object) with 1-3 values replaced or keys removed at random depths."""
    import copy

    doc = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        node = doc
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, (dict, list)) and child and draw(st.booleans()):
                node = child
                continue
            if isinstance(node, dict) and draw(st.integers(0, 4)) == 0:
                del node[key]
            else:
                node[key] = draw(JSON_VALUES)
            break
    return doc


def mutated(valid: bytes):
    """Valid bytes cut short, with bytes overwritten, or with junk appended: near misses find bugs."""
    def apply(edits):
        out = bytearray(valid)
        for i, value in edits:
            out[i] = value
        return bytes(out)

    return st.one_of(
        st.integers(0, len(valid)).map(lambda n: valid[:n]),
        st.lists(st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 255)), min_size=1, max_size=4).map(apply),
        st.binary(max_size=16).map(lambda junk: valid + junk),
    )
