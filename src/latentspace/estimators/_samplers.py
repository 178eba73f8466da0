"""Ways to draw latent codes for generation, for every model: its prior, and densities fitted ex post
to its training codes.

- ``prior``: the model's own p(z) (N(0, I), a VampPrior's mixture, ...); only models with a prior;
- ``gaussian``: a full-covariance Gaussian fitted to the training codes;
- ``box``: uniform over the bounding box of the training codes ("random codes");
- ``gmm``: a full-covariance Gaussian mixture fitted to the training codes, its number of components
  chosen on held-out likelihood (the ex-post density estimation of Ghosh et al. 2020, which fixed 10);
- ``two-stage``: a second, small VAE trained on the training codes, sampled through its own prior
  (Dai & Wipf 2019).

Every density that is a Gaussian mixture is a :class:`GaussianMixtureDensity`: what the explorer
draws and samples in the page, and what the analysis reads log p(z) from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp
from sklearn.mixture import GaussianMixture

from ..errors import LatentspaceError
from ..training.threads import single_blas_thread

SAMPLERS = ("prior", "gaussian", "box", "gmm", "two-stage")
#: the numbers of mixture components ``gmm`` tries: those with more free parameters than codes to fit are
#: skipped (k = 16 dimensions, 4,096 codes: up to 16 components)
GMM_CANDIDATES = (1, 2, 4, 8, 16, 32, 64)
#: share of the codes held out to choose the number of components
GMM_HELDOUT = 0.2
#: the two-stage sampler's second VAE: its widths and optimiser steps (Dai & Wipf use 3 x 1024; the
#: codes are low-dimensional and a few thousand rows). Its budget matters: on a digits VAE (k = 16, four
#: active units) 1,500 steps left it underfitted (KL 1.8 nats, decoded codes with half the codes'
#: spread; samples' Fréchet 14.0), 6,000 steps gave 5.3 (the first stage's prior: 4.4); docs/families.md
SECOND_STAGE_HIDDEN = (256, 256)
SECOND_STAGE_STEPS = 4000


@dataclass(frozen=True)
class GaussianMixtureDensity:
    """sum_j w_j N(mean_j, cov_j) on codes: ``weights`` ``(K,)``, ``means`` ``(K, k)``, ``covs`` ``(K, k, k)``."""

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    @classmethod
    def diagonal(cls, log_weights: np.ndarray, means: np.ndarray, logvars: np.ndarray) -> GaussianMixtureDensity:
        """From a mixture of diagonal Gaussians (a model's prior: ``Prior.components``)."""
        variances = np.exp(np.asarray(logvars, np.float64))
        covs = np.einsum("kd,de->kde", variances, np.eye(variances.shape[1]))
        return cls(np.exp(np.asarray(log_weights, np.float64)), np.asarray(means, np.float64), covs)

    @property
    def n_components(self) -> int:
        return len(self.weights)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws ``(n, k)``, in random order."""
        which = rng.choice(self.n_components, size=n, p=self.weights / self.weights.sum())
        chol = np.linalg.cholesky(self.covs + 1e-12 * np.eye(self.means.shape[1]))
        eps = rng.standard_normal((n, self.means.shape[1]))
        return self.means[which] + np.einsum("nij,nj->ni", chol[which], eps)

    def log_pdf(self, Z: np.ndarray) -> np.ndarray:
        """log density of codes ``Z`` ``(n, k)``: ``(n,)`` nats."""
        Z = np.asarray(Z, np.float64)
        k = Z.shape[1]
        chol = np.linalg.cholesky(self.covs + 1e-12 * np.eye(k))
        per_component = []
        for w, mean, L in zip(self.weights, self.means, chol):
            solved = np.linalg.solve(L, (Z - mean).T)
            log_det = 2.0 * np.log(np.diag(L)).sum()
            per_component.append(math.log(w) - 0.5 * ((solved**2).sum(0) + log_det + k * math.log(2 * math.pi)))
        return logsumexp(np.stack(per_component), axis=0)

    def marginal(self, center: np.ndarray, axes: np.ndarray) -> list[dict]:
        """The mixture's marginal on the plane ``u = (z - center) @ axes.T``: ``[{w, mean, cov}]``."""
        return [{"w": float(w), "mean": (axes @ (m - center)).tolist(), "cov": (axes @ c @ axes.T).tolist()}
                for w, m, c in zip(self.weights, self.means, self.covs)]


def gaussian_density(codes: np.ndarray) -> GaussianMixtureDensity:
    """One full-covariance Gaussian fitted to ``codes`` ``(m, k)``."""
    k = codes.shape[1]
    cov = np.atleast_2d(np.cov(codes, rowvar=False)) + 1e-9 * np.eye(k)
    return GaussianMixtureDensity(np.ones(1), codes.mean(0)[None], cov[None])


def fit_code_mixture(codes: np.ndarray, seed: int = 0) -> GaussianMixtureDensity:
    """The ``gmm`` sampler's density: full-covariance mixtures of ``GMM_CANDIDATES`` components are fitted
    to 80% of ``codes`` ``(m, k)`` and scored on the other 20%; the smallest whose held-out mean
    log-likelihood is within one standard error of the best (more components that fit the noise do not
    count) is refitted to all of them; never more components than distinct codes (k-means, which starts
    the mixture, cannot place more). Its size is the density's ``n_components``."""
    with single_blas_thread():  # EM's small (k, k) products: 3.8x faster on one BLAS thread at k = 16
        return _fit_code_mixture(np.asarray(codes, np.float64), seed)


def _fit_code_mixture(codes: np.ndarray, seed: int) -> GaussianMixtureDensity:
    order = np.random.default_rng(seed).permutation(len(codes))
    n_held = round(GMM_HELDOUT * len(codes))
    fit_part, held = codes[order[n_held:]], codes[order[:n_held]]
    k = codes.shape[1]
    distinct = len(np.unique(fit_part, axis=0))  # codes of a collapsed model are a few points, repeated
    candidates = [c for c in GMM_CANDIDATES
                  if c == 1 or (c * (k + k * (k + 1) / 2 + 1) <= len(fit_part) and c <= distinct)]
    chosen = 1
    if n_held >= 2:
        scores = {c: mixture(c, seed).fit(fit_part).score_samples(held) for c in candidates}
        best = max(scores, key=lambda c: scores[c].mean())
        stderr = scores[best].std(ddof=1) / math.sqrt(n_held)
        chosen = min(c for c in candidates if scores[c].mean() >= scores[best].mean() - stderr)
    gmm = mixture(min(chosen, len(codes)), seed).fit(codes)
    return GaussianMixtureDensity(gmm.weights_, gmm.means_, gmm.covariances_)


def mixture(n_components: int, seed: int) -> GaussianMixture:
    return GaussianMixture(n_components=n_components, covariance_type="full", reg_covar=1e-6, random_state=seed)


@dataclass(frozen=True)
class BoxDensity:
    """Uniform over the box ``[low, high]`` ``(k,)`` each."""

    low: np.ndarray
    high: np.ndarray

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=(n, len(self.low)))


