"""ONNX export: a fitted model as two graphs that take and give raw data, servable without Python.

``encoder.onnx``: raw rows ``x`` ``(batch, n_features)`` -> the code ``z`` ``(batch, n_latent)`` (a VAE's
posterior mean, with ``z_log_var`` beside it). ``decoder.onnx``: codes ``z`` -> ``x`` ``(batch,
n_features)``, the likelihood's mean in data units. The estimator's scaling (``(x - offset) / scale``)
is folded into both graphs, so they take and give the same numbers as ``transform`` and
``inverse_transform``; the batch axis is dynamic. A conditional VAE's decoder reads its codes with the
class's one-hot appended, ``z`` ``(batch, n_latent + n_classes)`` (``[z, onehot(y)]``, classes in the order
of the estimator's ``classes_``); its encoder reads ``x`` alone.

The exporter is torch's TorchScript-based one (``torch.onnx.export(..., dynamo=False)``): it needs
nothing beyond torch, exports the built MLP and conv networks and traceable user modules in a tenth
of a second, and runs offline. torch's newer ``torch.export``-based exporter (the default since torch
2.9) needs the ``onnxscript`` package and took ~9 s for a 3-layer MLP here; it is used only when the
TorchScript path is not available in the installed torch.
"""

from __future__ import annotations

import copy
import io
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._files import atomic_write_bytes
from ..errors import LatentspaceError, first_line
from . import backend
from .models import LatentModel

#: ONNX operator set: 17 is supported by every onnxruntime since 1.12 (2022) and by torch's exporters
OPSET = 17
ENCODER_FILE, DECODER_FILE = "encoder.onnx", "decoder.onnx"


class RawEncoder(nn.Module):
    """Raw rows ``(batch, n_features)`` -> codes ``(batch, n_latent)``, the data's scaling folded in; a VAE
    also returns its posterior's log-variances ``(batch, n_latent)``."""

    def __init__(self, model: LatentModel, offset: np.ndarray, scale: np.ndarray):
        super().__init__()
        self.model = model
        self.register_buffer("offset", torch.as_tensor(offset, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x: torch.Tensor):
        h = (x - self.offset) / self.scale
        posterior = getattr(self.model, "posterior", None)
        return posterior(h) if posterior is not None else self.model.encode(h)


class RawDecoder(nn.Module):
    """Codes ``(batch, n_latent)`` -> the likelihood's mean in data units ``(batch, n_features)`` (a conditional
    model's codes are ``[z, onehot(y)]``, ``(batch, n_latent + n_classes)``)."""

    def __init__(self, model: LatentModel, offset: np.ndarray, scale: np.ndarray):
        super().__init__()
        self.model = model
        self.register_buffer("offset", torch.as_tensor(offset, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.decode(z) * self.scale + self.offset


def onnx_bytes(module: nn.Module, example: torch.Tensor, input_name: str, output_names: list[str],
               opset: int = OPSET) -> bytes:
    """``module`` (on the CPU, in eval mode) as an ONNX model with a dynamic batch axis."""
    axes = {name: {0: "batch"} for name in (input_name, *output_names)}
    buffer = io.BytesIO()
    try:
        # plain F.linear (ONNX's Gemm), not the oneDNN op the dense layers use on CPUs; and without the
        # TorchScript exporter's deprecation notice: it is chosen on purpose (module docstring)
        with warnings.catch_warnings(), backend.using(backend.Kernels("aten", "32")):
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(module, (example,), buffer, dynamo=False, input_names=[input_name],
                              output_names=output_names, dynamic_axes=axes, opset_version=opset)
    except TypeError:  # a torch without the TorchScript exporter: its torch.export-based one
        batch = torch.export.Dim("batch")
        with backend.using(backend.Kernels("aten", "32")):
            program = torch.onnx.export(module, (example,), dynamo=True, input_names=[input_name],
                                        output_names=output_names, dynamic_shapes=({0: batch},),
                                        opset_version=opset)
        program.save(buffer)
    except ModuleNotFoundError as e:
        raise LatentspaceError(f"ONNX export needs {e.name}: pip install 'latentspace[onnx]'") from None
    except Exception as e:  # a user's module torch cannot trace: say which graph and why, in one line
        raise LatentspaceError(f"cannot export the model's {input_name}->{output_names[0]} graph to ONNX "
                               f"({type(e).__name__}: {first_line(e)})") from None
    return buffer.getvalue()


def export_onnx(model: LatentModel, offset: np.ndarray, scale: np.ndarray, n_features: int, folder,
                opset: int = OPSET) -> dict[str, Path]:
    """Write ``encoder.onnx`` and ``decoder.onnx`` for ``model`` to ``folder`` (atomically, each file
    whole or not at all); returns their paths by name."""
    folder = Path(folder)
    model = copy.deepcopy(model).cpu().eval()  # the fitted model stays where and as it is
    vae = getattr(model, "posterior", None) is not None
    graphs = {
        "encoder": onnx_bytes(RawEncoder(model, offset, scale), torch.zeros(2, n_features), "x",
                              ["z", "z_log_var"] if vae else ["z"], opset),
        "decoder": onnx_bytes(RawDecoder(model, offset, scale), torch.zeros(2, model.decoder_inputs), "z", ["x"], opset),
    }
    paths = {"encoder": folder / ENCODER_FILE, "decoder": folder / DECODER_FILE}
    for name, data in graphs.items():
        atomic_write_bytes(paths[name], data)
    return paths
