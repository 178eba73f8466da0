"""latentspace: autoencoders and variational autoencoders, and measurements of their latent spaces.

    from latentspace import AutoEncoder, LinearAutoEncoder, VAE, load
    ae = AutoEncoder(n_components=2, random_state=0).fit(X)

The names below are imported on first use (PEP 562), so that ``latentspace --version`` and other
work that needs no network does not pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__
from .errors import CheckpointError, DataError, LatentspaceError, TrainingDivergedError

if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ imports them
    from .estimators import VAE, AutoEncoder, LinearAutoEncoder, load

_LAZY = {"AutoEncoder": ".estimators", "LinearAutoEncoder": ".estimators", "VAE": ".estimators", "load": ".estimators"}

__all__ = [
    "AutoEncoder",
    "LinearAutoEncoder",
    "VAE",
    "load",
    "LatentspaceError",
    "DataError",
    "CheckpointError",
    "TrainingDivergedError",
    "__version__",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'latentspace' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
