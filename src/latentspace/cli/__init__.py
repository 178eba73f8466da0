"""The ``latentspace`` command-line program: a thin layer over the library.

Each command lives in its own module with ``register(subparsers)``; errors in the user's input print
one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys

from .._version import __version__
from ..errors import LatentspaceError, TrainingDivergedError, TrainingInterrupted, first_line
from ..training.threads import pinned_threads
from . import (
    codec,
    datasets,
    demo,
    evaluate,
    explore,
    memorize,
    pca_check,
    report,
    sample,
    sweep,
    train,
)

COMMANDS = [demo, train, codec, sample, evaluate, pca_check, memorize, sweep, report, explore, datasets]


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2, like every other error
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="latentspace",
        description="Train autoencoders and VAEs and measure their latent spaces.",
    )
    parser.add_argument("--version", action="version", version=f"latentspace {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    subparsers.required = True
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("latentspace: interrupted", file=sys.stderr)
        return 130
    try:
        threads = getattr(args, "threads", None)
        if threads is not None and threads < 1:
            raise LatentspaceError(f"--threads must be >= 1, got {threads}")
        with pinned_threads(threads):  # train's --threads is an estimator parameter instead
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
