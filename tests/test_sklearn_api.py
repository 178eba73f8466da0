"""set_output, get_feature_names_out and warm_start: what a scikit-learn user reaches for next."""

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

from latentspace import VAE, AutoEncoder, LatentspaceError

pd = pytest.importorskip("pandas")


def test_feature_names_out(small_digits):
    X, _ = small_digits
    vae = VAE(3, epochs=1, random_state=0).fit(X)
    assert list(vae.get_feature_names_out()) == ["latent0", "latent1", "latent2"]


def test_a_vae_fitted_on_a_data_frame_checks_itself_with_its_column_names(small_digits):
    import warnings

    import pandas as pd

    X, _ = small_digits
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(X.shape[1])])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*feature names")  # sklearn's, were the names dropped
        VAE(2, epochs=1, random_state=0).fit(frame)


def test_set_output_pandas_in_a_pipeline_with_a_column_transformer(digits):
    pixels = [f"px{i}" for i in range(64)]
    frame = pd.DataFrame(digits.X_train[:300] * 16, columns=pixels)
    frame["label"] = digits.y_train[:300].astype(str)
    encode_pixels = make_pipeline(MinMaxScaler(), AutoEncoder(2, epochs=3, random_state=0))
    columns = ColumnTransformer([("ae", encode_pixels, pixels), ("onehot", OneHotEncoder(sparse_output=False), ["label"])])
    out = make_pipeline(columns).set_output(transform="pandas").fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns[:2]) == ["ae__latent0", "ae__latent1"]
    assert out.shape == (300, 2 + len(set(frame["label"])))
    # the codes are the fitted autoencoder's, row for row
    fitted = columns.named_transformers_["ae"]
    np.testing.assert_allclose(out[["ae__latent0", "ae__latent1"]].to_numpy(), fitted.transform(frame[pixels]).to_numpy())
    alone = AutoEncoder(2, epochs=1, random_state=0).set_output(transform="pandas").fit(digits.X_train[:100])
    assert list(alone.transform(digits.X_test[:5]).columns) == ["latent0", "latent1"]


def test_warm_start_continues_the_loss_curve(small_digits):
    X, _ = small_digits
    ae = AutoEncoder(2, epochs=4, warm_start=True, random_state=0).fit(X)
    first = [r["train_loss"] for r in ae.history_]
    weights = ae.model_.encoder[0].weight.detach().clone()
    ae.set_params(epochs=3).fit(X)
    curve = [r["train_loss"] for r in ae.history_]
    assert [r["epoch"] for r in ae.history_] == [1, 2, 3, 4, 5, 6, 7] and ae.n_iter_ == 7
    assert curve[:4] == first
    # epoch 5 starts from epoch 4's weights and Adam state: it continues the curve rather than restarting
    fresh = AutoEncoder(2, epochs=1, random_state=0).fit(X).history_[0]["train_loss"]
    assert curve[4] < curve[3] * 1.05 < fresh
    assert curve[6] < curve[3]
    assert not np.array_equal(weights, ae.model_.encoder[0].weight.detach())


def test_without_warm_start_fit_starts_anew(small_digits):
    X, _ = small_digits
    ae = AutoEncoder(2, epochs=2, random_state=0).fit(X)
    first = [r["train_loss"] for r in ae.history_]
    assert [r["train_loss"] for r in ae.fit(X).history_] == first


def test_warm_start_refuses_other_features(small_digits):
    X, _ = small_digits
    ae = AutoEncoder(2, epochs=1, warm_start=True, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        ae.fit(X[:, :32])
    with pytest.raises(LatentspaceError, match="do not match the fitted image shape"):
        ae.fit(X.reshape(-1, 1, 8, 8)[:, :, :4, :].reshape(-1, 1, 4, 8))
