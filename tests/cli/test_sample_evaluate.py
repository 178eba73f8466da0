"""`latentspace sample` and `latentspace evaluate` on real run folders; bad input is one line, exit 2."""

import json

import numpy as np
import pytest
from conftest import assert_one_line_error, copy_run

from latentspace.cli import main


def test_train_vae_takes_the_new_parameters(vae_run):
    params = json.loads((vae_run / "config.json").read_text())["params"]
    assert params["binarize"] == "dynamic" and params["warmup_epochs"] == 3 and params["likelihood"] == "auto"


def test_sample_npy_is_reproducible_with_a_seed(vae_run, tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        out = str(tmp_path / f"{name}.npy")
        assert main(["sample", str(vae_run), "-n", "10", "--seed", str(seed), "--out", out]) == 0
    a, b, c = (np.load(tmp_path / f"{n}.npy") for n in "abc")
    assert a.shape == (10, 64)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sample_png_is_a_grid_of_the_runs_images(vae_run, tmp_path):
    import matplotlib.image as mpimg

    assert main(["sample", str(vae_run), "-n", "16", "--out", str(tmp_path / "grid.png")]) == 0
    image = mpimg.imread(tmp_path / "grid.png")
    # 4 x 4 digits of 8 x 8 pixels with 1-pixel gaps, each pixel enlarged 8x (64-pixel tiles) for legibility
    assert image.shape[:2] == (8 * (4 * 9 + 1), 8 * (4 * 9 + 1))


def test_sample_an_autoencoder_with_a_density_fitted_to_its_codes(ae_run, tmp_path, digits, cli):
    from latentspace import load

    code, out, err = cli("sample", ae_run, "-n", "12", "--seed", "3", "--out", tmp_path / "ae.npy")
    assert code == 0, err
    assert out.strip() == f"wrote {tmp_path / 'ae.npy'} (12 samples, sampler gmm)"
    expected = load(ae_run).sample(12, sampler="gmm", random_state=3)  # the mixture of the codes the model kept
    np.testing.assert_allclose(np.load(tmp_path / "ae.npy"), expected, atol=1e-6)
    assert main(["sample", str(ae_run), "--sampler", "box", "-n", "4", "--out", str(tmp_path / "box.npy")]) == 0
    box = np.load(tmp_path / "box.npy")
    assert box.shape == (4, 64) and not np.allclose(box, expected[:4])


def test_evaluate_prints_and_stores_the_vae_measurements(vae_run, tmp_path, cli, features):  # features: cached judge
    vae_run = copy_run(vae_run, tmp_path)
    code, out, err = cli("evaluate", vae_run, "--iw-samples", "50", "--binarize-test", "0", "--regularity-samples", "200")
    assert code == 0, err
    for name in ("neg_elbo", "iw_nll", "active_units", "heldout_mse_per_feature"):
        assert name in out
    stored = json.loads((vae_run / "evaluation.json").read_text())
    assert stored["iw_samples"] == 50 and stored["data"] == {"name": "digits", "binarize_test_seed": 0}
    assert stored["n_examples"] == 359  # digits' 20% test part
    # on the same binary test set the IW bound (k = 50) is tighter than the ELBO
    assert stored["iw_nll"] < stored["neg_elbo"]
    assert 0 <= stored["active_units"] <= 4
    # the regularity family merges in: prior samples, interpolation, the ELBO-surgery split of the KL
    assert {"sample_prior_frechet", "interp_midpoint_precision", "vae_mutual_information"} <= set(stored)
    assert 0 <= stored["sample_prior_precision"] <= 1


def test_evaluate_an_autoencoder_reports_reconstruction_only(ae_run, tmp_path, features):
    ae_run = copy_run(ae_run, tmp_path)
    assert main(["evaluate", str(ae_run), "--max-examples", "50"]) == 0
    stored = json.loads((ae_run / "evaluation.json").read_text())
    assert stored["n_examples"] == 50 and "heldout_mse_per_feature" in stored and "iw_nll" not in stored
    # an AE has no prior: its samplers are fitted to its codes
    assert "sample_gaussian_frechet" in stored and "sample_prior_frechet" not in stored


def test_evaluate_can_skip_the_regularity_metrics(ae_run, tmp_path):
    ae_run = copy_run(ae_run, tmp_path)
    assert main(["evaluate", str(ae_run), "--max-examples", "50", "--regularity-samples", "0"]) == 0
    stored = json.loads((ae_run / "evaluation.json").read_text())
    assert "heldout_mse_per_feature" in stored and not any(k.startswith("sample_") for k in stored)


@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "{vae}", "--out", "x.txt"], "output must end in .npy or .png"),
        (["sample", "{vae}", "-n", "0", "--out", "x.npy"], "-n must be >= 1"),
        (["sample", "{ae}", "--sampler", "prior", "--out", "x.npy"], "an AutoEncoder has no prior to sample from; draw its codes from a density fitted to its training codes: "
         "--sampler gaussian, box, gmm or two-stage (without --sampler: gmm)"),
        (["sample", "nowhere", "--out", "x.npy"], "nowhere: no such checkpoint folder"),
        (["evaluate", "nowhere"], "nowhere: not a run folder"),
        (["evaluate", "{vae}", "--iw-samples", "-1"], "--iw-samples must be >= 0"),
        (["evaluate", "{vae}", "--data", "nosuchset"], "unknown data set 'nosuchset'"),
        (["evaluate", "{vae}", "--iw-samples", "lots"], "invalid int value"),
        (["train", "vae", "--binarize", "sometimes", "--epochs", "1"], "invalid choice: 'sometimes'"),
    ],
)
def test_bad_input_is_one_line_with_status_2(args, message, vae_run, ae_run, tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(cli(*[a.format(vae=vae_run, ae=ae_run) for a in args]), message)


def test_sample_png_needs_an_image_shape(tmp_path, digits, capsys):
    np.save(tmp_path / "d.npy", digits.X_train[:200])
    assert main(["train", "vae", "--data", str(tmp_path / "d.npy"), "--epochs", "1", "--n-components", "2",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert main(["sample", str(tmp_path / "run"), "--out", str(tmp_path / "s.png")]) == 2
    assert "no image shape; write .npy instead" in capsys.readouterr().err
    assert main(["sample", str(tmp_path / "run"), "--out", str(tmp_path / "s.npy")]) == 0

