"""Run folders: what one CLI run leaves on disk.

    RUN/config.json    the command, the data set, the estimator's class and parameters
    RUN/history.csv    one row per epoch, every loss term on train and validation
    RUN/metrics.json   held-out measurements
    RUN/model/         the checkpoint (see ``checkpoint``)
    RUN/evaluation.json  what ``latentspace evaluate`` measured, once it has run
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .._files import atomic_write_bytes, atomic_write_json
from ..data import Dataset, load_dataset
from ..errors import CheckpointError, LatentspaceError
from ..estimators import load

MODEL_DIR = "model"
#: what ``latentspace evaluate`` writes into a run folder (the report shows it)
EVALUATION_FILE = "evaluation.json"


def prepare_run_dir(path: str | Path, overwrite: bool = False) -> Path:
    """Create ``path``; refuse to replace a model already saved there unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise LatentspaceError(f"{path}: exists and is not a folder")
    if (path / MODEL_DIR).exists() and not overwrite:
        raise LatentspaceError(f"{path}: already holds a trained model; choose another --out or pass --overwrite")
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    estimator.save(path / MODEL_DIR)
    atomic_write_bytes(path / "history.csv", history_csv(estimator.history_).encode())
    atomic_write_json(path / "config.json", config)
    atomic_write_json(path / "metrics.json", metrics)


def read_run_config(path: str | Path) -> dict[str, Any]:
    config_path = Path(path) / "config.json"
    try:
        return json.loads(config_path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: not a run folder (no config.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{config_path}: corrupt JSON ({e})") from None


def load_run_model(path: str | Path):
    """The estimator saved in a run folder (or in a bare checkpoint folder)."""
    return load(path)


def load_run_data(path: str | Path, config: dict[str, Any] | None = None) -> Dataset:
    """The data set a run was trained on, split as it was (named in its config.json)."""
    config = read_run_config(path) if config is None else config
    if not config.get("data"):
        raise LatentspaceError(f"{path}: the run's config.json does not name its data set")
    return load_dataset(config["data"], data_dir=config.get("data_dir"), seed=int(config.get("split_seed") or 0))
