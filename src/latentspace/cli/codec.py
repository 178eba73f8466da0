"""``latentspace encode | decode | reconstruct``: a run folder and a data file in, a .npy out."""

from __future__ import annotations

import argparse

from ..data import read_data_file
from ..workflows import runs
from ._common import (
    add_allow_import_argument,
    add_class_argument,
    add_file_arguments,
    add_threads_argument,
    chosen_class,
    file_options,
    write_array,
)
from .commands import summary

#: each command and the estimator method it calls
ACTIONS = {"encode": "transform", "decode": "inverse_transform", "reconstruct": "reconstruct"}


def register(subparsers) -> None:
    for name, method in ACTIONS.items():
        what = summary(name)
        p = subparsers.add_parser(name, help=what, description=f"{name}: {what}, with a trained run's model.")
        p.add_argument("run_dir", metavar="RUN", help="run folder (or checkpoint folder) of a trained model")
        p.add_argument("input", metavar="IN", help="input: .npy, .npz, .csv/.tsv, IDX (.gz) or a folder of images; "
                       "every row (or image) is one example")
        p.add_argument("--out", required=True, metavar="OUT.npy", help="where to write the result")
        add_file_arguments(p)
        if name != "encode":  # a conditional model's encoder reads the rows alone
            add_class_argument(p, "decode")
        add_threads_argument(p)
        add_allow_import_argument(p)
        p.set_defaults(run=run, method=method)


def run(args: argparse.Namespace) -> int:
    estimator = runs.load_run_model(args.run_dir, args.allow_import)
    X = read_data_file(args.input, **file_options(args))
    label = chosen_class(estimator, getattr(args, "class_name", None))
    write_array(args.out, getattr(estimator, args.method)(X, *(() if label is None else (label,))))
    print(f"wrote {args.out}")
    return 0
