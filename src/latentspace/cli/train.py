"""``latentspace train``: fit one model and write a run folder."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime

from .. import runs
from ._common import MODELS, add_data_arguments, add_estimator_arguments, build_estimator, load_data
from ._common import use_data_image_shape
from .metrics import heldout_metrics


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train an AE, linear AE or VAE and write a run folder",
        description="Train one model on a data set's training part; measure it on the test part.",
    )
    p.add_argument("model", nargs="?", choices=sorted(MODELS), help="which model (or use --model)")
    p.add_argument("--model", dest="model_flag", choices=sorted(MODELS), help="which model (default: ae)")
    add_data_arguments(p)
    p.add_argument("--out", default=None, metavar="DIR", help="run folder (default: runs/MODEL-TIMESTAMP)")
    p.add_argument("--overwrite", action="store_true", help="replace a model already in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_estimator_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.model and args.model_flag and args.model != args.model_flag:
        raise ValueError(f"model given twice: {args.model!r} and --model {args.model_flag!r}")
    model = args.model or args.model_flag or "ae"
    estimator = build_estimator(model, args, verbose=not args.quiet)
    out = args.out or f"runs/{model}-{datetime.now():%Y%m%d-%H%M%S}"
    run_dir = runs.prepare_run_dir(out, overwrite=args.overwrite)
    data = load_data(args)
    use_data_image_shape(estimator, data)
    started = time.perf_counter()
    estimator.fit(data.X_train)
    fit_seconds = time.perf_counter() - started
    metrics = {"fit_seconds": fit_seconds, "epochs_run": estimator.n_iter_, **heldout_metrics(estimator, data)}
    config = {
        "command": "train",
        "model": model,
        "data": args.data,
        "data_dir": args.data_dir,
        "split_seed": args.seed,
        "image_shape": data.image_shape,
        "estimator": type(estimator).__name__,
        "params": estimator.get_params(),
    }
    runs.write_run(run_dir, estimator, config, metrics)
    if not args.quiet:
        for name, value in metrics.items():
            print(f"{name:>28}  {value:.6g}" if isinstance(value, float) else f"{name:>28}  {value}")
    print(run_dir, file=sys.stdout)
    return 0
