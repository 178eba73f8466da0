"""The memorising autoencoder (the tutorial's section 1.3), made real and measured.

A high-capacity AE with a 1-D latent space, trained on a small set until it reconstructs it almost
exactly, spreads the training codes on a line. Decoding points *between* neighbouring codes, and
*beyond* the ends of the line, shows whether the space around them means anything. A VAE of the same
size, trained the same way, stands beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data import Dataset
from ..errors import LatentspaceError
from ..training.side_by_side import fit_side_by_side
from .features import FeatureExtractor, feature_space
from .protocol import decode, encode, mean_squared_error
from .regularity import Judge

STRIP_CODES = 8  # consecutive training codes shown in the strip
STRIP_STEPS = 4  # points per gap between them (the first is the training code itself)


@dataclass
class ModelLine:
    """What one model does on and between its training codes (all distances in data space)."""

    model: str
    train_mse_per_feature: float
    codes: np.ndarray  # (n_train,) sorted 1-D codes of the training examples
    recon: dict[str, float]  # recon_frechet/precision/recall of the training reconstructions
    midpoints: dict[str, float]  # midpoint_frechet/precision/recall between neighbouring codes
    beyond: dict[str, float]  # beyond_frechet/precision/recall: codes past the ends of the line
    recon_nearest_distance: float  # mean distance of a reconstruction to its nearest held-out example
    midpoint_nearest_distance: float  # the same for decoded midpoints
    strip: np.ndarray  # (n_strip, n_features) decoded points along the line
    strip_codes: np.ndarray  # (n_strip,)
    strip_is_training: np.ndarray  # (n_strip,) bool: the point is a training code


@dataclass
class MemorizationResult:
    n_train: int
    image_shape: tuple[int, ...] | None
    lines: dict[str, ModelLine] = field(default_factory=dict)

    def table(self) -> list[dict]:
        """One row per model: the numbers, no arrays."""
        rows = []
        for name, line in self.lines.items():
            rows.append({
                "model": name,
                "n_train": self.n_train,
                "train_mse_per_feature": line.train_mse_per_feature,
                **line.recon,
                **line.midpoints,
                **line.beyond,
                "recon_nearest_distance": line.recon_nearest_distance,
                "midpoint_nearest_distance": line.midpoint_nearest_distance,
                "code_min": float(line.codes.min()),
                "code_max": float(line.codes.max()),
            })
        return rows


def nearest_distance(X: np.ndarray, reference: np.ndarray) -> float:
    """Mean over rows of X of the Euclidean distance to the nearest reference row."""
    import torch

    d = torch.cdist(torch.from_numpy(np.asarray(X, np.float64)), torch.from_numpy(np.asarray(reference, np.float64)))
    return float(d.min(1).values.mean())


def strip_along_line(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the strip: STRIP_CODES consecutive sorted codes from the middle, STRIP_STEPS per gap."""
    start = max(0, len(codes) // 2 - STRIP_CODES // 2)
    window = codes[start : start + STRIP_CODES]
    points, is_training = [], []
    for lo, hi in zip(window[:-1], window[1:]):
        for t in np.linspace(0.0, 1.0, STRIP_STEPS, endpoint=False):
            points.append(lo + t * (hi - lo))
            is_training.append(t == 0.0)
    points.append(window[-1])
    is_training.append(True)
    return np.asarray(points), np.asarray(is_training)


def beyond_codes(codes: np.ndarray) -> np.ndarray:
    """As many codes as there are gaps, past both ends of the sorted ``codes``, 1, 2, ... mean gaps out."""
    gap = float(np.mean(np.diff(codes))) if len(codes) > 1 else 1.0
    steps = np.arange(1, (len(codes) - 1) // 2 + 2) * gap
    return np.concatenate([codes[0] - steps, codes[-1] + steps])


def measure_line(name: str, estimator, X_small: np.ndarray, judge: Judge, X_reference: np.ndarray) -> ModelLine:
    codes = encode(estimator, X_small)[:, 0]
    order = np.sort(codes)
    recon = decode(estimator, codes[:, None])
    mids = decode(estimator, ((order[:-1] + order[1:]) / 2)[:, None])
    strip_codes, is_training = strip_along_line(order)
    recon_scores = judge.score("recon", recon)
    mid_scores = judge.score("midpoint", mids)
    beyond_scores = judge.score("beyond", decode(estimator, beyond_codes(order)[:, None]))
    return ModelLine(
        model=name,
        train_mse_per_feature=mean_squared_error(recon, X_small),
        codes=order,
        recon=recon_scores,
        midpoints=mid_scores,
        beyond=beyond_scores,
        recon_nearest_distance=nearest_distance(recon, X_reference),
        midpoint_nearest_distance=nearest_distance(mids, X_reference),
        strip=decode(estimator, strip_codes[:, None]),
        strip_codes=strip_codes,
        strip_is_training=is_training,
    )


@dataclass
class MemorizationFits:
    """The training examples a memorisation measures, and its models' fits (``start_memorization``)."""

    X_small: np.ndarray  # (n_train, n_features)
    names: list[str]
    fitted: Iterator[tuple[Any, float]]  # (fitted model, seconds) in the order of ``names``


def start_memorization(
    dataset: Dataset,
    *,
    n_train: int = 50,
    hidden: tuple[int, ...] = (256, 256, 256),
    epochs: int = 3000,
    lr: float = 1e-3,
    random_state: int = 0,
    include_vae: bool = True,
) -> MemorizationFits:
    """``n_train`` seeded training examples and the fits of a 1-D-latent AE (and a same-size VAE) on them,
    begun side by side (``training.side_by_side.fit_side_by_side``)."""
    from ..estimators import VAE, AutoEncoder

    available = dataset.X_train.shape[0]
    if available < 3:
        raise LatentspaceError(f"the data set has {available} training examples; memorisation needs at least 3")
    if not 3 <= int(n_train) <= available:
        raise LatentspaceError(f"n_train must be between 3 and {available} (the training examples), got {n_train}")
    rng = np.random.default_rng(random_state)
    X_small = dataset.X_train[np.sort(rng.choice(dataset.X_train.shape[0], int(n_train), replace=False))]
    common = dict(
        n_components=1, hidden=tuple(hidden), epochs=int(epochs), batch_size=int(n_train), lr=lr,
        validation_fraction=0.0, lr_schedule="cosine", random_state=random_state,
    )
    models = {"ae": AutoEncoder(**common)}
    if include_vae:
        # Its likelihood follows the data (likelihood="auto"), as everywhere; no KL warm-up, so that it
        # trains exactly as the AE beside it does.
        models["vae"] = VAE(**common, warmup_epochs=0)
    return MemorizationFits(X_small, list(models), fit_side_by_side(list(models.values()), X_small))


def measure_memorization(fits: MemorizationFits, dataset: Dataset,
                         features: FeatureExtractor | None = None) -> MemorizationResult:
    """Each fitted model's line: midpoints and reconstructions judged against all of ``dataset.X_test``
    (the data manifold), in the feature space of ``features`` (default: ``feature_space(dataset)``), and
    by the distance in data space to the nearest held-out example."""
    judge = Judge.of(features or feature_space(dataset), dataset.X_test)
    result = MemorizationResult(len(fits.X_small), dataset.image_shape)
    for name, (model, _) in zip(fits.names, fits.fitted):
        result.lines[name] = measure_line(name, model, fits.X_small, judge, dataset.X_test)
    return result


def run_memorization(
    dataset: Dataset,
    *,
    n_train: int = 50,
    hidden: tuple[int, ...] = (256, 256, 256),
    epochs: int = 3000,
    lr: float = 1e-3,
    random_state: int = 0,
    features: FeatureExtractor | None = None,
    include_vae: bool = True,
) -> MemorizationResult:
    """Train a 1-D-latent AE (and a same-size VAE) on ``n_train`` training examples; measure the line
    (``start_memorization``, then ``measure_memorization``)."""
    fits = start_memorization(dataset, n_train=n_train, hidden=hidden, epochs=epochs, lr=lr,
                              random_state=random_state, include_vae=include_vae)
    return measure_memorization(fits, dataset, features)
