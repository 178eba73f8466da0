"""Latent-size sweep: PCA, linear AE, deep AE and VAE at each k, on held-out data.

The tutorial's 1-D vs 2-D example made real: for each k, held-out reconstruction error and the quality
of generated samples (VAE: its prior; the others: a Gaussian fitted to their training codes, and the
Gaussian mixture), all in one feature space so rows compare.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..data import Dataset
from ..errors import LatentspaceError
from ..training.side_by_side import as_finished, auto_workers, light_steps
from .features import FeatureExtractor, feature_space
from .protocol import (
    HELDOUT_MSE,
    KINDS,
    comparison_model,
    mean_squared_error,
    reconstruct,
)
from .regularity import Judge, sample_quality, training_codes

DEFAULT_KS = (1, 2, 4, 8, 16, 32)
SWEEP_MODELS = KINDS


def sweep_row(name: str, k: int, estimator, dataset: Dataset, judge: Judge, n_samples: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    X_test = np.asarray(dataset.X_test, np.float32)
    recon = reconstruct(estimator, X_test)
    codes = training_codes(estimator, dataset, rng)
    sampler = "prior" if name == "vae" else "gaussian"
    main = sample_quality(estimator, sampler, codes, judge, n_samples, rng)
    gmm = sample_quality(estimator, "gmm", codes, judge, n_samples, rng)
    return {
        "model": name,
        "k": k,
        HELDOUT_MSE: mean_squared_error(recon, X_test),
        "recon_frechet": judge.frechet(recon),
        "sampler": sampler,
        "sample_frechet": main[f"sample_{sampler}_frechet"],
        "sample_precision": main[f"sample_{sampler}_precision"],
        "sample_recall": main[f"sample_{sampler}_recall"],
        "gmm_frechet": gmm["sample_gmm_frechet"],
        "gmm_precision": gmm["sample_gmm_precision"],
        "gmm_recall": gmm["sample_gmm_recall"],
    }


@dataclass
class _SweepJob:
    """What every row of one sweep shares; sent once to each worker of ``side_by_side``."""

    dataset: Dataset
    features: FeatureExtractor
    epochs: int | str | Mapping[str, int | str]
    linear_epochs: int | str
    n_samples: int
    random_state: int
    #: built once where the sweep starts (the demo's is already there: ``Judge.of`` keeps the last one)
    #: and sent with the job, rather than in every worker (2.6 s each on Fashion-MNIST's 10,000 rows)
    judge: Judge | None = None

    def model(self, name: str, k: int):
        own_epochs = self.epochs.get(name, "auto") if isinstance(self.epochs, Mapping) else self.epochs
        return comparison_model(name, k, random_state=self.random_state, epochs=own_epochs,
                                linear_epochs=self.linear_epochs, n_features=self.dataset.n_features)


def _sweep_task(job: _SweepJob, task: tuple[str, int]) -> dict:
    """One row: fit ``name`` at latent size ``k``, then measure it."""
    name, k = task
    if job.judge is None:
        job.judge = Judge.of(job.features, job.dataset.X_test)
    started = time.perf_counter()
    estimator = job.model(name, k).fit(job.dataset.X_train)
    fit_seconds = time.perf_counter() - started
    row = sweep_row(name, k, estimator, job.dataset, job.judge, job.n_samples, job.random_state)
    row["fit_seconds"] = fit_seconds
    row["epochs"] = getattr(estimator, "n_iter_", None)  # None for PCA
    return row


def sweep_costs(job: _SweepJob, tasks: Sequence[tuple[str, int]]) -> list[float]:
    """Each row's training in light steps (``training.side_by_side.light_steps``)."""
    n_train, n_features = len(job.dataset.X_train), job.dataset.n_features
    return [light_steps(job.model(name, k), n_train, n_features) for name, k in tasks]


