"""The claims' judges on measured tables: the verdict follows the numbers, and a claim the data leave
nothing to test says so instead of dividing by zero."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from latentspace import AutoEncoder
from latentspace.analysis.claims import (
    DOES_NOT_APPLY,
    FAILS,
    HOLDS,
    HOLES,
    deep_ae_beats_pca,
    regulariser_fills_the_holes,
)
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


def holes_table(ae_gaussian: float, ae_gmm: float, **regularised: float) -> dict:
    """The stage's sample table: the plain AE's Gaussian and mixture, each family's own sampler; the
    Fréchet distances follow the holes (they are quoted, not judged)."""
    row = lambda model, sampler, regulariser, holes: {"model": model, "sampler": sampler, "regulariser": regulariser,
                                                      "frechet": 10 * holes, HOLES: holes}
    rows = [row("deep AE", "gaussian", "none", ae_gaussian), row("deep AE", "gmm", "none", ae_gmm)]
    rows += [row(name, "prior", "KL", holes) for name, holes in regularised.items()]
    return {"regulariser_samples": rows}


@pytest.mark.parametrize(("table", "verdict"), [
    (holes_table(0.15, 0.09, VAE=0.04, VAMP=0.02), HOLDS),
    (holes_table(0.15, 0.03, VAE=0.04, VAMP=0.02), "holds only against a Gaussian over the AE's codes"),
    (holes_table(0.15, 0.09, VAE=0.20, VAMP=0.02), "holds only for VAMP"),
    (holes_table(0.15, 0.09, VAE=0.20, VAMP=0.15), FAILS),  # a tie is not fewer
])
def test_the_holes_verdict_follows_the_share_of_codes_off_the_support(table, verdict):
    found = regulariser_fills_the_holes(table)
    assert found.verdict == verdict
    assert "deep AE gaussian 15.0% (1.5)" in found.evidence and "VAMP prior" in found.evidence
    assert found.evidence.split("fewest holes: ")[1].startswith("VAMP")
    if verdict.startswith("holds only against"):
        assert "deep AE gmm 3.0% (0.3)" in found.evidence
        assert found.evidence.endswith("but the AE's own gmm sampler puts no more codes off than VAE")
    assert found.line().startswith(verdict.upper() + ": a regulariser fills the autoencoder's holes")


def test_no_holes_verdict_without_the_plain_ae_or_a_regularised_family():
    assert regulariser_fills_the_holes({}) is None
    only_ae = holes_table(0.15, 0.09)
    assert regulariser_fills_the_holes(only_ae) is None
    without_gaussian = {"regulariser_samples": [r for r in holes_table(0.15, 0.09, VAE=0.04)["regulariser_samples"]
                                                if r["sampler"] != "gaussian"]}
    assert regulariser_fills_the_holes(without_gaussian) is None
