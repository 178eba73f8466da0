"""``latentspace compare``: model families trained on one budget and measured on one protocol."""

from __future__ import annotations

import argparse

from .._families import NAMES, family_names
from ..workflows.compare import DEFAULT_MODELS, DEFAULT_STEPS, run_compare
from ._common import Stages, add_data_arguments, add_threads_argument, load_data, wrote
from .commands import summary


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help=summary("compare"),
        description="Train each model family on the same data and budget, measure held-out reconstruction, "
        "IW-NLL (where the model has a likelihood), sample quality and holes for every model and sampler, print "
        "the leaderboard with its verdicts and write report.html (an explorer holds every model), "
        "leaderboard.json and the models to --out.",
    )
    p.add_argument("--models", default=",".join(DEFAULT_MODELS), metavar="M,M,...",
                   help=f"families to compare, from {', '.join(NAMES)} (default: {','.join(DEFAULT_MODELS)})")
    add_data_arguments(p)
    p.add_argument("--out", default="latentspace-compare", metavar="DIR", help="folder (default: latentspace-compare)")
    p.add_argument("--n-components", type=int, default=16, metavar="K", help="latent size of every model (default: 16)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, metavar="N",
                   help=f"optimiser steps per model, the same for all (default: {DEFAULT_STEPS})")
    p.add_argument("--samples", type=int, default=1000, metavar="N", help="decoded samples per model and sampler")
    p.add_argument("--iw-samples", type=int, default=1000, metavar="K",
                   help="importance samples of the IW-NLL (0: skip it; default: 1000)")
    p.add_argument("--iw-rows", type=int, default=500, metavar="N", help="held-out rows of the IW-NLL (default: 500)")
    add_threads_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    names = family_names(args.models)
    for flag in ("n_components", "steps", "samples", "iw_rows"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if args.iw_samples < 0:
        raise ValueError(f"--iw-samples must be >= 0, got {args.iw_samples}")
    stage = Stages("compare")
    result = run_compare(names, load_data(args), args.out, n_components=args.n_components, steps=args.steps,
                         n_samples=args.samples, iw_samples=args.iw_samples, iw_rows=args.iw_rows, seed=args.seed,
                         stage=stage)
    print(result.table())
    wrote(result.report_path)
    return 0
