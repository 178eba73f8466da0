"""The memorising 1-D AE beside a same-size VAE, written to a folder (``latentspace memorize``):
``memorize.csv``/``.json`` (the table), ``strip.npz`` (the decoded lines) and ``strip.png``."""

from __future__ import annotations

from pathlib import Path

from .._files import atomic_write_bytes, atomic_write_json, atomic_write_npz
from ..analysis.memorize import MemorizationResult, run_memorization
from ..data import Dataset
from ..report import plot_memorising_lines, save_figure
from .runs import history_csv


def memorize_to_folder(
    data: Dataset,
    out: str | Path,
    *,
    n_train: int = 50,
    hidden: tuple[int, ...] = (512, 512, 512),
    epochs: int = 5000,
    random_state: int = 0,
    include_vae: bool = True,
    data_name: str | None = None,
) -> tuple[MemorizationResult, list[Path]]:
    """``analysis.memorize.run_memorization`` on ``data``, written to ``out``; the result and the paths."""
    result = run_memorization(data, n_train=n_train, hidden=hidden, epochs=epochs, random_state=random_state,
                              include_vae=include_vae)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = result.table()
    atomic_write_bytes(out / "memorize.csv", history_csv(table).encode())
    atomic_write_json(out / "memorize.json", {"data": data_name or data.name, "rows": table})
    arrays = {}
    for name, line in result.lines.items():
        arrays.update({f"{name}_strip": line.strip, f"{name}_strip_codes": line.strip_codes,
                       f"{name}_strip_is_training": line.strip_is_training, f"{name}_codes": line.codes})
    atomic_write_npz(out / "strip.npz", **arrays)
    save_figure(plot_memorising_lines(result.lines, result.image_shape), out / "strip.png")
    return result, [out / "memorize.csv", out / "memorize.json", out / "strip.npz", out / "strip.png"]
