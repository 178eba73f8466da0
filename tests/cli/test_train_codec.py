"""``latentspace train``, ``encode``, ``decode``, ``reconstruct``, ``demo`` and ``--help``: real files in,
real files out."""

import json

import numpy as np
import pytest
from conftest import assert_one_line_error


def test_train_writes_a_complete_run_folder(ae_run):
    assert {"config.json", "history.csv", "metrics.json", "model"} <= {p.name for p in ae_run.iterdir()}
    config = json.loads((ae_run / "config.json").read_text())
    assert config["params"]["n_components"] == 2 and config["params"]["hidden"] == [32] and config["data"] == "digits"
    lines = (ae_run / "history.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,train_loss,train_recon") and len(lines) == 4  # a header and 3 epochs
    metrics = json.loads((ae_run / "metrics.json").read_text())
    assert 0 < metrics["heldout_mse_per_feature"] < 1


def test_encode_decode_reconstruct_round_trip(ae_run, tmp_path, digits, cli):
    np.save(tmp_path / "x.npy", digits.X_test[:10])
    assert cli("encode", ae_run, tmp_path / "x.npy", "--out", tmp_path / "z.npy")[0] == 0
    assert cli("decode", ae_run, tmp_path / "z.npy", "--out", tmp_path / "xd.npy")[0] == 0
    assert cli("reconstruct", ae_run, tmp_path / "x.npy", "--out", tmp_path / "xr.npy")[0] == 0
    assert np.load(tmp_path / "z.npy").shape == (10, 2)
    np.testing.assert_allclose(np.load(tmp_path / "xd.npy"), np.load(tmp_path / "xr.npy"), atol=1e-6)


def test_train_vae_from_csv(tmp_path, digits, cli):
    np.savetxt(tmp_path / "d.csv", digits.X_train[:200], delimiter=",")
    code, _, err = cli("train", "--model", "vae", "--data", tmp_path / "d.csv", "--epochs", 2,
                       "--n-components", 2, "--out", tmp_path / "v", "--quiet")
    assert code == 0, err
    assert json.loads((tmp_path / "v" / "config.json").read_text())["estimator"] == "VAE"


def test_nan_in_data_file_is_reported_and_nothing_is_written(tmp_path, cli):
    X = np.random.default_rng(0).random((20, 4))
    X[3, 1] = np.nan
    np.save(tmp_path / "nan.npy", X)
    code, _, err = cli("train", "--data", tmp_path / "nan.npy", "--out", tmp_path / "r")
    assert code == 2 and "1 NaN or infinite values, the first at index (3, 1)" in err
    assert not (tmp_path / "r" / "model").exists()


def test_existing_model_is_not_overwritten(ae_run, tmp_path, cli):
    before = (ae_run / "model" / "weights.safetensors").read_bytes()
    code, _, err = cli("train", "--epochs", 1, "--out", ae_run)
    assert code == 2 and "already holds a trained model" in err
    assert (ae_run / "model" / "weights.safetensors").read_bytes() == before


def test_help_lists_every_command(cli):
    code, out, _ = cli("--help")
    assert code == 0
    for command in ("demo", "train", "encode", "decode", "reconstruct", "sample", "evaluate", "report", "explore", "datasets",
                    "pca-check", "memorize", "sweep"):
        assert command in out


def test_demo_quick_prints_its_tables_and_writes_the_run_folder(quick_demo):
    assert "deep AE" in quick_demo.printed and "PCA(2)" in quick_demo.printed
    assert f"report: {quick_demo.report_path}" in quick_demo.printed
    assert {"metrics.json", "config.json", "summary.txt", "report.html", "models"} <= {p.name for p in quick_demo.out.iterdir()}


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--data", "nosuchset"], "unknown data set 'nosuchset'"),
        (["train", "--beta", "2"], "--beta does not apply to model 'ae'"),
        (["train", "--epochs", "many"], "invalid int value"),
        (["train", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["encode", "nowhere", "x.npy", "--out", "z.npy"], "nowhere: no such checkpoint folder"),
        (["train", "--data", "missing.npy"], "missing.npy: file not found"),
        (["encode", "{ae}", "ten_features.npy", "--out", "z.npy"], "X has 10 features"),
    ],
)
def test_errors_are_one_line_with_status_2(args, message, ae_run, tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "ten_features.npy", np.zeros((3, 10)))
    assert_one_line_error(cli(*[a.format(ae=ae_run) for a in args]), message)
