"""Pieces shared by the commands: data arguments, estimator flags, array files."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Dataset, load_dataset
from ..errors import DataError, LatentspaceError
from ..estimators import VAE, AutoEncoder, LinearAutoEncoder

MODELS = {"ae": AutoEncoder, "linear": LinearAutoEncoder, "vae": VAE}
# Parameters the CLI sets itself rather than through a generated flag.
NOT_FLAGS = {"verbose"}


def add_data_arguments(parser: argparse.ArgumentParser, default: str | None = "digits") -> None:
    parser.add_argument(
        "--data", default=default, required=default is None, metavar="NAME|PATH",
        help=f"named data set (digits, fashion-mnist, mnist) or a .npy/.csv file (default: {default})",
    )
    parser.add_argument("--data-dir", default=None, metavar="DIR", help="folder holding a named set's files")
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/test split (default: 0)")


def load_data(args: argparse.Namespace) -> Dataset:
    return load_dataset(args.data, data_dir=args.data_dir, seed=args.seed)


def parse_int_tuple(text: str) -> tuple[int, ...]:
    """'256,64' -> (256, 64); '' or 'none' -> ()."""
    if text.strip().lower() in ("", "none", "()"):
        return ()
    try:
        values = tuple(int(part) for part in text.replace(" ", ",").split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
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
    if name == "hidden":
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


def add_estimator_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per estimator parameter, named like it (``n_components`` -> ``--n-components``)."""
    group = parser.add_argument_group("model parameters (as in the estimators; defaults per model)")
    for name, defaults in estimator_parameters().items():
        group.add_argument(
            "--" + name.replace("_", "-"), dest=f"param_{name}", type=flag_type(name, next(iter(defaults.values()))),
            default=argparse.SUPPRESS, metavar=name.upper(), help=describe_defaults(defaults),
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


def read_array(path: str | Path) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        X = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npy file ({str(e).splitlines()[0]})") from None
    if not isinstance(X, np.ndarray):
        raise DataError(f"{path}: expected a .npy array, got an archive")
    return X


def write_array(path: str | Path, X: np.ndarray) -> None:
    path = Path(path)
    if path.suffix != ".npy":
        raise LatentspaceError(f"{path}: output must end in .npy")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, X)
