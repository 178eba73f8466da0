"""Pictures of a latent space: scatter of codes, decoded grids, interpolations, traversals.

Each function takes a fitted model (anything with ``transform`` / ``inverse_transform``) and arrays,
and returns a ``matplotlib.figure.Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from scipy.stats import norm

from ..analysis.protocol import has_prior
from ..errors import LatentspaceError
from .figures import new_figure
from .images import as_images, display_range, show_tiles
from .rows import RowView, plot_table_rows, row_view

#: table rows: the decoded grid's size (panels x lines)
TABLE_GRID = 5


def principal_axes(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project codes ``(n, k)`` on their first two principal axes: ``(n, 2)`` and the variance shares."""
    center, axes, share = principal_directions(Z)
    return (Z - center) @ axes.T, share


def principal_directions(Z: np.ndarray, n: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean code ``(k,)``, the first ``n`` principal axes ``(n, k)`` (orthonormal rows) and their
    shares of the variance ``(n,)`` of codes ``Z`` ``(m, k)``."""
    center = Z.mean(axis=0)
    _, s, vt = np.linalg.svd(Z - center, full_matrices=False)
    share = s**2 / max(float(np.sum(s**2)), 1e-300)
    return center, vt[:n], share[:n]


def plot_latent_scatter(
    models: Mapping[str, object], X: np.ndarray, y: np.ndarray | None = None, max_points: int = 2000,
    label_names: Sequence[str] | None = None,
) -> Figure:
    """One panel per model: codes of ``X`` coloured by label ``y``; the colour bar names the classes
    (``label_names[i]`` for class ``i``) when their names are known.

    2-D codes are drawn as they are; for k > 2 the codes' first two principal axes are drawn (and the
    axes say so, with the share of variance each carries); 1-D codes are drawn against the label.
    """
    X = np.asarray(X)[:max_points]
    y = None if y is None else np.asarray(y)[:max_points]
    fig = new_figure(3.8 * len(models) + (0.9 if y is not None else 0), 3.6)
    axes = fig.subplots(1, len(models), squeeze=False)[0]
    scatter = None
    for ax, (name, model) in zip(axes, models.items()):
        Z = np.asarray(model.transform(X), dtype=np.float64)
        scatter = scatter_codes(ax, Z, y)
        ax.set_title(f"{name} (k={Z.shape[1]})")
    if y is not None and scatter is not None:
        labels = np.unique(y)
        bar = fig.colorbar(scatter, ax=list(axes), ticks=labels if len(labels) <= 20 else None, shrink=0.9)
        named = label_names is not None and len(labels) <= 20 and all(0 <= int(v) < len(label_names) for v in labels)
        if named:
            bar.set_ticklabels([str(label_names[int(v)]) for v in labels])
        bar.set_label("class" if named else "label")
    return fig


def scatter_codes(ax, Z: np.ndarray, y: np.ndarray | None):
    """Codes ``(n, k)`` as points on ``ax``: as they are for k = 2, against the label for k = 1, on their
    two principal axes for k > 2; coloured by ``y``. Returns the scatter when coloured (for a colour bar)."""
    k = Z.shape[1]
    if k == 1:
        points = np.column_stack([Z[:, 0], y if y is not None else np.zeros(len(Z))])
        xlabel, ylabel = "z1", "label" if y is not None else ""
    elif k == 2:
        points, (xlabel, ylabel) = Z, ("z1", "z2")
    else:
        points, share = principal_axes(Z)
        xlabel = f"codes' principal axis 1 ({share[0]:.0%} of variance)"
        ylabel = f"codes' principal axis 2 ({share[1]:.0%} of variance)"
    colour_args = {}
    if y is not None:
        labels = np.unique(y)
        cmap = "tab10" if len(labels) <= 10 else "viridis"
        colour_args = dict(c=y, cmap=cmap, vmin=labels.min() - 0.5, vmax=labels.max() + 0.5)
    size = 6 if len(points) > 500 else 14  # few points: make each visible
    scatter = ax.scatter(points[:, 0], points[:, 1], s=size, alpha=0.8, linewidths=0, **colour_args)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.grid(True, alpha=0.25)
    return scatter if y is not None else None


def tick(value: float) -> str:
    """Two significant digits; round-off around zero (the Gaussian median) shows as 0."""
    return f"{0.0 if abs(value) < 1e-8 else value:.2g}"


def grid_values(model, X: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Values of z1 and z2 for the manifold grid, and how they were chosen.

    A VAE's prior is N(0, I): Gaussian quantiles at evenly spaced probabilities put the grid where the
    prior puts its mass. An AE has no prior: the grid spans the range its codes of ``X`` cover.
    """
    if has_prior(model):
        q = norm.ppf(np.linspace(0.05, 0.95, n))
        return q, q, "N(0,1) quantiles 5%..95%"
    if X is None:
        raise LatentspaceError("an autoencoder's manifold grid needs data X to find its codes' range")
    Z = np.asarray(model.transform(X), dtype=np.float64)
    lo, hi = Z.min(axis=0), Z.max(axis=0)
    return np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n), "the codes' range"


