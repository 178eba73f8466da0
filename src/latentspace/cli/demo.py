"""``latentspace demo``: the seed's story on one data set, measured."""

from __future__ import annotations

import argparse

from ..demo import run_demo
from ._common import add_data_arguments, load_data


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="fit PCA, a linear AE, a deep AE and a VAE and compare them (the main job)",
        description="Fit PCA, a linear AE, a deep AE and a VAE on one data set, print the comparison and "
        "write everything to a run folder.",
    )
    add_data_arguments(p)
    p.add_argument("--out", default="latentspace-demo", metavar="DIR", help="run folder (default: latentspace-demo)")
    p.add_argument("--quick", action="store_true", help="fewer epochs: a first look in seconds")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    data = load_data(args)
    print(data.describe())
    result = run_demo(data, args.out, quick=args.quick, seed=args.seed)
    print(result.table())
    print(f"run folder: {result.out}")
    return 0
