"""``latentspace encode | decode | reconstruct``: a run folder and a .npy in, a .npy out."""

from __future__ import annotations

import argparse

from ..workflows import runs
from ._common import add_threads_argument, read_array, write_array

ACTIONS = {
    "encode": ("transform", "data (n, n_features) -> codes (n, n_components)"),
    "decode": ("inverse_transform", "codes (n, n_components) -> data (n, n_features)"),
    "reconstruct": ("reconstruct", "data -> decode(encode(data))"),
}


def register(subparsers) -> None:
    for name, (method, what) in ACTIONS.items():
        p = subparsers.add_parser(name, help=what, description=f"{name}: {what}, with a trained run's model.")
        p.add_argument("run_dir", metavar="RUN", help="run folder (or checkpoint folder) of a trained model")
        p.add_argument("input", metavar="IN.npy", help="input array")
        p.add_argument("--out", required=True, metavar="OUT.npy", help="where to write the result")
        add_threads_argument(p)
        p.set_defaults(run=run, method=method)


def run(args: argparse.Namespace) -> int:
    estimator = runs.load_run_model(args.run_dir)
    X = read_array(args.input)
    if X.ndim > 2:
        X = X.reshape(X.shape[0], -1)
    write_array(args.out, getattr(estimator, args.method)(X))
    print(args.out)
    return 0
