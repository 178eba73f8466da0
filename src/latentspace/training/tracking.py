"""Experiment tracking built on the training hooks: TensorBoard event files and MLflow runs.

Both are optional extras (``pip install 'latentspace[tensorboard]'`` / ``'latentspace[mlflow]'``) and
are imported only when a logger starts. Each epoch's record becomes one scalar per column at
``step = epoch``; with ``every_n_steps`` the training loss is also logged every that many optimiser
steps (which reads it off the device, so it is off by default).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ..errors import LatentspaceError
from .callbacks import Callback

TRACKERS = ("tensorboard", "mlflow")


def missing_extra(extra: str, package: str) -> LatentspaceError:
    return LatentspaceError(f"{extra} logging needs the {package} package: pip install 'latentspace[{extra.lower()}]'")


def epoch_scalars(record: dict[str, float]) -> dict[str, float]:
    """The record's columns worth a curve (everything but the epoch number itself)."""
    return {k: float(v) for k, v in record.items() if k != "epoch"}


class TensorBoardLogger(Callback):
    """Writes TensorBoard event files to ``log_dir`` (``tensorboard --logdir DIR`` shows them).

    Scalars: ``train_loss``, ``val_loss``, every other loss term and ``seconds``, at step = epoch;
    the estimator's parameters as text under ``params``.
    """

    def __init__(self, log_dir: str | Path, every_n_steps: int | None = None):
        self.log_dir = log_dir
        self.every_n_steps = every_n_steps
        self._writer = None

    def on_train_begin(self, info: dict[str, Any]) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise missing_extra("TensorBoard", "tensorboard") from None
        self._writer = SummaryWriter(log_dir=str(self.log_dir))
        params = info.get("params") or {}
        self._writer.add_text("params", "\n".join(f"    {k} = {v!r}" for k, v in sorted(params.items())), 0)

    def on_step(self, record: dict[str, Any]) -> None:
        if self.every_n_steps and record["step"] % self.every_n_steps == 0 and self._writer is not None:
            self._writer.add_scalar("step/train_loss", float(record["loss"]), record["step"])

    def on_epoch_end(self, record: dict[str, float]) -> None:
        for name, value in epoch_scalars(record).items():
            self._writer.add_scalar(name, value, int(record["epoch"]))

    def on_train_end(self, records) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __getstate__(self):  # an open writer is not data: clones and pickles get a closed logger
        return {**self.__dict__, "_writer": None}


class MLflowLogger(Callback):
    """Logs to an MLflow run: parameters once, each epoch's record as metrics at step = epoch.

    The tracking store is ``tracking_uri`` if given, else ``MLFLOW_TRACKING_URI`` if set, else a local
    ``mlruns`` folder in the working directory (MLflow's file store, which MLflow 3 keeps behind the
    ``MLFLOW_ALLOW_FILE_STORE`` switch; this logger turns it on for a ``file:`` store unless it is set).
    ``run_id_`` holds the MLflow run's id after training starts.
    """

    def __init__(self, experiment: str = "latentspace", run_name: str | None = None,
                 tracking_uri: str | None = None, every_n_steps: int | None = None):
        self.experiment = experiment
        self.run_name = run_name
        self.tracking_uri = tracking_uri
        self.every_n_steps = every_n_steps
        self._client = None
        self.run_id_: str | None = None

    def store_uri(self) -> str:
        if self.tracking_uri:
            return self.tracking_uri
        if os.environ.get("MLFLOW_TRACKING_URI"):
            return os.environ["MLFLOW_TRACKING_URI"]
        return (Path.cwd() / "mlruns").as_uri()

    def on_train_begin(self, info: dict[str, Any]) -> None:
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise missing_extra("MLflow", "mlflow") from None
        uri = self.store_uri()
        if uri.startswith("file:"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self._client = MlflowClient(tracking_uri=uri)
        found = self._client.get_experiment_by_name(self.experiment)
        experiment_id = found.experiment_id if found else self._client.create_experiment(self.experiment)
        run = self._client.create_run(experiment_id, run_name=self.run_name)
        self.run_id_ = run.info.run_id
        for name, value in sorted((info.get("params") or {}).items()):
            self._client.log_param(self.run_id_, name, str(value)[:500])

    def on_step(self, record: dict[str, Any]) -> None:
        if self.every_n_steps and record["step"] % self.every_n_steps == 0 and self._client is not None:
            self._client.log_metric(self.run_id_, "step_train_loss", float(record["loss"]), step=record["step"])

    def on_epoch_end(self, record: dict[str, float]) -> None:
        from mlflow.entities import Metric

        epoch, stamp = int(record["epoch"]), int(time.time() * 1000)
        metrics = [Metric(name, value, stamp, epoch) for name, value in epoch_scalars(record).items()]
        self._client.log_batch(self.run_id_, metrics=metrics)

    def on_train_end(self, records) -> None:
        if self._client is not None:
            self._client.set_terminated(self.run_id_)
            self._client = None

    def __getstate__(self):
        return {**self.__dict__, "_client": None}


def make_tracker(name: str, run_dir: str | Path) -> Callback:
    """The CLI's ``--log NAME``: TensorBoard files in ``RUN/tensorboard``, or an MLflow run named after RUN."""
    if name == "tensorboard":
        return TensorBoardLogger(Path(run_dir) / "tensorboard")
    if name == "mlflow":
        return MLflowLogger(run_name=Path(run_dir).name)
    raise LatentspaceError(f"unknown tracker {name!r}; choose one of {', '.join(TRACKERS)}")
