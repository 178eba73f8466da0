"""The command-line program, run as a user would: real files, exit codes, one-line errors."""

import json

import numpy as np
import pytest
from conftest import run_cli

from latentspace.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "ae"
    assert main(["train", "ae", "--n-components", "3", "--epochs", "3", "--out", str(out), "--quiet"]) == 0
    return out


def test_train_writes_a_complete_run_folder(run_dir):
    assert {"config.json", "history.csv", "metrics.json", "model"} <= {p.name for p in run_dir.iterdir()}
    config = json.loads((run_dir / "config.json").read_text())
    assert config["params"]["n_components"] == 3 and config["data"] == "digits"
    lines = (run_dir / "history.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,train_loss,train_recon") and len(lines) == 4
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0 < metrics["test_mse_per_feature"] < 1


def test_encode_decode_reconstruct_round_trip(run_dir, tmp_path, digits):
    np.save(tmp_path / "x.npy", digits.X_test[:10])
    assert main(["encode", str(run_dir), str(tmp_path / "x.npy"), "--out", str(tmp_path / "z.npy")]) == 0
    assert main(["decode", str(run_dir), str(tmp_path / "z.npy"), "--out", str(tmp_path / "xd.npy")]) == 0
    assert main(["reconstruct", str(run_dir), str(tmp_path / "x.npy"), "--out", str(tmp_path / "xr.npy")]) == 0
    assert np.load(tmp_path / "z.npy").shape == (10, 3)
    np.testing.assert_allclose(np.load(tmp_path / "xd.npy"), np.load(tmp_path / "xr.npy"), atol=1e-6)


def test_train_vae_from_csv(tmp_path, digits):
    np.savetxt(tmp_path / "d.csv", digits.X_train[:200], delimiter=",")
    code = main(["train", "--model", "vae", "--data", str(tmp_path / "d.csv"), "--epochs", "2",
                 "--n-components", "2", "--out", str(tmp_path / "v"), "--quiet"])
    assert code == 0
    assert json.loads((tmp_path / "v" / "config.json").read_text())["estimator"] == "VAE"


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--data", "nosuchset"], "unknown data set 'nosuchset'"),
        (["train", "--beta", "2"], "--beta does not apply to model 'ae'"),
        (["train", "--epochs", "many"], "invalid int value"),
        (["train", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["encode", "nowhere", "x.npy", "--out", "z.npy"], "nowhere: no such checkpoint folder"),
        (["train", "--data", "missing.npy"], "missing.npy: file not found"),
    ],
)
def test_errors_are_one_line_with_status_2(args, message, tmp_path):
    code, out, err = run_cli(*args, cwd=tmp_path)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_nan_in_data_file_is_reported(tmp_path):
    X = np.random.default_rng(0).random((20, 4))
    X[3, 1] = np.nan
    np.save(tmp_path / "nan.npy", X)
    code, _, err = run_cli("train", "--data", tmp_path / "nan.npy", "--out", tmp_path / "r", cwd=tmp_path)
    assert code == 2 and "1 NaN or infinite values, the first at index (3, 1)" in err
    assert not (tmp_path / "r" / "model").exists()


def test_existing_model_is_not_overwritten(run_dir):
    before = (run_dir / "model" / "weights.safetensors").read_bytes()
    code, _, err = run_cli("train", "--epochs", "1", "--out", run_dir)
    assert code == 2 and "already holds a trained model" in err
    assert (run_dir / "model" / "weights.safetensors").read_bytes() == before


def test_wrong_feature_count_for_encode(run_dir, tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((3, 10)))
    code, _, err = run_cli("encode", run_dir, tmp_path / "bad.npy", "--out", tmp_path / "z.npy")
    assert code == 2 and "X has 10 features" in err


def test_help_lists_every_command():
    code, out, _ = run_cli("--help")
    assert code == 0
    for command in ("demo", "train", "encode", "decode", "reconstruct", "sample", "evaluate", "report", "datasets"):
        assert command in out


def test_demo_quick(tmp_path):
    code, out, err = run_cli("demo", "--quick", "--out", tmp_path / "demo")
    assert code == 0, err
    assert "deep AE" in out and "PCA(2)" in out
    assert (tmp_path / "demo" / "metrics.json").is_file()
