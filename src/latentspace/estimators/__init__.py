"""scikit-learn-compatible estimators over the torch models, and their checkpoints."""

from pathlib import Path

from ._autoencoder import AutoEncoder, LinearAutoEncoder
from ._base import BaseAutoEncoder
from ._checkpoint import load_estimator
from ._vae import VAE

#: Estimator classes by name, for loading checkpoints without unpickling.
ESTIMATORS: dict[str, type[BaseAutoEncoder]] = {
    cls.__name__: cls for cls in (AutoEncoder, LinearAutoEncoder, VAE)
}


def load(path: str | Path) -> BaseAutoEncoder:
    """Load an estimator saved by ``save`` (or the ``model/`` of a run folder)."""
    return load_estimator(path, ESTIMATORS)


__all__ = ["AutoEncoder", "LinearAutoEncoder", "VAE", "BaseAutoEncoder", "ESTIMATORS", "load"]
