"""``latentspace explore``: the live latent explorer of run folders, as one offline HTML file."""

from __future__ import annotations

import argparse

from ..report.explorer import MAX_POINTS, MAX_REFERENCES
from ..workflows.explore import build_explorer_report
from ._common import add_allow_import_argument, add_data_arguments, load_data, page_for
from .commands import summary


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "explore", help=summary("explore"),
        description="Read run folders written by `latentspace train` and write one self-contained HTML file (no "
        "network, opens from disk) whose JavaScript runs each model's decoder: drag over the latent map, move one "
        "slider per dimension, click two points to interpolate, draw samples, and see the nearest training "
        "example beside every decoded image.",
    )
    p.add_argument("run_dirs", nargs="+", metavar="RUN", help="run folder(s) written by `latentspace train`")
    p.add_argument("--out", default=None, metavar="FILE.html",
                   help="where to write (default: RUN/explorer.html for one run, explorer.html here for several)")
    p.add_argument("--float32", dest="precision", action="store_const", const="float32", default="float16",
                   help="embed the weights as float32 (exact; twice the size) instead of float16")
    p.add_argument("--points", type=int, default=MAX_POINTS, metavar="N",
                   help=f"held-out codes drawn on the map (default: {MAX_POINTS})")
    p.add_argument("--references", type=int, default=MAX_REFERENCES, metavar="N",
                   help=f"training examples searched for the nearest one (default: {MAX_REFERENCES})")
    add_data_arguments(p, default=None, required=False)
    add_allow_import_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.out is None:
        args.out = page_for(args.run_dirs, "explorer.html")
    if not args.out.endswith((".html", ".htm")):
        raise ValueError(f"{args.out}: the explorer is HTML; give an --out ending in .html")
    for flag in ("points", "references"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    data = load_data(args) if args.data is not None else None
    report = build_explorer_report(args.run_dirs, data, args.precision, args.points, args.references, seed=args.seed,
                                    allow_import=args.allow_import)
    print(report.write(args.out))
    return 0