def sweep_workers(job: _SweepJob, tasks: Sequence[tuple[str, int]], costs: Sequence[float] | None = None) -> int:
    """Processes for ``workers="auto"``: ``training.side_by_side.auto_workers`` of the rows' training
    (``costs``: ``sweep_costs``, computed here when not given), each worker holding a copy of the data."""
    data_bytes = np.asarray(job.dataset.X_train).nbytes + np.asarray(job.dataset.X_test).nbytes
    return auto_workers(sweep_costs(job, tasks) if costs is None else costs, data_bytes)


def latent_sweep(
    dataset: Dataset,
    ks: Sequence[int] = DEFAULT_KS,
    *,
    models: Sequence[str] = SWEEP_MODELS,
    epochs: int | str | Mapping[str, int | str] = "auto",
    linear_epochs: int | str = "auto",
    n_samples: int = 1000,
    random_state: int = 0,
    features: FeatureExtractor | None = None,
    progress: Callable[[dict], None] | None = None,
    workers: int | str = "auto",
) -> list[dict]:
    """One row per (model, k): held-out MSE per feature, Fréchet distances, precision and recall.

    Every model is the protocol's ``comparison_model`` (exact PCA, the estimators' defaults).
    ``epochs`` applies to the deep AE and the VAE (one value, or a mapping from "ae"/"vae" to each one's),
    ``linear_epochs`` to the linear AE ("auto": each one's data-scaled budget). ``progress`` is called with
    each finished row, in the order they finish (side by side, the longest fits start first). ``workers``:
    processes that fit and measure rows side by side
    (``training.side_by_side``: the same fits, Fréchet distances equal to ~1e-7 as numpy's BLAS rounds by
    its thread count), or "auto" (``sweep_workers``). More than one spawns processes; from a script that
    computes outside ``if __name__ == "__main__":`` the rows are made here instead (a ``OneProcessWarning``).
    """
    return start_sweep(dataset, ks, models=models, epochs=epochs, linear_epochs=linear_epochs, n_samples=n_samples,
                       random_state=random_state, features=features, workers=workers).rows(progress)


@dataclass
class SweepRun:
    """A sweep begun (``start_sweep``): its rows in worker processes, or made here when they are read."""

    tasks: list[tuple[str, int]]  # (model, k) of each row
    finished: Iterator[tuple[int, dict]]  # (index into tasks, row) as each is done

    def rows(self, progress: Callable[[dict], None] | None = None) -> list[dict]:
        """Every row, in the order of ``tasks``; ``progress`` is called with each as it arrives."""
        rows: list[dict] = [{} for _ in self.tasks]
        for index, row in self.finished:
            rows[index] = row
            if progress is not None:
                progress(row)
        return rows


def start_sweep(
    dataset: Dataset,
    ks: Sequence[int] = DEFAULT_KS,
    *,
    models: Sequence[str] = SWEEP_MODELS,
    epochs: int | str | Mapping[str, int | str] = "auto",
    linear_epochs: int | str = "auto",
    n_samples: int = 1000,
    random_state: int = 0,
    features: FeatureExtractor | None = None,
    workers: int | str = "auto",
) -> SweepRun:
    """``latent_sweep``'s rows, begun: handed to worker processes now where they go side by side (they
    train while the caller does other work: the demo begins its sweep before its first stage); made here,
    one by one, when ``SweepRun.rows`` reads them otherwise. Bad arguments are refused here."""
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 1 or max(ks) > dataset.n_features:
        raise LatentspaceError(f"every k must be in 1..{dataset.n_features}, got {ks}")
    for name in models:
        if name not in SWEEP_MODELS:
            raise LatentspaceError(f"unknown model {name!r}; choose from {', '.join(SWEEP_MODELS)}")
    if workers != "auto" and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise LatentspaceError(f"workers must be a positive integer or 'auto', got {workers!r}")
    features = features or feature_space(dataset)
    job = _SweepJob(dataset, features, epochs, linear_epochs, n_samples, random_state,
                    judge=Judge.of(features, dataset.X_test))
    tasks = [(name, k) for k in ks for name in models]
    costs = sweep_costs(job, tasks)
    if workers == "auto":
        workers = sweep_workers(job, tasks, costs)
    return SweepRun(tasks, as_finished(_sweep_task, job, tasks, workers, costs))
