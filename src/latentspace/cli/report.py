"""``latentspace report``: one self-contained HTML page from one or more run folders."""

from __future__ import annotations

import argparse

from ..workflows.run_report import build_runs_report
from ._common import add_allow_import_argument, add_threads_argument, page_for
from .commands import summary


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help=summary("report"),
        description="Read run folders written by `latentspace train` and write one HTML file (figures embedded, "
        "readable offline) comparing them: metrics, training curves, reconstructions, latent spaces, samples.",
    )
    p.add_argument("run_dirs", nargs="+", metavar="RUN", help="run folder(s) written by `latentspace train`")
    p.add_argument("--out", default=None, metavar="FILE.html",
                   help="where to write (default: RUN/report.html for one run, report.html here for several)")
    p.add_argument("--examples", type=int, default=10, metavar="N", help="held-out examples per figure (default: 10)")
    add_threads_argument(p)
    add_allow_import_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.out is None:
        args.out = page_for(args.run_dirs, "report.html")
    if not args.out.endswith((".html", ".htm")):
        raise ValueError(f"{args.out}: the report is HTML; give an --out ending in .html")
    if args.examples < 1:
        raise ValueError(f"--examples must be >= 1, got {args.examples}")
    path = build_runs_report(args.run_dirs, n_examples=args.examples, allow_import=args.allow_import).write(args.out)
    print(path)
    return 0
