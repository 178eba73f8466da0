"""The linear autoencoder speaks PCA's vocabulary: each fitted attribute against sklearn's PCA on the
same digits, with the default training (no tuning for the test)."""

import numpy as np
import pytest
import scipy.linalg
from sklearn.decomposition import PCA

from latentspace import LatentspaceError, LinearAutoEncoder, load


@pytest.fixture(scope="module")
def pair(digits):
    """LinearAutoEncoder(16) with its defaults, and the exact PCA(16), on the same training rows."""
    X = digits.X_train.astype(np.float64)
    return LinearAutoEncoder(16, random_state=0).fit(X), PCA(16, svd_solver="full").fit(X)


def test_components_span_pcas_subspace_orthonormal_and_ordered(pair):
    model, pca = pair
    assert model.components_.shape == pca.components_.shape == (16, 64)
    np.testing.assert_allclose(model.components_ @ model.components_.T, np.eye(16), atol=1e-10)
    angles = np.degrees(scipy.linalg.subspace_angles(model.components_.T, pca.components_.T))
    assert angles.max() < 1.0, angles
    # ordered by explained variance, in PCA's sign convention: each row is PCA's own direction
    assert np.all(np.diff(model.explained_variance_) <= 0)
    assert np.sum(model.components_ * pca.components_, axis=1).min() > 0.999


def test_variances_and_singular_values_are_pcas(pair):
    model, pca = pair
    np.testing.assert_allclose(model.explained_variance_ratio_, pca.explained_variance_ratio_, atol=1e-3)
    np.testing.assert_allclose(model.explained_variance_, pca.explained_variance_, rtol=1e-3)
    np.testing.assert_allclose(model.singular_values_, pca.singular_values_, rtol=1e-3)
    assert model.noise_variance_ == pytest.approx(pca.noise_variance_, rel=1e-3)
    np.testing.assert_allclose(model.mean_, pca.mean_, atol=1e-9)
    assert model.n_components_ == 16 and model.n_samples_ == pca.n_samples_


def test_pcas_coordinates_from_the_attributes(pair, digits):
    model, pca = pair
    X = digits.X_test.astype(np.float64)
    ours = (X - model.mean_) @ model.components_.T
    assert np.abs(ours - pca.transform(X)).max() < 0.05 * np.abs(pca.transform(X)).max()


@pytest.mark.parametrize("spec", [0.5, 0.9, "mle"])
def test_n_components_as_a_fraction_or_mle_resolves_as_pcas(digits, spec):
    X = digits.X_train.astype(np.float64)
    model = LinearAutoEncoder(spec, epochs=2, random_state=0).fit(X)
    assert model.n_components_ == PCA(spec, svd_solver="full").fit(X).n_components_
    assert model.transform(X[:3]).shape == (3, model.n_components_)
    assert model.components_.shape == (model.n_components_, 64)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, "mle2", -3])
def test_bad_n_components_is_one_clear_error(digits, bad):
    with pytest.raises(LatentspaceError, match="n_components"):
        LinearAutoEncoder(bad).fit(digits.X_train)


def test_attributes_survive_save_and_load(pair, tmp_path):
    model, _ = pair
    model.save(tmp_path / "m")
    same = load(tmp_path / "m")
    for name in ("mean_", "components_", "explained_variance_", "explained_variance_ratio_", "singular_values_"):
        np.testing.assert_array_equal(getattr(same, name), getattr(model, name))
    assert same.noise_variance_ == model.noise_variance_ and same.n_components_ == 16


def test_fraction_model_saves_and_loads(digits, tmp_path):
    model = LinearAutoEncoder(0.9, epochs=2, random_state=0).fit(digits.X_train)
    model.save(tmp_path / "m")
    same = load(tmp_path / "m")
    assert same.n_components == 0.9 and same.n_components_ == model.n_components_
    np.testing.assert_array_equal(same.transform(digits.X_test), model.transform(digits.X_test))


def test_streamed_memmap_gets_the_attributes_of_its_own_subspace(digits, tmp_path):
    X = digits.X_train.astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    model = LinearAutoEncoder(4, epochs=2, random_state=0).fit(np.load(tmp_path / "X.npy", mmap_mode="r"))
    decoder = model.decoder_weight().astype(np.float64)
    assert np.degrees(scipy.linalg.subspace_angles(model.components_.T, decoder)).max() < 1e-4
    np.testing.assert_allclose(model.mean_, X.astype(np.float64).mean(0), atol=1e-6)
    centred = X.astype(np.float64) - X.mean(0)
    variances = np.var(centred @ model.components_.T, axis=0, ddof=1)
    np.testing.assert_allclose(model.explained_variance_, variances, rtol=1e-6)


def test_more_components_than_features_saves_and_loads(tmp_path):
    """k > n_features (the test matrix's "narrow" data): the decoder's column space has at most
    n_features dimensions, so components_ has that many rows, and the checkpoint reads back."""
    X = np.random.default_rng(0).normal(size=(120, 3)) @ np.array([[2.0, 0, 0], [0.5, 1, 0], [0, 0.2, 0.3]])
    model = LinearAutoEncoder(5, epochs=2, random_state=0).fit(X)
    assert model.components_.shape == (3, 3) and model.explained_variance_.shape == (3,)
    model.save(tmp_path / "m")
    same = load(tmp_path / "m")
    np.testing.assert_array_equal(same.components_, model.components_)
    np.testing.assert_array_equal(same.transform(X), model.transform(X))
