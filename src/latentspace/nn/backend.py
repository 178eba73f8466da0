"""Which matrix-multiply kernels and which precision the dense layers use, chosen on the machine that runs.

PyTorch's CPU build sends ``nn.Linear`` to MKL's sgemm, which on some CPUs (AMD EPYC, say) runs at
about half of what oneDNN's JIT kernels reach for the small batch-128 shapes of these networks, and
on others (or the same model of CPU on another host or day) is faster. So no choice is fixed:
:func:`choose_kernels` times oneDNN's linear primitive against PyTorch's default on the model's own
layer shapes (the forward product and both backward ones) at the start of a fit, in well under a
second, and caches the answer; :func:`using` puts it in force for the fit.

:class:`Linear` is an ``nn.Linear`` (same parameters, same state-dict keys, same checkpoints) whose
products follow the choice in force:

- kernel ``"onednn"``: oneDNN's linear primitive (CPU only); ``"aten"``: ``F.linear``/``torch.mm``.
- precision ``"32"``: float32 products; ``"bf16"``: bfloat16 products of float32 weights and inputs,
  with float32 outputs and gradients, so master weights, optimiser state, activations, loss and
  likelihood terms all stay float32 (and checkpoints too). :func:`bf16_problem` says when the
  hardware has no native bfloat16 (then it is refused: emulated bf16 is slower than float32).

Anything else (float64, CUDA with precision "32", builds without oneDNN) takes plain ``F.linear``.
Outside a fit (inference) the default is oneDNN float32 on the CPU.

The environment variable ``LATENTSPACE_LINEAR`` or :func:`set_linear_backend` overrides the measured
kernel: ``"auto"`` (default: measure), ``"onednn"`` or ``"aten"``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import LatentspaceError

BACKENDS = ("auto", "onednn", "aten")
PRECISIONS = ("auto", "32", "bf16")
#: lets bf16 run on hardware that only emulates it (slow): for testing the bf16 code path anywhere
EMULATED_BF16_ENV = "LATENTSPACE_ALLOW_EMULATED_BF16"
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


# ---- the oneDNN op ---------------------------------------------------------------------------------
def _onednn_op_works(op, dtype: torch.dtype) -> bool:
    """The op computes a forward product and the two backward ones (transposed views) in ``dtype``."""
    x, w, g = torch.randn(5, 3), torch.randn(4, 3), torch.randn(5, 4)
    b = torch.randn(4)
    tol = 1e-5 if dtype == torch.float32 else 0.1
    try:
        xd, wd, gd = x.to(dtype), w.to(dtype), g.to(dtype)
        ok = torch.allclose(op(xd, wd, b.to(dtype), "none", [], "").float(), F.linear(x, w, b), atol=tol)
        ok = ok and torch.allclose(op(gd, wd.t(), None, "none", [], "").float(), g @ w, atol=tol)
        ok = ok and torch.allclose(op(gd.t(), xd.t(), None, "none", [], "").float(), g.t() @ x, atol=tol)
    except (RuntimeError, TypeError, NotImplementedError):
        return False
    return bool(ok)


def _find_onednn_linear():
    """The oneDNN linear op of this torch build, or None (no oneDNN, or an op that misbehaves)."""
    if not torch.backends.mkldnn.is_available():
        return None
    op = getattr(getattr(torch.ops, "mkldnn", None), "_linear_pointwise", None)
    return op if op is not None and _onednn_op_works(op, torch.float32) else None


_ONEDNN_LINEAR = _find_onednn_linear()
_onednn_bf16: bool | None = None  # checked on first use: bf16 self-checks cost time on CPUs without it


def onednn_available() -> bool:
    """True when this torch build has a working oneDNN linear op."""
    return _ONEDNN_LINEAR is not None


def onednn_bf16_available() -> bool:
    """True when the oneDNN linear op also computes bfloat16 products correctly here."""
    global _onednn_bf16
    if _onednn_bf16 is None:
        _onednn_bf16 = _ONEDNN_LINEAR is not None and _onednn_op_works(_ONEDNN_LINEAR, torch.bfloat16)
    return _onednn_bf16


# ---- precision ---------------------------------------------------------------------------------------
def cpu_has_native_bf16() -> bool:
    """AVX512_BF16 or AMX on x86 (what oneDNN's bf16 kernels need to beat float32)."""
    cpu = getattr(torch, "cpu", None)
    for check in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        fn = getattr(cpu, check, None)
        if fn is not None and fn():
            return True
    return False


def bf16_problem(device: torch.device | str) -> str | None:
    """Why bf16 products cannot run natively on ``device``, or None when they can."""
    device = torch.device(device)
    if os.environ.get(EMULATED_BF16_ENV) == "1":
        return None
    if device.type == "cuda":
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False):
            return None
        return "this CUDA device has no native bfloat16 support"
    if device.type == "cpu":
        if cpu_has_native_bf16():
            return None
        return "this CPU has no native bfloat16 instructions (AVX512_BF16 or AMX)"
    return f"bf16 is not supported on device {device.type!r}"