def plot_manifold_grid(
    model, image_shape: RowView | Sequence[int] | None, X: np.ndarray | None = None, n: int = 15, title: str = ""
) -> Figure:
    """Decode an ``n`` x ``n`` grid over a 2-D latent space: z1 left to right, z2 bottom to top. Table
    rows: a ``TABLE_GRID`` x ``TABLE_GRID`` grid, one panel per z2 value, one line per z1 value."""
    k = int(getattr(model, "n_components", 0) or 0)
    if k != 2:
        raise LatentspaceError(f"the manifold grid needs a 2-D latent space, this model has k={k}")
    view = row_view(image_shape)
    n = n if view.is_image else min(n, TABLE_GRID)
    z1, z2, how = grid_values(model, X, n)
    z2_top_down = z2[::-1]  # image rows run downward; the plot's z2 axis runs upward
    codes = np.array([[a, b] for b in z2_top_down for a in z1], dtype=np.float32)
    decoded = model.inverse_transform(codes)
    if not view.is_image:
        return plot_table_rows(decoded.reshape(n, n, -1), view, [f"z2 = {tick(v)}" for v in z2_top_down],
                               [f"z1 = {tick(v)}" for v in z1], reference=X,
                               title=f"{title + ': ' if title else ''}decoded grid over {how}")
    decoded = view.in_units(decoded)
    images = as_images(decoded, view.image_shape)
    tiles = images.reshape(n, n, *images.shape[1:])
    fig = new_figure(6.2, 6.4)
    ax = fig.add_subplot()
    reference = decoded if X is None else view.in_units(X)
    show_tiles(ax, tiles, display_range(reference), row_labels=[tick(v) for v in z2_top_down],
               col_labels=[tick(v) for v in z1])
    ax.tick_params(axis="x", labelrotation=90)
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.set_title(f"{title + ': ' if title else ''}decoded grid over {how}", fontsize=10)
    return fig


def plot_interpolations(
    models: Mapping[str, object],
    X_start: np.ndarray,
    X_end: np.ndarray,
    image_shape: RowView | Sequence[int] | None,
    n_steps: int = 8,
) -> Figure:
    """Decode straight lines between the codes of pairs ``(X_start[i], X_end[i])``, per model.

    Each strip: the original start, ``n_steps`` decoded points from t=0 to t=1, the original end (table
    rows: one panel per strip, the originals in black).
    """
    view = row_view(image_shape)
    X_start, X_end = np.asarray(X_start), np.asarray(X_end)
    if X_start.shape != X_end.shape:
        raise LatentspaceError(f"pairs need equal shapes, got {X_start.shape} and {X_end.shape}")
    t = np.linspace(0.0, 1.0, n_steps)
    rows, labels = [], []
    for name, model in models.items():
        Za, Zb = model.transform(X_start), model.transform(X_end)
        for i in range(len(X_start)):
            path = (1 - t)[:, None] * Za[i] + t[:, None] * Zb[i]
            decoded = model.inverse_transform(path.astype(Za.dtype))
            rows.append(np.vstack([X_start[i : i + 1], decoded, X_end[i : i + 1]]))
            labels.append(f"{name} #{i + 1}")
    col_labels = ["start"] + [f"t={v:.2f}" for v in t] + ["end"]
    if not view.is_image:
        return plot_table_rows(np.stack(rows), view, labels, col_labels, reference=np.vstack([X_start, X_end]),
                               emphasise=(0, len(col_labels) - 1),
                               title="interpolating between held-out pairs in each latent space")
    images = np.stack([as_images(view.in_units(r), view.image_shape) for r in rows])
    fig = new_figure(min(1.6 + 0.62 * (n_steps + 2), 12), 0.6 + 0.6 * len(rows))
    ax = fig.add_subplot()
    show_tiles(ax, images, display_range(view.in_units(X_start), view.in_units(X_end)), row_labels=labels,
               col_labels=col_labels)
    ax.tick_params(axis="x", labelrotation=45)
    ax.set_title("interpolating between held-out pairs in each latent space", fontsize=10)
    return fig


def plot_traversals(
    model,
    X: np.ndarray,
    image_shape: RowView | Sequence[int] | None,
    index: int = 0,
    n_steps: int = 9,
    max_dims: int = 8,
    title: str = "",
) -> Figure:
    """Move one latent dimension at a time from the code of ``X[index]``, keeping the others fixed.

    Each row sweeps one dimension over the 2nd..98th percentile of the codes of ``X``; rows are the
    dimensions whose codes vary most (at most ``max_dims``), labelled with that variance, so a VAE's
    inactive units show up as rows that do not change.
    """
    Z = np.asarray(model.transform(X), dtype=np.float64)
    base = Z[index]
    variance = Z.var(axis=0)
    dims = np.argsort(-variance, kind="stable")[:max_dims]
    lo, hi = np.percentile(Z, [2, 98], axis=0)
    rows = []
    for d in dims:
        codes = np.repeat(base[None], n_steps, axis=0)
        codes[:, d] = np.linspace(lo[d], hi[d], n_steps)
        rows.append(model.inverse_transform(codes.astype(np.float32)))
    labels = [f"z{d + 1} (var {variance[d]:.2g})" for d in dims]
    steps = [f"{q:.0f}%" for q in np.linspace(2, 98, n_steps)]
    view = row_view(image_shape)
    if not view.is_image:
        return plot_table_rows(np.stack(rows), view, labels, steps, reference=X,
                               title=f"{title + ': ' if title else ''}traversing one latent dimension at a time "
                               "(percentile of its codes: purple low, yellow high)")
    images = np.stack([as_images(view.in_units(r), view.image_shape) for r in rows])
    fig = new_figure(min(2.0 + 0.62 * n_steps, 10), 0.7 + 0.62 * len(dims))
    ax = fig.add_subplot()
    show_tiles(ax, images, display_range(view.in_units(X)), row_labels=labels, col_labels=steps)
    ax.set_xlabel("position of the moving dimension (percentile of the codes)")
    ax.set_title(f"{title + ': ' if title else ''}traversing one latent dimension at a time", fontsize=10)
    return fig
