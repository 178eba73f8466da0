"""Plots, the HTML report, `latentspace report` and the demo's report, on real digits models."""

import dataclasses
import io
import json
import math

import matplotlib.image
import numpy as np
import pytest
from conftest import parse_report_html
from matplotlib.figure import Figure
from scipy.stats import norm
from sklearn.decomposition import PCA

from latentspace import VAE, AutoEncoder, LatentspaceError, LinearAutoEncoder
from latentspace.report import (
    Report,
    figure_png,
    plot_interpolations,
    plot_latent_scatter,
    plot_latent_sweep,
    plot_manifold_grid,
    plot_memorising_line,
    plot_memorising_lines,
    plot_reconstructions,
    plot_samples,
    plot_training_curves,
    plot_traversals,
    save_figure,
)
from latentspace.report.images import MIN_TILE_PIXELS
from latentspace.workflows.demo import STAGES, Stage, run_demo, stage_index
from latentspace.workflows.demo_context import BUDGETS

SHAPE = (8, 8)


@pytest.fixture(scope="module")
def models(digits):
    X = digits.X_train
    return {
        "PCA(2)": PCA(2).fit(X),
        "linear AE": LinearAutoEncoder(2, epochs=5, random_state=0).fit(X),
        "deep AE": AutoEncoder(2, hidden=(64,), epochs=5, random_state=0).fit(X),
        "VAE": VAE(2, hidden=(64,), epochs=5, random_state=0).fit(X),
    }


@pytest.fixture(scope="module")
def ae4(digits):
    return AutoEncoder(4, hidden=(64,), epochs=3, random_state=0).fit(digits.X_train)


def decoded_png(fig: Figure) -> np.ndarray:
    """Render, encode and decode the figure; assert it is a real, non-blank picture."""
    png = figure_png(fig)
    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert image.shape[0] > 50 and image.shape[1] > 50
    assert image[..., :3].std() > 0.05, "figure is blank"
    return image


def tick_labels(ax, axis: str) -> list[str]:
    ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in ticks]


# ---- plots ---------------------------------------------------------------------------------------
def test_training_curves_show_every_term_train_and_validation(models):
    fig = plot_training_curves({n: m for n, m in models.items() if n != "PCA(2)"})
    decoded_png(fig)
    axes = {ax.get_title(): ax for ax in fig.axes}
    assert set(axes) == {"linear AE", "deep AE", "VAE"}
    vae_lines = {line.get_label() for line in axes["VAE"].get_lines()}
    assert {"train loss", "val loss", "train recon", "val recon", "train kl", "val kl"} <= vae_lines
    # An AE's loss is its reconstruction term: one pair of lines, not two on top of each other.
    assert {line.get_label() for line in axes["deep AE"].get_lines()} == {"train recon", "val recon"}
    assert len(axes["VAE"].get_lines()[0].get_xdata()) == models["VAE"].n_iter_


def test_training_curves_need_a_history(models):
    with pytest.raises(LatentspaceError, match="no training history"):
        plot_training_curves({"PCA": models["PCA(2)"]})


