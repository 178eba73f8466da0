"""Run folders: what one CLI run leaves on disk, and who may write it.

    RUN/config.json    the command, the data set, the estimator's class and parameters, and the
                       SHA-256 of the model's weights (written last: it marks the run finished)
    RUN/history.csv    one row per epoch, every loss term on train and validation
    RUN/metrics.json   held-out measurements
    RUN/model/         the checkpoint (see ``checkpoint``), swapped in whole
    RUN/checkpoint/    the resumable training state; ``checkpoint/run.json`` is the config of a run
                       still in progress (what ``--resume`` reads), removed once the run is finished
    RUN/.lock          held (``flock``) by the process training in the folder; holds its pid (removed
                       when it is done)
    RUN/evaluation.json  what ``latentspace evaluate`` measured, once it has run
    RUN/MODEL.md       the model card: data, parameters, metrics so far, versions, how to load it

A run folder therefore holds the old model or the new one, never a mix: a fresh run (``--overwrite``
included) writes nothing outside ``checkpoint/`` until its model is complete, the model folder is
written under a temporary name and swapped in, and ``config.json`` names the weights it goes with.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import os
import inspect
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._files import (
    atomic_write_bytes,
    atomic_write_json,
    output_folder,
    read_json,
    recover_folder,
    remove_debris,
    replace_folder,
    temporary_folder_for,
)
from ..data import Dataset, load_dataset
from ..errors import CheckpointError, LatentspaceError
from ..estimators import load
from ..estimators._card import CARD_FILE, model_card
from ..estimators._checkpoint import CONFIG_FILE, FORMAT, read_config
from ..training import state as train_state

MODEL_DIR = "model"
CHECKPOINT_DIR = "checkpoint"
PENDING_CONFIG = "run.json"
LOCK_FILE = ".lock"
#: what ``latentspace evaluate`` writes into a run folder (the report shows it)
EVALUATION_FILE = "evaluation.json"
METRICS_FILE = "metrics.json"


@contextmanager
def run_lock(path: str | Path) -> Iterator[Path]:
    """Hold an exclusive lock on the run folder ``path`` (created if needed) for the block.

    A second process asking for it gets a LatentspaceError naming the holder's pid. The lock is an
    ``flock`` on ``RUN/.lock``: the kernel releases it when the holder exits, however it exits. The
    holder first clears the debris of a process killed while writing here (``remove_debris``). A
    ``.lock`` this block created is removed on the way out (while still held: a process that opened
    the old file finds it gone and locks the new one), and a folder it created is removed again if the
    block fails before writing anything: a refused command leaves the folder as it found it.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise LatentspaceError(f"{path}: exists and is not a folder")
    lock_path = path / LOCK_FILE
    with output_folder(path):
        created = not lock_path.exists()
        handle = _locked(lock_path, path)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            recover_folder(path / MODEL_DIR)
            for folder in (path, path / MODEL_DIR, path / CHECKPOINT_DIR):
                remove_debris(folder)
            yield path
        finally:
            if created:
                lock_path.unlink(missing_ok=True)
            handle.close()  # releases the lock


def _locked(lock_path: Path, path: Path):
    """The open ``lock_path``, flocked by this process: the file at that path now, not one that its last
    holder removed while this process waited to open it."""
    while True:
        try:
            handle = open(lock_path, "a+")  # noqa: SIM115 (held open for the whole block)
        except OSError as e:
            raise OSError(e.errno, f"cannot lock {path}: {e.strerror}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise LatentspaceError(
                f"{path}: another process (pid {holder}) is training in this run folder; "
                "wait for it to finish or choose another --out"
            ) from None
        try:
            if os.stat(lock_path).st_ino == os.fstat(handle.fileno()).st_ino:
                return handle
        except FileNotFoundError:
            pass
        handle.close()  # the holder removed it as this process opened it: lock the new one


def pending_config_path(path: str | Path) -> Path:
    return Path(path) / CHECKPOINT_DIR / PENDING_CONFIG


def describe_progress(path: Path) -> str:
    """'epoch 12 of 150' for an unfinished run's checkpoint, as far as it can be read."""
    try:
        epoch = read_json(path / CHECKPOINT_DIR / train_state.STATE_FILE).get("epoch")
        epochs = read_json(pending_config_path(path)).get("params", {}).get("epochs")
        return f"at epoch {int(epoch)} of {int(epochs)}"
    except (LatentspaceError, AttributeError, TypeError, ValueError):
        return "with a checkpoint"


