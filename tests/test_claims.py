"""The claims' judges on measured tables: the verdict follows the numbers, and a claim the data leave
nothing to test says so instead of dividing by zero."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from latentspace import AutoEncoder
from latentspace.analysis.claims import DOES_NOT_APPLY, FAILS, HOLDS, deep_ae_beats_pca
from latentspace.analysis.pca import ratio_to_pca
from latentspace.analysis.protocol import HELDOUT_MSE, heldout_mse


def table(pca_mse: float, deep_mse: float, variance: float = 1.0) -> dict:
    return {"reconstruction": [
        {"model": "PCA(1)", "k": 1, HELDOUT_MSE: pca_mse, "ratio_to_pca": 1.0},
        {"model": "deep AE", "k": 1, HELDOUT_MSE: deep_mse, "ratio_to_pca": ratio_to_pca(deep_mse, pca_mse, variance)},
    ]}


@pytest.mark.parametrize(("deep", "verdict"), [(0.5, HOLDS), (2.0, FAILS)])
def test_the_verdict_follows_the_ratio(deep, verdict):
    assert deep_ae_beats_pca(table(1.0, deep)).verdict == verdict


def test_pca_exact_on_one_feature_leaves_nothing_to_beat():
    """One feature, k = 1: PCA's held-out error is rounding, so no ratio to it means anything."""
    rng = np.random.default_rng(0)
    X_train, X_test = rng.normal(3.0, 2.0, size=(200, 1)), rng.normal(3.0, 2.0, size=(50, 1))
    pca_mse = heldout_mse(PCA(1).fit(X_train), X_test)
    deep_mse = heldout_mse(AutoEncoder(1, hidden=(8,), epochs=2, random_state=0).fit(X_train), X_test)
    assert np.isnan(ratio_to_pca(deep_mse, pca_mse, float(X_test.var())))
    verdict = deep_ae_beats_pca(table(pca_mse, deep_mse, float(X_test.var())))
    assert verdict.verdict == DOES_NOT_APPLY and "reconstructs the held-out data exactly" in verdict.evidence
    assert verdict.line().startswith("DOES NOT APPLY: a non-linear autoencoder")