#: how many times a pixel of an 8x8 tile is enlarged in figures (report.images.show_tiles)
Z8 = -(-MIN_TILE_PIXELS // 8)


def test_reconstructions_put_originals_above_each_model(models, digits):
    fig = plot_reconstructions(models, digits.X_test, SHAPE, n=6)
    decoded_png(fig)
    assert tick_labels(fig.axes[0], "y") == ["original", *models]
    image = fig.axes[0].get_images()[0].get_array()
    # 5 rows x 6 tiles of 8x8, each pixel drawn z x z, with 1-pixel gaps
    assert image.shape == (5 * (8 * Z8 + 1) - 1, 6 * (8 * Z8 + 1) - 1)
    np.testing.assert_allclose(image[: 8 * Z8 : Z8, : 8 * Z8 : Z8], digits.X_test[0].reshape(8, 8))


def test_latent_scatter_uses_principal_axes_beyond_two_dimensions(models, ae4, digits):
    fig = plot_latent_scatter({"deep AE": models["deep AE"], "AE k=4": ae4}, digits.X_test, digits.y_test)
    decoded_png(fig)
    two, four = fig.axes[0], fig.axes[1]
    assert (two.get_xlabel(), two.get_ylabel()) == ("z1", "z2")
    assert four.get_xlabel().startswith("codes' principal axis 1") and "% of variance" in four.get_xlabel()
    assert four.get_ylabel().startswith("codes' principal axis 2")
    assert any(ax.get_ylabel() == "label" for ax in fig.axes), "a colour bar labelled 'label'"
    assert len(two.collections[0].get_offsets()) == len(digits.X_test)


def test_manifold_grid_vae_uses_gaussian_quantiles_and_z2_grows_upward(models, digits):
    fig = plot_manifold_grid(models["VAE"], SHAPE, n=7)
    decoded_png(fig)
    ax = fig.axes[0]
    expected = [f"{v:.2g}" for v in norm.ppf(np.linspace(0.05, 0.95, 7))]
    expected[3] = "0"  # the median, not round-off like 1.4e-16
    assert tick_labels(ax, "x") == expected
    assert tick_labels(ax, "y") == expected[::-1]
    assert "quantiles" in ax.get_title()


def test_manifold_grid_ae_spans_its_codes_and_decodes_the_corners(models, digits):
    ae = models["deep AE"]
    fig = plot_manifold_grid(ae, SHAPE, X=digits.X_train, n=5)
    Z = ae.transform(digits.X_train)
    ax = fig.axes[0]
    assert float(tick_labels(ax, "x")[0]) == pytest.approx(Z[:, 0].min(), rel=0.05, abs=0.01)
    assert float(tick_labels(ax, "y")[0]) == pytest.approx(Z[:, 1].max(), rel=0.05, abs=0.01)
    top_left = ae.inverse_transform(np.array([[Z[:, 0].min(), Z[:, 1].max()]], dtype=np.float32))
    np.testing.assert_allclose(ax.get_images()[0].get_array()[: 8 * Z8 : Z8, : 8 * Z8 : Z8], top_left.reshape(8, 8),
                               atol=1e-5)


def test_manifold_grid_refuses_other_latent_sizes(ae4, models):
    with pytest.raises(LatentspaceError, match="2-D latent space"):
        plot_manifold_grid(ae4, SHAPE)
    with pytest.raises(LatentspaceError, match="needs data X"):
        plot_manifold_grid(models["deep AE"], SHAPE)


def test_samples_grid_one_panel_per_model_and_sampler(models):
    samples = {"VAE: prior": models["VAE"].sample(10, random_state=0), "AE: N(0, I)": np.random.default_rng(0).random((5, 64))}
    fig = plot_samples(samples, SHAPE, n_cols=5)
    decoded_png(fig)
    assert [ax.get_title() for ax in fig.axes] == list(samples)
    assert fig.axes[0].get_images()[0].get_array().shape == (2 * (8 * Z8 + 1) - 1, 5 * (8 * Z8 + 1) - 1)


def test_interpolation_strips_start_and_end_at_the_originals(models, digits):
    X = digits.X_test
    fig = plot_interpolations({"deep AE": models["deep AE"], "VAE": models["VAE"]}, X[:2], X[2:4], SHAPE, n_steps=5)
    decoded_png(fig)
    ax = fig.axes[0]
    assert tick_labels(ax, "y") == ["deep AE #1", "deep AE #2", "VAE #1", "VAE #2"]
    assert tick_labels(ax, "x")[0] == "start" and tick_labels(ax, "x")[-1] == "end"
    image = ax.get_images()[0].get_array()
    np.testing.assert_allclose(image[: 8 * Z8 : Z8, : 8 * Z8 : Z8], X[0].reshape(8, 8))
    np.testing.assert_allclose(image[: 8 * Z8 : Z8, -8 * Z8 :: Z8], X[2].reshape(8, 8))


def test_traversals_one_row_per_dimension_by_variance(ae4, digits):
    fig = plot_traversals(ae4, digits.X_test, SHAPE, n_steps=6, max_dims=3)
    decoded_png(fig)
    labels = tick_labels(fig.axes[0], "y")
    variances = [float(label.split("var ")[1].rstrip(")")) for label in labels]
    assert len(labels) == 3 and variances == sorted(variances, reverse=True)


def test_memorising_line_marks_training_codes(models):
    positions = np.array([2.0, 0.0, 1.0, 0.5, 1.5])
    decoded = models["deep AE"].inverse_transform(np.column_stack([positions, positions]).astype(np.float32))
    fig = plot_memorising_line(decoded, positions, SHAPE)
    decoded_png(fig)
    assert tick_labels(fig.axes[0], "x") == ["0*", "0.5", "1*", "1.5", "2*"]
    with pytest.raises(LatentspaceError, match="5 decoded points but 4 positions"):
        plot_memorising_line(decoded, positions[:4], SHAPE)



def test_memorising_lines_draw_one_row_per_model_marking_its_training_codes(models):
    from types import SimpleNamespace

    positions = np.array([0.0, 0.25, 0.5, 1.0])
    lines = {
        name: SimpleNamespace(strip=models[name].inverse_transform(np.column_stack([positions, -positions]).astype(np.float32)),
                              strip_codes=positions, strip_is_training=np.array([True, False, False, True]))
        for name in ("deep AE", "VAE")
    }
    fig = plot_memorising_lines(lines, SHAPE)
    decoded_png(fig)
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["deep AE", "VAE"]
    assert tick_labels(fig.axes[1], "x") == ["0*", "0.25", "0.5", "1*"]


def test_latent_sweep_one_line_per_model_per_metric():
    rows = [{"k": k, "model": m, "test_mse": 1.0 / (k + i), "frechet": 10.0 - k + i, "fit_seconds": 1.0}
            for k in (1, 2, 4, 8) for i, m in enumerate(("PCA", "AE", "VAE"))]
    fig = plot_latent_sweep(rows)
    decoded_png(fig)
    assert [ax.get_title() for ax in fig.axes] == ["test mse", "frechet"]
    for ax in fig.axes:
        assert [line.get_label() for line in ax.get_lines()] == ["PCA", "AE", "VAE"]
        assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 4, 8]
    with pytest.raises(LatentspaceError, match="need 'k' and 'model'"):
        plot_latent_sweep([{"k": 1, "x": 2.0}])


