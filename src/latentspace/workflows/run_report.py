"""The report of one or more run folders written by ``latentspace train``.

Runs on the same data set are compared side by side: one metrics table across runs, every model's
reconstructions of the same held-out examples, their latent spaces, samples and interpolations.
Runs on different data sets get those figures per data set.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Dataset
from ..errors import CheckpointError, LatentspaceError, printable
from ..report.explorer import EXPLORER_INTRO, add_explorer, cannot_draw, describe_skipped
from ..report.html import Report, Section
from ..report.latent_plots import (
    plot_interpolations,
    plot_latent_scatter,
    plot_manifold_grid,
    plot_traversals,
)
from ..report.plots import plot_reconstructions, plot_samples, plot_training_curves
from ..report.rows import RowView
from ..report.wording import DataWords
from ..report.samplers import model_samples
from . import runs
from .runs import EVALUATION_FILE


@dataclass
class RunRecord:
    """What a run folder holds: its name, config, metrics, per-epoch history and fitted model."""

    path: Path
    name: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    history: list[dict[str, float]]
    model: Any
    #: what ``latentspace evaluate`` wrote (RUN/evaluation.json), or empty
    evaluation: dict[str, Any] = field(default_factory=dict)

    @property
    def data_key(self) -> tuple:
        """Equal for runs on the same data, split and read the same way (see ``load_group_data``)."""
        options = json.dumps(self.config.get("data_options") or {}, sort_keys=True)
        return (self.config.get("data"), self.config.get("data_dir"), self.config.get("split_seed", 0), options)


def read_history(path: Path) -> list[dict[str, float]]:
    """history.csv -> one dict per epoch (empty cells left out)."""
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        try:
            return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(f)]
        except ValueError as e:
            raise CheckpointError(f"{path}: not a history table ({e})") from None


def read_run(path: str | Path, allow_import: bool = False) -> RunRecord:
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{path}: no such run folder")
    config = runs.read_run_config(path)
    metrics = read_json_if_present(path / "metrics.json")
    evaluation = read_json_if_present(path / EVALUATION_FILE)
    model = runs.load_run_model(path, allow_import)
    history = read_history(path / "history.csv") or list(getattr(model, "history_", []))
    return RunRecord(path, printable(path.name), config, metrics, history, model, evaluation)


def read_json_if_present(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: corrupt JSON ({e})") from None


def evaluation_rows(records: list[RunRecord]) -> list[dict[str, Any]]:
    """One row per run that ``latentspace evaluate`` measured: its numbers, and the data they are on."""
    rows = []
    for r in records:
        if r.evaluation:
            data = r.evaluation.get("data") if isinstance(r.evaluation.get("data"), dict) else {}
            row = {"run": r.name, "data": data.get("name", r.config.get("data"))}
            row.update({k: v for k, v in r.evaluation.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
            rows.append(row)
    return rows


def unique_names(records: list[RunRecord]) -> None:
    """Folder names, made unique with their parent folder (then a counter) when two runs share one."""
    seen: dict[str, int] = {}
    for record in records:
        name = record.name
        if any(r is not record and r.name == name for r in records):
            name = f"{record.path.parent.name}/{record.name}"
        seen[name] = seen.get(name, 0) + 1
        record.name = name if seen[name] == 1 else f"{name} ({seen[name]})"


def summary_rows(records: list[RunRecord]) -> list[dict[str, Any]]:
    rows = []
    for r in records:
        params = r.config.get("params", {})
        row = {"run": r.name, "model": r.config.get("model", r.config.get("estimator")), "data": r.config.get("data"),
               "k": params.get("n_components")}
        row.update({k: v for k, v in r.metrics.items() if isinstance(v, (int, float))})
        rows.append(row)
    return rows


def build_runs_report(paths: list[str | Path], n_examples: int = 10, seed: int = 0,
                      allow_import: bool = False) -> Report:
    """The report of the run folders ``paths`` (at least one); ``allow_import``: as ``load``'s."""
    if not paths:
        raise LatentspaceError("give at least one run folder")
    records = [read_run(p, allow_import) for p in paths]
    unique_names(records)
    title = "latentspace report: " + ", ".join(r.name for r in records)
    report = Report(title, f"{len(records)} run(s)")
    overview = report.section("Runs", "One row per run: compare the held-out metrics across models "
                              "(MSE per feature: lower is better; a VAE's negative ELBO is in nats).")
    overview.table(summary_rows(records), "held-out metrics of each run", name="runs")
    evaluated = evaluation_rows(records)
    if evaluated:
        report.section("Evaluation", "What `latentspace evaluate` measured on held-out data: negative ELBO and "
                       "importance-weighted NLL in nats per example (lower is better), Fréchet distances (lower "
                       "is better), precision and recall of samples (higher is better).").table(
            evaluated, "RUN/evaluation.json of each evaluated run", name="evaluation")
    with_history = {r.name: r.history for r in records if r.history}
    if with_history:
        report.section("Training", "Train (solid) and validation (dashed) losses per epoch: they should fall "
                       "together; a widening gap is overfitting.").figure(
            plot_training_curves(with_history), "Every loss term of every run, per epoch.", name="training-curves")
    groups: dict[tuple, list[RunRecord]] = {}
    for r in records:
        groups.setdefault(r.data_key, []).append(r)
    for key, group in groups.items():
        add_data_set_sections(report, group, key, n_examples, seed, several=len(groups) > 1)
    config = report.section("Configuration", "Each run's config.json: everything needed to run it again.")
    for r in records:
        config.preformatted(json.dumps(r.config, indent=2, sort_keys=True, default=str), summary=f"{r.name} ({r.path})")
    return report


