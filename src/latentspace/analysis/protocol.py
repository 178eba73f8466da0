"""The one analysis protocol: how every measurement encodes, reconstructs, scores held-out error,
recognises a model with a prior, reads a VAE's posterior and its KL, fits the reference PCA and builds
the comparison models. The demo, the sweep, memorize, pca-check, evaluate and train all use these, so
their numbers agree and carry one name (``HELDOUT_MSE``).
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from .._families import BY_CLASS, BY_NAME

#: the one metric key of the held-out reconstruction error (mean over examples and features)
HELDOUT_MSE = "heldout_mse_per_feature"
#: the summed squared error per example that goes with it
HELDOUT_SSE = "heldout_sse_per_example"
#: PCA solvers that compute the exact subspace: a reference must never be randomized
EXACT_PCA_SOLVERS = ("full", "covariance_eigh")
#: the demo's comparison models, PCA first (``comparison_models``)
KINDS = ("pca", "linear", "ae", "vae")


def has_prior(estimator) -> bool:
    """True for a model with a prior p(z) to sample (a VAE of any family, a WAE)."""
    return bool(getattr(estimator, "has_prior", False))


def has_posterior(estimator) -> bool:
    """True for a model with a posterior q(z|x) and a likelihood: ELBO, KL, IW-NLL (the VAE family)."""
    return bool(getattr(estimator, "has_posterior", False))


def model_kind(estimator) -> str:
    """The family name (``_families.py``: "ae", "vae", "vamp", ...) of a fitted model, or "pca"
    (a LatentspaceError for anything else)."""
    from ..errors import LatentspaceError

    for cls in type(estimator).__mro__:  # a user's subclass of a family measures as that family
        if cls.__name__ in BY_CLASS and cls.__module__.startswith("latentspace."):
            return BY_CLASS[cls.__name__].name
    if hasattr(estimator, "components_") and hasattr(estimator, "inverse_transform"):
        return "pca"
    raise LatentspaceError(f"cannot measure {type(estimator).__name__}: it needs transform and inverse_transform")


def display_name(kind: str, k: int) -> str:
    """"PCA(5)", "deep AE", "VampPrior VAE", ...: a kind's name in tables."""
    return f"PCA({k})" if kind == "pca" else BY_NAME[kind].display


def encode(estimator, X: np.ndarray) -> np.ndarray:
    """Codes ``(n, k)`` float64: the AE's code, the VAE's posterior mean, PCA's scores."""
    return np.asarray(estimator.transform(np.asarray(X, np.float32)), np.float64)


def decode(estimator, Z: np.ndarray) -> np.ndarray:
    """Data-space rows ``(n, n_features)`` float32 (decoder means, unclipped) of codes ``Z`` ``(n, k)``."""
    return np.asarray(estimator.inverse_transform(np.asarray(Z, np.float32)), np.float32).reshape(len(Z), -1)


def reconstruct(estimator, X: np.ndarray) -> np.ndarray:
    """``decode(encode(X))`` as rows ``(n, n_features)`` in ``X``'s float dtype, for an estimator or PCA."""
    X = np.asarray(X)
    if hasattr(estimator, "reconstruct"):
        out = estimator.reconstruct(X)
    else:
        out = estimator.inverse_transform(estimator.transform(X))
    return np.asarray(out).reshape(len(X), -1)


