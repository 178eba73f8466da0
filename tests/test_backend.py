"""latentspace.nn.backend: the oneDNN Linear must compute what nn.Linear computes, and fall back cleanly."""

import numpy as np
import pytest
import torch
from torch import nn

from latentspace import VAE
from latentspace.nn import backend
from latentspace.nn.backend import Linear, set_linear_backend
from latentspace.nn.mlp import mlp

needs_onednn = pytest.mark.skipif(not backend.onednn_available(), reason="this torch build has no oneDNN")


@pytest.fixture
def aten_then_restore():
    previous = backend.get_linear_backend()
    yield
    set_linear_backend(previous)


def grads_of(layer: nn.Module, x: torch.Tensor, name: str):
    """Output and gradients of a non-trivial loss, computed with linear backend ``name``."""
    previous = set_linear_backend(name)
    try:
        x = x.detach().clone().requires_grad_(True)
        layer.zero_grad(set_to_none=True)
        y = layer(x)
        (y.square().sum() + (y * torch.linspace(-1, 1, y.shape[-1])).sum()).backward()
        return y.detach(), x.grad, layer.weight.grad, layer.bias.grad
    finally:
        set_linear_backend(previous)


@needs_onednn
@pytest.mark.parametrize("shape", [(128, 784), (7, 784), (3, 5, 784), (1, 784)])
def test_onednn_linear_matches_nn_linear_forward_and_backward(shape):
    torch.manual_seed(0)
    layer = Linear(784, 96)
    x = torch.rand(*shape)
    fast, ref = grads_of(layer, x, "onednn"), grads_of(layer, x, "aten")
    for a, b in zip(fast, ref):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


@needs_onednn
def test_onednn_linear_handles_strided_inputs():
    layer = Linear(12, 5)
    x = torch.rand(12, 9).t()  # column-major (9, 12)
    cols = torch.rand(9, 24)[:, ::2]  # every other column: neither row- nor column-major
    for inp in (x, cols):
        torch.testing.assert_close(grads_of(layer, inp, "onednn")[0], grads_of(layer, inp, "aten")[0])


@needs_onednn
def test_layers_use_onednn_on_cpu_float32_only():
    layer = Linear(4, 3)
    assert type(layer(torch.rand(2, 4, requires_grad=True)).grad_fn).__name__ == "_OneDnnLinearBackward"
    assert backend.uses_onednn(torch.rand(2, 4), layer.weight)
    assert not backend.uses_onednn(torch.rand(2, 4, dtype=torch.float64), layer.weight.double())
    layer64 = Linear(4, 3).double()  # falls back to F.linear: float64 gives float64 results
    assert layer64(torch.rand(2, 4, dtype=torch.float64)).dtype == torch.float64


def test_aten_backend_uses_plain_linear(aten_then_restore):
    set_linear_backend("aten")
    layer = Linear(4, 3)
    assert not backend.uses_onednn(torch.rand(2, 4), layer.weight)
    assert type(layer(torch.rand(2, 4, requires_grad=True)).grad_fn).__name__ == "AddmmBackward0"


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown linear backend 'blas'"):
        set_linear_backend("blas")


def test_mlp_layers_are_nn_linear_with_unchanged_state_dict_keys():
    net = mlp((6, 4, 2), "relu")
    assert all(isinstance(m, nn.Linear) for m in net if not isinstance(m, nn.ReLU))
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_linear_under_inference_mode_builds_no_graph():
    layer = Linear(5, 3)
    with torch.inference_mode():
        y = layer(torch.rand(4, 5))
    assert y.grad_fn is None and y.shape == (4, 3)


@needs_onednn
def test_vae_trained_with_either_backend_reaches_the_same_loss(small_digits, aten_then_restore):
    """Same seed, same data: the kernels change rounding only, so the fitted ELBOs agree closely."""
    X_train, X_test = small_digits
    scores = {}
    for name in ("onednn", "aten"):
        set_linear_backend(name)
        vae = VAE(n_components=4, hidden=(64, 32), epochs=5, validation_fraction=0.0, random_state=0).fit(X_train)
        scores[name] = float(np.mean(vae.score_samples(X_test)))
    assert abs(scores["onednn"] - scores["aten"]) < 0.05 * abs(scores["aten"])
