"""Pieces shared by the commands: data arguments, estimator flags, array files."""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Dataset, load_dataset, read_npy
from ..errors import LatentspaceError
from ..estimators import VAE, AutoEncoder, LinearAutoEncoder

MODELS = {"ae": AutoEncoder, "linear": LinearAutoEncoder, "vae": VAE}
# Parameters the CLI sets itself rather than through a generated flag.
NOT_FLAGS = {"verbose", "encoder", "decoder", "callbacks", "warm_start"}


def add_data_arguments(parser: argparse.ArgumentParser, default: str | None = "digits", required: bool | None = None) -> None:
    parser.add_argument(
        "--data", default=default, required=default is None if required is None else required, metavar="NAME|PATH",
        help="named data set (digits, fashion-mnist, mnist), an array file (.npy, .npz, .csv, IDX/.gz) "
        f"or a folder of images (default: {default})",
    )
    parser.add_argument("--data-dir", default=None, metavar="DIR", help="folder holding a named set's files")
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/test split (default: 0)")
    group = add_file_arguments(parser)
    group.add_argument("--test-fraction", type=float, default=0.2, metavar="F",
                       help="held-out part of a file without a stored split (default: 0.2)")


def add_file_arguments(parser: argparse.ArgumentParser):
    """How to read a data file: CSV columns, .npz arrays, image folders, memory-mapping."""
    group = parser.add_argument_group("data file options")
    group.add_argument("--label-column", default=None, metavar="NAME|INDEX", help="CSV: the column holding labels")
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


def load_data(args: argparse.Namespace) -> Dataset:
    options = {
        name: getattr(args, name)
        for name in ("test_fraction", "mmap", "x_key", "y_key", "label_column", "header", "image_size", "color")
        if hasattr(args, name)
    }
    return load_dataset(args.data, data_dir=args.data_dir, seed=args.seed, **options)


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


def optional_number(kind):
    def parse(text: str):
        return None if text.lower() == "none" else kind(text)

    parse.__name__ = kind.__name__
    return parse


def estimator_parameters() -> dict[str, dict[str, Any]]:
    """Every estimator parameter with its default in each model that has it."""
    params: dict[str, dict[str, Any]] = {}
    for model, cls in MODELS.items():
        for name, p in inspect.signature(cls.__init__).parameters.items():
            if name != "self" and name not in NOT_FLAGS:
                params.setdefault(name, {})[model] = p.default
    return params


def describe_defaults(defaults: dict[str, Any]) -> str:
    values = set(map(repr, defaults.values()))
    text = f"default {next(iter(values))}" if len(values) == 1 else "default " + ", ".join(
        f"{m} {v!r}" for m, v in defaults.items()
    )
    return text if len(defaults) == len(MODELS) else f"{text} [{', '.join(defaults)} only]"


def flag_type(name: str, default: Any):
    if name == "image_shape":
        return parse_image_shape
    if name == "hidden" or isinstance(default, tuple):
        return parse_int_tuple
    if name in ("patience", "random_state"):
        return optional_number(int)
    if name == "grad_clip":
        return optional_number(float)
    if name == "binarize":
        return optional_number(str)
    if isinstance(default, bool):
        return lambda s: s.lower() in ("1", "true", "yes")
    if isinstance(default, int):
        return int
    if isinstance(default, float):
        return float
    return str


def flag_choices(name: str) -> tuple[str, ...] | None:
    """The allowed values of a parameter with a fixed set of them (the library's own tuples)."""
    from ..data.binarize import BINARIZE_MODES
    from ..estimators._base import ARCHITECTURES, SCALINGS
    from ..estimators._vae import VAE_LIKELIHOODS
    from ..nn.conv import NORMS
    from ..nn.mlp import ACTIVATIONS

    return {
        "likelihood": VAE_LIKELIHOODS, "loss": ("mse", "bce"), "scaling": SCALINGS, "architecture": ARCHITECTURES,
        "norm": NORMS, "activation": tuple(ACTIVATIONS), "lr_schedule": ("constant", "cosine"),
        "binarize": (None, *BINARIZE_MODES),
    }.get(name)


PARAM_LINE = re.compile(r"^    ([a-z_][a-z0-9_, ]*) : (.*)$")


def parameter_docs() -> dict[str, str]:
    """``name -> meaning`` from the estimators' numpydoc "Parameters" entries (one place to write them)."""
    docs: dict[str, str] = {}
    for cls in (AutoEncoder, VAE, LinearAutoEncoder):
        for name, text in docstring_entries(cls.__doc__ or "").items():
            docs.setdefault(name, text)
    return docs


def docstring_entries(doc: str) -> dict[str, str]:
    """``name : text`` entries (continued on deeper-indented lines) of one docstring, markup removed."""
    entries: dict[str, str] = {}
    names: list[str] = []
    for line in doc.splitlines():
        found = PARAM_LINE.match(line)
        if found:
            names = [n.strip() for n in found.group(1).split(",")]
            for name in names:
                entries[name] = found.group(2).strip()
        elif line.startswith("        ") and names:
            for name in names:
                entries[name] += " " + line.strip()
        else:
            names = []
    return {k: re.sub(r":class:`([^`]*)`", r"\1", v).replace("``", "") for k, v in entries.items()}


def add_estimator_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per estimator parameter, named like it (``n_components`` -> ``--n-components``), with its
    meaning from the estimator's docstring, its allowed values and each model's default."""
    group = parser.add_argument_group("model parameters (as in the estimators; defaults per model)")
    docs = parameter_docs()
    for name, defaults in estimator_parameters().items():
        choices = flag_choices(name)
        meaning = docs.get(name, "").replace("%", "%%")
        metavar = "{" + ",".join("none" if c is None else c for c in choices) + "}" if choices else name.upper()
        group.add_argument(
            "--" + name.replace("_", "-"), dest=f"param_{name}", type=flag_type(name, next(iter(defaults.values()))),
            default=argparse.SUPPRESS, metavar=metavar, choices=choices,
            help=f"{meaning} ({describe_defaults(defaults)})" if meaning else describe_defaults(defaults),
        )


def build_estimator(model: str, args: argparse.Namespace, verbose: bool):
    cls = MODELS[model]
    accepted = set(inspect.signature(cls.__init__).parameters)
    given = {k[len("param_") :]: v for k, v in vars(args).items() if k.startswith("param_")}
    wrong = sorted(set(given) - accepted)
    if wrong:
        flags = ", ".join("--" + w.replace("_", "-") for w in wrong)
        raise LatentspaceError(f"{flags} does not apply to model {model!r}")
    if "verbose" in accepted:
        given["verbose"] = verbose
    given.setdefault("random_state", 0)
    return cls(**given)


def use_data_image_shape(estimator, data: Dataset) -> None:
    """Give the estimator the data set's image shape unless ``--image-shape`` set one."""
    params = estimator.get_params(deep=False)
    if "image_shape" in params and params["image_shape"] is None and data.image_shape is not None:
        estimator.set_params(image_shape=tuple(data.image_shape))


def read_array(path: str | Path) -> np.ndarray:
    """A .npy file through the data layer's checked reader (header, size and dtype checked first)."""
    return read_npy(path)


def write_array(path: str | Path, X: np.ndarray) -> None:
    path = Path(path)
    if path.suffix != ".npy":
        raise LatentspaceError(f"{path}: output must end in .npy")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, X)
