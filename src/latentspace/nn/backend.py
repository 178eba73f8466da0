"""Which matrix-multiply kernels the dense layers use, chosen for the machine they run on.

PyTorch's CPU build sends ``nn.Linear`` to MKL's sgemm. On CPUs MKL does not tune for (AMD EPYC with
AVX-512, say) that runs at about half of what oneDNN's JIT kernels reach for the small, batch-128
shapes of these networks. :class:`Linear` is an ``nn.Linear`` (same parameters, same state-dict
keys, same checkpoints) whose forward and both backward products go through oneDNN's linear
primitive when that is available and helps: float32 tensors on the CPU. Everything else (CUDA, other
dtypes, builds without oneDNN) takes the ordinary ``F.linear`` path, so results never depend on it.

Choose with :func:`set_linear_backend` or the environment variable ``LATENTSPACE_LINEAR``:
``"auto"`` (default: oneDNN where it applies), ``"onednn"`` (the same, spelled out) or ``"aten"``
(always ``F.linear``, PyTorch's default kernels).
"""

from __future__ import annotations

import os

import torch
from torch import nn
from torch.nn import functional as F

BACKENDS = ("auto", "onednn", "aten")
_backend = os.environ.get("LATENTSPACE_LINEAR", "auto")


def set_linear_backend(name: str) -> str:
    """Set the kernels :class:`Linear` uses on the CPU; returns the previous setting."""
    global _backend
    if name not in BACKENDS:
        raise ValueError(f"unknown linear backend {name!r}; choose one of {', '.join(BACKENDS)}")
    previous, _backend = _backend, name
    return previous


def get_linear_backend() -> str:
    return _backend


def _find_onednn_linear():
    """The oneDNN linear op of this torch build, or None (no oneDNN, or an op that misbehaves)."""
    if not torch.backends.mkldnn.is_available():
        return None
    op = getattr(getattr(torch.ops, "mkldnn", None), "_linear_pointwise", None)
    if op is None:
        return None
    try:
        # The shapes and strides of a forward product and the two backward ones (transposed views).
        x, w, g = torch.randn(5, 3), torch.randn(4, 3), torch.randn(5, 4)
        b = torch.randn(4)
        ok = torch.allclose(op(x, w, b, "none", [], ""), F.linear(x, w, b), atol=1e-5)
        ok = ok and torch.allclose(op(g, w.t(), None, "none", [], ""), g @ w, atol=1e-5)
        ok = ok and torch.allclose(op(g.t(), x.t(), None, "none", [], ""), g.t() @ x, atol=1e-5)
    except (RuntimeError, TypeError, NotImplementedError):
        return None
    return op if ok else None


_ONEDNN_LINEAR = _find_onednn_linear()


def onednn_available() -> bool:
    """True when this torch build has a working oneDNN linear op."""
    return _ONEDNN_LINEAR is not None


def _dnn(a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``a @ b.T (+ bias)`` through oneDNN; ``a`` ``(m, k)``, ``b`` ``(n, k)``, either may be strided."""
    return _ONEDNN_LINEAR(_plain(a), _plain(b), bias, "none", [], "")


def _plain(t: torch.Tensor) -> torch.Tensor:
    """``t`` itself when row- or column-major (oneDNN reads both), else a contiguous copy."""
    return t if t.is_contiguous() or t.t().is_contiguous() else t.contiguous()


class _OneDnnLinear(torch.autograd.Function):
    """y = x W^T + b with the forward and both backward products as oneDNN linear primitives."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return _dnn(x, weight, bias)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = _dnn(grad, weight.t())  # (n, out) @ (out, in)
        if ctx.needs_input_grad[1]:
            grad_w = _dnn(grad.t(), x.t())  # (out, n) @ (n, in)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad.sum(0)
        return grad_x, grad_w, grad_b


def uses_onednn(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether :class:`Linear` sends this input through oneDNN."""
    return (
        _backend != "aten"
        and _ONEDNN_LINEAR is not None
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and weight.dtype == torch.float32
        and x.dim() == 2
        and not x.is_sparse
    )


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``F.linear`` with the fastest kernels for this machine; ``(n, in) -> (n, out)``."""
    if not uses_onednn(x, weight):
        return F.linear(x, weight, bias)
    if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad):
        return _OneDnnLinear.apply(x, weight, bias)
    return _dnn(x, weight, bias)


class Linear(nn.Linear):
    """``nn.Linear`` whose products use :func:`linear`: oneDNN on the CPU for float32, else ``F.linear``.

    Leading batch dimensions beyond one are flattened for oneDNN and restored, as ``nn.Linear`` allows.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return linear(x, self.weight, self.bias)
        if x.dim() > 2 and uses_onednn(x.reshape(-1, x.shape[-1]), self.weight):
            y = linear(x.reshape(-1, x.shape[-1]), self.weight, self.bias)
            return y.reshape(*x.shape[:-1], y.shape[-1])
        return F.linear(x, self.weight, self.bias)
