"""scikit-learn-compatible estimators over the torch models, and their checkpoints.

The estimator classes are the families of ``latentspace._families`` (one module each), imported from
that table: it is the one list of what the package exports, the CLI trains and ``load`` reads.
"""

import importlib
from pathlib import Path

from .._families import FAMILIES
from ._base import BaseAutoEncoder
from ._checkpoint import load_estimator

#: Estimator classes by name, for loading checkpoints without unpickling.
ESTIMATORS: dict[str, type[BaseAutoEncoder]] = {
    f.class_name: getattr(importlib.import_module(f".{f.module}", __name__), f.class_name) for f in FAMILIES
}
globals().update(ESTIMATORS)


def load(path: str | Path, *, device=None, encoder=None, decoder=None, allow_import: bool = False) -> BaseAutoEncoder:
    """Load an estimator saved by ``save`` (or the ``model/`` of a run folder).

    ``device``: "auto", "cpu", "cuda", ... (default: the saved device when this machine has it, else
    the CPU). ``encoder``/``decoder``: for a model saved with your own modules, an instance (or the
    class) of each; or ``allow_import=True`` to import the recorded classes and build them with no
    arguments. Nothing is unpickled.
    """
    return load_estimator(path, ESTIMATORS, device=device, encoder=encoder, decoder=decoder, allow_import=allow_import)


__all__ = [*ESTIMATORS, "BaseAutoEncoder", "ESTIMATORS", "load"]  # noqa: PLE0604
