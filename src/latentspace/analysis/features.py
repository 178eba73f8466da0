"""The feature space in which generated samples are judged (Fréchet distance, precision/recall).

A small MLP classifier trained by the library on the data set's labels; its penultimate layer (after
the nonlinearity) is the feature space. Without labels, the top principal components of the training
data. This is *not* Inception: numbers computed here compare models on the same data set and the same
feature space, and nothing else.

The fitted feature map is cached on disk, keyed by a fingerprint of the training arrays and the
feature config, as ``weights.safetensors`` + ``config.json`` (never pickle) under
``$LATENTSPACE_CACHE/features/<fingerprint>/`` (default ``~/.cache/latentspace``).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn
from torch.nn import functional as F

from .._files import atomic_write_bytes, atomic_write_json
from ..data import Dataset
from ..errors import LatentspaceError
from ..nn.mlp import init_parameters

FEATURES_FORMAT_VERSION = 1
CHUNK = 8192


@dataclass(frozen=True)
class FeatureConfig:
    """How the feature map is trained. Part of the cache key: change any field and it is refitted."""

    # One wide hidden layer: deeper, narrower penultimate layers were measured to be so invariant
    # that uniform noise landed inside the real data's k-NN balls (precision 0.3-0.4 on digits);
    # with one 256-wide layer noise scores precision ~0 while held-out data scores ~0.93.
    hidden: tuple[int, ...] = (256,)
    epochs: int = 0  # 0: chosen from the data size (about 3,000 optimiser steps, at least 3 epochs)
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    pca_components: int = 32  # used only when the data set has no labels

    def epochs_for(self, n_train: int) -> int:
        if self.epochs > 0:
            return self.epochs
        steps_per_epoch = max(1, -(-n_train // self.batch_size))
        return int(min(100, max(3, round(3000 / steps_per_epoch))))


def default_cache_dir() -> Path:
    return Path(os.environ.get("LATENTSPACE_CACHE") or Path.home() / ".cache" / "latentspace")


def fingerprint(dataset: Dataset, config: FeatureConfig) -> str:
    """SHA-256 (first 24 hex digits) of the training arrays, their shapes/dtypes and the config."""
    h = hashlib.sha256()
    for array in (dataset.X_train, dataset.y_train):
        if array is None:
            h.update(b"none")
            continue
        array = np.ascontiguousarray(array)
        h.update(f"{array.dtype.str}{array.shape}".encode())
        h.update(array.tobytes())
    h.update(json.dumps({**asdict(config), "format": FEATURES_FORMAT_VERSION}, sort_keys=True).encode())
    return h.hexdigest()[:24]


class FeatureExtractor:
    """A fitted feature map ``(n, n_features) -> (n, dim)``; ``kind`` is "classifier" or "pca"."""

    def __init__(self, kind: str, tensors: dict[str, torch.Tensor], meta: dict):
        self.kind, self.meta = kind, meta
        self.n_features_in = int(meta["n_features_in"])
        if kind == "classifier":
            self.net = build_classifier(self.n_features_in, tuple(meta["hidden"]), int(meta["n_classes"]))
            self.net.load_state_dict(tensors, strict=True)
            self.net.eval()
        else:
            self.mean, self.components = tensors["mean"], tensors["components"]

    @property
    def name(self) -> str:
        """Which feature space, for output: e.g. 'classifier-mlp-64' (not Inception)."""
        return f"classifier-mlp-{self.dim}" if self.kind == "classifier" else f"pca-{self.dim}"

    @property
    def dim(self) -> int:
        if self.kind == "classifier":
            return int(self.meta["hidden"][-1])
        return int(self.components.shape[0])

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.transform(X)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Features of ``X`` ``(n, n_features)``: ``(n, dim)`` float64."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features_in:
            raise LatentspaceError(f"feature map expects (n, {self.n_features_in}) arrays, got shape {X.shape}")
        out = []
        with torch.inference_mode():
            for start in range(0, X.shape[0], CHUNK):
                x = torch.from_numpy(np.ascontiguousarray(X[start : start + CHUNK]))
                if self.kind == "classifier":
                    out.append(penultimate(self.net, x).numpy())
                else:
                    out.append(((x - self.mean) @ self.components.T).numpy())
        return np.concatenate(out).astype(np.float64) if out else np.zeros((0, self.dim))


def build_classifier(n_features: int, hidden: tuple[int, ...], n_classes: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    widths = (n_features, *hidden)
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    layers.append(nn.Linear(widths[-1], n_classes))
    return nn.Sequential(*layers)


def penultimate(net: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """Activations after the last hidden layer's ReLU, ``(n, hidden[-1])``."""
    return net[:-1](x)


