"""scikit-learn-compatible estimators over the torch models."""

from ._autoencoder import AutoEncoder, LinearAutoEncoder
from ._base import BaseAutoEncoder
from ._vae import VAE

#: Estimator classes by name, for loading checkpoints without unpickling.
ESTIMATORS: dict[str, type[BaseAutoEncoder]] = {
    cls.__name__: cls for cls in (AutoEncoder, LinearAutoEncoder, VAE)
}

__all__ = ["AutoEncoder", "LinearAutoEncoder", "VAE", "BaseAutoEncoder", "ESTIMATORS"]
