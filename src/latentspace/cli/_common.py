"""Pieces shared by the commands: data arguments, estimator flags, array files."""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._families import NAMES
from .._files import atomic_write_npy
from ..data import NAMED, Dataset
from ..errors import LatentspaceError

if TYPE_CHECKING:
    from ..estimators._params import Param

#: the models ``train`` fits, by the name the command line uses (the registry in _families.py, which
#: also names their estimator classes; read without torch, so --help needs none)
MODELS = NAMES


def model_class(model: str) -> type:
    """The estimator class of ``model`` (imported here: commands that fit nothing need no torch)."""
    from ..workflows.train import MODEL_CLASSES

    return MODEL_CLASSES[model]

# Parameters the CLI sets itself rather than through a generated flag.
NOT_FLAGS = {"verbose", "encoder", "decoder", "callbacks", "warm_start"}
#: Defaults of the command line that differ from the estimators': a run folder is reproducible unless
#: the user asks for fresh randomness (``--random-state none``). Help and behaviour both read this.
CLI_DEFAULTS = {"random_state": 0}


def add_data_arguments(parser: argparse.ArgumentParser, default: str | None = "digits", required: bool | None = None) -> None:
    parser.add_argument(
        "--data", default=default, required=default is None if required is None else required, metavar="NAME|PATH",
        help=f"named data set ({', '.join(NAMED)}), an array file (.npy, .npz, .csv, IDX/.gz, .parquet), an "
        f"HDF5 dataset FILE.h5:/GROUP/X, or a folder of images (default: {default})",
    )
    parser.add_argument("--data-dir", default=None, metavar="DIR", help="folder holding a named set's files")
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/test split (default: 0)")
    group = add_file_arguments(parser)
    group.add_argument("--test-fraction", type=float, default=0.2, metavar="F",
                       help="held-out part of a file without a stored split (default: 0.2)")


def add_file_arguments(parser: argparse.ArgumentParser):
    """How to read a data file: CSV columns, .npz arrays, image folders, memory-mapping."""
    group = parser.add_argument_group("data file options")
    group.add_argument("--label-column", default=None, metavar="NAME|INDEX", help="CSV or Parquet: the column holding labels")
    group.add_argument("--no-header", dest="header", action="store_false", default=None,
                       help="CSV: the first row is data (default: a non-numeric first row is a header)")
    group.add_argument("--x-key", default=None, metavar="KEY", help=".npz: the array holding the data")
    group.add_argument("--y-key", default=None, metavar="KEY", help=".npz: the array holding the labels")
    group.add_argument("--image-size", type=parse_image_size, default=None, metavar="HxW",
                       help="image folder: resize every image to this size")
    group.add_argument("--color", choices=("auto", "grey", "rgb"), default="auto",
                       help="image folder: colour mode (default: auto, grey when every image is grey)")
    group.add_argument("--mmap", action=argparse.BooleanOptionalAction, default=None,
                       help=".npy / raw IDX: memory-map the file (default: when larger than 1 GiB)")
    return group


def file_options(args: argparse.Namespace) -> dict:
    """The data file options given on the command line, as ``read_data_file`` keywords."""
    return {name: getattr(args, name) for name in ("mmap", "x_key", "label_column", "header", "image_size", "color")}


def parse_image_size(text: str) -> tuple[int, int]:
    """'28x28' or '28,28' or '28' -> (28, 28)."""
    parts = text.lower().replace(",", "x").split("x")
    try:
        size = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW, got {text!r}") from None
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) < 1:
        raise argparse.ArgumentTypeError(f"expected two positive sizes HxW, got {text!r}")
    return size


DATA_OPTIONS = ("test_fraction", "mmap", "x_key", "y_key", "label_column", "header", "image_size", "color")


def data_source(args: argparse.Namespace):
    """The data the command line names (``--data`` and its file options), as a ``runs.DataSource``."""
    from ..workflows.runs import DataSource

    options = {name: getattr(args, name) for name in DATA_OPTIONS if hasattr(args, name)}
    return DataSource(args.data, args.data_dir, args.seed, options)


def load_data(args: argparse.Namespace) -> Dataset:
    return data_source(args).load()


