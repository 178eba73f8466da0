"""``latentspace datasets``: the named data sets and whether each is on this machine; or one set's summary."""

from __future__ import annotations

import argparse

from ..data import list_datasets
from ._common import add_data_arguments, load_data
from .commands import summary


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "datasets", help=summary("datasets"),
        description="List the named data sets, their sizes and shapes, and whether each is available on "
        "this machine. With --data, load that set or file, check it, and print its summary.",
    )
    add_data_arguments(p, default=None, required=False)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.data is not None:
        print(load_data(args).describe())
        return 0
    rows = list_datasets(args.data_dir)
    print(f"{'name':<14} {'train':>7} {'test':>7} {'shape':>12} {'classes':>7}  available")
    for r in rows:
        status = f"yes ({r['where']})" if r["available"] else f"no: {r['where']}"
        print(f"{r['name']:<14} {r['n_train']:>7} {r['n_test']:>7} {r['shape']:>12} {r['n_classes']:>7}  {status}")
    return 0