def test_a_wrong_image_shape_is_refused(models, digits):
    with pytest.raises(LatentspaceError, match="does not hold 64 features"):
        plot_reconstructions(models, digits.X_test, (7, 7))


def test_save_figure_writes_a_png(models, tmp_path):
    path = save_figure(plot_training_curves({"VAE": models["VAE"]}), tmp_path / "sub" / "curves.png")
    assert path.read_bytes().startswith(b"\x89PNG")


# ---- the HTML builder ----------------------------------------------------------------------------
def test_report_is_self_contained_and_escaped(models, tmp_path):
    report = Report("a <title>", "sub")
    section = report.section("First & only", "Look at <this>.")
    section.table([{"model": "a<b", "mse": 0.5}, {"model": "c", "extra": 3}], "cap")
    section.figure(plot_training_curves({"VAE": models["VAE"]}), "curves")
    report.configuration({"seed": 0})
    text = report.write(tmp_path / "r.html").read_text()
    parsed = parse_report_html(text)
    assert parsed["sections"] == ["First & only", "Configuration"]
    assert parsed["tables"] == ["first-only-1"]
    assert parsed["figures"]["first-only-1"].startswith(b"\x89PNG")
    assert "a&lt;b" in text and "Look at &lt;this&gt;." in text and "<title>a &lt;title&gt;</title>" in text
    assert "<td>–</td>" in text  # the missing cell
    for external in ("http://", "https://", "<link", "<script", "url("):
        assert external not in text
    assert report.section("First & only") is section  # the same section again, not a new one


