"""Held-out measurements of a fitted estimator, collected as a flat dict of numbers.

``evaluation_metrics`` is what ``latentspace evaluate`` prints and stores; other measurements are
merged into the same dict by the command (one function per family, each returning a dict).
"""

from __future__ import annotations

import time

import numpy as np

from .protocol import HELDOUT_MSE, has_posterior, heldout_mse, reconstruction_metrics


def likelihood_metrics(vae, X: np.ndarray, iw_samples: int = 1000, random_state: int = 0) -> dict[str, float]:
    """-ELBO, the importance-weighted NLL with ``iw_samples`` samples (0: skip), active units; nats.

    Each NLL comes with the standard error of its mean over the examples of ``X``; the ELBO's draws
    are independent per example, so its standard error includes the Monte Carlo error.
    """
    elbo = vae.score_samples(X, random_state=random_state)
    metrics = {
        "neg_elbo": float(-elbo.mean()),
        "neg_elbo_stderr": float(elbo.std(ddof=1) / np.sqrt(len(elbo))) if len(elbo) > 1 else 0.0,
        "active_units": vae.count_active_units(X),
        "n_components": int(vae.n_components),
    }
    if iw_samples > 0:
        started = time.perf_counter()
        ll = vae.log_likelihood(X, k=iw_samples, random_state=random_state)
        metrics.update(
            iw_nll=float(-ll.mean()),
            iw_nll_stderr=float(ll.std(ddof=1) / np.sqrt(len(ll))) if len(ll) > 1 else 0.0,
            iw_samples=int(iw_samples),
            iw_seconds=time.perf_counter() - started,
        )
    return metrics


def evaluation_metrics(estimator, X: np.ndarray, iw_samples: int = 1000, random_state: int = 0) -> dict[str, float]:
    """Everything ``evaluate`` measures for one estimator on ``X`` ``(n, n_features)``."""
    metrics: dict[str, float] = {"n_examples": int(X.shape[0])}
    metrics.update(reconstruction_metrics(estimator, X))
    if has_posterior(estimator):
        metrics.update(likelihood_metrics(estimator, X, iw_samples, random_state))
    return metrics


def heldout_metrics(estimator, X: np.ndarray, y: np.ndarray | None = None) -> dict[str, float]:
    """What ``train`` prints and stores in a run's metrics.json: held-out error and score on ``X`` (a
    conditional model's: of the joint model, labels not given; and with the labels ``y``, how often it
    names the class, ``predict``)."""
    metrics = {HELDOUT_MSE: heldout_mse(estimator, X)}
    if getattr(estimator, "needs_labels", False) and y is not None:
        metrics["test_class_accuracy"] = float(np.mean(estimator.predict(X) == y))
    if has_posterior(estimator):
        metrics["test_neg_elbo"] = -estimator.score(X)
        metrics["active_units"] = float(estimator.active_units_)
    else:
        metrics["test_score"] = estimator.score(X)
    return metrics