def train_classifier(X: np.ndarray, y: np.ndarray, config: FeatureConfig) -> tuple[nn.Sequential, dict]:
    classes = np.unique(y)
    if classes.size < 2:
        raise LatentspaceError("the feature classifier needs at least two classes in y_train")
    y_index = np.searchsorted(classes, y)
    generator = torch.Generator().manual_seed(config.seed)
    net = build_classifier(X.shape[1], config.hidden, classes.size)
    init_parameters(net, generator)
    Xt, yt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)), torch.from_numpy(y_index.astype(np.int64))
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    net.train()
    for _ in range(config.epochs_for(X.shape[0])):
        order = torch.randperm(Xt.shape[0], generator=generator)
        for start in range(0, Xt.shape[0], config.batch_size):
            idx = order[start : start + config.batch_size]
            loss = F.cross_entropy(net(Xt[idx]), yt[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    net.eval()
    meta = {"n_classes": int(classes.size), "classes": classes.tolist()}
    return net, meta


def classifier_accuracy(extractor: FeatureExtractor, X: np.ndarray, y: np.ndarray) -> float:
    classes = np.asarray(extractor.meta["classes"])
    with torch.inference_mode():
        logits = extractor.net(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
    return float(np.mean(classes[logits.argmax(1).numpy()] == y))


def fit_pca_features(X: np.ndarray, config: FeatureConfig) -> dict[str, torch.Tensor]:
    k = int(min(config.pca_components, X.shape[1], max(1, X.shape[0] - 1)))
    mean = X.mean(axis=0, dtype=np.float64)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    return {
        "mean": torch.from_numpy(mean.astype(np.float32)),
        "components": torch.from_numpy(np.ascontiguousarray(vt[:k], dtype=np.float32)),
    }


def fit_features(dataset: Dataset, config: FeatureConfig) -> tuple[str, dict[str, torch.Tensor], dict]:
    X = np.asarray(dataset.X_train, dtype=np.float32)
    meta = {"n_features_in": int(X.shape[1]), "hidden": list(config.hidden), "config": asdict(config)}
    if dataset.y_train is None:
        return "pca", fit_pca_features(X, config), meta
    net, extra = train_classifier(X, np.asarray(dataset.y_train), config)
    return "classifier", {k: v.detach().contiguous() for k, v in net.state_dict().items()}, {**meta, **extra}


def feature_space(
    dataset: Dataset, *, config: FeatureConfig | None = None, cache_dir: str | Path | None = None, use_cache: bool = True
) -> FeatureExtractor:
    """The feature map for ``dataset``: loaded from the cache if fitted before, else fitted and cached."""
    config = config or FeatureConfig()
    key = fingerprint(dataset, config)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = folder / "features" / key
    if use_cache:
        cached = read_cached(folder)
        if cached is not None:
            return cached
    kind, tensors, meta = fit_features(dataset, config)
    meta = {**meta, "kind": kind, "fingerprint": key, "dataset": dataset.name, "format_version": FEATURES_FORMAT_VERSION}
    extractor = FeatureExtractor(kind, tensors, meta)
    if kind == "classifier" and dataset.y_test is not None:
        extractor.meta["test_accuracy"] = classifier_accuracy(extractor, dataset.X_test, dataset.y_test)
    if use_cache:
        try:
            atomic_write_bytes(folder / "weights.safetensors", st_save(tensors))
            atomic_write_json(folder / "config.json", extractor.meta)
        except OSError:
            pass  # a read-only cache only costs a refit next time
    return extractor


def read_cached(folder: Path) -> FeatureExtractor | None:
    """The cached feature map in ``folder``, or None if absent or unreadable (then it is refitted)."""
    try:
        meta = json.loads((folder / "config.json").read_text())
        tensors = st_load((folder / "weights.safetensors").read_bytes())
        return FeatureExtractor(meta["kind"], tensors, meta)
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError):
        return None