def test_report_rejects_bad_figures_and_tables():
    section = Report("t").section("s")
    with pytest.raises(LatentspaceError, match="not a PNG"):
        section.figure(b"GIF89a", "nope")
    with pytest.raises(LatentspaceError, match="empty table"):
        section.table([], "nothing")


# ---- the demo ------------------------------------------------------------------------------------
DEMO_SECTIONS = ["Verdicts", "Reconstruction", "Linear AE = PCA, in another basis", "Training", "The VAE's likelihood",
                 "Latent spaces", "Latent explorer", "Generating", "Regularity, measured", "Which regulariser fills the holes",
                 "Interpolation and traversals",
                 "The memorising autoencoder", "Latent size", "Configuration"]
DEMO_FIGURES = {"reconstructions", "pca-check", "training-curves", "latent-scatter", "manifold-linear-AE", "manifold-deep-AE",
                "manifold-VAE", "samples", "interpolations", "traversal-deep-AE", "traversal-VAE", "memorize-ae",
                "memorize-vae", "latent-sweep"}


def test_quick_demo_writes_a_complete_report(quick_demo):
    parsed = parse_report_html(quick_demo.report_path.read_text())
    assert parsed["sections"] == DEMO_SECTIONS
    assert set(parsed["figures"]) == DEMO_FIGURES and parsed["n_img"] == len(DEMO_FIGURES)
    for name, png in parsed["figures"].items():
        image = matplotlib.image.imread(io.BytesIO(png), format="png")
        assert image.shape[0] > 100 and image[..., :3].std() > 0.05, name
    assert parsed["tables"] == ["reconstruction", "pca_check", "vae", "feature_space", "sample_quality", "interpolation",
                                "kl_split", "memorize", "sweep", "stage-seconds"]
    assert "held-out reconstruction error at k=2" in quick_demo.printed and "PCA(2)" in quick_demo.printed


def test_quick_demo_measures_the_tutorials_claims(quick_demo):
    metrics = quick_demo.metrics
    rows = {r["model"]: r for r in metrics["reconstruction"]}
    assert set(rows) == {"PCA(2)", "linear AE", "deep AE", "VAE"}
    assert rows["PCA(2)"]["ratio_to_pca"] == 1.0
    assert rows["deep AE"]["heldout_mse_per_feature"] < rows["PCA(2)"]["heldout_mse_per_feature"]
    vae = metrics["vae"][0]
    assert vae["iw_nll"] <= vae["neg_elbo"] + 0.05 and vae["iw_samples"] == 100 and vae["neg_elbo_stderr"] > 0
    assert (quick_demo.out / "models" / "deep-AE" / "weights.safetensors").is_file()
    linear = next(r for r in metrics["pca_check"] if r["model"] == "linear AE")
    assert linear["max_principal_angle_deg"] < 1.0 and abs(linear["test_mse_ratio"] - 1) < 0.01


def test_quick_demo_gives_a_verdict_per_claim(quick_demo):
    verdicts = quick_demo.metrics["verdicts"]
    claims = [v["claim"] for v in verdicts]
    assert len(set(claims)) == 5
    summary = (quick_demo.out / "summary.txt").read_text()
    lines = summary.split("\n\n")[0].splitlines()[1:]
    assert summary.startswith("verdicts on the tutorial's claims") and len(lines) == 5
    assert all(v["claim"] in summary for v in verdicts)
    for line in lines:
        assert line.split(":")[0] in ("HOLDS", "DOES NOT HOLD") or line.startswith("HOLDS ONLY AGAINST")
    top = parse_report_html(quick_demo.report_path.read_text())["sections"][0]
    assert top == "Verdicts"


