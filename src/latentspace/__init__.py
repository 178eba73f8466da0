"""latentspace: autoencoders and variational autoencoders, and measurements of their latent spaces.

    from latentspace import AutoEncoder, LinearAutoEncoder, VAE, load
    ae = AutoEncoder(n_components=2, random_state=0).fit(X)

The names below are imported on first use (PEP 562), so that ``latentspace --version`` and other
work that needs no network does not pay for importing torch.
"""

from __future__ import annotations

import importlib
import os as _os
import sys as _sys
from typing import TYPE_CHECKING

from ._families import FAMILIES
from ._version import __version__
from .errors import CheckpointError, DataError, LatentspaceError, TrainingDivergedError


def _quiet_interrupt_hook(previous):
    """Ctrl-C while the command line program is still importing torch: one line, not a traceback."""

    def hook(kind, value, traceback):
        if issubclass(kind, KeyboardInterrupt):
            print("latentspace: interrupted", file=_sys.stderr)
        else:
            previous(kind, value, traceback)

    return hook


# ``python -m latentspace`` (argv[0] is "-m" while the package imports) or the ``latentspace`` script.
if _sys.argv and (_sys.argv[0] == "-m" or _os.path.basename(_sys.argv[0]) == "latentspace"):
    _sys.excepthook = _quiet_interrupt_hook(_sys.excepthook)

if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ imports them
    from .estimators import (
        IWAE as IWAE,
    )
    from .estimators import (
        RAE as RAE,
    )
    from .estimators import (
        VAE as VAE,
    )
    from .estimators import (
        WAE as WAE,
    )
    from .estimators import (
        AutoEncoder as AutoEncoder,
    )
    from .estimators import (
        BetaTCVAE as BetaTCVAE,
    )
    from .estimators import (
        ConditionalVAE as ConditionalVAE,
    )
    from .estimators import (
        LinearAutoEncoder as LinearAutoEncoder,
    )
    from .estimators import (
        TwoStageVAE as TwoStageVAE,
    )
    from .estimators import (
        VampVAE as VampVAE,
    )
    from .estimators import (
        load as load,
    )

#: every model family's estimator class (the registry in _families.py), and ``load``
_LAZY = {**{f.class_name: ".estimators" for f in FAMILIES}, "load": ".estimators"}

__all__ = [  # noqa: PLE0604
    *_LAZY,
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