def squared_errors(recon: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``(recon - X)^2`` ``(n, n_features)`` float64, for reconstructions ``recon`` of ``X``."""
    X = np.asarray(X, np.float64).reshape(len(X), -1)
    return (np.asarray(recon, np.float64).reshape(X.shape) - X) ** 2


def mean_squared_error(recon: np.ndarray, X: np.ndarray) -> float:
    """Mean over examples and features of ``(recon - X)^2``: the reconstruction error's one formula."""
    return float(squared_errors(recon, X).mean())


def heldout_mse(estimator, X: np.ndarray) -> float:
    """The held-out reconstruction error of ``estimator`` on ``X``: mean squared error per feature."""
    return mean_squared_error(reconstruct(estimator, X), X)


def reconstruction_metrics(estimator, X: np.ndarray) -> dict[str, float]:
    """``{HELDOUT_MSE: per feature, HELDOUT_SSE: summed over features, mean over examples}``."""
    squared = squared_errors(reconstruct(estimator, X), X)
    return {HELDOUT_MSE: float(squared.mean()), HELDOUT_SSE: float(squared.sum(1).mean())}


def posterior(vae, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A VAE's q(z|x) on ``X``: ``(mu, logvar)``, each ``(n, k)`` float64."""
    mean, var = vae.posterior(np.asarray(X, np.float32))
    return mean.astype(np.float64), np.log(var.astype(np.float64))


def kl_to_standard_normal(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL(N(mu, exp(logvar)) || N(0, 1)) per example and dimension, ``(n, k)`` nats: a factorised
    prior's KL per dimension (other priors' KL: the estimator's ``kl_to_prior``)."""
    return 0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)


#: up to this many features the reference PCA eigendecomposes the covariance (d x d) instead of taking
#: the SVD of the data: exact too, and ~10x faster for n >> d (60,000 x 784 Fashion-MNIST)
COVARIANCE_EIGH_MAX_FEATURES = 2048


def reference_pca(k: int, random_state=0, n_features: int | None = None) -> PCA:
    """PCA(k) with an exact solver: sklearn's default picks a randomized one for mid-sized data, whose
    subspace was measured 0.44 degrees off the exact one (4,000 x 784 MNIST rows, k = 16).

    ``n_features`` (when known) picks the faster exact solver: the covariance's eigendecomposition up
    to ``COVARIANCE_EIGH_MAX_FEATURES``, the full SVD beyond (where a d x d matrix would be large).
    """
    small = n_features is not None and n_features <= COVARIANCE_EIGH_MAX_FEATURES
    return PCA(n_components=int(k), svd_solver="covariance_eigh" if small else "full", random_state=random_state)


def comparison_model(kind: str, k: int, *, random_state=0, epochs="auto", linear_epochs="auto",
                     n_features: int | None = None):
    """One unfitted comparison model of ``kind`` (``KINDS``) at latent size ``k``.

    Every model takes its defaults (the VAE's likelihood follows the data, ``likelihood="auto"``; the
    linear AE keeps its tuned schedule). ``epochs`` applies to the deep AE and the VAE, ``linear_epochs``
    to the linear AE: "auto" (each one's data-scaled budget, training/budget.py) or a number, for a
    time-boxed run. ``n_features`` of the data to come picks PCA's exact solver (``reference_pca``).
    """
    from ..errors import LatentspaceError
    from ..estimators import ESTIMATORS, VAE, AutoEncoder, LinearAutoEncoder

    if kind == "pca":
        return reference_pca(k, random_state, n_features)
    if kind == "linear":
        return LinearAutoEncoder(k, epochs=linear_epochs, random_state=random_state)
    if kind == "ae":
        return AutoEncoder(k, epochs=epochs, random_state=random_state)
    if kind == "vae":
        return VAE(k, epochs=epochs, random_state=random_state)
    if kind in BY_NAME:
        return ESTIMATORS[BY_NAME[kind].class_name](k, epochs=epochs, random_state=random_state)
    raise LatentspaceError(f"unknown model {kind!r}; choose from pca, {', '.join(BY_NAME)}")


def comparison_models(k: int, *, random_state=0, epochs="auto", kinds=KINDS,
                      n_features: int | None = None) -> dict[str, object]:
    """``comparison_model`` of every kind in ``kinds``, by display name (PCA first)."""
    return {display_name(kind, k): comparison_model(kind, k, random_state=random_state, epochs=epochs,
                                                    n_features=n_features)
            for kind in kinds}
