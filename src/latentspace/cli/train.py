"""``latentspace train``: fit one model and write a run folder."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

from ..analysis.heldout import heldout_metrics
from ..errors import LatentspaceError
from ..estimators._checkpoint import jsonable_params
from ..nn.devices import resolve_device
from ..training import distributed
from ..training import state as train_state
from ..training.tracking import TRACKERS, make_tracker
from ..workflows import runs
from ._common import (
    MODELS,
    add_data_arguments,
    add_estimator_arguments,
    build_estimator,
    load_data,
    use_data_image_shape,
)
from .commands import summary

CHECKPOINT_DIR = runs.CHECKPOINT_DIR


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
    p.add_argument("--quiet", action="store_true", help="no progress bar (the result table still prints)")
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
        help="also checkpoint every N optimiser steps (default: at the end of each epoch only)",
    )
    add_estimator_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.resume is not None:
        args = resumed_arguments(args)
    if args.model and args.model_flag and args.model != args.model_flag:
        raise ValueError(f"model given twice: {args.model!r} and --model {args.model_flag!r}")
    if args.checkpoint_every is not None and args.checkpoint_every < 1:
        raise LatentspaceError(f"--checkpoint-every must be >= 1, got {args.checkpoint_every}")
    model = args.model or args.model_flag or "ae"
    estimator = build_estimator(model, args, verbose=not args.quiet)
    if getattr(args, "extend", False):
        estimator = runs.load_run_model(args.resume)
        estimator.set_params(verbose=not args.quiet)
    world = distributed.setup(resolve_device(estimator.device))  # under torchrun: only rank 0 writes and prints
    try:
        return train_and_write(args, model, estimator, world)
    finally:
        if world.distributed:
            distributed.barrier(world)
            distributed.teardown()


def train_and_write(args: argparse.Namespace, model: str, estimator, world: distributed.World) -> int:
    out = args.resume or args.out or f"runs/{model}-{datetime.now():%Y%m%d-%H%M%S}"
    if world.distributed and args.resume is None and args.out is None:
        raise LatentspaceError("under torchrun, give --out so that every process names the same run folder")
    run_dir = Path(out)
    # Only the process that writes the folder holds it; a second one refuses before loading anything.
    with runs.run_lock(run_dir) if world.is_main else nullcontext():
        return train_locked(args, model, estimator, world, run_dir)


def train_locked(args: argparse.Namespace, model: str, estimator, world: distributed.World, run_dir: Path) -> int:
    data = load_data(args)
    use_data_image_shape(estimator, data)
    if world.is_main and args.log:
        estimator.set_params(callbacks=[make_tracker(name, run_dir) for name in args.log])
    config = {
        "command": "train",
        "model": model,
        "data": args.data,
        "data_dir": args.data_dir,
        "split_seed": args.seed,
        "image_shape": data.image_shape,
        "estimator": type(estimator).__name__,
        "params": {k: v for k, v in jsonable_params(estimator).items() if k not in ("callbacks", "warm_start")},
    }
    if world.is_main and args.resume is None:
        runs.prepare_run_dir(run_dir, overwrite=args.overwrite)
        runs.start_run(run_dir, config)  # what --resume reads back
    started = time.perf_counter()
    if getattr(args, "extend", False):
        extend_finished_run(estimator, args.extend, data.X_train)
        config["params"]["epochs"] = args.extend
    else:
        estimator.fit(
            data.X_train,
            checkpoint_dir=run_dir / CHECKPOINT_DIR,
            checkpoint_every=args.checkpoint_every,
            resume=args.resume is not None,
            resume_hint=f"latentspace train --resume {run_dir}",
        )
    fit_seconds = time.perf_counter() - started
    if not world.is_main:
        return 0
    metrics = {"fit_seconds": fit_seconds, "epochs_run": estimator.n_iter_, "processes": world.size}
    metrics.update(heldout_metrics(estimator, data.X_test))
    metrics["compute"] = estimator.compute_  # kernels, precision and threads the products ran with
    estimator.set_params(callbacks=None)
    runs.write_run(run_dir, estimator, config, metrics)
    if not args.keep_checkpoint:  # 3x the model for a conv run; the saved model is what later commands use
        shutil.rmtree(run_dir / CHECKPOINT_DIR, ignore_errors=True)
    for name, value in metrics.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items() if k != "ms")
        print(f"{name:>28}  {value:.6g}" if isinstance(value, float) else f"{name:>28}  {value}")
    print(run_dir, file=sys.stdout)
    return 0


def extend_finished_run(estimator, epochs: int, X) -> None:
    """Train a finished run's saved model on to ``epochs`` in all (warm start: a fresh optimiser)."""
    done = estimator.n_iter_
    estimator.set_params(warm_start=True, epochs=epochs - done)
    estimator.fit(X)
    estimator.set_params(warm_start=False, epochs=epochs)


def resumed_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """The arguments of the run in ``args.resume``, read from its config.json; no settings may change."""
    epochs = getattr(args, "param_epochs", None)
    given = sorted("--" + k[len("param_") :].replace("_", "-") for k in vars(args) if k.startswith("param_"))
    given = [flag for flag in given if flag != "--epochs"]
    if given or args.model or args.model_flag or args.out:
        flags = ", ".join(given + [f for f, v in (("MODEL", args.model or args.model_flag), ("--out", args.out)) if v])
        raise LatentspaceError(f"--resume continues a run with its own settings (only --epochs may change); drop {flags}")
    run_dir = Path(args.resume)
    finished = runs.is_finished(run_dir)
    config = runs.read_run_config(run_dir) if finished else runs.read_resumable_config(run_dir)
    done = len(load_history(run_dir)) if finished else 0
    if finished and epochs is None:
        raise LatentspaceError(
            f"{run_dir}: this run already finished ({done} epochs); pass --epochs N (more than {done}) to train it further"
        )
    if finished and epochs <= done:
        raise LatentspaceError(f"{run_dir}: the run already has {done} epochs; --epochs must be more than that")
    if config.get("command") != "train" or config.get("model") not in MODELS or not isinstance(config.get("params"), dict):
        raise LatentspaceError(f"{run_dir}: not a training run folder")
    resumed = argparse.Namespace(**vars(args))
    resumed.model, resumed.model_flag = config["model"], None
    resumed.data, resumed.data_dir, resumed.seed = config["data"], config.get("data_dir"), config.get("split_seed", 0)
    for name, value in config["params"].items():
        if name not in ("verbose", "callbacks", "warm_start"):
            setattr(resumed, f"param_{name}", tuple(value) if isinstance(value, list) else value)
    if epochs is not None:
        resumed.param_epochs = epochs
    # A finished run without its training checkpoint goes on from the saved model (warm start).
    resumed.extend = epochs if finished and not train_state.exists(run_dir / CHECKPOINT_DIR) else None
    return resumed


def load_history(run_dir: Path) -> list[dict]:
    return runs.load_run_model(run_dir).history_
