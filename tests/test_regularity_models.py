"""evaluate_regularity, the sweep and the memorising AE on digits: measured, compared, never hard-coded."""

import json
import math

import numpy as np
import pytest
from sklearn.decomposition import PCA

from latentspace import VAE, AutoEncoder
from latentspace.analysis import evaluate_regularity
from latentspace.analysis.memorize import run_memorization
from latentspace.analysis.sweep import latent_sweep
from latentspace.errors import LatentspaceError


@pytest.fixture(scope="module")
def ae(digits):
    return AutoEncoder(2, epochs=15, random_state=0).fit(digits.X_train)


@pytest.fixture(scope="module")
def vae(digits):
    return VAE(2, epochs=15, random_state=0).fit(digits.X_train)


def test_evaluate_regularity_keys_are_stable_and_values_json_finite(digits, features, ae, vae):
    ae_out = evaluate_regularity(ae, digits, n_samples=200, features=features)
    vae_out = evaluate_regularity(vae, digits, n_samples=200, features=features)
    json.dumps(ae_out), json.dumps(vae_out)
    assert ae_out["model_kind"] == "ae" and vae_out["model_kind"] == "vae"
    assert "sample_prior_frechet" not in ae_out and "sample_prior_frechet" in vae_out
    for sampler in ("gaussian", "box", "gmm"):
        assert {f"sample_{sampler}_frechet", f"holes_{sampler}_outside_data_manifold"} <= set(ae_out)
    assert set(ae_out) < set(vae_out)
    assert {"vae_mutual_information", "vae_marginal_kl", "vae_kl_dim_0", "vae_kl_dim_1"} <= set(vae_out)
    for out in (ae_out, vae_out):
        assert all(math.isfinite(v) for v in out.values() if isinstance(v, float))
        for key, value in out.items():
            if key.endswith(("_precision", "_recall", "_outside_data_manifold", "_outside_code_support")):
                assert 0.0 <= value <= 1.0, key
        assert out["interp_smoothness_ratio_median"] >= 1.0 - 1e-6  # triangle inequality
    # The KL decomposition adds up, and the mutual information respects its log N ceiling.
    assert vae_out["vae_average_kl"] == pytest.approx(vae_out["vae_mutual_information"] + vae_out["vae_marginal_kl"])
    assert vae_out["vae_mutual_information"] <= vae_out["vae_mutual_information_max"] + 4 * vae_out["vae_marginal_kl_stderr"]


def test_evaluate_regularity_is_reproducible(digits, features, ae):
    a = evaluate_regularity(ae, digits, n_samples=100, random_state=3, features=features)
    b = evaluate_regularity(ae, digits, n_samples=100, random_state=3, features=features)
    assert a == b


def test_pca_is_measured_as_a_model_and_its_paths_are_straight(digits, features):
    out = evaluate_regularity(PCA(4).fit(digits.X_train), digits, n_samples=100, features=features)
    assert out["model_kind"] == "pca"
    assert out["interp_smoothness_ratio_median"] == pytest.approx(1.0, abs=1e-4)  # a linear decoder


def test_reconstructions_beat_noise_codes(digits, features, ae):
    """A box far larger than the codes' decodes off the manifold: the metric notices the difference."""
    out = evaluate_regularity(ae, digits, n_samples=200, features=features)
    codes = ae.transform(digits.X_train)
    rng = np.random.default_rng(0)
    far = ae.inverse_transform(rng.uniform(codes.min(0) * 20, codes.max(0) * 20, size=(200, 2)).astype(np.float32))
    from latentspace.analysis.regularity import Judge

    far_scores = Judge(features, digits.X_test).score("far", far)
    assert far_scores["far_precision"] < out["recon_precision"]
    assert far_scores["far_frechet"] > out["recon_frechet"]


def test_evaluate_regularity_rejects_too_few_samples(digits, features, ae):
    with pytest.raises(LatentspaceError):
        evaluate_regularity(ae, digits, n_samples=2, features=features)


def test_latent_sweep_rows_and_pca_error_falls_with_k(digits, features):
    rows = latent_sweep(digits, ks=(1, 4), models=("pca", "ae"), epochs=3, n_samples=100, features=features)
    assert [(r["model"], r["k"]) for r in rows] == [("pca", 1), ("ae", 1), ("pca", 4), ("ae", 4)]
    pca = {r["k"]: r["heldout_mse_per_feature"] for r in rows if r["model"] == "pca"}
    assert pca[4] < pca[1]
    with pytest.raises(LatentspaceError):
        latent_sweep(digits, ks=(0,), features=features)


def test_memorising_ae_memorises_its_small_set(digits, features):
    result = run_memorization(digits, n_train=12, hidden=(128, 128), epochs=600, features=features, include_vae=False)
    line = result.lines["ae"]
    assert line.codes.shape == (12,) and np.all(np.diff(line.codes) >= 0)
    # Memorised, not learned: its own examples come back far better than a trivial mean image would.
    mean_image_mse = float(np.mean((digits.X_train - digits.X_train.mean(0)) ** 2))
    assert line.train_mse_per_feature < 0.25 * mean_image_mse
    assert line.strip.shape[1] == digits.n_features and line.strip_is_training.sum() >= 2
    row = result.table()[0]
    assert {"midpoint_frechet", "midpoint_precision", "recon_frechet", "recon_precision"} <= set(row)
    # Codes past the ends of the line decode off the data manifold; measured against its own reconstructions.
    assert row["beyond_precision"] < row["recon_precision"] - 0.3
    assert row["beyond_frechet"] > 3 * row["recon_frechet"]
