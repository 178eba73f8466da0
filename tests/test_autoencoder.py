"""The deep AE on real data: it compresses better than PCA, reproducibly, and round-trips to disk."""

import numpy as np
import pytest
import torch
from conftest import mse
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from latentspace import VAE, AutoEncoder, LinearAutoEncoder, load


@pytest.fixture(scope="module")
def fitted_ae(digits):
    return AutoEncoder(n_components=2, hidden=(128, 32), epochs=60, patience=None, random_state=0).fit(digits.X_train)


def test_deep_ae_beats_pca_at_two_components(digits, fitted_ae):
    pca = PCA(2).fit(digits.X_train)
    pca_error = mse(pca.inverse_transform(pca.transform(digits.X_test)), digits.X_test)
    ae_error = mse(fitted_ae.inverse_transform(fitted_ae.transform(digits.X_test)), digits.X_test)
    # The claim: a nonlinear AE compresses further at the same code size.
    assert ae_error < 0.9 * pca_error, (ae_error, pca_error)


def test_transform_shapes_and_reconstruct(digits, fitted_ae):
    Z = fitted_ae.transform(digits.X_test)
    assert Z.shape == (len(digits.X_test), 2)
    X_hat = fitted_ae.inverse_transform(Z)
    assert X_hat.shape == digits.X_test.shape
    np.testing.assert_allclose(fitted_ae.reconstruct(digits.X_test), X_hat, rtol=1e-5, atol=1e-6)


def test_score_is_negative_reconstruction_error(digits, fitted_ae):
    per_example = ((fitted_ae.reconstruct(digits.X_test) - digits.X_test) ** 2).sum(axis=1)
    np.testing.assert_allclose(fitted_ae.score_samples(digits.X_test), -per_example, rtol=1e-4)
    assert fitted_ae.score(digits.X_test) == pytest.approx(-per_example.mean(), rel=1e-4)


def test_history_records_every_term_per_epoch(fitted_ae):
    assert len(fitted_ae.history_) == fitted_ae.n_iter_ == 60
    first, last = fitted_ae.history_[0], fitted_ae.history_[-1]
    assert {"train_loss", "train_recon", "val_loss", "val_recon"} <= set(first)
    assert last["train_loss"] < 0.5 * first["train_loss"]


@pytest.mark.parametrize("cls", [AutoEncoder, LinearAutoEncoder, VAE])
def test_same_random_state_gives_identical_weights(cls, small_digits):
    X, _ = small_digits
    a = cls(n_components=3, epochs=3, random_state=7).fit(X)
    b = cls(n_components=3, epochs=3, random_state=7).fit(X)
    c = cls(n_components=3, epochs=3, random_state=8).fit(X)
    sa, sb, sc = a.model_.state_dict(), b.model_.state_dict(), c.model_.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_fitting_does_not_touch_global_rng(small_digits):
    X, _ = small_digits
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    AutoEncoder(n_components=2, epochs=1, random_state=0).fit(X)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("cls", [AutoEncoder, LinearAutoEncoder, VAE])
def test_save_and_load_give_identical_outputs(cls, small_digits, tmp_path):
    X, X_test = small_digits
    est = cls(n_components=3, epochs=2, random_state=0).fit(X)
    est.save(tmp_path / "m")
    again = load(tmp_path / "m")
    assert type(again) is cls and again.get_params() == est.get_params()
    np.testing.assert_array_equal(again.transform(X_test), est.transform(X_test))
    np.testing.assert_array_equal(again.inverse_transform(est.transform(X_test)), est.reconstruct(X_test))
    assert again.history_ == est.history_


def test_float64_in_gives_float64_out(small_digits):
    X, X_test = small_digits
    est = AutoEncoder(n_components=2, epochs=1, random_state=0).fit(X.astype(np.float64))
    assert est.transform(X_test.astype(np.float64)).dtype == np.float64
    assert est.transform(X_test.astype(np.float32)).dtype == np.float32
    assert est.inverse_transform(np.zeros((2, 2))).dtype == np.float64


def test_scaling_is_kept_with_the_model(small_digits, tmp_path):
    X, X_test = small_digits
    shifted = X * 100 + 5
    est = AutoEncoder(n_components=2, epochs=5, scaling="standard", random_state=0).fit(shifted)
    recon = est.reconstruct(X_test * 100 + 5)
    # Reconstructions come back in the data's own units, not the standardised ones.
    assert abs(recon.mean() - (X_test * 100 + 5).mean()) < 10
    est.save(tmp_path / "m")
    np.testing.assert_array_equal(load(tmp_path / "m").reconstruct(X_test), est.reconstruct(X_test))


def test_works_in_pipeline_and_grid_search(small_digits):
    X, _ = small_digits
    pipe = make_pipeline(MinMaxScaler(), AutoEncoder(epochs=40, random_state=0))
    search = GridSearchCV(pipe, {"autoencoder__n_components": [1, 4]}, cv=2).fit(X)
    # More components reconstruct better, so the search must pick 4.
    assert search.best_params_ == {"autoencoder__n_components": 4}
    assert search.transform(X).shape == (len(X), 4)


def test_pickle_round_trip(small_digits):
    import pickle

    X, X_test = small_digits
    est = AutoEncoder(n_components=2, epochs=1, random_state=0).fit(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(X_test), est.transform(X_test))


def test_early_stopping_restores_the_best_epoch(small_digits):
    X, _ = small_digits
    est = AutoEncoder(n_components=2, epochs=200, lr=3e-3, patience=3, random_state=0).fit(X)
    val = [r["val_loss"] for r in est.history_]
    assert est.n_iter_ < 200
    assert est.best_epoch_ == int(np.argmin(val)) + 1
