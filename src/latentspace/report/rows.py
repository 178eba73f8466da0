"""How a row of X is shown: an image, or a table row of named features; always in the user's units.

Every picture of data rows (reconstructions, samples, interpolations, traversals, decoded grids, the
memorising line) takes a :class:`RowView` (or, as before, an image shape or None). Image rows are drawn
as tiles (``images.py``). Table rows are drawn in parallel coordinates: one panel per group of rows,
one line per row, one vertical axis per feature, named on the x axis; each feature's axis spans its
own range (the reference data's 1st..99th percentile, written in the user's units at the top and
bottom of the first panel), because features in different units share no scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from ..data import Dataset, Units
from .figures import new_figure

#: beyond this many lines a panel gets a colour scale note instead of a legend
MAX_LEGEND = 10
#: table rows are drawn within their features' range, stretched this far beyond it, then clipped
OVERSHOOT = 0.25


@dataclass(frozen=True)
class RowView:
    """How to show rows ``(n, n_features)`` of one data set: ``image_shape`` for images, else table rows
    named by ``feature_names``; ``units`` map them back to the user's units (None: they are)."""

    image_shape: tuple[int, ...] | None = None
    feature_names: tuple[str, ...] = ()
    units: Units | None = None

    @classmethod
    def of(cls, data: Dataset) -> RowView:
        shape = None if data.image_shape is None else tuple(int(s) for s in data.image_shape)
        return cls(shape, tuple(str(n) for n in data.feature_names), data.units)

    @property
    def is_image(self) -> bool:
        return self.image_shape is not None

    def in_units(self, X: np.ndarray) -> np.ndarray:
        """Rows (any leading shape, features last) in the user's units, float64."""
        X = np.asarray(X, np.float64)
        return X if self.units is None else self.units.to_units(X)

    def names(self, n_features: int) -> list[str]:
        if len(self.feature_names) == n_features:
            return list(self.feature_names)
        return [f"x{j + 1}" for j in range(n_features)]


def row_view(view: RowView | Sequence[int] | None) -> RowView:
    """A :class:`RowView` from itself, an image shape, or None (table rows without names)."""
    if isinstance(view, RowView):
        return view
    return RowView(None if view is None else tuple(int(s) for s in view))


def feature_ranges(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each feature's 1st and 99th percentile over rows ``(..., n_features)``; a flat feature gets +-1."""
    flat = np.asarray(values, np.float64).reshape(-1, values.shape[-1])
    lo, hi = np.percentile(flat, [1, 99], axis=0)
    flat_feature = hi - lo < 1e-12
    return np.where(flat_feature, lo - 1, lo), np.where(flat_feature, hi + 1, hi)


def tick_text(value: float) -> str:
    return f"{value:.3g}"


def plot_table_rows(
    groups: np.ndarray,
    view: RowView,
    panel_titles: Sequence[str],
    line_labels: Sequence[str] | None,
    reference: np.ndarray | None = None,
    title: str = "",
    emphasise: Sequence[int] = (),
) -> Figure:
    """Parallel coordinates of table rows: ``groups`` ``(n_panels, n_lines, n_features)`` in the models'
    scale, one panel per group titled ``panel_titles[i]``, line ``j`` labelled ``line_labels[j]`` (None:
    no legend; the lines' order runs from purple to yellow).

    ``reference`` rows (e.g. training data) set each feature's axis range; default: the rows drawn.
    Lines in ``emphasise`` (e.g. the originals) are drawn black and thicker.
    """
    values = view.in_units(groups)
    n_panels, n_lines, n_features = values.shape
    lo, hi = feature_ranges(view.in_units(reference) if reference is not None else values)
    position = np.clip((values - lo) / (hi - lo), -OVERSHOOT, 1 + OVERSHOOT)
    names = view.names(n_features)
    width = max(6.0, min(2.2 + 0.34 * n_features, 14.0))
    fig = new_figure(width, 0.9 + 0.13 * max(len(n) for n in names) + 1.45 * n_panels)
    axes = fig.subplots(n_panels, 1, squeeze=False, sharex=True)[:, 0]
    colours = colormaps["viridis"](np.linspace(0.0, 0.9, max(n_lines, 2)))
    x = np.arange(n_features)
    for i, ax in enumerate(axes):
        for f in x:
            ax.axvline(f, color="#d5dbe3", linewidth=0.8, zorder=0)
        for j in range(n_lines):
            strong = j in emphasise
            ax.plot(x, position[i, j], marker="o", markersize=2.5 if strong else 2, linewidth=2.0 if strong else 1.1,
                    color="black" if strong else colours[j], alpha=1.0 if strong else 0.85,
                    label=None if line_labels is None else line_labels[j], zorder=3 if strong else 2)
        ax.set_ylim(-OVERSHOOT - 0.05, 1 + OVERSHOOT + 0.05)
        ax.set_yticks([])
        ax.set_title(panel_titles[i], fontsize=9, loc="left")
        for spine in ("top", "right", "left"):
            ax.spines[spine].set_visible(False)
    first = axes[0]
    for f in x:  # each axis's range in the user's units
        first.text(f, 1.0, tick_text(hi[f]), fontsize=5.5, ha="center", va="bottom", color="#555", rotation=90, zorder=1)
        first.text(f, 0.0, tick_text(lo[f]), fontsize=5.5, ha="center", va="top", color="#555", rotation=90, zorder=1)
    if line_labels is not None and n_lines <= MAX_LEGEND:
        first.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    elif line_labels is not None:
        first.text(1.0, 1.02, f"{line_labels[0]} (purple) .. {line_labels[-1]} (yellow)", fontsize=7,
                   transform=first.transAxes, ha="right", va="bottom")
    axes[-1].set_xticks(x, names, rotation=90, fontsize=7)
    head = "each feature's axis: its 1st..99th percentile (numbers, in the data's units, on the first panel)"
    fig.suptitle(f"{title}\n{head}" if title else head, fontsize=9)
    return fig
