"""The ``latentspace`` command-line program: a thin layer over the library.

Each command lives in its own module with ``register(subparsers)``; errors in the user's input print
one line on stderr and exit with status 2. Only the invoked command's module is imported (the others
are listed from ``commands.COMMANDS``), so ``--version``, ``--help`` and a mistyped command, which gets
a "did you mean", answer before anything heavy (torch) is imported.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import gc
import importlib
import re
import sys
import warnings
from collections.abc import Collection, Sequence

from .._version import __version__
from ..errors import LatentspaceError, LatentspaceWarning, TrainingDivergedError, TrainingInterrupted, error_line, one_line
from .commands import COMMANDS

INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")
UNRECOGNIZED = re.compile(r"unrecognized arguments: (--[^\s=]+)")


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, with one-line errors and no abbreviated flags: ``--epoch 3`` is refused (with
    a "did you mean '--epochs'") rather than silently taken as ``--epochs``. Every command's parser is
    one of these (``add_subparsers(parser_class=...)``)."""

    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def parse_args(self, args=None, namespace=None):
        # An unknown flag first: otherwise the value after "--epoch" reads as the model and argparse
        # answers "invalid choice: '3'" about the wrong argument. The command's own parser refuses it
        # ("latentspace train: error: ..."), with a guess from that command's flags; argparse itself
        # would report leftovers through the top parser ("latentspace: error: ...").
        args = sys.argv[1:] if args is None else list(args)
        command = self.command_parser(args)
        known = set(long_flags(command)) | set(long_flags(self, commands=False))
        for arg in args:
            if arg == "--":
                break
            if arg.startswith("--") and arg.split("=", 1)[0] not in known:
                command.error(f"unrecognized arguments: {arg.split('=', 1)[0]}")
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def command_parser(self, args: Sequence[str]) -> argparse.ArgumentParser:
        """The parser of the command ``args`` invoke (the first word that names one), else this one."""
        commands = next((a.choices for a in self._actions if isinstance(a, argparse._SubParsersAction)), {})
        invoked = next((a for a in args if not a.startswith("-")), None)
        return commands.get(invoked, self)

    def error(self, message: str):  # one line, status 2, like every other error
        self.exit(2, f"{self.prog}: error: {one_line(did_you_mean(message, long_flags(self)))} (see --help)\n")


def long_flags(parser: argparse.ArgumentParser, commands: bool = True) -> list[str]:
    """Every ``--flag`` of ``parser`` and (``commands``) of the commands registered in it."""
    found = []  # argparse keeps a parser's actions only in _actions (argcomplete reads them there too)
    for action in parser._actions:
        found += [s for s in action.option_strings if s.startswith("--")]
        if commands and isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                found += long_flags(command)
    return found


