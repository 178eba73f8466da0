"""Plots of models and their outputs: training curves, reconstructions, samples, sweeps.

Every function takes fitted models and/or arrays and returns a ``matplotlib.figure.Figure``
(save it with :func:`latentspace.report.save_figure`). Images are rows of ``X`` reshaped by
``image_shape`` (``(H, W)``, ``(1, H, W)`` or ``(3, H, W)``); without one, rows show as strips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..analysis.protocol import reconstruct
from ..errors import LatentspaceError
from .figures import new_figure, plain_log_axis
from .images import as_images, display_range, grid_of, show_tiles
from .rows import RowView, plot_table_rows, row_view

#: table rows: examples shown in the reconstructions figure (one panel each)
TABLE_EXAMPLES = 4
#: table rows: decodes shown along each memorising code line
TABLE_LINE_POINTS = 9


def history_of(model_or_history) -> list[dict[str, float]]:
    """A fitted estimator's ``history_``, a list of records as it is, or [] for models without one (PCA)."""
    if hasattr(model_or_history, "history_"):
        return list(model_or_history.history_ or [])
    return list(model_or_history) if isinstance(model_or_history, (list, tuple)) else []


def recorded_terms(history: list[dict[str, float]]) -> list[str]:
    """Loss terms in a history, in order of first appearance: ``loss``, ``recon``, ``kl``..."""
    terms: list[str] = []
    for record in history:
        for key in record:
            for split in ("train_", "val_"):
                if key.startswith(split) and key[len(split) :] not in terms:
                    terms.append(key[len(split) :])
    return terms


def plot_training_curves(histories: Mapping[str, object]) -> Figure:
    """One panel per model: every loss term per epoch, train (solid) and validation (dashed).

    ``histories`` maps a model's name to a fitted estimator (its ``history_``) or a list of
    per-epoch records. Models get their own panel because their losses have different units
    (squared error vs nats); the y axis is logarithmic when every value is positive.
    """
    named = {name: history_of(h) for name, h in histories.items()}
    named = {name: h for name, h in named.items() if h}
    if not named:
        raise LatentspaceError("no training history to plot (PCA and unfitted models have none)")
    fig = new_figure(4.0 * len(named), 3.2)
    axes = np.atleast_1d(fig.subplots(1, len(named), squeeze=False)[0])
    for ax, (name, history) in zip(axes, named.items()):
        plot_history(ax, history)
        ax.set_title(name)
    return fig


def redundant_loss(history: list[dict[str, float]], terms: list[str]) -> bool:
    """An AE's ``loss`` is its ``recon``: drawing both would hide one line under the other."""
    return "recon" in terms and all(
        r.get(f"{s}_loss") == r.get(f"{s}_recon") for r in history for s in ("train", "val")
    )


def plot_history(ax, history: list[dict[str, float]]) -> None:
    colours = {}
    all_positive = True
    terms = recorded_terms(history)
    if redundant_loss(history, terms):
        terms.remove("loss")
    for i, term in enumerate(terms):
        colours[term] = f"C{i}"
        for split, style in (("train", "-"), ("val", "--")):
            key = f"{split}_{term}"
            points = [(r.get("epoch", j + 1), r[key]) for j, r in enumerate(history) if key in r]
            if not points:
                continue
            epochs, values = zip(*points)
            all_positive &= min(values) > 0
            ax.plot(epochs, values, style, color=colours[term], label=f"{split} {term}", linewidth=1.4)
    if all_positive:
        ax.set_yscale("log")
        plain_log_axis(ax.yaxis)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss per example")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def plot_reconstructions(
    models: Mapping[str, object], X: np.ndarray, image_shape: RowView | Sequence[int] | None, n: int = 10
) -> Figure:
    """Top row: ``n`` originals from ``X``; below, one row per model with its reconstructions. Table rows
    (no image shape): one panel per example (at most ``TABLE_EXAMPLES``), the original in black."""
    view = row_view(image_shape)
    shown = np.asarray(X)[: n if view.is_image else min(n, TABLE_EXAMPLES)]
    rows = [shown] + [reconstruct(model, shown) for model in models.values()]
    labels = ["original"] + list(models)
    if not view.is_image:
        return plot_table_rows(np.stack(rows, axis=1), view, [f"held-out example {i + 1}" for i in range(len(shown))],
                               labels, reference=X, emphasise=(0,),
                               title="held-out originals (black) and each model's reconstruction")
    vrange = display_range(view.in_units(shown))
    images = np.stack([as_images(view.in_units(r), view.image_shape) for r in rows])
    width = max(5.0, min(1.0 + 0.75 * len(shown), 12))
    tile_h, tile_w = images.shape[2:4]
    height = 0.6 + (width - 1.0) * len(rows) * tile_h / (len(shown) * tile_w)  # square pixels
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    show_tiles(ax, images, vrange, row_labels=labels)
    ax.set_title("held-out originals (top) and each model's reconstruction")
    return fig


