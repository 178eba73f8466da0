"""latentspace: autoencoders and variational autoencoders, and measurements of their latent spaces.

    from latentspace import AutoEncoder, LinearAutoEncoder, VAE, load
    ae = AutoEncoder(n_components=2, random_state=0).fit(X)
"""

import os as _os
import sys as _sys

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

from .estimators import VAE, AutoEncoder, LinearAutoEncoder, load  # after the hook

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
