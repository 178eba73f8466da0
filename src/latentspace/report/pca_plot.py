"""The linear AE against PCA in one figure: components side by side, principal angles, error ratios.

Built on ``matplotlib.figure.Figure`` with an Agg canvas attached: no pyplot, no global backend switch,
so it works headless and leaves a user's interactive session alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..analysis.pca import PCAComparison
from .figures import save_figure

#: the report's names for the estimator classes (the tables say "deep AE", not "AutoEncoder")
DISPLAY_NAMES = {"AutoEncoder": "deep AE", "LinearAutoEncoder": "linear AE", "VAE": "VAE"}

#: Components shown per row at most; the rest are counted in the row's title.
MAX_SHOWN = 16


def pca_figure(
    comparison: PCAComparison, image_shape: tuple[int, ...] | None = None, others: Sequence[PCAComparison] = ()
) -> Figure:
    """Rows of basis vectors (PCA's components, the decoder's columns, the recovered directions), then
    the principal angles and the held-out error of every model against PCA(k).

    ``comparison`` must be a linear model's; ``image_shape`` ``(H, W)`` or ``(C, H, W)`` draws each
    vector as an image, otherwise each row is drawn as a ``(k, n_features)`` heat map. ``others``
    (deep AE, VAE) add bars to the error panel.
    """
    if not comparison.linear or comparison.pca_components is None:
        raise ValueError("pca_figure needs the comparison of a linear autoencoder (decoder geometry)")
    rows = basis_rows(comparison)
    shown = min(comparison.n_components, MAX_SHOWN)
    as_images = image_shape is not None and int(np.prod(image_shape)) == comparison.n_features
    width = max(8.0, 1.1 * shown) if as_images else 10.0
    fig = Figure(figsize=(width, 2.0 * len(rows) + 3.2), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subfigures(2, 1, height_ratios=[2.0 * len(rows), 3.2])
    if as_images:
        draw_image_rows(top, rows, shown, tuple(image_shape))
    else:
        draw_heatmap_rows(top, rows)
    left, right = bottom.subplots(1, 2)
    draw_angles(left, comparison)
    draw_errors(right, comparison, others)
    fig.suptitle(
        f"linear AE vs PCA({comparison.n_components}): largest principal angle "
        f"{comparison.max_principal_angle_deg:.3g} deg, held-out error ratio {comparison.test_mse_ratio:.4f}"
    )
    return fig


def save_pca_figure(
    comparison: PCAComparison,
    path: str | Path,
    image_shape: tuple[int, ...] | None = None,
    others: Sequence[PCAComparison] = (),
) -> Path:
    """Draw :func:`pca_figure` and write it as a PNG at ``path``; returns the path."""
    return save_figure(pca_figure(comparison, image_shape, others), path)


def basis_rows(c: PCAComparison) -> list[tuple[str, np.ndarray]]:
    """(title, vectors ``(k, n_features)``) for each row of the figure."""
    recovered_title = "decoder's left singular vectors" + (
        " (= PCA's directions with weight decay)" if c.weight_decay > 0 else " (arbitrary without weight decay)"
    )
    return [
        ("PCA components", c.pca_components),
        ("linear AE decoder columns (a basis of the same subspace)", c.decoder_columns.T),
        (recovered_title, c.recovered_directions.T),
    ]


def as_image(vector: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """A vector as a 2-D image; channels of a ``(C, H, W)`` shape are laid side by side."""
    if len(image_shape) == 2:
        return vector.reshape(image_shape)
    channels, height, width = image_shape[-3:]
    return vector.reshape(channels, height, width).transpose(1, 0, 2).reshape(height, channels * width)


def draw_image_rows(subfig, rows, shown: int, image_shape: tuple[int, ...]) -> None:
    grid = subfig.subfigures(len(rows), 1)
    for panel, (title, vectors) in zip(np.atleast_1d(grid), rows):
        more = f" (first {shown} of {len(vectors)})" if len(vectors) > shown else ""
        panel.suptitle(title + more, fontsize=10)
        axes = np.atleast_1d(panel.subplots(1, shown))
        for i, ax in enumerate(axes):
            image = as_image(vectors[i], image_shape)
            limit = float(np.abs(image).max()) or 1.0  # each on its own symmetric scale: shapes, not sizes
            ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(str(i + 1), fontsize=8)


def draw_heatmap_rows(subfig, rows) -> None:
    axes = np.atleast_1d(subfig.subplots(len(rows), 1))
    for ax, (title, vectors) in zip(axes, rows):
        norms = np.maximum(np.abs(vectors).max(axis=1, keepdims=True), 1e-300)
        ax.imshow(vectors / norms, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("component")
        ax.set_xlabel("feature")


def draw_angles(ax, c: PCAComparison) -> None:
    angles = c.principal_angles_deg
    ax.bar(np.arange(1, len(angles) + 1), angles, color="tab:blue")
    if len(angles) <= 20:  # angles are counted: ticks 1, 2, 3, never 0.75 or 1.25
        ax.set_xticks(np.arange(1, len(angles) + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="1 degree")
    ax.set_xlabel("principal angle (largest first)")
    ax.set_ylabel("degrees")
    ax.set_title("decoder column space vs PCA subspace", fontsize=10)
    ax.legend(fontsize=8)


def draw_errors(ax, c: PCAComparison, others: Sequence[PCAComparison]) -> None:
    labels = [f"PCA({c.n_components})", "linear AE"] + [DISPLAY_NAMES.get(o.model, o.model) for o in others]
    values = [c.pca_test_mse, c.model_test_mse] + [o.model_test_mse for o in others]
    ratios = [1.0, c.test_mse_ratio] + [o.test_mse_ratio for o in others]
    bars = ax.bar(labels, values, color=["grey", "tab:blue"] + ["tab:orange"] * len(others))
    for bar, ratio in zip(bars, ratios):
        ax.annotate(f"x{ratio:.4f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("held-out MSE per feature")
    ax.set_title("reconstruction error (ratio to PCA)", fontsize=10)
