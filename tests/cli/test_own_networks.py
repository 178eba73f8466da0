"""Models with the user's own networks in the command line, the report and the explorer: opened with
--allow-import (refused by default, one line), and the explorer names the layers it cannot draw."""

import numpy as np
import pytest
import torch
from conftest import assert_one_line_error, built_once
from own_networks import ResidualDecoder, TinyEncoder

from latentspace import AutoEncoder, load
from latentspace.workflows.train import train_run


def own_run(tmp_path_factory, name: str, **modules):
    def build(folder):
        torch.manual_seed(0)
        train_run(AutoEncoder(2, hidden=(16,), epochs=2, random_state=0, **modules), "digits", folder / "run")

    return built_once(tmp_path_factory, name, build) / "run"


@pytest.fixture(scope="module")
def encoder_run(tmp_path_factory):
    """A run whose encoder is the user's conv net; its decoder is built (the page can draw it)."""
    return own_run(tmp_path_factory, "own-encoder-run", encoder=TinyEncoder())


@pytest.fixture(scope="module")
def decoder_run(tmp_path_factory):
    """A run whose decoder is the user's residual net (the page cannot draw it)."""
    return own_run(tmp_path_factory, "own-decoder-run", decoder=ResidualDecoder())


def test_cli_refuses_own_networks_without_allow_import(cli, encoder_run, digits, tmp_path):
    np.save(tmp_path / "X.npy", digits.X_test[:20])
    assert_one_line_error(cli("encode", encoder_run, tmp_path / "X.npy", "--out", tmp_path / "Z.npy"),
                          "--allow-import")
    assert not (tmp_path / "Z.npy").exists()


def test_cli_opens_own_networks_with_allow_import(cli, encoder_run, digits, tmp_path):
    np.save(tmp_path / "X.npy", digits.X_test[:20])
    code, _, err = cli("encode", encoder_run, tmp_path / "X.npy", "--out", tmp_path / "Z.npy", "--allow-import")
    assert code == 0, err
    expected = load(encoder_run, allow_import=True).transform(digits.X_test[:20])
    np.testing.assert_array_equal(np.load(tmp_path / "Z.npy"), expected)


def test_explorer_draws_a_built_decoder_behind_an_own_encoder(cli, encoder_run, tmp_path):
    code, out, err = cli("explore", encoder_run, "--out", tmp_path / "e.html", "--allow-import", "--points", 50)
    assert code == 0, err
    assert "Not in the explorer" not in (tmp_path / "e.html").read_text()


def test_explorer_names_the_layers_it_cannot_draw(cli, decoder_run, ae_run, tmp_path):
    assert_one_line_error(cli("explore", decoder_run, "--out", tmp_path / "e.html", "--allow-import"),
                          "cannot draw run: decoder (ResidualDecoder)")
    code, _, err = cli("explore", decoder_run, ae_run, "--out", tmp_path / "both.html", "--allow-import",
                       "--points", 50)
    assert code == 0, err
    page = (tmp_path / "both.html").read_text()
    assert "Not in the explorer: " in page and "decoder (ResidualDecoder)" in page


def test_report_opens_own_networks_and_notes_the_explorer(cli, decoder_run, tmp_path):
    assert_one_line_error(cli("report", decoder_run, "--out", tmp_path / "r.html"), "--allow-import")
    code, _, err = cli("report", decoder_run, "--out", tmp_path / "r.html", "--allow-import", "--examples", 3)
    assert code == 0, err
    page = (tmp_path / "r.html").read_text()
    assert "No explorer: it cannot draw" in page and "Reconstructions" in page


@pytest.mark.parametrize("keep_checkpoint", [True, False], ids=["from-its-checkpoint", "from-its-model"])
def test_train_resume_rebuilds_own_networks_with_allow_import(cli, tmp_path, keep_checkpoint):
    """``train --resume`` of a run with the user's own encoder: refused in one line naming --allow-import,
    continued with it (from the kept training checkpoint, or from the saved model)."""
    torch.manual_seed(0)
    run = tmp_path / "run"
    train_run(AutoEncoder(2, hidden=(16,), epochs=2, random_state=0, encoder=TinyEncoder()), "digits", run,
              keep_checkpoint=keep_checkpoint)
    assert_one_line_error(cli("train", "--resume", run, "--epochs", 3, "--quiet"), "--allow-import")
    code, _, err = cli("train", "--resume", run, "--epochs", 3, "--quiet", "--allow-import")
    assert code == 0, err
    resumed = load(run, allow_import=True)
    assert isinstance(resumed.model_.encoder, TinyEncoder)
    assert [r["epoch"] for r in resumed.history_] == [1, 2, 3]
    assert_one_line_error(cli("train", "ae", "--allow-import", "--out", tmp_path / "new"), "give it with --resume RUN")
