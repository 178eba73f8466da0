"""latentspace: autoencoders and variational autoencoders, and measurements of their latent spaces.

    from latentspace import AutoEncoder, LinearAutoEncoder, VAE, load
    ae = AutoEncoder(n_components=2, random_state=0).fit(X)
"""

__version__ = "0.1.0"

from .checkpoint import load
from .errors import CheckpointError, DataError, LatentspaceError, TrainingDivergedError
from .estimators import VAE, AutoEncoder, LinearAutoEncoder

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
