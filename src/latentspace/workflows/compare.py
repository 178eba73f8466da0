"""``latentspace compare``: train model families on one budget, measure them on one protocol, and write
the leaderboard, its verdicts and a report whose explorer holds every model.

    result = run_compare(("vae", "vamp", "rae"), load_dataset("digits"), "runs/compare")
    print("\\n".join(result.verdicts))

The folder gets ``report.html``, ``leaderboard.json`` (both tables, the verdicts, the budget) and each
model under ``models/NAME`` (``latentspace.load`` reads it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._families import BY_NAME, family_names
from .._files import atomic_write_json
from ..analysis.families import leaderboard, verdicts
from ..data import Dataset
from ..report.explorer import EXPLORER_INTRO, add_explorer
from ..report.html import Report, text_table
from ..report.plots import plot_samples
from ..training.budget import steps_per_epoch
from ..training.side_by_side import fit_side_by_side
from .train import training_labels

#: the families ``compare`` trains when none are named
DEFAULT_MODELS = ("vae", "vamp", "iwae", "rae", "two-stage", "wae")
#: optimiser steps per family: half the "auto" budget (6,000), so six families fit in minutes
DEFAULT_STEPS = 3000
SAMPLES_SHOWN = 8


@dataclass
class CompareResult:
    rows: list[dict]
    samples: list[dict]
    verdicts: list[str]
    budget: dict
    models: dict = field(default_factory=dict)
    report_path: Path | None = None

    def table(self) -> str:
        return "\n\n".join(["\n".join(["verdicts:", *self.verdicts]),
                            text_table(self.rows, "leaderboard: one row per model"),
                            text_table(self.samples, "samples: one row per model and sampler")])


def fit_families(names: Sequence[str], data: Dataset, *, n_components: int, steps: int, seed: int,
                 stage: Callable[[str], None] = lambda _: None) -> Iterator[tuple[str, tuple[object, float]]]:
    """Each family's estimator with its defaults, ``steps`` optimiser steps and no early stopping
    (every model gets the same budget), fitted on ``data.X_train``, side by side where the work repays
    worker processes (``training.side_by_side.fit_side_by_side``: begun there at once): (name, (model, fit
    seconds)) in the order of ``names``, each as soon as it is fitted. Labels a family needs and the data
    lack are refused before any fit."""
    from ..estimators import ESTIMATORS

    models = {}
    for name in names:
        cls = ESTIMATORS[BY_NAME[name].class_name]
        epochs = max(1, -(-steps // steps_per_epoch(int(0.9 * len(data.X_train)), cls().batch_size)))
        models[name] = cls(int(n_components), epochs=epochs, patience=None, random_state=seed)
    labels = [training_labels(model, data) for model in models.values()]
    return _named(models, fit_side_by_side(list(models.values()), data.X_train, labels), stage)


def _named(models: dict[str, Any], fitted: Iterator[tuple[Any, float]],
           stage: Callable[[str], None]) -> Iterator[tuple[str, tuple[object, float]]]:
    for name, model in models.items():
        stage(f"fitting {name} ({model.epochs} epochs)")
        yield name, next(fitted)


def run_compare(
    models: Sequence[str] | str, data: Dataset, out: str | Path, *, n_components: int = 16,
    steps: int = DEFAULT_STEPS, n_samples: int = 1000, iw_samples: int = 1000, iw_rows: int = 500, seed: int = 0,
    stage: Callable[[str], None] = lambda _: None,
) -> CompareResult:
    """Fit the families ``models`` (names, or "vae,vamp,...") on ``data`` and write the comparison to ``out``."""
    names = family_names(models) if isinstance(models, str) else family_names(",".join(models))
    out = Path(out)
    fitted = dict(fit_families(names, data, n_components=n_components, steps=steps, seed=seed, stage=stage))
    rows, samples = leaderboard(fitted, data, n_samples=n_samples, iw_samples=iw_samples, iw_rows=iw_rows,
                                seed=seed, progress=lambda name: stage(f"measuring {name}"))
    budget = {"data": data.name, "n_components": n_components, "steps": steps, "n_samples": n_samples,
              "iw_samples": iw_samples, "iw_rows": min(iw_rows, len(data.X_test)), "seed": seed}
    result = CompareResult(rows, samples, verdicts(rows, samples), budget, {n: m for n, (m, _) in fitted.items()})
    stage("writing the report")
    for name, model in result.models.items():
        model.save(out / "models" / name)
    atomic_write_json(out / "leaderboard.json", {"budget": budget, "verdicts": result.verdicts,
                                                 "leaderboard": rows, "samples": samples})
    result.report_path = compare_report(result, data, seed).write(out / "report.html")
    return result


def sample_pictures(models: dict, sample_rows: list[dict], n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` decoded samples of each (model, sampler) row of the leaderboard, by "model: sampler"."""
    rng = np.random.default_rng(seed)
    return {f"{r['model']}: {r['sampler']}":
            models[r["model"]].sample(n, sampler=r["sampler"], random_state=int(rng.integers(2**31 - 1))).reshape(n, -1)
            for r in sample_rows}


def compare_report(result: CompareResult, data: Dataset, seed: int = 0) -> Report:
    """The page: verdicts, both tables, decoded samples of every model and sampler, the explorer."""
    report = Report(f"latentspace compare on {data.name}", f"{len(result.rows)} model families, one budget")
    b = result.budget
    section = report.section(
        "Which regulariser fills the holes",
        f"Each family trained for {b['steps']:,} optimiser steps with its defaults at k = {b['n_components']}, "
        f"then measured on {data.name}'s held-out part: reconstruction (mean squared error per feature), "
        f"importance-weighted NLL ({b['iw_samples']} samples, {b['iw_rows']} rows; nats, lower is better; "
        "comparable only between models with the same likelihood), and for every sampler that fits a model "
        f"{b['n_samples']} decoded samples' Fréchet distance (lower is better), precision and recall, and "
        "the share of its codes that land off the training codes' support (holes).",
    )
    section.text(data.describe())
    for line in result.verdicts:
        section.text(line, note=True)
    section.table(result.rows, "leaderboard: one row per model", name="leaderboard")
    section.table(result.samples, "samples: one row per model and sampler", name="samplers")
    pictures = sample_pictures(result.models, result.samples, SAMPLES_SHOWN, seed)
    section.figure(plot_samples(pictures, data.image_shape, reference=data.X_train[:500]),
                   "Decoded samples of each model (rows) by each of its samplers.", name="family-samples")
    explorer = report.section("Latent explorer of every family", EXPLORER_INTRO)
    add_explorer(explorer, result.models, data, seed=seed)
    report.configuration(result.budget)
    return report
