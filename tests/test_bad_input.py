"""Bad input gets one clear ValueError naming the problem, from fit and from transform."""

import numpy as np
import pytest

from latentspace import VAE, AutoEncoder, LatentspaceError


@pytest.fixture(scope="module")
def fitted(digits):
    return AutoEncoder(n_components=2, epochs=1, random_state=0).fit(digits.X_train[:200])


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), "infinite"),
        (np.empty((0, 5)), "0 sample"),
        (np.arange(5.0), "2D array"),
        (np.array([["a", "b"], ["c", "d"]]), "could not convert"),
    ],
)
def test_fit_rejects(X, message):
    with pytest.raises(ValueError, match=message):
        AutoEncoder(epochs=1).fit(X)


def test_transform_rejects_wrong_feature_count(fitted):
    with pytest.raises(ValueError, match="X has 63 features, but AutoEncoder is expecting 64"):
        fitted.transform(np.zeros((3, 63)))


def test_transform_rejects_nan(fitted):
    X = np.zeros((3, 64))
    X[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.transform(X)


def test_inverse_transform_rejects_wrong_code_size(fitted):
    with pytest.raises(LatentspaceError, match="codes have 3 columns but the model has 2"):
        fitted.inverse_transform(np.zeros((4, 3)))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_components": 0}, r"n_components must be an int in \[1, "),
        ({"epochs": 0}, r"epochs must be an int in \[1, "),
        ({"scaling": "log"}, "scaling must be one of 'none', .*got 'log'"),
        ({"activation": "swish!"}, "activation must be one of .*got 'swish!'"),
        ({"loss": "hinge"}, "loss must be one of 'mse', 'bce', got 'hinge'"),
        ({"lr_schedule": "steps"}, "lr_schedule must be one of 'constant', 'cosine', 'warmup_cosine', got 'steps'"),
    ],
)
def test_bad_parameters(params, message, digits):
    with pytest.raises(ValueError, match=message):
        AutoEncoder(**params).fit(digits.X_train[:50])


def test_bernoulli_vae_rejects_data_outside_unit_interval(digits):
    with pytest.raises(LatentspaceError, match=r"needs data in \[0, 1\]"):
        VAE(epochs=1, likelihood="bernoulli").fit(digits.X_train[:50] * 16)
    # ...and min-max scaling makes the same data acceptable.
    VAE(epochs=1, scaling="minmax").fit(digits.X_train[:50] * 16)