def command_flags(parser: argparse.ArgumentParser, command: str) -> frozenset[str]:
    """The ``--flags`` of ``command`` (registered in ``parser``): the ones its messages may advise."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return frozenset(long_flags(action.choices[command], commands=False))
    return frozenset()


def did_you_mean(message: str, flags: Sequence[str] = ()) -> str:
    """argparse's "invalid choice" or "unrecognized arguments" message, with the closest allowed
    value, or the closest of ``flags``, suggested."""
    choice, flag = INVALID_CHOICE.search(message), UNRECOGNIZED.search(message)
    if choice:
        wrong, dashes = choice.group(1), ""
        allowed = re.findall(r"'([^']*)'", choice.group(2)) or [c.strip() for c in choice.group(2).split(",")]
    elif flag:  # compared without the dashes that every flag shares
        wrong, dashes = flag.group(1).removeprefix("--"), "--"
        allowed = [f.removeprefix("--") for f in flags]
    else:
        return message
    close = difflib.get_close_matches(wrong, allowed, n=1, cutoff=0.6)
    return f"{message}; did you mean {dashes + close[0]!r}?" if close else message


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or, given the command line ``argv``, of every command that can
    answer it: the invoked command's module is imported and registers its parser, the others are
    listed by name and summary only (None: every command's full parser)."""
    parser = ArgumentParser(
        prog="latentspace",
        description="Train autoencoders and VAEs and measure their latent spaces.",
    )
    parser.add_argument("--version", action="version", version=f"latentspace {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    subparsers.required = True
    invoked = None if argv is None else next((a for a in argv if not a.startswith("-")), None)
    full = None if invoked is None or invoked not in COMMANDS else COMMANDS[invoked].module
    for name, command in COMMANDS.items():
        if name in subparsers.choices:  # registered with another command of its module
            continue
        if argv is None or command.module == full:
            importlib.import_module(f".{command.module}", __name__).register(subparsers)
        else:
            subparsers.add_parser(name, help=command.summary, add_help=False)
    return parser


def warning_printer(command: str, flags: Collection[str] | None = None):
    """``warnings.showwarning`` for the CLI: every warning as one line on stderr, never Python's two
    (the file and source line of the library that raised it). latentspace's own say what was measured,
    their advice in ``flags`` (the command's); another library's name their category and where they came from."""

    def show(message, category, filename, lineno, file=None, line=None):
        text = error_line(message if isinstance(message, Warning) else category(message), flags)
        if not issubclass(category, LatentspaceWarning):
            text += f" ({category.__name__} in {origin(filename)})"
        print(f"latentspace {command}: warning: {text}", file=sys.stderr)

    return show


def origin(filename: str) -> str:
    """The package a warning came from: ``.../site-packages/sklearn/decomposition/_pca.py`` -> sklearn."""
    parts = re.split(r"[\\/]", filename)
    for marker in ("site-packages", "dist-packages", "src"):
        if marker in parts and parts.index(marker) + 1 < len(parts):
            return parts[parts.index(marker) + 1].removesuffix(".py")
    return parts[-1]


def threads_pinned(threads: int | None) -> contextlib.AbstractContextManager:
    """The command's ``--threads`` in force (``training.threads.pinned_threads``); without one, nothing
    to set, and no torch to import for it."""
    if threads is None:
        return contextlib.nullcontext()
    from ..training.threads import pinned_threads

    return pinned_threads(threads)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv in (["--version"], ["-V"]):  # no torch import: answers in well under a second
        print(f"latentspace {__version__}")
        return 0
    try:
        parser = build_parser(argv)
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("latentspace: interrupted", file=sys.stderr)
        return 130
    flags = command_flags(parser, args.command)
    try:
        threads = getattr(args, "threads", None)
        if threads is not None and threads < 1:
            raise LatentspaceError(f"--threads must be >= 1, got {threads}")
        with threads_pinned(threads), warnings.catch_warnings():  # train's --threads is an estimator parameter
            warnings.showwarning = warning_printer(args.command, flags)
            return int(args.run(args) or 0)
    except (ValueError, OSError, TrainingDivergedError) as e:
        print(f"latentspace {args.command}: error: {error_line(e, flags)}", file=sys.stderr)
        return 2
    except MemoryError:  # the budgets should refuse first; this is the backstop
        from .._files import human_bytes, memory_budget

        print(f"latentspace {args.command}: error: out of memory (memory budget {human_bytes(memory_budget())})",
              file=sys.stderr)
        return 2
    except TrainingInterrupted as e:
        print(f"latentspace {args.command}: {error_line(e)}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"latentspace {args.command}: interrupted", file=sys.stderr)
        return 130


def run() -> int:
    """The ``latentspace`` console script: ``main()``, then a quick exit.

    On its way out the interpreter garbage-collects every object it ever made, which with torch,
    scikit-learn and matplotlib loaded takes 1.4-1.7 s on a 2-core machine after the work is done.
    Freezing the heap first skips that collection (0.3 s left). Every file this program writes is closed and
    renamed explicitly, and atexit handlers still run: nothing waits on a collected finaliser.
    """
    status = main()
    gc.freeze()
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