def test_a_stopped_demo_writes_the_report_of_the_stages_it_finished(digits, tmp_path):
    from latentspace.workflows.demo import fit_stage, reconstruction_stage

    def stop(ctx):
        raise KeyboardInterrupt

    stages = [Stage("fit", fit_stage), Stage("skipped", lambda ctx: pytest.fail("ran a skipped stage")),
              Stage("reconstruction", reconstruction_stage), Stage("stopped", stop),
              Stage("never", lambda ctx: pytest.fail("ran after the stop"))]
    small = type(digits)("digits", digits.X_train[:300], digits.X_test[:100], None, None, digits.image_shape)
    short = dataclasses.replace(BUDGETS["quick"], steps=50)  # the flow is tested, not the models
    result = run_demo(small, tmp_path, budget=short, stages=stages, echo=lambda s: None, show_progress=False,
                      skip=("skipped",))
    assert result.interrupted_in == "stopped"
    assert list(result.stage_seconds) == ["fit", "reconstruction"]
    parsed = parse_report_html((tmp_path / "report.html").read_text())
    assert "reconstruction" in parsed["tables"]
    assert json.loads((tmp_path / "config.json").read_text())["interrupted_in"] == "stopped"
    assert "reconstruction" in json.loads((tmp_path / "metrics.json").read_text())


def test_a_stages_fits_begin_before_the_first_stage_and_its_errors_arise_in_it(digits, tmp_path):
    """``Stage.ahead`` begins every stage's fits, in stage order, before any stage runs (where workers take
    them, they train while earlier stages measure); ``ctx.work`` hands them over, and an error in beginning
    is raised in the stage that owns it, after the stages before it ran."""
    from latentspace.training.side_by_side import fit_side_by_side

    calls: list = []

    def begin_a(ctx):
        calls.append("begin a")
        return fit_side_by_side([PCA(2), PCA(3)], ctx.data.X_train)

    def begin_b(ctx):
        calls.append("begin b")
        raise LatentspaceError("b cannot begin")

    def run_a(ctx):
        calls.append(("run a", [model.n_components for model, _ in ctx.work(begin_a)]))

    def run_b(ctx):
        calls.append("run b")
        ctx.work(begin_b)

    small = type(digits)("digits", digits.X_train[:300], digits.X_test[:100], None, None, digits.image_shape)
    stages = [Stage("a", run_a, ahead=begin_a), Stage("b", run_b, ahead=begin_b)]
    with pytest.raises(LatentspaceError, match="b cannot begin"):
        run_demo(small, tmp_path, stages=stages, echo=lambda s: None, show_progress=False)
    assert calls == ["begin a", "begin b", ("run a", [2, 3]), "run b"]


def test_the_demo_s_copies_of_the_data_keep_its_class_names(digits):
    from latentspace.workflows.demo import standardised, subsampled

    named = dataclasses.replace(digits, label_names=[f"digit {i}" for i in range(10)])
    cut = subsampled(named, dataclasses.replace(BUDGETS["quick"], train_rows=100, test_rows=50), seed=0)
    assert len(cut.X_train) == 100 and cut.label_names == named.label_names
    assert standardised(cut).label_names == named.label_names


def test_a_new_stage_is_one_function(digits, tmp_path):
    def fit_pca_only(ctx):
        ctx.models["PCA(3)"] = PCA(3).fit(ctx.data.X_train)
        ctx.fit_seconds["PCA(3)"] = 0.0

    def explained(ctx):
        section = ctx.section("Explained variance", "PCA's share of variance per component.")
        rows = [{"component": i + 1, "share": float(s)} for i, s in enumerate(ctx.models["PCA(3)"].explained_variance_ratio_)]
        ctx.add_table(section, "explained", rows, "explained variance")

    stages = [Stage("fit", fit_pca_only), Stage("explained", explained)]
    printed: list[str] = []
    result = run_demo(digits, tmp_path, stages=stages, echo=printed.append, show_progress=False)
    parsed = parse_report_html(result.report_path.read_text())
    assert parsed["sections"] == ["Verdicts", "Explained variance", "Configuration"]
    assert "explained" in parsed["tables"] and "explained variance" in printed[0]
    assert list(result.stage_seconds) == ["fit", "explained"]
    assert stage_index("reconstruction") == [s.name for s in STAGES].index("reconstruction")
    with pytest.raises(ValueError, match="no demo stage 'nope'"):
        stage_index("nope")


