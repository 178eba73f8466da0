"""Figures without pyplot: each plot builds a ``matplotlib.figure.Figure`` on the Agg canvas.

No global figure registry is touched, so nothing needs closing and nothing depends on the user's
matplotlib backend.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .._files import atomic_write_bytes

DPI = 100


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches on an Agg canvas, laid out to fit its labels."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write the figure as a PNG file (folders created as needed); returns the path."""
    path = Path(path)
    atomic_write_bytes(path, figure_png(fig))
    return path