def add_allow_import_argument(parser: argparse.ArgumentParser) -> None:
    """``--allow-import``: ``load(..., allow_import=True)`` for models saved with their own networks."""
    parser.add_argument(
        "--allow-import", action="store_true",
        help="open models saved with their own encoder/decoder classes by importing the recorded classes and "
        "building them with no arguments (as load(..., allow_import=True); refused by default: importing runs "
        "the module's code, so only for folders you trust, with the classes on PYTHONPATH)",
    )


def add_class_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """``--class NAME``: the class a conditional model (cvae) decodes as."""
    parser.add_argument(
        "--class", dest="class_name", default=None, metavar="NAME",
        help=f"a conditional model (cvae): {what} as this class, one of the names it was trained on (default: each "
        "one's class drawn from the training classes' frequencies)",
    )


def chosen_class(estimator, name: str | None):
    """``--class NAME`` as one of a conditional model's ``classes_`` (None when not given)."""
    if name is None:
        return None
    if not getattr(estimator, "needs_labels", False):
        raise LatentspaceError(f"--class is for a conditional model (cvae); a {type(estimator).__name__} is not "
                               "conditioned on classes")
    for c in estimator.classes_.tolist():
        if str(c) == name:
            return c
    raise LatentspaceError(f"no class {name!r}; the model knows {', '.join(map(str, estimator.classes_.tolist()))}")


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    """``--threads N``: torch CPU threads for the whole command (``main`` pins them; see training.threads)."""
    parser.add_argument(
        "--threads", type=int, default=None, metavar="N",
        help="torch CPU threads (default: one for small networks, else the CPUs left idle by other processes); "
        "where independent models are fitted side by side, one process per idle CPU, 1 keeps them in one",
    )


def add_quiet_argument(parser: argparse.ArgumentParser, also: str = "") -> None:
    """``--quiet``: no progress bars or stage lines (they are drawn only on a terminal anyway)."""
    parser.add_argument("--quiet", action="store_true",
                        help=f"no progress bars or stage lines{also}; the results still print")


