"""Progress bars: on stderr, and only for a person at a terminal.

A bar redraws itself with carriage returns: written into a pipe or a log file it is kilobytes of
half-lines (``pca-check`` piped through ``tee`` wrote ~40 KB of them). Every bar of the package comes
from here, so none of them ever reaches a file.
"""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def on_terminal() -> bool:
    """True when a bar can redraw itself: stderr is a terminal, or this is a Jupyter kernel (where
    ``tqdm.auto`` draws a widget, not text)."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty()) or "ipykernel" in sys.modules


def progress_bar(iterable=None, *, show: bool = True, force: bool = False, **kwargs) -> tqdm:
    """``tqdm(iterable, **kwargs)`` on stderr, drawn when ``show`` and a bar can redraw itself there, or
    whenever ``force`` (a caller that asked for this very bar, e.g. ``log_likelihood(progress=True)``)."""
    return tqdm(iterable, file=sys.stderr, disable=not (force or (show and on_terminal())), **kwargs)
