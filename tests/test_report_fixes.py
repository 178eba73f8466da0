"""The report reads as it should: evaluation.json shown, class names on the colour bar, plain log axes,
integer principal-angle ticks, the report's model names, and a titled, legible memorising strip."""

import shutil

import numpy as np
import pytest
from conftest import parse_report_html
from sklearn.decomposition import PCA

from latentspace import AutoEncoder, LinearAutoEncoder
from latentspace.analysis import compare_with_pca
from latentspace.cli import main
from latentspace.report import plot_latent_scatter, plot_memorising_line, plot_training_curves
from latentspace.report.pca_plot import pca_figure


def tick_texts(axis) -> list[str]:
    axis.figure.canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_scatter_colour_bar_names_the_classes(digits):
    X, y = digits.X_test[:200], digits.y_test[:200]
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    fig = plot_latent_scatter({"pca": PCA(2).fit(X)}, X, y, label_names=names)
    bar = fig.axes[-1]
    assert tick_texts(bar.yaxis) == names and bar.get_ylabel() == "class"


def test_log_axes_read_as_plain_numbers(small_digits):
    X, _ = small_digits
    ae = AutoEncoder(2, epochs=3, random_state=0).fit(X)
    fig = plot_training_curves({"ae": ae.history_})
    labels = tick_texts(fig.axes[0].yaxis) + [t.get_text() for t in fig.axes[0].yaxis.get_minorticklabels()]
    assert labels and not any("times" in t or "^" in t or "$" in t for t in labels), labels


def test_pca_figure_ticks_and_names(small_digits):
    X, X_test = small_digits
    linear = compare_with_pca(LinearAutoEncoder(3, epochs=30, random_state=0).fit(X), X, X_test)
    deep = compare_with_pca(AutoEncoder(3, epochs=2, random_state=0).fit(X), X, X_test)
    fig = pca_figure(linear, others=[deep])
    angle_axis = next(ax for ax in fig.axes if ax.get_xlabel() == "principal angle (largest first)")
    assert tick_texts(angle_axis.xaxis) == ["1", "2", "3"]
    error_axis = next(ax for ax in fig.axes if ax.get_ylabel() == "held-out MSE per feature")
    assert tick_texts(error_axis.xaxis) == ["PCA(3)", "linear AE", "deep AE"]


def test_memorising_strip_is_titled_and_legible(digits):
    positions = np.linspace(-2, 51, 80)
    decoded = np.repeat(digits.X_train[:1], 80, axis=0)
    fig = plot_memorising_line(decoded, positions, (8, 8), training_positions=np.arange(50), model="vae")
    ax = fig.axes[0]
    assert ax.get_title() == "decoding points along the vae's 1-D latent line"
    labels = tick_texts(ax.xaxis)
    assert 0 < len(labels) <= 40 and all(t.get_rotation() == 90 for t in ax.get_xticklabels())


@pytest.mark.slow  # trains a VAE run, evaluates it and writes a report: ~1 minute
def test_report_shows_evaluation_json(tmp_path, capsys):
    run = tmp_path / "vae"
    assert main(["train", "vae", "--n-components", "3", "--epochs", "3", "--hidden", "32", "--out", str(run), "--quiet"]) == 0
    assert main(["evaluate", str(run), "--iw-samples", "20", "--regularity-samples", "0", "--max-examples", "60"]) == 0
    bare = tmp_path / "bare"
    shutil.copytree(run, bare)
    (bare / "evaluation.json").unlink()
    out = tmp_path / "r.html"
    assert main(["report", str(run), str(bare), "--out", str(out), "--examples", "3"]) == 0
    parsed = parse_report_html(out.read_text())
    assert parsed["sections"][:2] == ["Runs", "Evaluation"] and "evaluation" in parsed["tables"]
    import json

    stored = json.loads((run / "evaluation.json").read_text())
    assert f"{stored['iw_nll']:.4g}" in out.read_text()


def test_pages_about_one_run_go_into_its_folder_and_about_several_into_the_current_one(tmp_path, monkeypatch, capsys):
    """`latentspace report RUN` wrote report.html wherever the user stood; a page about one run belongs
    beside it. One comparing several runs belongs to none of them: the current folder, as before."""
    first, second = tmp_path / "ae", tmp_path / "vae"
    for model, run in (("ae", first), ("vae", second)):
        assert main(["train", model, "--data", "iris", "--n-components", "2", "--epochs", "2", "--hidden", "8",
                     "--out", str(run), "--quiet"]) == 0
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    capsys.readouterr()
    for command, page in (("report", "report.html"), ("explore", "explorer.html")):
        assert main([command, str(second)]) == 0
        assert (second / page).is_file() and capsys.readouterr().out.strip() == str(second / page)
        assert main([command, str(first), str(second)]) == 0
        assert (here / page).is_file() and not (first / page).exists()
        assert capsys.readouterr().out.strip() == page
    assert sorted(p.name for p in here.iterdir()) == ["explorer.html", "report.html"]
