"""The linear autoencoder against PCA: the same subspace, in a basis of its own (the tutorial's claim, measured).

``compare_with_pca(model, X_train, X_test)`` fits PCA with the model's number of components on the same
training data and measures, on held-out data, how close the model comes. For a linear autoencoder it
also measures the geometry of the decoder: the principal angles between its column space and PCA's
subspace, how far its columns are from orthogonal, its singular values against the closed form of
Kunin et al. (2019) when it was trained with weight decay, and the principal directions recovered as
the decoder's left singular vectors. See docs/pca.md for the theory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields

import numpy as np
import scipy.linalg
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted

from ..errors import LatentspaceError
from .protocol import heldout_mse, reference_pca


#: PCA's held-out error below this share of the data's variance is 0 to rounding: no ratio to it is defined
EXACT = 1e-12


def ratio_to_pca(model_mse: float, pca_mse: float, variance_per_feature: float) -> float:
    """``model_mse / pca_mse``, or NaN where PCA reconstructs exactly (k at least the data's rank: its
    error is rounding, below ``EXACT`` of the data's mean variance per feature)."""
    return model_mse / pca_mse if pca_mse > EXACT * variance_per_feature else float("nan")


@dataclass
class PCAComparison:
    """One fitted model against PCA with the same number of components.

    MSEs are per feature (mean over examples and features). Fields from ``principal_angles_deg`` on
    are None for models that are not linear. The arrays at the end feed the figure and are left out
    of ``to_dict``: ``pca_components`` ``(k, n_features)``, ``decoder_columns`` and
    ``recovered_directions`` ``(n_features, k)``, all in data units.
    """

    model: str
    n_components: int
    n_features: int
    n_train: int
    n_test: int
    weight_decay: float
    linear: bool
    model_test_mse: float
    pca_test_mse: float
    #: model / PCA(k) held-out error: 1 is PCA's optimum, below 1 beats it (possible only off-sample or
    #: for non-linear models); NaN where PCA's error is 0 (held-out rows inside its subspace)
    test_mse_ratio: float
    model_train_mse: float
    pca_train_mse: float
    #: the sum of the discarded eigenvalues of the training covariance / n_features: PCA's train MSE
    #: must equal it (a check on PCA itself)
    pca_optimum_train_mse: float
    #: the k + 1 largest eigenvalues of the training covariance (divisor n); the gap between the k-th
    #: and (k+1)-th sets how sharply the subspace is determined and how fast gradient descent finds it
    pca_eigenvalues: list[float]
    model_fit_seconds: float | None
    pca_fit_seconds: float
    principal_angles_deg: list[float] | None = None
    #: largest |cosine| between two different decoder columns (0 for an orthogonal basis)
    max_abs_cos_between_columns: float | None = None
    #: condition number of the decoder's Gram matrix D^T D (1 for orthonormal columns)
    gram_condition_number: float | None = None
    decoder_singular_values: list[float] | None = None
    #: Kunin et al.'s closed form sqrt(max(0, 1 - weight_decay / (2 s_i))), s_i the covariance
    #: eigenvalues of the model's scaled training data; None without weight decay
    expected_singular_values: list[float] | None = None
    #: |cosine| between the decoder's i-th left singular vector and PCA's i-th component; meaningful
    #: with weight decay only (without it the basis inside the subspace is arbitrary)
    direction_abs_cos: list[float] | None = None
    pca_components: np.ndarray | None = field(default=None, repr=False)
    decoder_columns: np.ndarray | None = field(default=None, repr=False)
    recovered_directions: np.ndarray | None = field(default=None, repr=False)

    ARRAYS = ("pca_components", "decoder_columns", "recovered_directions")

    @property
    def max_principal_angle_deg(self) -> float | None:
        return None if self.principal_angles_deg is None else self.principal_angles_deg[0]

    def to_dict(self) -> dict:
        """Every scalar and list field (JSON-able); the figure's arrays are left out."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in self.ARRAYS}
        out["max_principal_angle_deg"] = self.max_principal_angle_deg
        return out

    def table(self) -> str:
        """A printable text table of the comparison."""
        k = self.n_components
        lines = [
            f"{self.model} vs PCA({k}): {self.n_train} train / {self.n_test} test examples, "
            f"{self.n_features} features, weight_decay={self.weight_decay:g}",
            row("held-out MSE/feature", f"model {self.model_test_mse:.6g}", f"PCA {self.pca_test_mse:.6g}",
                "ratio - (PCA's is 0)" if np.isnan(self.test_mse_ratio) else f"ratio {self.test_mse_ratio:.5f}"),
            row("train MSE/feature", f"model {self.model_train_mse:.6g}", f"PCA {self.pca_train_mse:.6g}",
                f"optimum {self.pca_optimum_train_mse:.6g}"),
            row("fit seconds", "model " + ("-" if self.model_fit_seconds is None else f"{self.model_fit_seconds:.2f}"),
                f"PCA {self.pca_fit_seconds:.3f}"),
            row(f"eigenvalues 1..{k + 1}", numbers(self.pca_eigenvalues, ".4g")),
        ]
        if self.linear:
            lines += [
                row("principal angles, deg", numbers(self.principal_angles_deg, ".3g")),
                row("decoder columns", f"max |cos| {self.max_abs_cos_between_columns:.4f}",
                    f"Gram condition {self.gram_condition_number:.4g}"),
                row("decoder singular values", numbers(self.decoder_singular_values, ".4f")),
            ]
            if self.expected_singular_values is not None:
                lines.append(row("expected (Kunin et al.)", numbers(self.expected_singular_values, ".4f")))
            note = "" if self.weight_decay > 0 else "  (arbitrary without weight decay)"
            lines.append(row("|cos| recovered vs PCA", numbers(self.direction_abs_cos, ".4f") + note))
        return "\n".join(lines)


def row(label: str, *cells: str) -> str:
    return f"  {label:<26}" + "   ".join(cells)


def numbers(values, spec: str, limit: int = 16) -> str:
    shown = " ".join(format(v, spec) for v in values[:limit])
    return shown + (f" ... ({len(values)} in all)" if len(values) > limit else "")


def is_linear(model) -> bool:
    """A decoder that is one affine map of the code (a LinearAutoEncoder with the squared error)."""
    return callable(getattr(model, "decoder_weight", None)) and getattr(model, "loss", "mse") == "mse"


@dataclass
class PCAReference:
    """PCA(k) fitted on one training set, with what every comparison against it reads: fitted once
    when several models of the same k are compared on the same data (``pca_reference``)."""

    pca: PCA
    fit_seconds: float
    eigenvalues: np.ndarray  # of the training data's covariance, largest first
    train_mse: float
    test_mse: float


def pca_reference(X_train: np.ndarray, X_test: np.ndarray, k: int, random_state: int = 0) -> PCAReference:
    """The exact PCA(k) of ``X_train`` ``(n_train, d)`` and its errors on both parts (float64 arrays)."""
    eigenvalues = covariance_eigenvalues(X_train)
    check_subspace_defined(eigenvalues, k, X_train.shape[0])
    started = time.perf_counter()
    pca = reference_pca(k, random_state, X_train.shape[1]).fit(X_train)
    seconds = time.perf_counter() - started
    return PCAReference(pca, seconds, eigenvalues, heldout_mse(pca, X_train), heldout_mse(pca, X_test))


def centred_rank(eigenvalues: np.ndarray) -> int:
    """How many directions the training data vary in: the covariance eigenvalues above rounding (those
    of an exactly flat direction come out near ``largest * n_features * eps``, not 0)."""
    largest = float(eigenvalues[0]) if len(eigenvalues) else 0.0
    return int(np.sum(eigenvalues > largest * len(eigenvalues) * 10 * np.finfo(np.float64).eps)) if largest > 0 else 0


def check_subspace_defined(eigenvalues: np.ndarray, k: int, n_train: int) -> None:
    """PCA's top-k subspace is one subspace only when the data vary in at least k directions; below that,
    its last directions are arbitrary and so would be every angle measured against them."""
    rank = centred_rank(eigenvalues)
    if rank == 0:
        raise LatentspaceError(f"the {n_train} training rows are all the same: there is no principal direction "
                               "to compare with; give data that vary")
    if rank < k:
        raise LatentspaceError(
            f"the {n_train} training rows vary in only {rank} direction(s) (their centred rank), so PCA's top-{k} "
            f"subspace is not defined; use n_components <= {rank}, or more (and more varied) rows")


def compare_with_pca(model, X_train, X_test, *, pca_random_state: int = 0,
                     reference: PCAReference | None = None) -> PCAComparison:
    """Measure a fitted estimator against PCA(k) fitted on ``X_train``, k = the model's ``n_components``.

    ``X_train`` ``(n_train, n_features)`` should be the data the model was fitted on, ``X_test``
    ``(n_test, n_features)`` held-out data. Linear autoencoders get the full comparison; other models
    (deep AE, VAE) get the reconstruction errors and their ratio to PCA's. ``reference``: the
    ``pca_reference`` of these very arrays, shared by the models compared on them (else fitted here).
    """
    check_is_fitted(model)
    X_train, X_test = check_pair(model, X_train, X_test)
    k = int(model.model_.n_latent)  # n_components may be PCA's fraction of variance, resolved at fit
    if not 1 <= k <= min(X_train.shape):
        raise LatentspaceError(f"n_components must be between 1 and min(n_train, n_features) = {min(X_train.shape)}, got {k}")
    if reference is None:
        reference = pca_reference(X_train, X_test, k, pca_random_state)
    elif reference.pca.n_components_ != k:
        raise LatentspaceError(f"the PCA reference has {reference.pca.n_components_} components, the model {k}")
    pca, eigenvalues = reference.pca, reference.eigenvalues
    pca_test, model_test = reference.test_mse, heldout_mse(model, X_test)
    result = PCAComparison(
        model=type(model).__name__,
        n_components=k,
        n_features=X_train.shape[1],
        n_train=X_train.shape[0],
        n_test=X_test.shape[0],
        weight_decay=float(getattr(model, "weight_decay", 0.0)),
        linear=is_linear(model),
        model_test_mse=model_test,
        pca_test_mse=pca_test,
        test_mse_ratio=ratio_to_pca(model_test, pca_test, eigenvalues.sum() / X_train.shape[1]),
        model_train_mse=heldout_mse(model, X_train),
        pca_train_mse=reference.train_mse,
        pca_optimum_train_mse=float(eigenvalues[k:].sum() / X_train.shape[1]),
        pca_eigenvalues=[float(v) for v in eigenvalues[: k + 1]],
        model_fit_seconds=fit_seconds(model),
        pca_fit_seconds=reference.fit_seconds,
    )
    if result.linear:
        add_decoder_geometry(result, model, pca, X_train)
    return result


def check_pair(model, X_train, X_test) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for name, X in (("X_train", X_train), ("X_test", X_test)):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise LatentspaceError(f"{name} must be a non-empty 2-D array, got shape {X.shape}")
        if X.shape[1] != model.n_features_in_:
            raise LatentspaceError(f"{name} has {X.shape[1]} features but the model has {model.n_features_in_}")
        if not np.isfinite(X).all():
            raise LatentspaceError(f"{name} has NaN or infinite values")
        arrays.append(X)
    return arrays[0], arrays[1]


def covariance_eigenvalues(X: np.ndarray) -> np.ndarray:
    """Eigenvalues of the covariance ``X_c^T X_c / n`` (divisor n, as the MSE uses), largest first."""
    centered = X - X.mean(axis=0)
    values = np.linalg.eigvalsh(centered.T @ centered / X.shape[0])[::-1]
    return np.clip(values, 0.0, None)


def fit_seconds(model) -> float | None:
    """Training-loop time from the model's history (None when it has none)."""
    history = getattr(model, "history_", None)
    if not history or "seconds" not in history[0]:
        return None
    return float(sum(record["seconds"] for record in history))


def add_decoder_geometry(result: PCAComparison, model, pca: PCA, X_train: np.ndarray) -> None:
    """Angles, orthogonality, singular values and recovered directions of a linear decoder."""
    decoder = model.decoder_weight(data_units=True).astype(np.float64)  # (n_features, k)
    pca_basis = pca.components_.T  # (n_features, k), orthonormal columns
    result.principal_angles_deg = [float(a) for a in np.degrees(scipy.linalg.subspace_angles(decoder, pca_basis))]
    result.max_abs_cos_between_columns = max_abs_cos(decoder)
    result.gram_condition_number = float(np.linalg.cond(decoder.T @ decoder))
    # Singular values in the model's own (scaled) units, where the closed form holds; directions in
    # data units, where PCA lives. With the default centring the two coincide.
    own_units = model.decoder_weight(data_units=False).astype(np.float64)
    result.decoder_singular_values = [float(s) for s in np.linalg.svd(own_units, compute_uv=False)]
    left = np.linalg.svd(decoder, full_matrices=False)[0]
    # Signs of singular vectors are arbitrary: align each with its PCA partner for display.
    signs = np.sign(np.sum(left * pca_basis, axis=0))
    recovered = left * np.where(signs == 0, 1.0, signs)
    result.direction_abs_cos = [float(c) for c in np.abs(np.sum(recovered * pca_basis, axis=0))]
    result.expected_singular_values = expected_singular_values(model, X_train)
    result.pca_components = pca.components_.copy()
    result.decoder_columns = decoder
    result.recovered_directions = recovered


def expected_singular_values(model, X_train: np.ndarray) -> list[float] | None:
    """Kunin et al. (2019): the decoder's singular values at the L2-regularised optimum.

    Their loss ||X - W2 W1 X||_F^2 + lam (||W1||_F^2 + ||W2||_F^2) (X: features x n) has its minima at
    W2 = U_k (I - lam Sigma_k^-2)^(1/2) O^T. This library minimises the batch mean of the summed
    squared error plus (weight_decay / 2) ||W||^2 (Adam's coupled decay adds weight_decay * w to the
    gradient), i.e. n times less, so lam = n * weight_decay / 2 and Sigma^2 = n * s with s the
    covariance eigenvalues: sigma_i = sqrt(max(0, 1 - weight_decay / (2 s_i))), in the model's
    scaled units.
    """
    decay = float(getattr(model, "weight_decay", 0.0))
    if decay <= 0:
        return None
    scaled = np.asarray(model._scale(X_train), dtype=np.float64)
    s = covariance_eigenvalues(scaled)[: int(model.model_.n_latent)]
    with np.errstate(divide="ignore"):
        shrink = np.where(s > 0, 1.0 - decay / (2.0 * s), 0.0)
    return [float(v) for v in np.sqrt(np.clip(shrink, 0.0, None))]


def max_abs_cos(columns: np.ndarray) -> float:
    """Largest |cosine| between two different columns of ``columns`` ``(n_features, k)``."""
    if columns.shape[1] < 2:
        return 0.0
    unit = columns / np.maximum(np.linalg.norm(columns, axis=0), 1e-300)
    cosines = np.abs(unit.T @ unit)
    np.fill_diagonal(cosines, 0.0)
    return float(cosines.max())