class TwoStageSampler:
    """A small VAE trained on the codes ``(m, k)`` (Dai & Wipf's second stage); its prior samples,
    decoded, are codes of the first model."""

    def __init__(self, codes: np.ndarray, seed: int = 0):
        from ._vae import VAE

        steps_per_epoch = max(1, math.ceil(0.9 * len(codes) / 128))
        self.vae = VAE(codes.shape[1], hidden=SECOND_STAGE_HIDDEN, likelihood="gaussian_calibrated", scaling="standard",
                       epochs=max(20, SECOND_STAGE_STEPS // steps_per_epoch), patience=None, random_state=seed)
        self.vae.fit(np.asarray(codes, np.float32))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(self.vae.sample(n, random_state=int(rng.integers(2**31 - 1))), np.float64)


def fit_sampler(sampler: str, codes: np.ndarray, seed: int, estimator=None):
    """The density of ``sampler`` fitted to training ``codes`` ``(m, k)`` (``prior``: ``estimator``'s own):
    an object whose ``sample(n, rng)`` draws ``(n, k)`` codes."""
    codes = np.asarray(codes, np.float64)
    if sampler == "prior":
        if not getattr(estimator, "has_prior", False):
            raise LatentspaceError(f"a {type(estimator).__name__} has no prior; choose another sampler")
        return estimator.prior_density()
    if sampler == "gaussian":
        return gaussian_density(codes)
    if sampler == "box":
        return BoxDensity(codes.min(0), codes.max(0))
    if sampler == "gmm":
        return fit_code_mixture(codes, seed)
    if sampler == "two-stage":
        return TwoStageSampler(codes, seed)
    raise LatentspaceError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")


def keeps_codes(estimator) -> bool:
    """Whether ``estimator`` keeps its training codes and the samplers fitted to them (ours, fitted)."""
    return getattr(estimator, "training_codes_", None) is not None and hasattr(estimator, "code_sampler")


def sampler_density(sampler: str, codes: np.ndarray, seed: int, estimator=None):
    """The density ``sampler`` draws from: the one ``estimator`` keeps for it (its ``code_sampler``, fitted
    once to its training codes and shared by its samples, its explorer and its regularity numbers), else,
    for a model that keeps no training codes (scikit-learn's PCA, a model saved by an older version), one
    fitted to ``codes`` with ``seed`` (:func:`fit_sampler`)."""
    if keeps_codes(estimator):
        return estimator.code_sampler(sampler)
    return fit_sampler(sampler, codes, seed, estimator)


def draw_codes(sampler: str, codes: np.ndarray, n: int, rng: np.random.Generator, estimator=None) -> np.ndarray:
    """``n`` latent codes ``(n, k)`` from ``sampler``'s density (:func:`sampler_density`), a fitted one
    seeded from ``rng``."""
    seed = int(rng.integers(2**31 - 1))  # drawn either way, so that what follows from rng does not depend on it
    return sampler_density(sampler, codes, seed, estimator).sample(n, rng)


def samplers_for(estimator) -> tuple[str, ...]:
    """The samplers that make sense for ``estimator``: the prior only for a model that has one."""
    return SAMPLERS if getattr(estimator, "has_prior", False) else SAMPLERS[1:]