def resolve_precision(precision: str, flops: float | None, device: torch.device | str) -> str:
    """"32" or "bf16" for a training step of ``flops`` float32 product FLOPs (None: unknown) on ``device``.

    "auto" is "bf16" for a heavy step (at least ``LIGHT_STEP_FLOPS``) on a CPU with native bfloat16 (AMX or
    AVX512_BF16) where oneDNN computes it correctly, else "32". Measured on an Intel Xeon with AMX, the
    reference VAE (827 MFLOP a step), 1 thread with the other core busy: 8.9 s an epoch against 10.2 s, the
    held-out -ELBO target reached in 67.2 s against 85.7 s, the same final IW-NLL (233.87 against 233.85
    nats; docs/training.md). A light step is per-call overhead that bf16's conversions only add to. CUDA
    stays "32": not measured here."""
    if precision != "auto":
        return precision
    device = torch.device(device)
    heavy = flops is not None and flops >= LIGHT_STEP_FLOPS
    native = device.type == "cpu" and cpu_has_native_bf16() and onednn_bf16_available()
    return "bf16" if heavy and native else "32"


def check_precision(precision: str, device: torch.device | str) -> None:
    """Raise one clear line when ``precision`` is unknown or cannot run natively on ``device``."""
    if precision not in PRECISIONS:
        raise LatentspaceError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    problem = bf16_problem(device) if precision == "bf16" else None
    if problem is not None:
        raise LatentspaceError(f"precision='bf16' refused: {problem}; use precision='32'")


# ---- the choice in force -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kernels:
    """What :class:`Linear` does: ``kernel`` "onednn" or "aten", ``precision`` "32" or "bf16"."""

    kernel: str = "onednn"
    precision: str = "32"


_in_force: Kernels | None = None


def active() -> Kernels:
    """The choice :class:`Linear` follows now: the one put in force by :func:`using`, else the default."""
    if _in_force is not None:
        return _in_force
    return Kernels("aten" if _backend == "aten" else "onednn", "32")


@contextlib.contextmanager
def using(kernels: Kernels) -> Iterator[Kernels]:
    """Put ``kernels`` in force for the block (a fit), restoring the previous choice afterwards."""
    global _in_force
    previous, _in_force = _in_force, kernels
    try:
        yield kernels
    finally:
        _in_force = previous


# ---- the products ------------------------------------------------------------------------------------
def _plain(t: torch.Tensor) -> torch.Tensor:
    """``t`` itself when row- or column-major (oneDNN reads both), else a contiguous copy."""
    return t if t.is_contiguous() or t.t().is_contiguous() else t.contiguous()


