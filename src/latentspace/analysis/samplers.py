"""Ways to draw latent codes for generation: the VAE's prior and ex-post densities fitted to codes.

A deterministic AE has no prior, so "sampling an AE" needs a density over its latent space. How well
that works depends on both the space and the density; offering several samplers separates the two:

- ``prior``: N(0, I), the VAE's prior (meaningful only for a VAE);
- ``gaussian``: a full-covariance Gaussian fitted to the training codes;
- ``box``: uniform over the bounding box of the training codes ("random codes");
- ``gmm10``: a 10-component full-covariance Gaussian mixture fitted to the training codes (the
  ex-post density estimation of Ghosh et al. 2020, "From variational to deterministic autoencoders").
"""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture

from ..errors import LatentspaceError

SAMPLERS = ("prior", "gaussian", "box", "gmm10")
GMM_COMPONENTS = 10


def is_vae(estimator) -> bool:
    from ..estimators import VAE

    return isinstance(estimator, VAE)


def samplers_for(estimator) -> tuple[str, ...]:
    """The samplers that make sense for ``estimator``: the prior only for a VAE."""
    return SAMPLERS if is_vae(estimator) else SAMPLERS[1:]


def draw_codes(sampler: str, codes: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` latent codes ``(n, k)`` from ``sampler``, fitted where needed to training ``codes`` ``(m, k)``."""
    codes = np.asarray(codes, np.float64)
    k = codes.shape[1]
    if sampler == "prior":
        return rng.standard_normal((n, k))
    if sampler == "gaussian":
        mean = codes.mean(0)
        cov = np.atleast_2d(np.cov(codes, rowvar=False)) + 1e-9 * np.eye(k)
        return rng.multivariate_normal(mean, cov, size=n, method="eigh")
    if sampler == "box":
        return rng.uniform(codes.min(0), codes.max(0), size=(n, k))
    if sampler == "gmm10":
        gmm = fit_code_mixture(codes, int(rng.integers(2**31 - 1)))
        samples, _ = gmm.sample(n)  # grouped by component; order does not matter to the metrics
        return samples
    raise LatentspaceError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")


def fit_code_mixture(codes: np.ndarray, seed: int) -> GaussianMixture:
    """The ``gmm10`` sampler's density: a full-covariance mixture of up to 10 Gaussians fitted to ``codes`` ``(m, k)``."""
    codes = np.asarray(codes, np.float64)
    return GaussianMixture(
        n_components=min(GMM_COMPONENTS, codes.shape[0]), covariance_type="full", reg_covar=1e-6, random_state=seed,
    ).fit(codes)
