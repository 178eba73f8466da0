"""Progress bars: on stderr, and only for a person at a terminal.

A bar redraws itself with carriage returns: written into a pipe or a log file it is kilobytes of
half-lines (``pca-check`` piped through ``tee`` wrote ~40 KB of them). Every bar of the package comes
from here, so none of them ever reaches a file.
"""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def on_terminal() -> bool:
    """True when stderr is a terminal (where a bar can redraw itself)."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def progress_bar(iterable=None, *, show: bool = True, **kwargs) -> tqdm:
    """``tqdm(iterable, **kwargs)`` on stderr, drawn when ``show`` and stderr is a terminal."""
    return tqdm(iterable, file=sys.stderr, disable=not (show and on_terminal()), **kwargs)
