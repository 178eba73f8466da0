"""Which torch device a model runs on: ``"auto"`` picks CUDA when present, else the CPU.

Every device name is checked here, once, so that a device the machine lacks is one clear line
("device 'cuda' is not available here: ...") instead of torch's "Torch not compiled with CUDA enabled"
traceback in the middle of a fit.
"""

from __future__ import annotations

import torch

from ..errors import LatentspaceError

AUTO = "auto"


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The torch device for ``device`` ("auto"/None, "cpu", "cuda", "cuda:1", "mps", a torch.device).

    Raises LatentspaceError (one line) for names torch does not know and for devices this machine lacks.
    """
    if device is None or (isinstance(device, str) and device.strip().lower() == AUTO):
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise LatentspaceError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'") from None
    missing = device_missing(resolved)
    if missing:
        raise LatentspaceError(f"device {str(device)!r} is not available here: {missing}; use device='auto' or 'cpu'")
    return resolved


def device_missing(device: torch.device) -> str | None:
    """Why ``device`` cannot be used on this machine, or None when it can."""
    if device.type == "cpu" or device.type == "meta":
        return None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return "this machine has no CUDA GPU (or torch was built without CUDA)"
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            return f"this machine has {count} CUDA device(s), numbered from 0"
        return None
    if device.type == "mps":
        return None if torch.backends.mps.is_available() else "Apple's MPS backend is not available"
    backend = getattr(torch, device.type, None)
    available = getattr(backend, "is_available", None)
    if callable(available) and available():
        return None
    return f"torch has no working {device.type!r} backend on this machine"

