"""``latentspace evaluate``: measure a trained run on held-out data; print and store the numbers."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from ..workflows import runs
from ..workflows.evaluate import check_evaluation_options, evaluate_run
from ..workflows.runs import EVALUATION_FILE, DataSource
from ._common import Stages, add_allow_import_argument, add_quiet_argument, add_threads_argument, wrote
from .commands import summary


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help=summary("evaluate"),
        description="Measure a trained run on a data set's test part; print the numbers and write "
        "RUN/evaluation.json. NLLs are in nats per example.",
    )
    p.add_argument("run_dir", metavar="RUN", help="run folder written by `latentspace train`")
    p.add_argument("--data", default=None, metavar="NAME|PATH", help="data set (default: the run's own)")
    p.add_argument("--data-dir", default=None, metavar="DIR", help="folder holding a named set's files")
    p.add_argument("--seed", type=int, default=None, help="seed of the train/test split (default: the run's)")
    p.add_argument("--iw-samples", type=int, default=1000, metavar="K",
                   help="importance samples per example for the IW-NLL; 0 skips it (default: 1000)")
    p.add_argument("--binarize-test", type=int, default=None, metavar="SEED",
                   help="binarise the test images once with this seed (the static-binarisation protocol)")
    p.add_argument("--max-examples", type=int, default=None, metavar="N", help="use the first N test examples")
    p.add_argument("--regularity-samples", type=int, default=1000, metavar="N",
                   help="generated samples per sampler for the regularity metrics (Fréchet distance, "
                   "precision/recall, interpolation, holes); 0 skips them (default: 1000)")
    add_quiet_argument(p)
    add_threads_argument(p)
    add_allow_import_argument(p)
    p.set_defaults(run=run)


def heldout_source(args: argparse.Namespace) -> DataSource:
    """The data set named on the command line, or the one the run was trained on (with its file
    options), with the split seed and folder given on the command line."""
    if args.data:
        config = runs.read_run_config(args.run_dir)
        seed = args.seed if args.seed is not None else int(config.get("split_seed") or 0)
        return DataSource(args.data, args.data_dir, seed)
    source = DataSource.of_run(args.run_dir)
    changes = {"data_dir": args.data_dir, "split_seed": args.seed}
    return dataclasses.replace(source, **{k: v for k, v in changes.items() if v is not None})


def run(args: argparse.Namespace) -> int:
    check_evaluation_options(args.iw_samples, args.regularity_samples, args.max_examples)
    metrics = evaluate_run(
        args.run_dir, heldout_source(args), iw_samples=args.iw_samples, regularity_samples=args.regularity_samples,
        max_examples=args.max_examples, binarize_test=args.binarize_test, verbose=not args.quiet,
        say=Stages("evaluate", quiet=args.quiet or None), allow_import=args.allow_import,
    )
    width = max(len(name) for name in metrics)
    for name, value in metrics.items():
        if isinstance(value, float):
            print(f"{name:>{width}}  {value:.6g}")
        elif not isinstance(value, dict):
            print(f"{name:>{width}}  {value}")
    wrote(Path(args.run_dir) / EVALUATION_FILE, Path(args.run_dir) / runs.CARD_FILE)
    return 0
