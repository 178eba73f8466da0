"""Train one model into a run folder (``latentspace train``), or continue the run in one.

    >>> from latentspace import AutoEncoder
    >>> from latentspace.workflows.train import train_run
    >>> result = train_run(AutoEncoder(n_components=2, epochs=3), "digits", "runs/ae")  # doctest: +SKIP
    >>> result.metrics["heldout_mse_per_feature"]                                      # doctest: +SKIP

The folder's layout and who may write it: ``runs``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .._families import FAMILIES
from ..analysis.heldout import heldout_metrics
from ..data import Dataset
from ..errors import LatentspaceError
from ..estimators import ESTIMATORS
from ..estimators._checkpoint import jsonable_params, rebuild_modules
from ..nn.devices import resolve_device
from ..training import distributed
from ..training import state as train_state
from ..training.tracking import make_tracker
from . import runs
from .runs import CHECKPOINT_DIR, DataSource

#: the models a run folder holds: the name the command line and run configs use, and its estimator class
#: (the registry of families, _families.py)
MODEL_CLASSES: dict[str, type] = {f.name: ESTIMATORS[f.class_name] for f in FAMILIES}
#: parameters a run's config does not carry over to a resumed run (runtime objects, the caller's choice)
NOT_CARRIED = ("verbose", "callbacks", "warm_start")


@dataclass
class TrainResult:
    """A finished run: its folder, fitted estimator and held-out measurements (``metrics.json``);
    ``metrics`` is empty in the processes of a torchrun job that do not write."""

    run_dir: Path
    estimator: Any
    metrics: dict[str, Any]


def model_name(estimator) -> str:
    """The run config's name of the estimator's class ("ae", "linear", "vae", "vamp", ...)."""
    for name, cls in MODEL_CLASSES.items():
        if type(estimator) is cls:
            return name
    raise LatentspaceError(
        f"a run folder holds one of {', '.join(c.__name__ for c in MODEL_CLASSES.values())}, "
        f"got {type(estimator).__name__}"
    )


def as_source(data: str | Path | DataSource) -> DataSource:
    return data if isinstance(data, DataSource) else DataSource(str(data))


def default_run_dir(estimator) -> Path:
    return Path(f"runs/{model_name(estimator)}-{datetime.now():%Y%m%d-%H%M%S}")


def train_run(
    estimator,
    data: str | Path | DataSource,
    out: str | Path | None = None,
    *,
    overwrite: bool = False,
    keep_checkpoint: bool = False,
    checkpoint_every: int | None = None,
    log: Sequence[str] = (),
) -> TrainResult:
    """Fit ``estimator`` on the training part of ``data`` and write the run folder ``out``: the model,
    its config, history and held-out metrics (see ``runs``). Under ``torchrun`` every process trains
    and only the first writes.

    ``data``: a named set, a path, or a ``DataSource`` (with the split seed and file options).
    ``out``: the run folder (default ``runs/MODEL-TIMESTAMP``); one holding a model or an unfinished
    run is refused unless ``overwrite`` (the old model stays until the new one is complete).
    ``keep_checkpoint``: keep ``out/checkpoint/`` (weights and optimiser state) once the run is done.
    ``checkpoint_every``: also checkpoint every so many optimiser steps. ``log``: "tensorboard" and/or
    "mlflow", to log every epoch's losses there as well.
    """
    source = as_source(data)
    check_checkpoint_every(checkpoint_every)
    estimator._validate_params()  # a refusal before the run folder is touched
    world = distributed.setup(resolve_device(estimator.device))
    try:
        if world.distributed and out is None:
            raise LatentspaceError("under torchrun, give --out so that every process names the same run folder")
        run_dir = Path(out) if out is not None else default_run_dir(estimator)
        # Only the process that writes the folder holds it; a second one refuses before loading anything.
        with runs.run_lock(run_dir) if world.is_main else nullcontext():
            dataset = source.load()
            training_labels(estimator, dataset)  # a refusal before the run folder is touched
            use_data_image_shape(estimator, dataset)
            config = run_config(estimator, source, dataset)
            if world.is_main:
                runs.prepare_run_dir(run_dir, overwrite=overwrite)
                runs.start_run(run_dir, config)  # what resume_run reads back
            try:
                return fit_and_write(estimator, dataset, run_dir, config, world, keep_checkpoint, log, dict(
                    checkpoint_every=checkpoint_every, resume=False, resume_hint=resume_hint(run_dir)))
            except Exception:
                if world.is_main:
                    runs.forget_unstarted_run(run_dir)
                raise
    finally:
        finish(world)


def resume_run(
    run_dir: str | Path,
    epochs: int | None = None,
    *,
    verbose: bool | int = True,
    keep_checkpoint: bool = False,
    checkpoint_every: int | None = None,
    log: Sequence[str] = (),
    allow_import: bool = False,
) -> TrainResult:
    """Continue the run in ``run_dir`` with its own settings.

    An unfinished run goes on from its last checkpoint (``epochs``: a new total, or its own). A
    finished run trains further up to ``epochs`` in all: from its training checkpoint when it was kept,
    else from the saved model with a fresh optimiser (warm start). ``allow_import``: as ``load``'s, for
    a run whose model has its own encoder/decoder classes (imported and built with no arguments).
    """
    run_dir = Path(run_dir)
    check_checkpoint_every(checkpoint_every)
    finished = runs.is_finished(run_dir)
    config = runs.read_run_config(run_dir) if finished else runs.read_resumable_config(run_dir)
    if config.get("command") != "train" or config.get("model") not in MODEL_CLASSES or not isinstance(config.get("params"), dict):
        raise LatentspaceError(f"{run_dir}: not a training run folder")
    extend = False
    if not finished:
        check_resume_epochs(run_dir, epochs)
    if finished:
        saved = runs.load_run_model(run_dir, allow_import)
        done = len(saved.history_)
        if epochs is None:
            raise LatentspaceError(
                f"{run_dir}: this run already finished ({done} epochs); pass --epochs N (more than {done}) to train it further"
            )
        if epochs <= done:
            raise LatentspaceError(f"{run_dir}: the run already has {done} epochs; --epochs must be more than that")
        # A finished run without its training checkpoint goes on from the saved model (warm start).
        extend = not train_state.exists(run_dir / CHECKPOINT_DIR)
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in config["params"].items() if k not in NOT_CARRIED}
    rebuild_modules(params, run_dir, allow_import=allow_import)  # the run's own networks, or a refusal
    if epochs is not None:  # the new total, in the estimator and in the config.json the run ends with
        params["epochs"] = config["params"]["epochs"] = epochs
    estimator = saved if extend else MODEL_CLASSES[config["model"]](**params)
    estimator.set_params(verbose=verbose)
    source = DataSource.of_run(run_dir, config)
    world = distributed.setup(resolve_device(estimator.device))
    try:
        with runs.run_lock(run_dir) if world.is_main else nullcontext():
            dataset = source.load()
            if extend:
                return fit_and_write(estimator, dataset, run_dir, config, world, keep_checkpoint, log, None, extend=epochs)
            return fit_and_write(estimator, dataset, run_dir, config, world, keep_checkpoint, log, dict(
                checkpoint_every=checkpoint_every, resume=True, resume_hint=resume_hint(run_dir)))
    finally:
        finish(world)


def check_resume_epochs(run_dir: Path, epochs: int | None) -> None:
    """A new epoch total for an unfinished run must be more than the epochs it has trained, as for a
    finished run: fewer would leave a config that says 5 epochs over a history of 19."""
    if epochs is None or not train_state.exists(run_dir / CHECKPOINT_DIR):
        return
    done = train_state.read(run_dir / CHECKPOINT_DIR)[0]["epoch"]
    if epochs <= done:
        raise LatentspaceError(f"{run_dir}: the run has already trained {done} epochs; --epochs must be more than "
                               f"that (or leave it out to finish the run as it was started)")


def resume_hint(run_dir: Path) -> str:
    """How an interrupted run is continued (``resume_run`` in Python)."""
    return f"latentspace train --resume {run_dir}"


def check_checkpoint_every(checkpoint_every: int | None) -> None:
    if checkpoint_every is not None and checkpoint_every < 1:
        raise LatentspaceError(f"--checkpoint-every must be >= 1, got {checkpoint_every}")


def finish(world: distributed.World) -> None:
    if world.distributed:
        distributed.barrier(world)
        distributed.teardown()


def training_labels(estimator, data: Dataset):
    """What ``fit`` gets as ``y``: a conditional model the training part's labels, by their class names
    (``Dataset.named_labels``; one line when the data have none); the others nothing."""
    if not estimator.needs_labels:
        return None
    if data.y_train is None:
        raise LatentspaceError(f"{data.name} has no labels, and a {type(estimator).__name__} learns p(x | z, y): "
                               "train it on a labelled named set (digits, mnist, fashion-mnist, ...) or name the "
                               "labels' column of a table with --label-column")
    return data.named_labels("train")


def use_data_image_shape(estimator, data: Dataset) -> None:
    """Give the estimator the data set's image shape unless it was given one."""
    params = estimator.get_params(deep=False)
    if "image_shape" in params and params["image_shape"] is None and data.image_shape is not None:
        estimator.set_params(image_shape=tuple(data.image_shape))


