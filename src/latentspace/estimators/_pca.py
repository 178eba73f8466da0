"""PCA's vocabulary for a linear autoencoder: its subspace described the way ``sklearn.decomposition.PCA``
describes its own.

A linear autoencoder's decoder spans (at its optimum) PCA's subspace in a basis of its own, neither
orthogonal nor ordered. :func:`subspace_attributes` turns that span into PCA's fitted attributes: an
orthonormal basis of the decoder's column space, rotated within the subspace so that its rows are the
directions of decreasing variance of the training data, with the variances, their share of the total,
the singular values and the noise variance as PCA defines them (divisor ``n - 1``). Everything is
accumulated chunk by chunk in float64, so the same code serves arrays in memory and streamed data.

:func:`components_for` resolves ``n_components`` given as PCA's fraction of variance (``0.95``) or
``"mle"`` (Minka's estimate, scikit-learn's own implementation) from the training data's spectrum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.decomposition._pca import _infer_dimension  # Minka's MLE, as PCA(n_components="mle") uses it
from sklearn.utils.extmath import svd_flip

from .._files import check_allocation
from ..errors import LatentspaceError

#: The fitted attributes this module computes, in the order ``PCA`` documents them.
ARRAYS = ("mean_", "components_", "explained_variance_", "explained_variance_ratio_", "singular_values_")
SCALARS = ("noise_variance_", "n_samples_")


@dataclass
class Moments:
    """Of rows ``(n, d)``: their count, mean ``(d,)``, total variance (the trace of their covariance), and
    the covariance ``(p, p)`` of their projections ``rows @ project`` (of the rows themselves without a
    projection). Covariances have PCA's divisor ``n - 1``."""

    n: int
    mean: np.ndarray
    total_variance: float
    covariance: np.ndarray


def moments(chunks: Iterable[np.ndarray], project: np.ndarray | None = None) -> Moments:
    """One pass over ``chunks`` (each ``(m, d)``), in float64. Sums are taken about the first chunk's
    mean, so a large common offset does not cancel the variance's digits away."""
    n, shift, sums, squares, cross = 0, None, None, None, None
    for chunk in chunks:
        x = np.asarray(chunk, dtype=np.float64)
        if shift is None:
            shift = x.mean(axis=0)
            sums, squares = np.zeros_like(shift), np.zeros_like(shift)
        x = x - shift
        sums += x.sum(axis=0)
        squares += np.einsum("ij,ij->j", x, x)
        y = x if project is None else x @ project
        cross = y.T @ y if cross is None else cross + y.T @ y
        n += x.shape[0]
    if n == 0:
        raise LatentspaceError("PCA's statistics need at least one row, got none")
    mean, divisor = sums / n, max(n - 1, 1)  # mean about the shift; one row has zero variance
    total_variance = float(np.sum(squares - n * mean**2) / divisor)
    mean_y = mean if project is None else mean @ project
    covariance = (cross - n * np.outer(mean_y, mean_y)) / divisor
    return Moments(n, shift + mean, total_variance, covariance)


def components_for(spec, chunks: Iterable[np.ndarray], n_features: int) -> int:
    """``n_components`` as PCA resolves it from the data's spectrum: an int is itself; a fraction in
    (0, 1) is the fewest components whose explained variance exceeds it; "mle" is Minka's estimate."""
    if isinstance(spec, Integral):
        return int(spec)
    check_allocation(8 * n_features * n_features, f"the {n_features} x {n_features} covariance for n_components={spec!r}")
    stats = moments(chunks)
    spectrum = np.clip(np.linalg.eigvalsh(stats.covariance)[::-1], 0.0, None)
    if isinstance(spec, str):  # "mle", PCA's rule: needs more rows than features
        if stats.n < n_features:
            raise LatentspaceError(f"n_components='mle' needs at least as many rows as features "
                                   f"({stats.n} < {n_features}); give an int or a fraction")
        return max(1, int(_infer_dimension(spectrum, stats.n)))
    ratios = np.cumsum(spectrum) / max(float(spectrum.sum()), np.finfo(float).tiny)
    # PCA's rule: the fewest components whose cumulative ratio exceeds the fraction
    return int(np.searchsorted(ratios, float(spec), side="right") + 1)


@dataclass
class SubspaceAttributes:
    """PCA's fitted attributes of a subspace; see :func:`subspace_attributes`."""

    mean_: np.ndarray
    components_: np.ndarray
    explained_variance_: np.ndarray
    explained_variance_ratio_: np.ndarray
    singular_values_: np.ndarray
    noise_variance_: float
    n_samples_: int


def subspace_attributes(basis: np.ndarray, chunks: Iterable[np.ndarray]) -> SubspaceAttributes:
    """PCA's attributes for the column space of ``basis`` ``(d, k)`` over the rows of ``chunks``.

    ``components_`` ``(min(k, d), d)``: orthonormal rows spanning ``basis``'s columns, the eigenvectors of the
    data's covariance restricted to that span, by decreasing variance, signs as PCA's ``svd_flip``
    sets them (the largest entry of each row positive). ``explained_variance_`` are their variances;
    ``explained_variance_ratio_`` those over the data's total variance; ``singular_values_`` the
    centred data's norms along them; ``noise_variance_`` the mean variance left over, per remaining
    dimension of the ``min(n, d)`` PCA would have. When ``basis`` spans PCA's top-k subspace these are
    PCA's own numbers.
    """
    q, _ = np.linalg.qr(np.asarray(basis, dtype=np.float64))  # (d, k), orthonormal columns
    stats = moments(chunks, project=q)
    values, vectors = np.linalg.eigh(stats.covariance)
    order = np.argsort(values)[::-1]
    values, components = np.clip(values[order], 0.0, None), (q @ vectors[:, order]).T
    _, components = svd_flip(None, components, u_based_decision=False)
    k, d = components.shape
    rank = min(stats.n, d)
    left = max(stats.total_variance - float(values.sum()), 0.0)
    return SubspaceAttributes(
        mean_=stats.mean,
        components_=components,
        explained_variance_=values,
        explained_variance_ratio_=values / stats.total_variance if stats.total_variance > 0 else np.zeros(k),
        singular_values_=np.sqrt(values * max(stats.n - 1, 1)),
        noise_variance_=left / (rank - k) if k < rank else 0.0,
        n_samples_=stats.n,
    )