def prepare_run_dir(path: str | Path, overwrite: bool = False) -> Path:
    """Make ``path`` ready for a fresh run (call under ``run_lock``).

    Refuses a folder holding a trained model or an unfinished run unless ``overwrite``; with it, only
    the old run's checkpoint is removed: its model stays until the new one replaces it.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise LatentspaceError(f"{path}: exists and is not a folder")
    if not overwrite:
        if (path / CHECKPOINT_DIR / train_state.STATE_FILE).exists() and not is_finished(path):
            raise LatentspaceError(
                f"{path}: holds an unfinished run ({describe_progress(path)}); continue it with "
                f"`latentspace train --resume {path}`, or pass --overwrite to start over"
            )
        if (path / MODEL_DIR).exists():
            raise LatentspaceError(f"{path}: already holds a trained model; choose another --out or pass --overwrite")
    shutil.rmtree(path / CHECKPOINT_DIR, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_run(path: Path, config: dict[str, Any]) -> None:
    """Record the config of the run about to train, where ``--resume`` finds it."""
    atomic_write_json(pending_config_path(path), config)


def forget_unstarted_run(path: Path) -> None:
    """After a run refused before its first checkpoint (its parameters or data failed the fit's checks):
    its in-progress config removed, and its checkpoint folder if that leaves it empty. A run that has a
    checkpoint keeps both: ``--resume`` continues it."""
    if (path / CHECKPOINT_DIR / train_state.STATE_FILE).exists():
        return
    pending_config_path(path).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        (path / CHECKPOINT_DIR).rmdir()


def history_csv(records: list[dict[str, float]]) -> str:
    columns: list[str] = []
    for record in records:
        columns += [c for c in record if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def write_run(path: Path, estimator, config: dict[str, Any], metrics: dict[str, Any]) -> None:
    """Finish a run: the model swapped in whole, then history and metrics, then ``config.json``
    (which names the model's weights), then the in-progress marker removed. A process killed at any
    point leaves the old model or the new one, and ``train --resume`` completes the rest."""
    staging = temporary_folder_for(path / MODEL_DIR)
    try:
        estimator.save(staging)
        weights_sha256 = read_config(staging)["weights_sha256"]
        replace_folder(staging, path / MODEL_DIR)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    atomic_write_bytes(path / "history.csv", history_csv(estimator.history_).encode())
    atomic_write_json(path / METRICS_FILE, metrics)
    # The card before config.json, which must stay the last word: a process killed after it leaves a
    # finished run whose card describes its own model.
    write_model_card(path, run_config=config)
    atomic_write_json(path / "config.json", {**config, "model_sha256": weights_sha256})
    pending_config_path(path).unlink(missing_ok=True)


def write_model_card(path: str | Path, run_config: dict[str, Any] | None = None) -> Path:
    """``RUN/MODEL.md``: the model card of a run, with the run's data name and every metric measured so
    far (``metrics.json``, ``evaluation.json``); rewritten whenever they change. ``run_config``: the
    run's configuration (default: its ``config.json``)."""
    path = Path(path)
    run = read_run_config(path) if run_config is None else run_config
    measured = {name: read_json(path / name) for name in (METRICS_FILE, EVALUATION_FILE) if (path / name).is_file()}
    card = model_card(read_config(path / MODEL_DIR), str(path), data_name=run.get("data"), metrics=measured)
    atomic_write_bytes(path / CARD_FILE, card.encode())
    return path / CARD_FILE


def is_finished(path: str | Path) -> bool:
    """True when the run folder holds a complete model that its ``config.json`` names, and no run is
    in progress over it."""
    path = Path(path)
    if pending_config_path(path).exists() or not (path / MODEL_DIR / CONFIG_FILE).is_file():
        return False
    try:
        expected = read_json(path / "config.json").get("model_sha256", "any")
        found = read_config(path / MODEL_DIR).get("weights_sha256")
    except (LatentspaceError, AttributeError):
        return False
    return expected in ("any", found)  # "any": a run folder written before config.json named it


def read_run_config(path: str | Path) -> dict[str, Any]:
    """The config of the run in ``path``: the finished run's, else that of the run in progress."""
    path = Path(path)
    finished = path / "config.json"
    return _read_config_file(path, finished if finished.exists() else pending_config_path(path))


def read_resumable_config(path: str | Path) -> dict[str, Any]:
    """The config of the unfinished run ``--resume`` continues in ``path``."""
    path = Path(path)
    if is_finished(path):
        raise LatentspaceError(f"{path}: this run already finished (its model is saved); nothing to resume")
    pending = pending_config_path(path)
    return _read_config_file(path, pending if pending.exists() else path / "config.json")


def _read_config_file(run: Path, config_path: Path) -> dict[str, Any]:
    if not config_path.exists():
        raise CheckpointError(f"{run}: not a run folder (no config.json)")
    config = read_json(config_path, CheckpointError, "run config")
    if not isinstance(config, dict):
        raise CheckpointError(f"{config_path}: not a run config")
    check_run_config(config, config_path)
    return config


def _scalar(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


#: what each field a run config may hold must be (a field may be absent): checked when the file is read,
#: so a tampered config.json is one CheckpointError line, never a TypeError steps later
RUN_CONFIG_FIELDS: dict[str, tuple[str, Any]] = {
    "command": ("a command name", lambda v: isinstance(v, str)),
    "model": ("a model name", lambda v: isinstance(v, str)),
    "estimator": ("a class name", lambda v: isinstance(v, str)),
    "data": ("a data set name or path", lambda v: v is None or isinstance(v, str)),
    "data_dir": ("a folder or null", lambda v: v is None or isinstance(v, str)),
    "split_seed": ("a whole number >= 0 or null",
                   lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63)),
    "data_options": ("a mapping of file options to values", lambda v: v is None or (
        isinstance(v, dict) and all(k in FILE_OPTIONS for k in v)
        and all(_scalar(x) or (isinstance(x, list) and all(_scalar(i) for i in x)) for x in v.values()))),
    "params": ("a mapping of parameters", lambda v: isinstance(v, dict)),
    "model_sha256": ("a SHA-256 hex digest or 'any'", lambda v: isinstance(v, str)),
}


def check_run_config(config: dict[str, Any], where: Path) -> None:
    """Every field of a run's config.json that this package reads has its type (one CheckpointError line)."""
    for name, (expected, ok) in RUN_CONFIG_FIELDS.items():
        if name in config and not ok(config[name]):
            text = repr(config[name])
            raise CheckpointError(f"{where}: {name} must be {expected}, got {text[:60] + '...' if len(text) > 60 else text}")


def load_run_model(path: str | Path, allow_import: bool = False):
    """The estimator saved in a run folder (or in a bare checkpoint folder). ``allow_import``: as
    ``load``'s, for a model with its own networks (imports their recorded classes)."""
    try:
        recover_folder(Path(path) / MODEL_DIR)  # a swap cut short where folders cannot be exchanged
    except OSError:
        pass
    return load(path, allow_import=allow_import)


#: ``load_dataset``'s keywords for reading a file (CSV label column, .npz keys, ...) and their defaults
FILE_OPTIONS = {
    name: p.default for name, p in inspect.signature(load_dataset).parameters.items()
    if p.kind is p.KEYWORD_ONLY and name not in ("data_dir", "seed")
}


@dataclass(frozen=True)
class DataSource:
    """Where a run's data come from, enough to load them again split as they were: a named set or a
    path, the folder of a named set's files, the random state of the train/test split, and how to read a file
    (``load_dataset``'s keywords: a CSV's label column, an .npz's keys, ...; only those not at their
    default). A run's config.json records it, so ``evaluate``, ``report`` and ``--resume`` read the
    same columns the model was trained on."""

    name: str
    data_dir: str | None = None
    split_seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        unknown = sorted(set(self.options) - set(FILE_OPTIONS))
        if unknown:
            raise LatentspaceError(f"unknown data option(s) {', '.join(unknown)}; choose from {', '.join(FILE_OPTIONS)}")
        given = {k: v for k, v in self.options.items() if v != FILE_OPTIONS[k]}
        object.__setattr__(self, "options", given)
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "data_dir", None if self.data_dir is None else str(self.data_dir))

    def load(self) -> Dataset:
        options = {k: tuple(v) if isinstance(v, list) else v for k, v in self.options.items()}
        return load_dataset(self.name, data_dir=self.data_dir, seed=self.split_seed, **options)

    def to_config(self) -> dict[str, Any]:
        """The run config's keys for it (``data_options`` only when a file option was given)."""
        config = {"data": self.name, "data_dir": self.data_dir, "split_seed": self.split_seed}
        if self.options:
            config["data_options"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.options.items()}
        return config

    @property
    def key(self) -> tuple:
        """Equal for runs on the same data, split the same way."""
        return (self.name, self.data_dir, self.split_seed, tuple(sorted((k, repr(v)) for k, v in self.options.items())))

    @classmethod
    def of_run(cls, path: str | Path, config: dict[str, Any] | None = None) -> DataSource:
        """The data source a run's config.json names."""
        config = read_run_config(path) if config is None else config
        if config.get("format") == FORMAT:  # the folder's config.json is a checkpoint's: save() wrote it
            raise LatentspaceError(
                f"{path}: a model saved by save(), not a run folder of `latentspace train`, so it does not record "
                "the data it was trained on; pass --data NAME|PATH"
            )
        if not config.get("data"):
            raise LatentspaceError(f"{Path(path) / 'config.json'}: does not name the run's data set; pass --data NAME|PATH")
        options = config.get("data_options") or {}
        return cls(config["data"], config.get("data_dir"), int(config.get("split_seed") or 0), options)


def load_run_data(path: str | Path, config: dict[str, Any] | None = None) -> Dataset:
    """The data set a run was trained on, split as it was (named in its config.json)."""
    return DataSource.of_run(path, config).load()
