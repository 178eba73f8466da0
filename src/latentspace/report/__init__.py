"""Pictures and the report: matplotlib figures (Agg, PNG) and one self-contained HTML page.

Plot functions take fitted models and arrays and return a ``matplotlib.figure.Figure``.
"""

from .figures import figure_png, new_figure, save_figure
from .html import Report, Section, text_table
from .latent_plots import (
    plot_interpolations,
    plot_latent_scatter,
    plot_manifold_grid,
    plot_traversals,
)
from .plots import (
    plot_latent_sweep,
    plot_memorising_line,
    plot_memorising_lines,
    plot_reconstructions,
    plot_samples,
    plot_training_curves,
    reconstruct,
)

__all__ = [
    "Report",
    "Section",
    "text_table",
    "figure_png",
    "new_figure",
    "save_figure",
    "plot_training_curves",
    "plot_reconstructions",
    "plot_latent_scatter",
    "plot_manifold_grid",
    "plot_samples",
    "plot_interpolations",
    "plot_traversals",
    "plot_memorising_line",
    "plot_memorising_lines",
    "plot_latent_sweep",
    "reconstruct",
]