def run_config(estimator, source: DataSource, data: Dataset) -> dict[str, Any]:
    """The run's config.json (less the model's checksum, added once the model is written)."""
    return {
        "command": "train",
        "model": model_name(estimator),
        **source.to_config(),
        "image_shape": data.image_shape,
        "estimator": type(estimator).__name__,
        "params": {k: v for k, v in jsonable_params(estimator).items() if k not in ("callbacks", "warm_start")},
    }


def fit_and_write(estimator, data: Dataset, run_dir: Path, config: dict[str, Any], world: distributed.World,
                  keep_checkpoint: bool, log: Sequence[str], fit_options: dict | None, extend: int | None = None) -> TrainResult:
    if world.is_main and log:
        estimator.set_params(callbacks=[make_tracker(name, run_dir) for name in log])
    started = time.perf_counter()
    if extend is not None:
        extend_finished_run(estimator, extend, data.X_train, training_labels(estimator, data))
    else:
        estimator.fit(data.X_train, training_labels(estimator, data), checkpoint_dir=run_dir / CHECKPOINT_DIR,
                      **fit_options)
    fit_seconds = time.perf_counter() - started
    if not world.is_main:
        return TrainResult(run_dir, estimator, {})
    metrics = {"fit_seconds": fit_seconds, "epochs_run": estimator.n_iter_, "processes": world.size}
    metrics.update(heldout_metrics(estimator, data.X_test, data.named_labels("test")))
    metrics["compute"] = estimator.compute_  # kernels, precision and threads the products ran with
    estimator.set_params(callbacks=None)
    runs.write_run(run_dir, estimator, config, metrics)
    if not keep_checkpoint:  # 3x the model for a conv run; the saved model is what later commands use
        shutil.rmtree(run_dir / CHECKPOINT_DIR, ignore_errors=True)
    return TrainResult(run_dir, estimator, metrics)


def extend_finished_run(estimator, epochs: int, X, y=None) -> None:
    """Train a finished run's saved model on to ``epochs`` in all (warm start: a fresh optimiser)."""
    done = estimator.n_iter_
    estimator.set_params(warm_start=True, epochs=epochs - done)
    estimator.fit(X, y)
    estimator.set_params(warm_start=False, epochs=epochs)