def _dnn(a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``a @ b.T (+ bias)`` through oneDNN; ``a`` ``(m, k)``, ``b`` ``(n, k)``, either may be strided."""
    return _ONEDNN_LINEAR(_plain(a), _plain(b), bias, "none", [], "")


def _aten(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b.T`` with PyTorch's default kernels."""
    return torch.mm(a, b.t())


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


class _Bf16Linear(torch.autograd.Function):
    """y = x W^T + b with bfloat16 products of float32 ``x`` and ``W``; float32 output and gradients.

    The bf16 copies of ``x`` and ``W`` made for the forward product are saved for the backward ones,
    so each tensor is rounded once per step; the bias and every gradient stay float32.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, onednn: bool) -> torch.Tensor:
        product = _dnn if onednn else _aten
        xb, wb = x.to(torch.bfloat16), weight.to(torch.bfloat16)
        ctx.save_for_backward(xb, wb)
        ctx.product, ctx.has_bias = product, bias is not None
        y = product(xb, wb).float()
        return y if bias is None else y.add_(bias)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        xb, wb = ctx.saved_tensors
        gb = grad.to(torch.bfloat16)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = ctx.product(gb, wb.t()).float()  # (n, out) @ (out, in)
        if ctx.needs_input_grad[1]:
            grad_w = ctx.product(gb.t(), xb.t()).float()  # (out, n) @ (n, in)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad.sum(0)
        return grad_x, grad_w, grad_b, None


def _float32_rows(x: torch.Tensor, weight: torch.Tensor) -> bool:
    return x.dtype == torch.float32 and weight.dtype == torch.float32 and x.dim() == 2 and not x.is_sparse


def uses_onednn(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether :class:`Linear` sends this input through oneDNN in float32 under the choice in force."""
    kernels = active()
    return (
        kernels.kernel == "onednn" and kernels.precision == "32" and _ONEDNN_LINEAR is not None
        and x.device.type == "cpu" and _float32_rows(x, weight)
    )


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``F.linear`` with the kernels and precision in force; ``(n, in) -> (n, out)``."""
    kernels = active()
    if not _float32_rows(x, weight):
        return F.linear(x, weight, bias)
    if kernels.precision == "bf16":
        onednn = kernels.kernel == "onednn" and x.device.type == "cpu" and onednn_bf16_available()
        return _Bf16Linear.apply(x, weight, bias, onednn)
    # float32 from here: what uses_onednn() asks, without reading the choice and the input again
    if kernels.kernel != "onednn" or _ONEDNN_LINEAR is None or x.device.type != "cpu":
        return F.linear(x, weight, bias)
    if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad):
        return _OneDnnLinear.apply(x, weight, bias)
    return _dnn(x, weight, bias)


class Linear(nn.Linear):
    """``nn.Linear`` whose products use :func:`linear` (the kernels and precision in force).

    Leading batch dimensions beyond one are flattened and restored, as ``nn.Linear`` allows.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return linear(x, self.weight, self.bias)
        if x.dim() > 2:
            y = linear(x.reshape(-1, x.shape[-1]), self.weight, self.bias)
            return y.reshape(*x.shape[:-1], y.shape[-1])
        return F.linear(x, self.weight, self.bias)


# ---- choosing by measurement -------------------------------------------------------------------------
#: rows of the timed products are capped here: bigger ones only lengthen the measurement
MAX_TIMED_ROWS = 4096
_chosen: dict[tuple, dict] = {}


@dataclass
class Choice:
    """A measured choice: the kernels, how they were chosen, and the timings (ms per set of products)."""

    kernels: Kernels
    how: str
    ms: dict[str, float] = field(default_factory=dict)
    threads: int = 1

    def record(self) -> dict:
        """JSON-ready: ``{"kernel", "precision", "how", "ms", "threads"}``."""
        return {**asdict(self.kernels), "how": self.how, "ms": self.ms, "threads": self.threads}


def layer_shapes(model: nn.Module) -> list[tuple[int, int]]:
    """``(in_features, out_features)`` of every :class:`Linear` in ``model``, in order."""
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, Linear)]


def matmul_flops(model: nn.Module, rows: int) -> float | None:
    """FLOPs of one training step's dense products at ``rows`` examples (forward and both backward
    products of every layer); None when the model has other heavy layers (convolutions)."""
    if any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules()):
        return None
    return 6.0 * rows * sum(n_in * n_out for n_in, n_out in layer_shapes(model))


def resumed_choice(choice: Choice, kernel: str | None) -> Choice:
    """``choice``, but computing with ``kernel`` (the one a checkpoint was made with) when it can run here,
    so that a resumed run continues bit for bit."""
    if kernel is None or kernel == choice.kernels.kernel or kernel not in ("onednn", "aten"):
        return choice
    if kernel == "onednn" and _ONEDNN_LINEAR is None:
        return choice
    return Choice(Kernels(kernel, choice.kernels.precision), "as the checkpoint", dict(choice.ms), choice.threads)


def _candidates(precision: str, device: torch.device) -> list[str]:
    if device.type != "cpu" or _ONEDNN_LINEAR is None:
        return ["aten"]
    if precision == "bf16" and not onednn_bf16_available():
        return ["aten"]
    return ["onednn", "aten"]


