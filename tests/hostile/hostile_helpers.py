"""What the hostile-input tests share: one-line errors, a time limit, a short training run's flags."""

from __future__ import annotations

import json
import signal
from contextlib import contextmanager
from pathlib import Path

#: a small ``latentspace train`` on digits (run folders are overwritten with it)
TRAIN = ("--epochs", "2", "--quiet", "--n-components", "2", "--hidden", "16")


def one_line(e: BaseException) -> str:
    """The message of ``e``, asserted to be one line."""
    text = str(e)
    assert "\n" not in text.strip(), text
    return text


@contextmanager
def time_limit(seconds: int):
    """Fail instead of hanging (a FIFO read would block forever)."""

    def expired(signum, frame):
        raise TimeoutError(f"hung for {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def edit_json(path: Path, change) -> None:
    """Rewrite the JSON document at ``path`` after ``change(document)`` edits it in place."""
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
