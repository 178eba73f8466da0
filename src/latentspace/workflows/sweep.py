"""The latent-size sweep written to a folder: ``sweep.csv`` and ``sweep.json`` (``latentspace sweep``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from .._files import atomic_write_bytes, atomic_write_json, output_folder
from ..analysis.sweep import DEFAULT_KS, SWEEP_MODELS, latent_sweep
from ..data import Dataset
from ..errors import LatentspaceError
from .runs import history_csv


def sweep_to_folder(
    data: Dataset,
    out: str | Path,
    ks: Sequence[int] = DEFAULT_KS,
    *,
    models: Sequence[str] = SWEEP_MODELS,
    epochs: int | str = "auto",
    n_samples: int = 1000,
    random_state: int = 0,
    data_name: str | None = None,
    progress: Callable[[dict], None] | None = None,
) -> list[Path]:
    """``analysis.sweep.latent_sweep`` over ``ks`` and ``models``, its rows written to ``out/sweep.csv``
    and ``out/sweep.json``; returns the two paths. ``epochs``: of every model ("auto": each one's
    data-scaled budget); ``progress``: called with each row as it is measured."""
    if (epochs != "auto" and (epochs is None or epochs < 1)) or n_samples < 4:
        raise LatentspaceError("--epochs must be >= 1 and --n-samples >= 4")
    with output_folder(out) as folder:  # made first (an unwritable --out fails before the fits), removed if refused
        rows = latent_sweep(data, ks, models=models, epochs=epochs, linear_epochs=epochs, n_samples=n_samples,
                            random_state=random_state, progress=progress)
        atomic_write_bytes(folder / "sweep.csv", history_csv(rows).encode())
        atomic_write_json(folder / "sweep.json", {"data": data_name or data.name, "ks": list(ks), "epochs": epochs,
                                                  "rows": rows})
    return [folder / "sweep.csv", folder / "sweep.json"]
