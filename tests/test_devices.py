"""device="auto" by default; load(path, device=...); a GPU-saved checkpoint loads on the CPU."""

import json

import numpy as np
import pytest
import torch

from latentspace import AutoEncoder, CheckpointError, LatentspaceError, load
from latentspace.nn.devices import resolve_device

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


def test_auto_is_the_default_and_resolves_to_this_machine(small_digits):
    X, _ = small_digits
    ae = AutoEncoder(2, epochs=1, random_state=0)
    assert ae.device == "auto"
    ae.fit(X)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert ae.device_.type == expected and next(ae.model_.parameters()).device.type == expected


def test_unknown_device_is_one_line():
    with pytest.raises(LatentspaceError, match="unknown device 'gpu0'; use 'auto', 'cpu', 'cuda' or 'cuda:N'"):
        resolve_device("gpu0")


@no_cuda
def test_missing_cuda_is_one_line(small_digits):
    X, _ = small_digits
    with pytest.raises(LatentspaceError, match=r"^device must be auto or a torch device .* got 'cuda' \(this machine has no CUDA GPU"):
        AutoEncoder(2, device="cuda", epochs=1).fit(X)


@pytest.fixture
def cuda_checkpoint(small_digits, tmp_path):
    """A checkpoint whose config says it was trained on CUDA (rewritten: weights are device-free)."""
    X, _ = small_digits
    ae = AutoEncoder(2, epochs=2, device="cpu", random_state=0).fit(X)
    ae.save(tmp_path / "m")
    path = tmp_path / "m" / "config.json"
    config = json.loads(path.read_text())
    config["params"]["device"] = "cuda"
    path.write_text(json.dumps(config))
    return ae, tmp_path / "m"


@no_cuda
def test_gpu_saved_checkpoint_loads_on_the_cpu(cuda_checkpoint, small_digits):
    ae, path = cuda_checkpoint
    _, X_test = small_digits
    with pytest.warns(UserWarning, match="saved for device 'cuda', which is not available here"):
        back = load(path)
    assert back.device == "cpu" and back.device_.type == "cpu"
    np.testing.assert_array_equal(back.transform(X_test), ae.transform(X_test))
    explicit = load(path, device="cpu")
    np.testing.assert_array_equal(explicit.transform(X_test), ae.transform(X_test))
    with pytest.raises(CheckpointError, match=r"cannot load on device 'cuda' is not available here"):
        load(path, device="cuda")


@no_cuda
def test_cli_encodes_with_a_gpu_saved_model(cuda_checkpoint, small_digits, tmp_path, cli):
    ae, path = cuda_checkpoint
    _, X_test = small_digits
    np.save(tmp_path / "x.npy", X_test)
    code, _, err = cli("encode", path, tmp_path / "x.npy", "--out", tmp_path / "z.npy")
    assert code == 0, err
    np.testing.assert_array_equal(np.load(tmp_path / "z.npy"), ae.transform(X_test))
