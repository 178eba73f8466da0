"""``latentspace demo``: the tutorial's story on one data set, measured and pictured in report.html."""

from __future__ import annotations

import argparse
import time

from ..workflows.demo import BUDGETS, STAGES, run_demo
from ._common import add_data_arguments, add_quiet_argument, add_threads_argument, load_data
from .commands import summary

QUICK = BUDGETS["quick"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help=summary("demo"),
        description="Fit PCA, a linear AE, a deep AE and a VAE on one data set (and, on the full budget, the "
        "VampPrior VAE, RAE and WAE-MMD: which regulariser fills the holes), print the comparison tables and "
        "verdicts and write the models, metrics and a self-contained report.html to a run folder.",
    )
    add_data_arguments(p)
    p.add_argument("--out", default="latentspace-demo", metavar="DIR", help="run folder (default: latentspace-demo)")
    p.add_argument("--quick", action="store_true",
                   help=f"the 'quick' budget: at most {QUICK.train_rows:,} training rows, {QUICK.steps:,} steps per "
                   "model, a shorter sweep, no other model families (stage 'regularisers'); a first look in about a "
                   "minute on digits, 3 on Fashion-MNIST (2 cores)")
    p.add_argument("--budget", choices=tuple(BUDGETS), default=None,
                   help="how much to measure: quick or full (default: full, or quick with --quick)")
    p.add_argument("--skip", default="", metavar="STAGE,...",
                   help=f"stages not to run, by name: {', '.join(s.name for s in STAGES)}")
    p.add_argument("--n-components", type=int, default=2, metavar="K",
                   help="latent size of every model (default: 2, which allows the decoded grids)")
    add_threads_argument(p)
    add_quiet_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.n_components < 1:
        raise ValueError(f"--n-components must be >= 1, got {args.n_components}")
    started = time.perf_counter()
    data = load_data(args)
    print(data.describe())
    skip = tuple(name.strip() for name in args.skip.split(",") if name.strip())
    result = run_demo(data, args.out, quick=args.quick, seed=args.seed, k=args.n_components,
                      show_progress=not args.quiet, budget=args.budget, skip=skip)
    print("\nverdicts on the tutorial's claims, measured on this run:")
    for line in result.verdicts or ["(no claim measured: its stages did not run)"]:
        print(f"  {line}")
    if result.interrupted_in:
        print(f"\ndemo stopped during stage {result.interrupted_in!r} after {time.perf_counter() - started:.1f} s")
        print(f"report of the finished stages: {result.report_path}")
        return 130
    print(f"\ndemo finished in {time.perf_counter() - started:.1f} s")
    print(f"report: {result.report_path}")
    return 0
