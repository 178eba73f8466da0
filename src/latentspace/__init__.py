"""latentspace: autoencoders and variational autoencoders, and measurements of their latent spaces.

    from latentspace import AutoEncoder, LinearAutoEncoder, VAE, load
    ae = AutoEncoder(n_components=2, random_state=0).fit(X)
"""

from ._version import __version__
from .errors import CheckpointError, DataError, LatentspaceError, TrainingDivergedError
from .estimators import VAE, AutoEncoder, LinearAutoEncoder, load

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
