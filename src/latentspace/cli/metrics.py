"""Held-out measurements printed by ``train`` and stored in a run's metrics.json."""

from __future__ import annotations

from ..analysis.heldout import reconstruction_metrics
from ..data import Dataset


def heldout_metrics(estimator, data: Dataset) -> dict[str, float]:
    X = data.X_test
    mse = reconstruction_metrics(estimator, X)["recon_mse_per_feature"]
    metrics = {"test_mse_per_feature": mse, "test_score": estimator.score(X)}
    if hasattr(estimator, "log_likelihood"):
        metrics["test_neg_elbo"] = -metrics.pop("test_score")
        metrics["active_units"] = float(estimator.active_units_)
    return metrics
