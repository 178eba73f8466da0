"""``latentspace explore``: one self-contained page with the live latent explorer of run folders."""

from __future__ import annotations

from pathlib import Path

from ..data import Dataset
from ..errors import LatentspaceError
from ..report.explorer import EXPLORER_INTRO, MAX_POINTS, MAX_REFERENCES, add_explorer
from ..report.html import Report
from .run_report import load_group_data, read_run, unique_names


def build_explorer_report(
    paths: list[str | Path],
    data: Dataset | None = None,
    precision: str = "float16",
    max_points: int = MAX_POINTS,
    max_references: int = MAX_REFERENCES,
    seed: int = 0,
    allow_import: bool = False,
) -> Report:
    """The explorer page of the run folders ``paths``: one explorer per data set, every run's model in it
    that the page can run (the others are named, with the layers it cannot draw).

    ``data``: the data set to show (default: the one each run's config.json names). ``allow_import``:
    as ``load``'s, for models with their own networks.
    """
    if not paths:
        raise LatentspaceError("give at least one run folder")
    records = [read_run(p, allow_import) for p in paths]
    unique_names(records)
    groups: dict[tuple, list] = {}
    for record in records:
        groups.setdefault(("given",) if data is not None else record.data_key, []).append(record)
    report = Report("latentspace explore: " + ", ".join(r.name for r in records), f"{len(records)} run(s)")
    for group in groups.values():
        group_data = data if data is not None else load_group_data(group[0])
        models = {r.name: r.model for r in group if r.model.n_features_in_ == group_data.n_features}
        if not models:
            raise LatentspaceError(f"no run's model takes the {group_data.n_features} features of {group_data.name}")
        suffix = f" ({group_data.name})" if len(groups) > 1 else ""
        section = report.section(f"Latent explorer{suffix}", EXPLORER_INTRO)
        section.text(group_data.describe())
        add_explorer(section, models, group_data, precision, seed, max_points, max_references)
    return report
