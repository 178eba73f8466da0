"""``latentspace train``: fit one model and write a run folder."""

from __future__ import annotations

import argparse

from ..errors import LatentspaceError
from ..training.tracking import TRACKERS
from ..workflows.train import resume_run, train_run
from ._common import (
    MODELS,
    add_allow_import_argument,
    add_data_arguments,
    add_estimator_arguments,
    add_quiet_argument,
    build_estimator,
    data_source,
)
from .commands import summary


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help=summary("train"),
        description="Train one model on a data set's training part; measure it on the test part.",
    )
    p.add_argument("model", nargs="?", choices=sorted(MODELS), help="which model (or use --model)")
    p.add_argument("--model", dest="model_flag", choices=sorted(MODELS), help="which model (default: ae)")
    add_data_arguments(p)
    p.add_argument("--out", default=None, metavar="DIR", help="run folder (default: runs/MODEL-TIMESTAMP)")
    p.add_argument("--overwrite", action="store_true",
                   help="start over in a --out that holds a model or an unfinished run (the old model "
                   "stays until the new one is complete)")
    add_quiet_argument(p)
    p.add_argument(
        "--resume", default=None, metavar="RUN",
        help="continue the run in folder RUN from its last checkpoint, with the run's own settings; "
        "with --epochs N, train a finished run further, up to N epochs in all",
    )
    p.add_argument(
        "--keep-checkpoint", action="store_true",
        help="keep RUN/checkpoint/ (weights + optimiser state) after the run finishes; by default it is "
        "removed, and --resume --epochs then continues from the saved model with a fresh optimiser",
    )
    p.add_argument(
        "--log", action="append", choices=TRACKERS, default=[], metavar="{" + ",".join(TRACKERS) + "}",
        help="also log every epoch's losses: tensorboard (event files in RUN/tensorboard) or mlflow (a run "
        "named after RUN in MLFLOW_TRACKING_URI, default ./mlruns); needs the extra of the same name; repeatable",
    )
    p.add_argument(
        "--checkpoint-every", type=int, default=None, metavar="N",
        help="also checkpoint every N optimiser steps (default: at epoch ends only, as often as costs at most ~5%% of the run)",
    )
    add_allow_import_argument(p)
    add_estimator_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.resume is not None:
        check_resume_flags(args)
        result = resume_run(args.resume, getattr(args, "param_epochs", None), verbose=not args.quiet,
                            keep_checkpoint=args.keep_checkpoint, checkpoint_every=args.checkpoint_every, log=args.log,
                            allow_import=args.allow_import)
    else:
        if args.allow_import:
            raise LatentspaceError("--allow-import opens a run whose model has its own networks: give it with --resume RUN")
        if args.model and args.model_flag and args.model != args.model_flag:
            raise ValueError(f"model given twice: {args.model!r} and --model {args.model_flag!r}")
        estimator = build_estimator(args.model or args.model_flag or "ae", args, verbose=not args.quiet)
        result = train_run(estimator, data_source(args), args.out, overwrite=args.overwrite,
                           keep_checkpoint=args.keep_checkpoint, checkpoint_every=args.checkpoint_every, log=args.log)
    if result.metrics:  # under torchrun, only the process that wrote the run prints
        print_metrics(result.metrics)
        print(result.run_dir)
    return 0


def print_metrics(metrics: dict) -> None:
    for name, value in metrics.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items() if k != "ms")
        print(f"{name:>28}  {value:.6g}" if isinstance(value, float) else f"{name:>28}  {value}")


def check_resume_flags(args: argparse.Namespace) -> None:
    """--resume continues a run with its own settings: only --epochs may be given with it."""
    given = sorted("--" + k[len("param_") :].replace("_", "-") for k in vars(args) if k.startswith("param_"))
    given = [flag for flag in given if flag != "--epochs"]
    if given or args.model or args.model_flag or args.out:
        flags = ", ".join(given + [f for f, v in (("MODEL", args.model or args.model_flag), ("--out", args.out)) if v])
        raise LatentspaceError(f"--resume continues a run with its own settings (only --epochs may change); drop {flags}")