def parse_int_tuple(text: str) -> tuple[int, ...]:
    """'256,64' -> (256, 64); '' or 'none' -> ()."""
    if text.strip().lower() in ("", "none", "()"):
        return ()
    try:
        values = tuple(int(part) for part in text.replace(" ", ",").split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def parse_image_shape(text: str) -> tuple[int, ...] | None:
    """'1,28,28' or '28x28' -> a tuple; 'none' -> None (use the data set's own shape)."""
    if text.strip().lower() in ("", "none"):
        return None
    values = parse_int_tuple(text.lower().replace("x", ","))
    if len(values) not in (2, 3):
        raise argparse.ArgumentTypeError(f"expected H,W or C,H,W, got {text!r}")
    return values


def optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse``, but 'none' means None."""
    def parse_optional(text: str):
        return None if text.strip().lower() == "none" else parse(text)

    parse_optional.__name__ = getattr(parse, "__name__", "value")
    return parse_optional


def one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse_choice(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {', '.join(choices)}, none)")
        return text

    return parse_choice


def or_auto(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse``, but the text "auto" stays "auto" (a value ``fit`` resolves from the data)."""

    def parse_or_auto(text: str):
        return "auto" if text.strip().lower() == "auto" else parse(text)

    parse_or_auto.__name__ = getattr(parse, "__name__", "value")
    return parse_or_auto


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("1", "true", "yes", "0", "false", "no"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return value in ("1", "true", "yes")


#: How the command line reads each kind of parameter (see estimators._params.KINDS).
PARSERS: dict[str, Callable[[str], Any]] = {
    "int": int, "float": float, "str": str, "bool": parse_bool, "level": int, "ints": parse_int_tuple,
    "shape": parse_image_shape, "seed": int, "device": str,
}


METAVARS = {"int": "N", "float": "X", "str": "NAME", "bool": "BOOL", "level": "N", "ints": "N,N,...", "shape": "C,H,W",
            "seed": "N", "device": "DEVICE"}


def estimator_parameters() -> dict[str, dict[str, tuple[Param, Any]]]:
    """Every estimator parameter: for each model that has it, its constraint and its default."""
    params: dict[str, dict[str, tuple[Param, Any]]] = {}
    for model in MODELS:
        cls = model_class(model)
        for name, p in inspect.signature(cls.__init__).parameters.items():
            if name != "self" and name not in NOT_FLAGS:
                params.setdefault(name, {})[model] = (cls._parameter_constraints[name], p.default)
    return params


def describe_defaults(defaults: dict[str, Any]) -> str:
    values = set(map(repr, defaults.values()))
    text = f"default {next(iter(values))}" if len(values) == 1 else "default " + ", ".join(
        f"{m} {v!r}" for m, v in defaults.items()
    )
    return text if len(defaults) == len(MODELS) else f"{text}; {', '.join(defaults)} only"


#: an int flag whose value may also be "auto" or "none" (argparse still says "invalid int value")
int_or_auto = or_auto(optional(int))


def add_estimator_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per estimator parameter, named like it (``n_components`` -> ``--n-components``), its type,
    choices and help taken from the estimators' constraint tables."""
    group = parser.add_argument_group("model parameters (as in the estimators; defaults per model)")
    for name, per_model in estimator_parameters().items():
        spec = next(iter(per_model.values()))[0]
        parse = optional(PARSERS[spec.kind]) if spec.optional else PARSERS[spec.kind]
        if spec.auto:
            parse = or_auto(parse)
        choices = None
        metavar = METAVARS[spec.kind]
        if spec.choices:
            metavar = "{" + ",".join(spec.choices + (("none",) if spec.optional else ())) + "}"
            if spec.optional:  # argparse checks choices after parsing, where None is not one of them
                parse = optional(one_of(spec.choices))
            else:
                choices = spec.choices
        defaults = {model: CLI_DEFAULTS.get(name, default) for model, (_, default) in per_model.items()}
        # a model whose parameter means something else (the linear AE's own "auto" epochs) says so
        otherwise = "".join(f"; {model}: {p.help}" for model, (p, _) in per_model.items() if p.help != spec.help)
        group.add_argument(
            "--" + name.replace("_", "-"), dest=f"param_{name}", type=parse, choices=choices,
            default=argparse.SUPPRESS, metavar=metavar,
            help=f"{spec.help}{otherwise} ({describe_defaults(defaults)})",
        )


def build_estimator(model: str, args: argparse.Namespace, verbose: bool):
    cls = model_class(model)
    accepted = set(inspect.signature(cls.__init__).parameters)
    given = {k[len("param_") :]: v for k, v in vars(args).items() if k.startswith("param_")}
    wrong = sorted(set(given) - accepted)
    if wrong:
        flags = ", ".join("--" + w.replace("_", "-") for w in wrong)
        raise LatentspaceError(f"{flags} does not apply to model {model!r}")
    if "verbose" in accepted:
        given["verbose"] = verbose
    return cls(**{**CLI_DEFAULTS, **given})


def write_array(path: str | Path, X: np.ndarray) -> None:
    """``X`` as a .npy file, written atomically: on any failure the old file stays and the error names it."""
    path = Path(path)
    if path.suffix != ".npy":
        raise LatentspaceError(f"{path}: output must end in .npy")
    atomic_write_npy(path, X)


class Stages:
    """Stage lines on stderr (``command [12.3 s] what``), so that a command that runs for minutes says
    what it is doing; stdout stays for results. Like a progress bar they are for a person at a terminal:
    when stderr is a file or a pipe it keeps only errors, one line each."""

    def __init__(self, command: str, quiet: bool | None = None):
        self.command, self.started = command, time.perf_counter()
        self.quiet = not sys.stderr.isatty() if quiet is None else quiet

    def __call__(self, what: str) -> None:
        if not self.quiet:
            print(f"{self.command} [{time.perf_counter() - self.started:6.1f} s] {what}", file=sys.stderr, flush=True)


def wrote(*paths) -> None:
    """The last line of a command: the files it wrote."""
    print("wrote " + ", ".join(str(p) for p in paths))


def page_for(run_dirs: list[str], name: str) -> str:
    """Where a page about run folders goes without ``--out``: ``name`` in the one run folder it shows (a user
    looks for it beside the run), or in the current folder when it compares several."""
    return str(Path(run_dirs[0]) / name) if len(run_dirs) == 1 else name
