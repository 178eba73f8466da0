"""Real-valued tables (scikit-learn's bundled files): the named sets, their figures in the user's units
with feature names, and the explorer's rows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from latentspace import VAE, AutoEncoder
from latentspace.data import NAMED, load_dataset
from latentspace.report import plot_interpolations, plot_manifold_grid, plot_reconstructions, plot_samples
from latentspace.report.plots import plot_memorising_lines
from latentspace.report.rows import RowView
from latentspace.workflows.demo import standardised

TABLES = {  # name: (rows, features, classes, a feature name, a class name)
    "wine": (178, 13, 3, "alcohol", "cultivar 1"),
    "breast-cancer": (569, 30, 2, "mean radius", "malignant"),
    "diabetes": (442, 10, 3, "bmi", "progression 25-99"),
    "iris": (150, 4, 3, "petal length (cm)", "setosa"),
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_bundled_tables_load_in_their_units_with_names(name):
    rows, n_features, n_classes, feature, label = TABLES[name]
    data = load_dataset(name)
    assert len(data.X_train) + len(data.X_test) == rows and data.n_features == n_features
    assert (len(data.X_train), len(data.X_test)) == (NAMED[name].n_train, NAMED[name].n_test)
    assert data.X_train.dtype == np.float32 and data.image_shape is None and data.units is None
    assert feature in data.feature_names and len(data.feature_names) == n_features
    assert label in data.label_names and len(data.label_names) == n_classes
    assert set(np.unique(np.concatenate([data.y_train, data.y_test]))) == set(range(n_classes))
    assert data.X_train.max() > 1.5  # their own units, not scaled to [0, 1]


def test_diabetes_classes_are_equal_count_bins_of_progression():
    from sklearn.datasets import load_diabetes

    data = load_dataset("diabetes")
    counts = np.bincount(np.concatenate([data.y_train, data.y_test]))
    assert counts.max() - counts.min() <= 2
    raw = load_diabetes(scaled=False)
    assert np.allclose(np.sort(np.concatenate([data.X_train, data.X_test]), 0), np.sort(raw.data, 0), rtol=1e-6)


def test_digit_counts_are_the_stored_pixels():
    counts, scaled = load_dataset("digits-counts"), load_dataset("digits")
    assert counts.X_train.max() == 16 and counts.image_shape == (8, 8)
    assert np.array_equal(counts.X_train / 16, scaled.X_train) and counts.label_names == [str(d) for d in range(10)]


@pytest.fixture(scope="module")
def wine_fit():
    """The demo's view of wine: standardised for the models, shown in the user's units."""
    data = standardised(load_dataset("wine"))
    ae = AutoEncoder(2, hidden=(16,), epochs=30, random_state=0).fit(data.X_train)
    vae = VAE(2, hidden=(16,), epochs=30, random_state=0).fit(data.X_train)
    return data, {"AE": ae, "VAE": vae}


def plotted(ax) -> np.ndarray:
    return np.array([line.get_ydata() for line in ax.get_lines() if len(line.get_xdata()) > 2])


def test_table_figures_name_the_features_and_read_in_the_users_units(wine_fit):
    data, models = wine_fit
    view = RowView.of(data)
    fig = plot_reconstructions(models, data.X_test, view, n=3)
    axes = fig.axes
    assert len(axes) == 3  # one panel per held-out example
    assert [t.get_text() for t in axes[-1].get_xticklabels()] == data.feature_names
    # Each feature's axis spans the data's 1st..99th percentile in the user's units: alcohol ~11-15 %.
    raw = load_dataset("wine").X_test
    lo, hi = np.percentile(raw.astype(np.float64), [1, 99], axis=0)
    numbers = [float(t.get_text()) for t in axes[0].texts]
    assert np.allclose(numbers[0::2], hi, rtol=5e-3) and np.allclose(numbers[1::2], lo, rtol=5e-3)  # 3 digits
    original = plotted(axes[0])[0]  # the first line is the original, at its place within each range
    assert np.allclose(original, np.clip((raw[0] - lo) / (hi - lo), -0.25, 1.25), atol=1e-4)
    samples = {"VAE prior": models["VAE"].sample(5, random_state=0)}
    assert len(plotted(plot_samples(samples, view, n_cols=5, reference=data.X_train).axes[0])) == 6
    fig = plot_interpolations(models, data.X_test[:2], data.X_test[2:4], view, n_steps=4)
    assert len(fig.axes) == 4 and all(len(plotted(ax)) == 6 for ax in fig.axes)
    assert len(plot_manifold_grid(models["AE"], view, X=data.X_train).axes) == 5


def test_table_memorising_lines(wine_fit):
    from latentspace.analysis.memorize import run_memorization

    data, _ = wine_fit
    result = run_memorization(data, n_train=20, epochs=50, random_state=0)
    fig = plot_memorising_lines(result.lines, RowView.of(data))
    assert len(fig.axes) == len(result.lines)
    assert [t.get_text() for t in fig.axes[-1].get_xticklabels()] == data.feature_names


def test_image_figures_undo_the_standardisation(digits):
    """Standardised digit counts still show as images, on their 0..16 grey scale."""
    data = standardised(load_dataset("digits-counts"))
    ae = AutoEncoder(2, hidden=(16,), epochs=2, random_state=0).fit(data.X_train)
    fig = plot_reconstructions({"AE": ae}, data.X_test, RowView.of(data), n=3)
    image = fig.axes[0].get_images()[0]
    assert image.get_clim() == (0.0, 16.0) or np.isclose(image.get_clim()[1], 16.0, atol=0.2)
    plain = dataclasses.replace(data, units=None)
    assert plot_reconstructions({"AE": ae}, plain.X_test, RowView.of(plain), n=3).axes[0].get_images()[0].get_clim()[1] < 5
