"""``latentspace sweep`` and ``latentspace memorize``: tables and pictures written to a folder."""

import json

from conftest import assert_one_line_error


def test_cli_sweep_and_memorize_write_tables(tmp_path, cli, features):  # features: the cached judge
    code, _, err = cli("sweep", "--ks", "1,2", "--models", "pca,linear", "--epochs", 2, "--n-samples", 50,
                       "--out", tmp_path / "sweep", "--quiet")
    assert code == 0, err
    table = json.loads((tmp_path / "sweep" / "sweep.json").read_text())
    assert len(table["rows"]) == 4
    assert [r["epochs"] for r in table["rows"]] == [None, 2, None, 2]  # --epochs reaches the linear AE too
    assert (tmp_path / "sweep" / "sweep.csv").read_text().startswith("model,k,heldout_mse_per_feature")
    code, _, err = cli("memorize", "--n-train", 8, "--hidden", 32, "--epochs", 20, "--no-vae", "--out", tmp_path / "mem")
    assert code == 0, err
    assert {"memorize.csv", "memorize.json", "strip.npz", "strip.png"} <= {p.name for p in (tmp_path / "mem").iterdir()}


def test_cli_sweep_rejects_a_latent_size_larger_than_the_data(tmp_path, cli):
    assert_one_line_error(cli("sweep", "--ks", 100, "--out", tmp_path / "bad"), "every k must be in 1..64, got [100]")