def _time_products(shapes, rows: int, dtype: torch.dtype, kernels: list[str], budget_s: float) -> dict[str, float]:
    """Best-of-rounds milliseconds per kernel for the forward product and both backward ones of every
    layer; the kernels alternate within each round so a busy machine slows them alike."""
    g = torch.Generator().manual_seed(0)
    tensors = []
    for n_in, n_out in shapes:
        x, w, d = (torch.randn(*s, generator=g).to(dtype) for s in ((rows, n_in), (n_out, n_in), (rows, n_out)))
        tensors.append((x, w, d))
    product = {"onednn": _dnn, "aten": _aten}
    best = {k: float("inf") for k in kernels}
    started, rounds = time.perf_counter(), 0
    with torch.inference_mode():
        while rounds < 2 or (rounds < 15 and time.perf_counter() - started < budget_s):
            for k in kernels:
                f = product[k]
                t0 = time.perf_counter()
                for x, w, d in tensors:
                    f(x, w), f(d, w.t()), f(d.t(), x.t())
                if rounds > 0:  # the first round warms the kernels up
                    best[k] = min(best[k], (time.perf_counter() - t0) * 1e3)
            rounds += 1
    return {k: round(v, 3) for k, v in best.items()}


#: how a reproducible computation's kernel was chosen: not by a timing (see ``choose_kernels``)
FIXED = "fixed (random_state given: no timing)"
#: below this many matrix-product FLOPs per training step (``matmul_flops``) PyTorch's kernel runs, never
#: timed: oneDNN's products go through a Python autograd Function, ~0.8 ms a step for a 6-layer network,
#: which the products' own speed cannot repay in a light step. Measured end to end (2 threads, one process,
#: alternating): a digits VAE(16) (53 MFLOP a step) 1,000 steps 1.55 s with PyTorch's kernel against 2.34 s
#: with oneDNN; the memorising AE (89 MFLOP) 0.68 x; Fashion-MNIST's default AE (333 MFLOP) 0.86 x; the
#: reference VAE (827 MFLOP) 0.95 x. Even where oneDNN's products run twice as fast as PyTorch's (measured
#: on this kind of CPU in earlier rounds), they repay 0.8 ms only above ~80 MFLOP a step at 2 threads.
LIGHT_STEP_FLOPS = 100e6
#: how a light step's kernel was chosen
LIGHT = "light step: PyTorch's kernel"


def choose_kernels(model: nn.Module, rows: int, precision: str = "32", budget_s: float = 0.15,
                   reproducible: bool = False) -> Choice:
    """The kernels for ``model``'s dense layers at ``rows`` examples per product, in ``precision`` ("auto":
    as :func:`resolve_precision` decides for this step).

    A light step (fewer than ``LIGHT_STEP_FLOPS`` float32 product FLOPs at ``rows``) takes PyTorch's kernel,
    never timed: its time is mostly per-call overhead, which oneDNN's Python autograd Function adds to.
    ``reproducible`` (a fit or estimate with a fixed ``random_state``): the default kernel of this
    build and device, oneDNN where it runs, never a timing. The two kernels round differently and
    their timings are often within a few per cent, so a measured choice is a coin toss that load and
    thread count tip, and the result would follow it. Otherwise the faster one, measured once per
    (shapes, rows, precision, device, threads) in this process and cached.
    ``LATENTSPACE_LINEAR``/:func:`set_linear_backend` set to "onednn" or "aten" decide either way.
    """
    param = next(model.parameters(), None)
    device = torch.device("cpu") if param is None else param.device
    threads = torch.get_num_threads()
    shapes = tuple(layer_shapes(model))
    flops = matmul_flops(model, max(1, int(rows)))
    precision = resolve_precision(precision, flops, device)
    candidates = _candidates(precision, device)
    if _backend != "auto" or len(candidates) == 1 or not shapes:
        kernel = _backend if _backend in candidates else candidates[0]
        return Choice(Kernels(kernel, precision), "set" if _backend != "auto" else "only candidate", threads=threads)
    if precision == "32" and flops is not None and flops < LIGHT_STEP_FLOPS:
        return Choice(Kernels("aten", precision), LIGHT, threads=threads)
    if reproducible:
        return Choice(Kernels(candidates[0], precision), FIXED, threads=threads)
    rows = max(1, min(int(rows), MAX_TIMED_ROWS))
    key = (shapes, rows, precision, str(device), threads)
    if key not in _chosen:
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        ms = _time_products(shapes, rows, dtype, candidates, budget_s)
        _chosen[key] = {"kernel": min(ms, key=ms.get), "ms": ms}
    hit = _chosen[key]
    return Choice(Kernels(hit["kernel"], precision), "measured", dict(hit["ms"]), threads)
