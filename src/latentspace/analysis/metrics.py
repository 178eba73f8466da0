"""Sample-quality metrics on feature vectors: Fréchet distance and improved precision/recall.

Both take feature arrays ``(n, d)`` (see ``features``). The Fréchet distance is the FID formula
applied to *our* feature space, not Inception's: compare its values only between models judged in the
same feature space on the same data set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import LatentspaceError

PR_NEIGHBOURS = 3
CHUNK = 2048


def _check_features(*arrays: np.ndarray, min_rows: int = 2) -> None:
    dims = {a.shape[1] if a.ndim == 2 else None for a in arrays}
    if None in dims or len(dims) != 1:
        raise LatentspaceError(f"feature arrays must be 2-D with equal widths, got {[a.shape for a in arrays]}")
    for a in arrays:
        if a.shape[0] < min_rows:
            raise LatentspaceError(f"need at least {min_rows} feature rows, got {a.shape[0]}")
        if not np.all(np.isfinite(a)):
            raise LatentspaceError("feature arrays contain NaN or infinite values")


def _sqrtm_psd(S: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(S)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


@dataclass(frozen=True)
class FeatureGaussian:
    """A Gaussian fitted to feature rows ``(n, d)``, with what the Fréchet distance needs of it: kept
    by whoever scores many sample sets against one reference (the square root of its covariance, an
    eigendecomposition, was most of a regularity evaluation's time when redone per sample set)."""

    mean: np.ndarray  # (d,)
    cov: np.ndarray  # (d, d)
    cov_root: np.ndarray  # (d, d), the PSD square root of cov

    @classmethod
    def of(cls, features: np.ndarray) -> FeatureGaussian:
        a = np.asarray(features, np.float64)
        _check_features(a)
        cov = np.atleast_2d(np.cov(a, rowvar=False))  # (1, 1) for one feature, not a scalar
        return cls(a.mean(0), cov, _sqrtm_psd(cov))

    def frechet_distance(self, features: np.ndarray) -> float:
        """The Fréchet distance from this Gaussian to the one fitted to ``features`` ``(n, d)``."""
        b = np.asarray(features, np.float64)
        _check_features(b)
        if b.shape[1] != self.mean.shape[0]:
            raise LatentspaceError(f"feature arrays must have equal widths, got {self.mean.shape[0]} and {b.shape[1]}")
        mu_b, S_b = b.mean(0), np.atleast_2d(np.cov(b, rowvar=False))
        cross = np.linalg.eigvalsh(self.cov_root @ S_b @ self.cov_root)
        trace_sqrt = float(np.sum(np.sqrt(np.clip(cross, 0.0, None))))
        value = float(np.sum((self.mean - mu_b) ** 2) + np.trace(self.cov) + np.trace(S_b) - 2.0 * trace_sqrt)
        return max(value, 0.0)


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets ``(n_a, d)``, ``(n_b, d)``.

    ``||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)``. The trace of the square root is
    computed from the eigenvalues of the symmetric matrix ``S_a^1/2 S_b S_a^1/2`` (clipped at 0), which
    stays real and stable where ``scipy.linalg.sqrtm(S_a @ S_b)`` can return complex noise. The
    estimate is biased upward for small n (it is not 0 for two finite samples of one distribution).
    """
    return FeatureGaussian.of(features_a).frechet_distance(features_b)  # each checks its own rows


def _pairwise_min_ok(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> np.ndarray:
    """For each query, whether it lies within ``radii[j]`` of some ``centres[j]``: ``(n_q,)`` bool."""
    inside = []
    for start in range(0, queries.shape[0], CHUNK):
        d = torch.cdist(queries[start : start + CHUNK], centres)
        inside.append((d <= radii[None, :]).any(1))
    return torch.cat(inside).numpy() if inside else np.zeros(0, bool)


def knn_radii(features: np.ndarray, k: int = PR_NEIGHBOURS) -> np.ndarray:
    """Distance from each row to its ``k``-th nearest other row: ``(n,)``."""
    x = torch.from_numpy(np.asarray(features, np.float64))
    if x.shape[0] <= k:
        raise LatentspaceError(f"need more than k={k} rows for k-NN radii, got {x.shape[0]}")
    radii = []
    for start in range(0, x.shape[0], CHUNK):
        d = torch.cdist(x[start : start + CHUNK], x)
        radii.append(d.kthvalue(k + 1, dim=1).values)  # the 1st smallest is the row itself (0)
    return torch.cat(radii).numpy()


@dataclass
class Manifold:
    """A set of feature vectors with k-NN balls around each: the estimated support of a distribution."""

    features: np.ndarray
    radii: np.ndarray

    @classmethod
    def of(cls, features: np.ndarray, k: int = PR_NEIGHBOURS) -> "Manifold":
        features = np.asarray(features, np.float64)
        return cls(features, knn_radii(features, k))

    def contains(self, queries: np.ndarray) -> np.ndarray:
        """Whether each query ``(n, d)`` falls inside some ball: ``(n,)`` bool."""
        q = torch.from_numpy(np.asarray(queries, np.float64))
        return _pairwise_min_ok(q, torch.from_numpy(self.features), torch.from_numpy(self.radii))


def precision_recall(
    real_features: np.ndarray, fake_features: np.ndarray, k: int = PR_NEIGHBOURS, *, real_manifold: Manifold | None = None
) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with ``k``-NN balls.

    precision: share of fake rows inside the real manifold (union of balls around real rows with
    radius = distance to their k-th nearest real neighbour); recall: share of real rows inside the fake
    manifold. ``real_manifold`` may be passed to reuse the real balls across calls.
    """
    real, fake = np.asarray(real_features, np.float64), np.asarray(fake_features, np.float64)
    _check_features(real, fake, min_rows=k + 1)
    real_manifold = real_manifold or Manifold.of(real, k)
    precision = float(np.mean(real_manifold.contains(fake)))
    recall = float(np.mean(Manifold.of(fake, k).contains(real)))
    return precision, recall
