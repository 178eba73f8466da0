"""ONNX export: the exported encoder and decoder, run by onnxruntime on raw rows, give what the
estimator gives (max abs error <= 1e-5), for the MLP, conv and user-module models, with any batch size."""

import numpy as np
import pytest
import torch
from torch import nn

from latentspace import VAE, AutoEncoder, LinearAutoEncoder

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: pip install 'latentspace[onnx]'")
pytest.importorskip("onnx", reason="onnx is not installed: pip install 'latentspace[onnx]'")

TOLERANCE = 1e-5


class SmallConvEncoder(nn.Module):
    """(batch, 64) 8x8 digits -> (batch, 2 * k): reshapes the flat rows itself (README's example)."""

    def __init__(self, k: int = 3):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten())
        self.head = nn.Linear(8 * 8 * 8, 2 * k)

    def forward(self, x):
        return self.head(self.conv(x.view(-1, 1, 8, 8)))


def models():
    torch.manual_seed(0)
    return {
        "mlp ae, standard scaling": AutoEncoder(3, hidden=(32,), epochs=2, scaling="standard", random_state=0),
        "linear ae": LinearAutoEncoder(4, epochs=2, random_state=0),
        "conv vae, bernoulli": VAE(3, architecture="conv", image_shape=(1, 8, 8), channels=(4, 8), hidden=(16,),
                                   likelihood="bernoulli", epochs=2, random_state=0),
        "custom-module vae, calibrated gaussian": VAE(3, encoder=SmallConvEncoder(3), hidden=(16,),
                                                      likelihood="gaussian_calibrated", epochs=2, random_state=0),
    }


@pytest.mark.parametrize("name", list(models()))
def test_onnx_graphs_match_the_estimator(name, digits, tmp_path):
    estimator = models()[name].fit(digits.X_train)
    paths = estimator.to_onnx(tmp_path / "onnx")
    encoder = ort.InferenceSession(str(paths["encoder"]))
    decoder = ort.InferenceSession(str(paths["decoder"]))
    for rows in (1, 7, 300):  # the batch axis is dynamic; the graphs were traced with 2 rows
        X = digits.X_test[:rows].astype(np.float32)
        outputs = encoder.run(None, {"x": X})
        z = outputs[0]
        assert np.abs(z - estimator.transform(X)).max() <= TOLERANCE
        x = decoder.run(None, {"z": z})[0]
        assert x.shape == (rows, 64)
        assert np.abs(x - estimator.inverse_transform(z)).max() <= TOLERANCE
    if isinstance(estimator, VAE):
        mean, var = estimator.posterior(X)
        assert np.abs(outputs[1] - np.log(var)).max() <= TOLERANCE


def test_onnx_export_needs_a_fitted_model(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        AutoEncoder().to_onnx(tmp_path)


def test_export_command_writes_graphs_that_encode_like_the_run(cli, vae_run, digits, tmp_path):
    from latentspace import load

    code, out, err = cli("export", vae_run, "--format", "onnx", "--out", tmp_path / "onnx")
    assert code == 0, err
    assert "encoder.onnx" in out and "decoder.onnx" in out
    X = digits.X_test[:50].astype(np.float32)
    z = ort.InferenceSession(str(tmp_path / "onnx" / "encoder.onnx")).run(None, {"x": X})[0]
    assert np.abs(z - load(vae_run).transform(X)).max() <= TOLERANCE


def test_export_command_refuses_an_unknown_format(cli, vae_run):
    from conftest import assert_one_line_error

    assert_one_line_error(cli("export", vae_run, "--format", "tflite"), "invalid choice")


def test_a_conditional_vaes_decoder_reads_the_code_and_the_class_one_hot(digits, tmp_path):
    from latentspace import ConditionalVAE

    model = ConditionalVAE(3, hidden=(32,), epochs=2, scaling="standard", random_state=0).fit(
        digits.X_train, digits.y_train)
    paths = model.to_onnx(tmp_path)
    X = digits.X_test[:20].astype(np.float32)
    z = ort.InferenceSession(str(paths["encoder"])).run(None, {"x": X})[0]
    np.testing.assert_allclose(z, model.transform(X), atol=TOLERANCE)  # the encoder reads the rows alone
    classes = digits.y_test[:20]
    onehot = np.eye(len(model.classes_), dtype=np.float32)[np.searchsorted(model.classes_, classes)]
    x = ort.InferenceSession(str(paths["decoder"])).run(None, {"z": np.hstack([z, onehot])})[0]
    np.testing.assert_allclose(x, model.inverse_transform(z, y=classes), atol=TOLERANCE)
