"""The ``latentspace`` command-line program: a thin layer over the library.

Each command lives in its own module with ``register(subparsers)``; errors in the user's input print
one line on stderr and exit with status 2. ``--version`` answers before anything heavy (torch) is
imported; a mistyped command gets a "did you mean".
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import re
import sys
import warnings

from .._version import __version__
from ..errors import LatentspaceError, LatentspaceWarning, TrainingDivergedError, TrainingInterrupted, first_line

#: command modules, in the order ``--help`` lists them; imported when the parser is built
COMMAND_MODULES = ("demo", "train", "codec", "sample", "evaluate", "pca_check", "memorize", "sweep", "report", "explore",
                   "datasets")
INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2, like every other error
        self.exit(2, f"{self.prog}: error: {did_you_mean(message)} (see --help)\n")


def did_you_mean(message: str) -> str:
    """argparse's "invalid choice" message, with the closest allowed value suggested."""
    found = INVALID_CHOICE.search(message)
    if not found:
        return message
    choices = re.findall(r"'([^']*)'", found.group(2)) or [c.strip() for c in found.group(2).split(",")]
    close = difflib.get_close_matches(found.group(1), choices, n=1, cutoff=0.6)
    return f"{message}; did you mean {close[0]!r}?" if close else message


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="latentspace",
        description="Train autoencoders and VAEs and measure their latent spaces.",
    )
    parser.add_argument("--version", action="version", version=f"latentspace {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f".{name}", __name__).register(subparsers)
    return parser


def warning_printer(command: str):
    """``warnings.showwarning`` for the CLI: latentspace's own warnings as one line on stderr."""
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, LatentspaceWarning):
            print(f"latentspace {command}: warning: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv in (["--version"], ["-V"]):  # no torch import: answers in well under a second
        print(f"latentspace {__version__}")
        return 0
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        from ..training.threads import pinned_threads  # torch: after --version has had its chance
    except KeyboardInterrupt:
        print("latentspace: interrupted", file=sys.stderr)
        return 130
    try:
        threads = getattr(args, "threads", None)
        if threads is not None and threads < 1:
            raise LatentspaceError(f"--threads must be >= 1, got {threads}")
        with pinned_threads(threads), warnings.catch_warnings():  # train's --threads is an estimator parameter
            warnings.showwarning = warning_printer(args.command)
            return int(args.run(args) or 0)
    except (ValueError, OSError, TrainingDivergedError) as e:
        message = first_line(e)
        print(f"latentspace {args.command}: error: {message}", file=sys.stderr)
        return 2
    except MemoryError:  # the budgets should refuse first; this is the backstop
        print(f"latentspace {args.command}: error: out of memory", file=sys.stderr)
        return 2
    except TrainingInterrupted as e:
        print(f"latentspace {args.command}: {e}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"latentspace {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
