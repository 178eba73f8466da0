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


#: float32's unit roundoff: the screening's error bound is a multiple of it
FLOAT32_ROUNDOFF = 2.0**-24


def _pairwise_min_ok(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> np.ndarray:
    """For each query ``(n_q, d)``, whether it lies within ``radii[j]`` of some ``centres[j]``: ``(n_q,)`` bool.

    Decided as exact float64 distances decide, at about half the cost of computing them all: every pair
    is screened in float32 (one product with a bias, ``2 q.c + r^2 - |c|^2 >= |q|^2``), with a margin that
    bounds float32's rounding, and only the queries the margin leaves undecided are measured in float64.
    On Fashion-MNIST's 10,000 held-out feature rows this was most of a precision/recall evaluation's time.
    """
    if queries.shape[0] == 0:
        return np.zeros(0, bool)
    shift = centres.mean(0)  # distances do not move; smaller norms make float32's margin narrower
    inside = _screen_in_float32(queries - shift, centres - shift, radii)
    undecided = np.flatnonzero(inside == UNDECIDED)
    inside[undecided] = _inside_in_float64(queries[undecided], centres, radii)
    return inside.astype(bool)


INSIDE, OUTSIDE, UNDECIDED = 1, 0, 2


def _screen_in_float32(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> np.ndarray:
    """``(n_q,)`` int8: INSIDE, OUTSIDE or UNDECIDED by float32 products and a bound on their rounding.

    With ``K = 2 (d + 8) u`` (u: float32's unit roundoff), the float32 value of ``2 q.c + r^2 - |c|^2 -
    |q|^2`` is within ``K (|q|^2 + |c|^2 + r^2)`` of the exact one (the rounding of the inputs, of a
    d-term dot product, of the bias and of the sum; twice the worst case): a query is surely inside where
    some centre's value clears that margin, surely outside where none comes within it.
    """
    c2, r2, q2 = (centres * centres).sum(1), radii * radii, (queries * queries).sum(1)
    squares = torch.cat([c2, r2, q2])
    if not (bool(squares.isfinite().all()) and float(squares.max()) <= 1e30):
        return np.full(queries.shape[0], UNDECIDED, np.int8)  # beyond float32's range: all in float64
    K = 2.0 * (queries.shape[1] + 8) * FLOAT32_ROUNDOFF
    sure_bias = (r2 - c2 - K * (c2 + r2)).float()  # (n_c,)
    maybe_bias = (2.0 * K * (c2 + r2)).float()  # what separates "maybe" from "surely"
    centres_t = centres.float().T.contiguous()
    verdict = []
    for start in range(0, queries.shape[0], CHUNK):
        q = queries[start : start + CHUNK]
        scores = torch.addmm(sure_bias, q.float(), centres_t, alpha=2.0)  # (chunk, n_c)
        qq = q2[start : start + CHUNK]
        sure = scores.amax(1).double() >= (1.0 + K) * qq
        maybe = scores.add_(maybe_bias).amax(1).double() >= (1.0 - K) * qq
        verdict.append(torch.where(sure, INSIDE, torch.where(maybe, UNDECIDED, OUTSIDE)).to(torch.int8))
    return torch.cat(verdict).numpy()


def _inside_in_float64(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> np.ndarray:
    """The undecided queries' distances, each from the differences themselves (no ``|q|^2 + |c|^2 - 2 q.c``,
    whose cancellation puts a duplicate row a little way off its twin and out of a zero-radius ball)."""
    inside = []
    for start in range(0, queries.shape[0], CHUNK):
        d = torch.cdist(queries[start : start + CHUNK], centres, compute_mode="donot_use_mm_for_euclid_dist")
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