def load_group_data(record: RunRecord) -> Dataset:
    """The data set of a run (and of every run with its ``data_key``)."""
    return runs.DataSource.of_run(record.path, record.config).load()


def add_data_set_sections(report: Report, group: list[RunRecord], key: tuple, n_examples: int, seed: int,
                          several: bool) -> None:
    suffix = f" ({key[0]})" if several else ""
    try:
        data = load_group_data(group[0])
    except (LatentspaceError, OSError) as e:
        report.section(f"Pictures{suffix}").text(f"Figures skipped: the data set could not be read ({e}).", note=True)
        return
    models = {r.name: r.model for r in group if r.model.n_features_in_ == data.n_features}
    if len(models) < len(group):
        report.section(f"Pictures{suffix}").text("Runs whose model does not fit this data set's features are left "
                                                 "out of its figures.", note=True)
    if not models:
        return
    X, shape, words = data.X_test, RowView.of(data), DataWords.of(data)
    layout = ("Originals above, one row per run" if words.images else
              "One panel per held-out row: the original in black, each run's reconstruction in colour")
    report.section(f"Reconstructions{suffix}", f"The same held-out {words.rows} reconstructed by each run's "
                   "model: the closer to the original, the better.").figure(
        plot_reconstructions(models, X, shape, n=n_examples), f"{layout}: {words.confusions()}",
        name=f"reconstructions{suffix}")
    coloured = f"coloured by {words.classes}" if words.classes else "(the data have no labels)"
    latent = report.section(f"Latent spaces{suffix}", f"Held-out codes {coloured}; for k > 2 the codes' first "
                            "two principal axes. Decoded grids show what each region of a 2-D latent space holds.")
    latent.figure(plot_latent_scatter(models, X, data.y_test, label_names=data.label_names or None),
                  "Codes of held-out data, one panel per run.",
                  name=f"latent-scatter{suffix}")
    for name, model in models.items():
        if int(model.n_components) == 2:
            latent.figure(plot_manifold_grid(model, shape, X=data.X_train, title=name),
                          f"{name}: decoded grid. Look for {words.garbled()}: latent regions that decode to nothing "
                          "plausible.",
                          name=f"manifold-{name}")
    explorer = report.section(f"Latent explorer{suffix}", EXPLORER_INTRO)
    skipped = {name: problems for name, model in models.items() if (problems := cannot_draw(model))}
    if len(skipped) < len(models):
        add_explorer(explorer, models, data, seed=seed)  # which notes the models it leaves out
    else:
        explorer.text("No explorer: it cannot draw " + describe_skipped(skipped) + ".", note=True)
    samples: dict[str, np.ndarray] = {}
    for name, model in models.items():
        samples.update(model_samples(name, model, data.X_train, n=16, seed=seed))
    report.section(f"Generating{suffix}", "Decoded random codes: a VAE's from its prior N(0, I); an AE has no prior, "
                   "so its codes come from densities fitted to its training codes (Gaussian, bounding box, Gaussian "
                   f"mixture), which often decode to plausible {words.rows}; the box reaches where no code lies.").figure(
        plot_samples(samples, shape, reference=data.X_train), "Samples per run and sampler.", name=f"samples{suffix}")
    add_interpolations(report.section(f"Interpolation and traversals{suffix}", "A regular latent space decodes the "
                       f"straight line between two codes to a smooth path of {words.rows}."), models, data, seed, suffix)


def add_interpolations(section: Section, models: dict, data: Dataset, seed: int, suffix: str) -> None:
    X = data.X_test
    pairs = np.random.default_rng(seed + 1).choice(len(X), size=(min(3, len(X) // 2), 2), replace=False)
    section.figure(plot_interpolations(models, X[pairs[:, 0]], X[pairs[:, 1]], RowView.of(data)),
                   "Start, decoded points along the line between the codes, end; one strip per run and pair.",
                   name=f"interpolations{suffix}")
    for name, model in models.items():
        section.figure(plot_traversals(model, X, RowView.of(data), index=int(pairs[0, 0]), title=name),
                       f"{name}: one latent dimension moved at a time.", name=f"traversal-{name}")
