"""``latentspace pca-check``: the linear AE against PCA from the command line."""

import json

import pytest
from conftest import assert_one_line_error


def test_cli_prints_table_and_writes_json_and_figure(tmp_path, cli):
    out = tmp_path / "check"
    code, printed, err = cli("pca-check", "--data", "digits", "--n-components", 3, "--weight-decay", 0.1, "--out", out)
    assert code == 0, err
    assert "principal angles" in printed and "expected (Kunin et al.)" in printed
    result = json.loads((out / "pca_check.json").read_text())
    (c,) = result["comparisons"]
    assert c["n_components"] == 3 and c["weight_decay"] == 0.1 and c["max_principal_angle_deg"] < 1.0
    assert (out / "pca_check.png").stat().st_size > 10_000


def test_cli_epochs_applies_to_every_model(tmp_path, cli):
    out = tmp_path / "check"
    code, _, err = cli("pca-check", "--data", "digits", "--n-components", 2, "--epochs", 2, "--also", "ae,vae",
                       "--out", out)
    assert code == 0, err
    comparisons = json.loads((out / "pca_check.json").read_text())["comparisons"]
    assert [c["model"] for c in comparisons] == ["LinearAutoEncoder", "AutoEncoder", "VAE"]
    # two epochs each: the AE and the VAE are far from PCA's error, the linear AE too
    assert all(c["test_mse_ratio"] > 1.01 for c in comparisons)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "digits", "--n-components", "0"], "--n-components must be between 1 and 64 for digits, got 0"),
        (["--n-components", "2"], "the following arguments are required: --data"),
        (["--data", "digits", "--n-components", "2", "--also", "gan"], "--also: unknown model 'gan'"),
        (["--data", "digits", "--n-components", "2", "--weight-decay", "-1"], "--weight-decay must be >= 0"),
        (["--data", "nosuchset", "--n-components", "2"], "unknown data set 'nosuchset'"),
    ],
)
def test_cli_rejects_bad_options_before_fitting(args, message, tmp_path, cli):
    assert_one_line_error(cli("pca-check", *args, "--out", tmp_path / "o"), message)
    assert not (tmp_path / "o").exists()
