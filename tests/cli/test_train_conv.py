"""``latentspace train --architecture conv``: the data set's image shape, or one given with --image-shape."""

import json

import numpy as np
from conftest import assert_one_line_error

from latentspace import load


def test_cli_trains_a_conv_model_with_the_data_sets_image_shape(tmp_path, digits, cli):
    out = tmp_path / "run"
    code, _, err = cli("train", "vae", "--architecture", "conv", "--channels", "8,16", "--hidden", "none",
                       "--n-components", 4, "--epochs", 2, "--out", out, "--quiet")
    assert code == 0, err
    config = json.loads((out / "config.json").read_text())
    assert config["image_shape"] == [8, 8] and config["params"]["image_shape"] == [8, 8]
    assert config["params"]["architecture"] == "conv" and config["params"]["channels"] == [8, 16]
    model = load(out)
    assert model.architecture == "conv" and model.image_shape_ == (1, 8, 8)
    assert model.reconstruct(digits.X_test).shape == digits.X_test.shape
    # encode takes images from a .npy too.
    np.save(tmp_path / "x.npy", digits.X_test[:5].reshape(5, 1, 8, 8))
    assert cli("encode", out, tmp_path / "x.npy", "--out", tmp_path / "z.npy")[0] == 0
    assert np.load(tmp_path / "z.npy").shape == (5, 4)


def test_cli_image_shape_flag(tmp_path, cli):
    code, _, err = cli("train", "ae", "--architecture", "conv", "--image-shape", "1,8,8", "--channels", 4,
                       "--epochs", 1, "--out", tmp_path / "r", "--quiet")
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "config.json").read_text())["params"]["image_shape"] == [1, 8, 8]
    bad = cli("train", "ae", "--architecture", "conv", "--image-shape", "7,9", "--epochs", 1,
              "--out", tmp_path / "bad", "--quiet")
    assert_one_line_error(bad, "holds 63 numbers but the data have 64 features")
