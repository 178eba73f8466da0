"""``latentspace demo``: the classic AE and VAE claims on one data set, measured and pictured in report.html."""

from __future__ import annotations

import argparse
import time

from ..workflows.demo import run_demo
from ._common import add_data_arguments, add_threads_argument, load_data


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="fit PCA, a linear AE, a deep AE and a VAE, compare them, write report.html (the main job)",
        description="Fit PCA, a linear AE, a deep AE and a VAE on one data set, print the comparison tables and "
        "write the models, metrics and a self-contained report.html to a run folder.",
    )
    add_data_arguments(p)
    p.add_argument("--out", default="latentspace-demo", metavar="DIR", help="run folder (default: latentspace-demo)")
    p.add_argument("--quick", action="store_true", help="fewer epochs: a first look in seconds")
    p.add_argument("--n-components", type=int, default=2, metavar="K",
                   help="latent size of every model (default: 2, which allows the decoded grids)")
    add_threads_argument(p)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.n_components < 1:
        raise ValueError(f"--n-components must be >= 1, got {args.n_components}")
    started = time.perf_counter()
    data = load_data(args)
    print(data.describe())
    result = run_demo(data, args.out, quick=args.quick, seed=args.seed, k=args.n_components,
                      show_progress=not args.quiet)
    print(f"\ndemo finished in {time.perf_counter() - started:.1f} s")
    print(f"report: {result.report_path}")
    return 0
