"""What each estimator parameter may be: one table per class, checked in one place, read by the CLI.

A :class:`Param` says a parameter's kind, its allowed range or choices, whether ``None`` is allowed, and
a one-line meaning. ``BaseAutoEncoder._parameter_constraints`` holds the shared ones; each estimator
class merges its own over the base's (``{**Base._parameter_constraints, "beta": Param(...)}``), so
validation (:func:`validate_params`, raising :class:`LatentspaceError`) and the command line's flags
(types, choices, help) come from the same table and cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch

from ..errors import LatentspaceError
from ..nn.devices import resolve_device

#: The value of a parameter with ``auto=True`` that ``fit`` resolves from the data.
AUTO = "auto"
#: Largest image side accepted for an image shape (pixels).
MAX_SIDE = 16_384
#: Kinds of value a parameter takes (what the CLI parses and what validation checks).
KINDS = ("int", "float", "str", "bool", "level", "ints", "shape", "seed", "device", "module", "callbacks", "components")


@dataclass(frozen=True)
class Param:
    """One parameter's constraint.

    kind:     "int", "float", "str" (one of ``choices``), "bool", "level" (a bool or an int >= 0, like
              scikit-learn's ``verbose``), "ints" (a tuple of positive ints),
              "shape" (an image shape: 2 or 3 ints, one of them may be -1) or "seed" (None, an int or a
              ``np.random.RandomState``, sklearn's ``random_state``) or "device" (a torch device this
              machine has) or "components" (PCA's ``n_components``: an int in ``low``..``high``, a fraction
              of variance in (0, 1), or "mle").
    low/high: bounds for numbers and for each entry of "ints", inclusive unless ``low_open``/``high_open``.
    choices:  the allowed strings for "str".
    optional: ``None`` is allowed (and means what ``help`` says).
    auto:     the string "auto" is allowed: resolved at ``fit`` from the data (see ``help``).
    help:     what it means, one line: the CLI's help text.
    """

    kind: str
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] | None = None
    optional: bool = False
    #: longest allowed "ints" tuple (None: any)
    max_len: int | None = None
    auto: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}")

    # ---- checking -------------------------------------------------------------------------------
    def check(self, name: str, value: Any) -> None:
        """Raise LatentspaceError (one line naming ``name``) unless ``value`` is allowed."""
        if self.auto and isinstance(value, str) and value == AUTO:
            return
        if value is None:
            if not self.optional:
                raise LatentspaceError(f"{name} must be {self.describe()}, got None")
            return
        problem = CHECKS[self.kind](self, value)
        if problem is not None:
            raise LatentspaceError(f"{name} must be {self.describe()}, got {_short(value)}{problem}")

    def describe(self) -> str:
        """The allowed values in words, e.g. "an int >= 1" or "one of 'mlp', 'conv'"."""
        if self.kind == "str":
            text = "one of " + ", ".join(repr(c) for c in self.choices or ())
        elif self.kind == "ints":
            text = "a tuple of ints" + self._range(" each ")
        elif self.kind == "shape":
            text = "an image shape (H, W) or (C, H, W)"
        elif self.kind == "seed":
            text = "an int or a numpy RandomState"
        elif self.kind == "device":
            text = "auto or a torch device this machine has (cpu" + (", cuda" if torch.cuda.is_available() else "") + ")"
        elif self.kind == "module":
            text = "a torch.nn.Module"
        elif self.kind == "callbacks":
            text = "a list of callbacks"
        elif self.kind == "bool":
            text = "True or False"
        elif self.kind == "level":
            text = "True, False or an int >= 0"
        elif self.kind == "components":
            text = f"an int{self._range(' ')}, a fraction of variance in (0, 1) or 'mle'"
        else:
            text = f"{'an int' if self.kind == 'int' else 'a number'}{self._range(' ')}"
        return text + (" or 'auto'" if self.auto else "") + (" or None" if self.optional else "")

    def _range(self, lead: str) -> str:
        low = None if self.low is None else f"{'>' if self.low_open else '>='} {_num(self.low)}"
        high = None if self.high is None else f"{'<' if self.high_open else '<='} {_num(self.high)}"
        if low and high:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"{lead}in {left}{_num(self.low)}, {_num(self.high)}{right}"
        return f"{lead}{low or high}" if (low or high) else ""

    def in_range(self, number: float) -> bool:
        if not math.isfinite(number):
            return False
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            return False
        return self.high is None or (number < self.high if self.high_open else number <= self.high)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


# Each check returns None when the value is allowed, else a note for the message ("" when the allowed
# values, which the message states, say it all).
def _as_float(value: Any) -> float:
    """``float(value)``; infinity for an int too large for a float (a 400-digit --batch-size), which
    no bound admits."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _check_int(p: Param, value: Any) -> str | None:
    if not _is_int(value):
        return f" ({type(value).__name__})"
    return None if p.in_range(_as_float(value)) else ""


def _check_components(p: Param, value: Any) -> str | None:
    if isinstance(value, str):
        return None if value == "mle" else ""
    if _is_int(value):
        return _check_int(p, value)
    if isinstance(value, Real) and not isinstance(value, bool):
        return None if 0 < float(value) < 1 else ""
    return f" ({type(value).__name__})"


def _check_float(p: Param, value: Any) -> str | None:
    if not isinstance(value, Real) or isinstance(value, bool):
        return f" ({type(value).__name__})"
    return None if p.in_range(_as_float(value)) else ""


def _check_str(p: Param, value: Any) -> str | None:
    return None if isinstance(value, str) and value in (p.choices or ()) else ""


def _check_bool(p: Param, value: Any) -> str | None:
    return None if isinstance(value, (bool, np.bool_)) else f" ({type(value).__name__})"


def _check_level(p: Param, value: Any) -> str | None:
    if isinstance(value, (bool, np.bool_)):
        return None
    if not isinstance(value, Integral):
        return f" ({type(value).__name__})"
    return None if int(value) >= 0 else ""


def _check_ints(p: Param, value: Any) -> str | None:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return f" ({type(value).__name__})"
    items = list(value)
    if p.max_len is not None and len(items) > p.max_len:
        return f" ({len(items)} entries; at most {p.max_len})"
    bad = [v for v in items if not _is_int(v) or not p.in_range(_as_float(v))]
    return f" (entry {_short(bad[0])})" if bad else None


def _check_shape(p: Param, value: Any) -> str | None:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return f" ({type(value).__name__})"
    items = list(value)
    if len(items) not in (2, 3) or not all(_is_int(v) and (1 <= v <= MAX_SIDE or v == -1) for v in items):
        return f" (need 2 or 3 sizes in [1, {MAX_SIDE}], one may be -1)"
    return " (at most one -1)" if sum(v == -1 for v in items) > 1 else None


def _check_seed(p: Param, value: Any) -> str | None:
    if isinstance(value, np.random.RandomState):
        return None
    if not _is_int(value):
        return f" ({type(value).__name__})"
    return None if 0 <= int(value) < 2**32 else " (seeds are in [0, 2**32))"


def _check_device(p: Param, value: Any) -> str | None:
    if not isinstance(value, (str, torch.device)):
        return f" ({type(value).__name__})"
    try:
        resolve_device(value)
    except LatentspaceError as e:  # "device 'cuda' is not available here: this machine has no CUDA GPU; ..."
        return f" ({str(e).split(': ', 1)[-1].split(';')[0]})"
    return None


def _check_module(p: Param, value: Any) -> str | None:
    return None if isinstance(value, torch.nn.Module) else f" ({type(value).__name__})"


def _check_callbacks(p: Param, value: Any) -> str | None:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return f" ({type(value).__name__})"
    hooks = ("on_train_begin", "on_step", "on_epoch_end", "on_train_end")
    bad = [cb for cb in value if not any(callable(getattr(cb, h, None)) for h in hooks)]
    return f" ({type(bad[0]).__name__} has none of {', '.join(hooks)})" if bad else None


CHECKS: dict[str, Callable[[Param, Any], str | None]] = {
    "int": _check_int, "float": _check_float, "str": _check_str, "bool": _check_bool, "level": _check_level,
    "ints": _check_ints, "shape": _check_shape, "seed": _check_seed, "device": _check_device,
    "module": _check_module, "callbacks": _check_callbacks, "components": _check_components,
}


def validate_params(params: Mapping[str, Any], constraints: Mapping[str, Param]) -> None:
    """Check every parameter in ``params`` against its constraint; LatentspaceError for the first bad one."""
    for name, value in params.items():
        spec = constraints.get(name)
        if spec is None:
            raise LatentspaceError(f"parameter {name!r} has no constraint (a bug: add it to the class's table)")
        spec.check(name, value)
