"""Exception types. Bad input is a ``ValueError`` subclass so callers can catch it the sklearn way."""

import re
from collections.abc import Collection

#: characters that cannot be shown as they are on one line: controls (line breaks, tabs, escapes, DEL
#: and the C1 block), the Unicode line and paragraph separators, and lone surrogates (the bytes of a
#: file name that was not UTF-8)
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


class LatentspaceError(ValueError):
    """Bad input to latentspace: the message is one line that names the problem."""


class DataError(LatentspaceError):
    """A data set, file or array that cannot be used (missing, corrupt, NaN, wrong shape...)."""


class DataTypeError(DataError, TypeError):
    """Data of a kind no array can be made of (dicts in an object array...): a ``DataError``, and the
    ``TypeError`` that scikit-learn's contract asks for."""


class CheckpointError(LatentspaceError):
    """A checkpoint or run folder that cannot be read (missing, truncated, tampered, unknown)."""


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite during training."""


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped training after a checkpoint was saved; the message says how to resume."""


class LatentspaceWarning(UserWarning):
    """Something measured about a fitted model that the user should know; the CLI prints it on one line."""


class DeviceFallbackWarning(LatentspaceWarning):
    """A model saved for a device this machine lacks (a CUDA-trained model here), loaded on the CPU."""


class PosteriorCollapseWarning(LatentspaceWarning):
    """A fitted VAE encodes (almost) nothing: no active latent unit, or a KL to the prior near zero."""


class Setting:
    """A parameter (or a value of it) that a message advises, in the reader's vocabulary:
    ``scaling='minmax'`` as Python writes it (``str``), ``--scaling minmax`` on the command line
    (``flag``); without a value, the parameter's name (``lr``, ``--lr``)."""

    def __init__(self, name: str, *value: object):
        self.name, self.value = name, value

    def __str__(self) -> str:
        return f"{self.name}={self.value[0]!r}" if self.value else self.name

    @property
    def option(self) -> str:
        """The command-line option alone: ``--warmup-epochs``."""
        return f"--{self.name.replace('_', '-')}"

    def flag(self) -> str:
        return self.option + (f" {self.value[0]}" if self.value else "")


class Advice:
    """A message made of text and ``Setting``s, given to an exception as its argument: ``str(e)`` reads
    it in Python's words, ``error_line(e)`` (the command line's) in flags. One sentence, made once::

        raise LatentspaceError(Advice("the data span [-2, 3]; use ", Setting("scaling", "minmax")))
    """

    def __init__(self, *parts: str | Setting):
        self.parts = parts

    def __str__(self) -> str:
        return "".join(map(str, self.parts))

    def in_flags(self, flags: Collection[str] | None = None) -> str:
        """The message with its settings as flags; one whose flag is not among ``flags`` (a command's own:
        ``sweep`` has no ``--scaling``) keeps Python's words rather than name a flag the command lacks."""
        return "".join(
            (p.flag() if flags is None or p.option in flags else str(p)) if isinstance(p, Setting) else p
            for p in self.parts
        )


#: the longest error line the command line prints; longer messages keep their start and their end
MAX_LINE = 300


def first_line(e: BaseException) -> str:
    """The first line of an exception's message (or its type's name): errors here are one line."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0].rstrip(":")


def printable(text: object) -> str:
    """``text`` (a name, a path, a cell) as one printable line: every character of ``UNPRINTABLE`` written
    as Python writes it in a string literal (``\\n``, ``\\x1b``, ``\\udcff``), everything else as it is."""
    return UNPRINTABLE.sub(lambda m: ascii(m.group(0))[1:-1], str(text))


def error_line(e: BaseException, flags: Collection[str] | None = None) -> str:
    """What the command line prints for ``e``: one printable line of at most ``MAX_LINE`` characters,
    advice in its flags (``Advice``; only those among ``flags``, the command's, when given).

    Our own messages are one line by contract, so a line break in one can only come from a name in it
    (a file called ``a\\nb``): it is escaped, never cut at. Other libraries' messages are often a
    sentence and then a dump (sklearn prints the whole array): their first line is kept.
    """
    own = isinstance(e, (LatentspaceError, LatentspaceWarning, TrainingDivergedError, TrainingInterrupted))
    if own and len(e.args) == 1 and isinstance(e.args[0], Advice):  # settings spoken as the command's flags
        return one_line(e.args[0].in_flags(flags).strip())
    return one_line(str(e).strip() if own else first_line(e)) or type(e).__name__


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """``text`` printable (see ``printable``) and at most ``limit`` characters: a longer one loses its
    middle, so both the file it names (at the start) and the reason (at the end) stay."""
    text = printable(text)
    if len(text) <= limit:
        return text
    keep = (limit - 5) // 2
    return f"{text[:keep]} ... {text[-keep:]}"
