"""Decoded samples for pictures, drawn with the regularity analysis's samplers (analysis/samplers.py)."""

from __future__ import annotations

import numpy as np

from ..analysis.protocol import encode
from ..analysis.samplers import EVALUATED_SAMPLERS, draw_codes, keeps_codes, samplers_for

SAMPLER_LABELS = {
    "prior": "its prior",
    "gaussian": "Gaussian fitted to its codes",
    "box": "uniform in its codes' box",
    "gmm": "Gaussian mixture fitted to its codes",
    "two-stage": "second-stage VAE on its codes",
}


def model_samples(name: str, model, X_train: np.ndarray, n: int, seed: int) -> dict[str, np.ndarray]:
    """``(n, n_features)`` decoded samples per sampler that fits the model (the prior only for a VAE)."""
    rng = np.random.default_rng(seed)
    # a model of ours draws from the densities it keeps (fitted once to its training codes); others need codes
    codes = None if keeps_codes(model) else encode(model, X_train)
    return {
        f"{name}: {SAMPLER_LABELS[s]}": model.inverse_transform(draw_codes(s, codes, n, rng, model).astype(np.float32))
        for s in samplers_for(model) if s in EVALUATED_SAMPLERS
    }
