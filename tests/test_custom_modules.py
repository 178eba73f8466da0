"""encoder= / decoder=: your own torch modules train, save (safetensors + import path), and load."""

import json

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

from latentspace import VAE, AutoEncoder, CheckpointError, LatentspaceError, load
from latentspace.estimators._modules import import_path


class SmallEncoder(nn.Module):
    """(batch, 64) digits rows -> (batch, out) through one hidden layer with a Tanh."""

    def __init__(self, out: int = 2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, out))

    def forward(self, x):
        return self.net(x)


class SmallDecoder(nn.Module):
    def __init__(self, k: int = 2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(k, 32), nn.Tanh(), nn.Linear(32, 64))

    def forward(self, z):
        return self.net(z)


def test_custom_modules_train_and_leave_the_passed_ones_untouched(small_digits):
    X, X_test = small_digits
    torch.manual_seed(0)
    encoder, decoder = SmallEncoder(), SmallDecoder()
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    ae = AutoEncoder(2, encoder=encoder, decoder=decoder, epochs=30, random_state=0).fit(X)
    curve = [r["train_loss"] for r in ae.history_]
    assert curve[-1] < 0.6 * curve[0]
    assert isinstance(ae.model_.encoder, SmallEncoder) and ae.model_.encoder is not encoder
    assert all(torch.equal(before[k], v) for k, v in encoder.state_dict().items())
    assert ae.transform(X_test).shape == (len(X_test), 2)
    # a clone holds a copy of the module, and refits to the same weights
    again = clone(ae).fit(X)
    np.testing.assert_allclose(again.transform(X_test), ae.transform(X_test), atol=1e-5)


def test_one_custom_part_with_a_built_one(small_digits):
    X, _ = small_digits
    vae = VAE(2, encoder=SmallEncoder(out=4), hidden=(32,), likelihood="bernoulli", epochs=3, random_state=0).fit(X)
    assert isinstance(vae.model_.encoder, SmallEncoder)
    assert isinstance(vae.model_.decoder, nn.Sequential)


def test_shape_contract_names_expected_and_actual(small_digits):
    X, _ = small_digits
    with pytest.raises(LatentspaceError, match=r"encoder returned shape \(2, 2\) for input \(2, 64\); expected \(2, 4\)"):
        VAE(2, encoder=SmallEncoder(out=2), epochs=1).fit(X)  # a VAE's encoder returns mean and log-variance
    with pytest.raises(LatentspaceError, match=r"decoder returned shape \(2, 32\) for input \(2, 2\); expected \(2, 64\)"):
        AutoEncoder(2, decoder=nn.Linear(2, 32), epochs=1).fit(X)
    with pytest.raises(LatentspaceError, match=r"encoder failed on a batch of shape \(2, 64\): .*mat1 and mat2"):
        AutoEncoder(2, encoder=nn.Linear(10, 2), epochs=1).fit(X)
    with pytest.raises(LatentspaceError, match=r"encoder must be a torch.nn.Module or None, got 'mine' \(str\)"):
        AutoEncoder(2, encoder="mine", epochs=1).fit(X)


def test_round_trip_through_save_and_load(small_digits, tmp_path):
    X, X_test = small_digits
    ae = AutoEncoder(2, encoder=SmallEncoder(), decoder=SmallDecoder(), epochs=5, random_state=0).fit(X)
    ae.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["params"]["encoder"] == {"module": import_path(SmallEncoder)}
    assert config["params"]["decoder"] == {"module": f"{__name__}:SmallDecoder"}
    # the caller's instances (or classes) of the recorded classes rebuild the model
    for given in ({"encoder": SmallEncoder(), "decoder": SmallDecoder()}, {"encoder": SmallEncoder, "decoder": SmallDecoder}):
        back = load(tmp_path / "m", **given)
        np.testing.assert_array_equal(back.transform(X_test), ae.transform(X_test))
        np.testing.assert_array_equal(back.reconstruct(X_test), ae.reconstruct(X_test))
    # or the recorded import path, only when allowed
    with pytest.raises(CheckpointError, match="has a custom encoder .*SmallEncoder.*allow_import=True"):
        load(tmp_path / "m")
    np.testing.assert_array_equal(load(tmp_path / "m", allow_import=True).transform(X_test), ae.transform(X_test))
    with pytest.raises(CheckpointError, match="encoder was saved as .*SmallEncoder, not .*SmallDecoder"):
        load(tmp_path / "m", encoder=SmallDecoder(), decoder=SmallDecoder())


def test_recorded_class_that_cannot_be_imported(small_digits, tmp_path):
    X, _ = small_digits
    AutoEncoder(2, encoder=SmallEncoder(), epochs=1, random_state=0).fit(X).save(tmp_path / "m")
    path = tmp_path / "m" / "config.json"
    config = json.loads(path.read_text())
    config["params"]["encoder"] = {"module": "no_such_package.nets:Encoder"}
    path.write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="cannot import the encoder class no_such_package.nets:Encoder"):
        load(tmp_path / "m", allow_import=True)
