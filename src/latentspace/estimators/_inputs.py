"""What the estimators take as data, and how they refuse what they cannot: sklearn's validation in
this package's one-line words, per-batch application of per-example methods to streams, and the
model card's account of streamed data."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import numpy as np

from ..data.validate import COMPLEX_ADVICE, NOT_FINITE_ADVICE, diagnosis
from ..errors import DataError, DataTypeError, first_line
from ..training.streams import is_stream, per_batch_rows

WORD = re.compile("[A-Za-z]{3,}")


def checked_array(check: Callable[[], np.ndarray], X, source: str) -> np.ndarray:
    """``check()`` (sklearn's validation of ``X``), its failures as one-line errors in this package's
    words: what is wrong with the data and what it accepts instead, never sklearn's whole array or its
    advice about other estimators."""
    kinds = sorted({type(n).__name__ for n in getattr(X, "columns", ())})
    if len(kinds) > 1 and "str" in kinds:  # sklearn takes string names or none, and says so with a TypeError
        raise DataError(f"{source}: column names of mixed types ({', '.join(kinds)}); name every column with a string "
                        "(X.columns = X.columns.astype(str)) or none")
    try:
        return check()
    except ValueError as e:
        reason = sentences(e)
        if reason.startswith("Complex data"):
            raise DataError(f"{source}: {reason}{COMPLEX_ADVICE}") from None
        if reason.startswith("Input") and ("NaN" in reason or "infinity" in reason):
            # sklearn's second sentence recommends other estimators: say what this one accepts instead
            raise DataError(diagnosis(X, source) or f"{source}: {first_line(e)}{NOT_FINITE_ADVICE}") from None
        raise DataError(f"{source}: {reason}") from None
    except TypeError as e:
        raise DataTypeError(f"{source}: {sentences(e)}") from None


def sentences(e: BaseException) -> str:
    """sklearn's message on one line: its lines of words, without the array it prints (121 lines of
    numbers for a complex array, wrapped so no line looks like a row)."""
    kept = [line.strip() for line in str(e).splitlines() if len(WORD.findall(line)) >= 3]
    return " ".join(kept) or first_line(e)


def spaced_rows(n: int, at_most: int) -> np.ndarray:
    """Indices of at most ``at_most`` rows spread evenly over ``n``, sorted and distinct."""
    return np.unique(np.linspace(0, n - 1, min(n, at_most)).astype(np.int64))


def stream_digest(X, n_rows: int, n_features: int) -> dict:
    """What a model card says of data that came as a stream: its kind and size (its bytes are not hashed:
    that would be a pass of its own over data that may not fit anywhere)."""
    return {"source": type(X).__name__, "shape": [int(n_rows), int(n_features)], "dtype": "float32",
            "sha256": None, "sampled": False}


def streamable(method):
    """Let a per-example method take data in batches (a Dataset, a DataLoader, an iterable of batches):
    applied batch by batch, outputs concatenated (tuples element by element)."""

    @functools.wraps(method)
    def per_example(self, X, *args, **kwargs):
        if not is_stream(X):
            return method(self, X, *args, **kwargs)
        outputs = [method(self, batch, *args, **kwargs) for batch in per_batch_rows(X)]
        if not outputs:
            raise DataError("the data source gave no batches; need at least one example")
        if isinstance(outputs[0], tuple):
            return tuple(np.concatenate(parts) for parts in zip(*outputs, strict=True))
        return np.concatenate(outputs)

    return per_example
