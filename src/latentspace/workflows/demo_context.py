"""What the demo's stages share: the context they read and add to, the stage record, the result."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..data import Dataset
from ..report import Report, Section, text_table


@dataclass
class DemoContext:
    """What the stages share. Stages add to ``models``, ``tables``, ``shared`` and ``report``."""

    data: Dataset
    out: Path
    quick: bool
    seed: int
    k: int
    report: Report
    models: dict[str, Any] = field(default_factory=dict)  # fitted, by display name; PCA first
    fit_seconds: dict[str, float] = field(default_factory=dict)
    tables: dict[str, list[dict]] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)  # anything a stage leaves for later ones
    echo: Callable[[str], None] = print
    show_progress: bool = True
    stage_name: str = ""

    @property
    def autoencoders(self) -> dict[str, Any]:
        """The fitted latentspace estimators (everything but PCA), by name."""
        return {name: m for name, m in self.models.items() if hasattr(m, "history_")}

    @property
    def image_shape(self):
        return self.data.image_shape

    def steps(self, items: Iterable, total: int | None = None) -> Iterable:
        """Iterate ``items`` under this stage's progress bar (stderr)."""
        items = list(items) if total is None else items
        return tqdm(items, total=total if total is not None else len(items), desc=f"{self.stage_name:<16}",
                    unit="step", file=sys.stderr, disable=not self.show_progress, leave=True)

    def section(self, title: str, intro: str = "") -> Section:
        return self.report.section(title, intro)

    def add_table(self, section: Section, key: str, rows: list[dict], caption: str) -> None:
        """Print the table, keep it for metrics.json, and put it in the report."""
        self.tables[key] = rows
        self.echo("\n" + text_table(rows, caption))
        section.table(rows, caption, name=key)


@dataclass
class Stage:
    name: str
    run: Callable[[DemoContext], None]


@dataclass
class DemoResult:
    tables: dict[str, list[dict]] = field(default_factory=dict)
    out: Path | None = None
    report_path: Path | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> list[dict]:
        """The reconstruction table (model, k, held-out MSE per feature, ratio to PCA, fit seconds)."""
        return self.tables.get("reconstruction", [])

    def table(self) -> str:
        return "\n\n".join(text_table(rows, key) for key, rows in self.tables.items())
