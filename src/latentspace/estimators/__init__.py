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


def load(path: str | Path, *, device=None, encoder=None, decoder=None, allow_import: bool = False) -> BaseAutoEncoder:
    """Load an estimator saved by ``save`` (or the ``model/`` of a run folder).

    ``device``: "auto", "cpu", "cuda", ... (default: the saved device when this machine has it, else
    the CPU). ``encoder``/``decoder``: for a model saved with your own modules, an instance (or the
    class) of each; or ``allow_import=True`` to import the recorded classes and build them with no
    arguments. Nothing is unpickled.
    """
    return load_estimator(path, ESTIMATORS, device=device, encoder=encoder, decoder=decoder, allow_import=allow_import)


__all__ = ["AutoEncoder", "LinearAutoEncoder", "VAE", "BaseAutoEncoder", "ESTIMATORS", "load"]