def plot_samples(
    samples: Mapping[str, np.ndarray], image_shape: RowView | Sequence[int] | None, n_cols: int = 8,
    reference: np.ndarray | None = None,
) -> Figure:
    """One panel per model and sampler: ``samples[name]`` is ``(n, n_features)``.

    ``reference`` (e.g. training data) fixes the grey scale so panels compare; default: the samples'.
    Table rows: ``n_cols`` samples per panel as lines, with the reference's median row in black.
    """
    if not samples:
        raise LatentspaceError("no samples to plot")
    view = row_view(image_shape)
    arrays = {name: view.in_units(s) if view.is_image else np.asarray(s) for name, s in samples.items()}
    if not view.is_image:
        return table_samples(arrays, view, n_cols, reference)
    reference = None if reference is None else view.in_units(reference)
    vrange = display_range(*(arrays.values() if reference is None else [reference]))
    n_cols = min(n_cols, max(len(a) for a in arrays.values()))
    n_panels = len(arrays)
    per_row = min(n_panels, 3)
    panel_rows = -(-n_panels // per_row)
    tile_rows = max(-(-len(a) // n_cols) for a in arrays.values())
    panel_width = 3.6
    fig = new_figure(panel_width * per_row, 0.2 + panel_rows * (panel_width * tile_rows / n_cols + 0.35))
    for i, (name, array) in enumerate(arrays.items()):
        ax = fig.add_subplot(panel_rows, per_row, i + 1)
        show_tiles(ax, grid_of(as_images(array, view.image_shape), n_cols), vrange)
        ax.set_title(name, fontsize=10)
    return fig


def table_samples(arrays: Mapping[str, np.ndarray], view: RowView, n: int, reference: np.ndarray | None) -> Figure:
    """Table rows of :func:`plot_samples`: a panel per model and sampler, its first ``n`` samples."""
    n = min(n, min(len(a) for a in arrays.values()))
    pool = np.concatenate(list(arrays.values())) if reference is None else np.asarray(reference)
    median = np.median(np.asarray(pool, np.float64), axis=0)
    groups = np.stack([np.vstack([median, a[:n]]) for a in arrays.values()])
    labels = ["median of the data" if reference is not None else "median of the samples",
              *[f"sample {i + 1}" for i in range(n)]]
    return plot_table_rows(groups, view, list(arrays), labels, reference=reference, emphasise=(0,),
                           title="decoded random codes, per model and sampler")


MEMORISING_TITLE = "decoding points along the {model}'s 1-D latent line"


def plot_memorising_line(
    decoded: np.ndarray,
    positions: Sequence[float],
    image_shape: Sequence[int] | None,
    training_positions: Sequence[float] | None = None,
    model: str = "memorising AE",
) -> Figure:
    """A 1-D code line: ``decoded`` ``(n_points, n_features)`` at code ``positions``, for ``model``.

    Tiles are ordered by position; positions that are training codes (by default the integers) are
    marked with a ``*`` so the nonsense in between stands out. With many tiles only every few are
    labelled (rotated), so the labels stay legible.
    """
    if not row_view(image_shape).is_image:
        return table_memorising_lines({model: (decoded, positions)}, row_view(image_shape))
    fig = new_figure(min(1.0 + 0.7 * len(positions), 14), 1.9)
    ax = fig.add_subplot()
    draw_memorising_line(ax, decoded, positions, image_shape, training_positions)
    ax.set_title(MEMORISING_TITLE.format(model=model))
    return fig


def plot_memorising_lines(lines: Mapping[str, object], image_shape: RowView | Sequence[int] | None) -> Figure:
    """One row per model of :func:`plot_memorising_line`; ``lines`` maps a model's name to its
    ``analysis.memorize.ModelLine`` (``strip``, ``strip_codes``, ``strip_is_training``)."""
    if not row_view(image_shape).is_image:
        strips = {name: (line.strip, line.strip_codes) for name, line in lines.items()}
        return table_memorising_lines(strips, row_view(image_shape))
    n_points = max(len(line.strip_codes) for line in lines.values())
    fig = new_figure(min(1.0 + 0.7 * n_points, 14), 1.9 * len(lines))
    for i, (name, line) in enumerate(lines.items()):
        ax = fig.add_subplot(len(lines), 1, i + 1)
        training = np.asarray(line.strip_codes)[np.asarray(line.strip_is_training, bool)]
        draw_memorising_line(ax, line.strip, line.strip_codes, image_shape, training)
        ax.set_title(f"{name}: decoding points along its 1-D latent line")
    return fig


def table_memorising_lines(strips: Mapping[str, tuple[np.ndarray, Sequence[float]]], view: RowView) -> Figure:
    """Table rows of the memorising line: per model, ``TABLE_LINE_POINTS`` decodes evenly spread along
    its code line (``strips[name]`` = decoded rows and their codes), lowest code first."""
    n = min(TABLE_LINE_POINTS, min(len(codes) for _, codes in strips.values()))
    groups = []
    for decoded, codes in strips.values():
        order = np.argsort(np.asarray(codes, np.float64), kind="stable")
        groups.append(np.asarray(decoded)[order[np.linspace(0, len(order) - 1, n).round().astype(int)]])
    titles = [MEMORISING_TITLE.format(model=name) for name in strips]
    return plot_table_rows(np.stack(groups), view, titles, None,
                           title="from the lowest code on the line (purple) to the highest (yellow)")


def draw_memorising_line(
    ax,
    decoded: np.ndarray,
    positions: Sequence[float],
    image_shape: RowView | Sequence[int] | None,
    training_positions: Sequence[float] | None = None,
) -> None:
    view = row_view(image_shape)
    decoded = view.in_units(decoded)
    positions = np.asarray(positions, dtype=np.float64)
    if decoded.shape[0] != positions.shape[0]:
        raise LatentspaceError(f"{decoded.shape[0]} decoded points but {positions.shape[0]} positions")
    order = np.argsort(positions, kind="stable")
    decoded, positions = decoded[order], positions[order]
    if training_positions is None:
        is_training = np.isclose(positions, np.round(positions))
    else:
        is_training = np.isin(np.round(positions, 6), np.round(np.asarray(training_positions, float), 6))
    every = max(1, -(-len(positions) // 24))  # at most ~24 labels across the strip
    labels = [f"{p:.3g}" + ("*" if t else "") if i % every == 0 or t else "" for i, (p, t) in
              enumerate(zip(positions, is_training))]
    show_tiles(ax, as_images(decoded, view.image_shape)[None], display_range(decoded), col_labels=labels)
    ax.tick_params(axis="x", labelrotation=90)
    ax.set_xlabel("code on the line (* = a training example's code)")


def numeric_columns(rows: list[dict], skip: set[str]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        for key, value in row.items():
            if key not in skip and key not in columns and isinstance(value, (int, float, np.number)):
                columns.append(key)
    return columns


def plot_latent_sweep(rows: list[dict], metrics: Sequence[str] | None = None) -> Figure:
    """Metrics against the latent size ``k``, one line per model, one panel per metric.

    ``rows``: dicts with ``k``, ``model`` and metric columns (e.g. reconstruction error and a sample
    quality such as a Fréchet distance). ``metrics`` picks and orders the columns; default: every
    numeric column except ``k`` and timings.
    """
    if not rows:
        raise LatentspaceError("no sweep rows to plot")
    missing = [i for i, r in enumerate(rows) if "k" not in r or "model" not in r]
    if missing:
        raise LatentspaceError(f"sweep rows need 'k' and 'model' keys; row {missing[0]} lacks them")
    metrics = list(metrics or numeric_columns(rows, {"k", "seconds", "fit_seconds"}))
    if not metrics:
        raise LatentspaceError("sweep rows have no numeric metric columns")
    fig = new_figure(4.2 * len(metrics), 3.3)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    models = list(dict.fromkeys(r["model"] for r in rows))
    for ax, metric in zip(axes, metrics):
        for i, model in enumerate(models):
            points = sorted((r["k"], r[metric]) for r in rows if r["model"] == model and r.get(metric) is not None)
            if points:
                ks, values = zip(*points)
                ax.plot(ks, values, "o-", color=f"C{i}", label=model)
        values = [r[metric] for r in rows if r.get(metric) is not None]
        if values and min(values) > 0 and max(values) / min(values) > 20:
            ax.set_yscale("log")
            plain_log_axis(ax.yaxis)
        ks = sorted({r["k"] for r in rows})
        if len(ks) > 2 and ks[0] > 0:  # latent sizes usually double: 1, 2, 4, 8...
            ax.set_xscale("log", base=2)
        ax.set_xticks(ks, labels=[str(k) for k in ks])
        ax.set_xlabel("latent size k")
        ax.set_title(metric.replace("_", " "))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return fig
