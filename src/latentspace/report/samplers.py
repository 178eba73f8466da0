"""Latent codes to decode when a picture needs "generated" examples.

A stand-in until the regularity analysis's samplers are merged; the report only needs decodable
draws, not a measurement.
"""

from __future__ import annotations

import numpy as np


def is_variational(model) -> bool:
    """A model whose latent space has a N(0, I) prior of its own."""
    return hasattr(model, "sample") and hasattr(model, "log_likelihood")


def gaussian_fit_samples(model, X: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Decode ``n`` draws of a Gaussian fitted to the model's codes of ``X``: ``(n, n_features)``.

    An AE has no prior; this is the most generous one it could be given.
    """
    Z = np.asarray(model.transform(X), dtype=np.float64)
    k = Z.shape[1]
    cov = np.cov(Z, rowvar=False).reshape(k, k)
    draws = rng.multivariate_normal(Z.mean(axis=0), cov, size=n)
    return model.inverse_transform(draws.astype(np.float32))


def standard_normal_samples(model, n: int, rng: np.random.Generator) -> np.ndarray:
    """Decode ``n`` draws of N(0, I) in the model's latent space: ``(n, n_features)``."""
    k = int(model.n_components)
    return model.inverse_transform(rng.standard_normal((n, k)).astype(np.float32))


def model_samples(name: str, model, X_train: np.ndarray, n: int, seed: int) -> dict[str, np.ndarray]:
    """Samples per sampler for one model: the prior for a VAE; N(0, I) and a fitted Gaussian for an AE."""
    rng = np.random.default_rng(seed)
    if is_variational(model):
        return {f"{name}: prior N(0, I)": model.sample(n, random_state=seed)}
    return {
        f"{name}: N(0, I) codes": standard_normal_samples(model, n, rng),
        f"{name}: Gaussian fit to codes": gaussian_fit_samples(model, X_train, n, rng),
    }