def test_demo_standardises_data_outside_the_unit_interval_for_every_model(digits, tmp_path):
    """Any --data works: unlabelled, non-image data in raw units are put on one scale for all models."""
    from latentspace.data import Dataset
    from latentspace.workflows.demo import fit_stage, reconstruction_stage

    raw = Dataset("raw", digits.X_train[:300] * 100.0 + 5.0, digits.X_test[:80] * 100.0 + 5.0)
    printed: list[str] = []
    stages = [Stage("fit", fit_stage), Stage("reconstruction", reconstruction_stage)]
    short = dataclasses.replace(BUDGETS["quick"], steps=300)
    result = run_demo(raw, tmp_path, budget=short, stages=stages, echo=printed.append, show_progress=False)
    assert "standardised" in printed[0]
    rows = {r["model"]: r for r in result.rows}
    assert rows["PCA(2)"]["heldout_mse_per_feature"] < 1.5  # standardised units, not raw ones (~1e3)
    assert rows["deep AE"]["ratio_to_pca"] < 3
    assert json.loads((tmp_path / "config.json").read_text())["standardised"] is True
    # metrics.json holds the tables the run returned, unchanged by the trip through JSON
    assert json.loads((tmp_path / "metrics.json").read_text())["reconstruction"] == json.loads(json.dumps(result.rows))
    assert result.report_path == tmp_path / "report.html"
    assert "reconstructions" in parse_report_html(result.report_path.read_text())["figures"]


def test_every_sweep_model_of_the_full_demo_gets_its_sweep_steps_or_its_own_smaller_budget(digits):
    """The linear AE trains sweep_steps of its batches of 512 where its data-scaled budget is larger
    (Fashion-MNIST's 60,000 rows: 26 epochs, not 60), and keeps that budget where it is smaller."""
    from latentspace.data import Dataset
    from latentspace.training.budget import LINEAR_RULE
    from latentspace.workflows.demo_context import DemoContext

    def context(n_rows: int) -> DemoContext:
        rows = np.zeros((n_rows, 2), np.float32)
        return DemoContext(Dataset("rows", rows, rows[:10]), None, BUDGETS["full"], 0, 2, None)

    steps = BUDGETS["full"].sweep_steps
    large, small = context(60_000), context(digits.X_train.shape[0])
    assert large.linear_epochs_for(steps) == math.ceil(steps / math.ceil(60_000 / 512)) == 26
    assert LINEAR_RULE.epochs(60_000, 512) == 60
    assert small.linear_epochs_for(steps) == LINEAR_RULE.epochs(digits.X_train.shape[0], 512) == 300
    assert large.epochs_for(steps) == math.ceil(steps / math.ceil(60_000 / 128))  # the deep AE's and the VAE's
    assert large.linear_epochs_for(None) == large.epochs_for(None) == "auto"
    # the deep AE and the VAE likewise: on digits the VAE's own 2,000 steps are below the sweep's 3,000
    from latentspace.training.budget import DEFAULT_RULE, VAE_RULE
    n = digits.X_train.shape[0]
    assert small.sweep_epochs_for(steps) == {"ae": small.epochs_for(steps), "vae": VAE_RULE.epochs(n, 128)}
    assert VAE_RULE.epochs(n, 128) < small.epochs_for(steps) < DEFAULT_RULE.epochs(n, 128)
    assert large.sweep_epochs_for(steps) == {"ae": large.epochs_for(steps), "vae": large.epochs_for(steps)}
