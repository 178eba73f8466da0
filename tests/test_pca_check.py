"""The linear AE against PCA on real data: same subspace, its own basis, PCA's directions with weight decay."""

import json

import numpy as np
import pytest
from conftest import requires_fashion_mnist
from sklearn.exceptions import NotFittedError

from latentspace import VAE, AutoEncoder, LatentspaceError, LinearAutoEncoder
from latentspace.analysis import PCAComparison, compare_with_pca
from latentspace.report.pca_plot import pca_figure, save_pca_figure


@pytest.fixture(scope="module")
def comparisons(digits):
    """The linear AE with its default training settings, no weight decay, k = 2, 5, 10."""
    return {
        k: compare_with_pca(LinearAutoEncoder(k, random_state=0).fit(digits.X_train), digits.X_train, digits.X_test)
        for k in (2, 5, 10)
    }


@pytest.fixture(scope="module")
def decayed(digits):
    model = LinearAutoEncoder(5, weight_decay=0.1, random_state=0).fit(digits.X_train)
    return compare_with_pca(model, digits.X_train, digits.X_test)


@pytest.mark.parametrize("k", [2, 5, 10])
def test_linear_ae_finds_pcas_subspace(comparisons, k):
    c = comparisons[k]
    assert len(c.principal_angles_deg) == k
    assert c.principal_angles_deg == sorted(c.principal_angles_deg, reverse=True)
    assert c.max_principal_angle_deg < 1.0, c.table()
    assert abs(c.test_mse_ratio - 1.0) < 0.01, c.table()


@pytest.mark.parametrize("k", [2, 5, 10])
def test_pca_reaches_the_sum_of_discarded_eigenvalues(comparisons, k):
    c = comparisons[k]
    assert c.pca_train_mse == pytest.approx(c.pca_optimum_train_mse, rel=1e-6)
    # the linear AE cannot beat the optimum on its own training data
    assert c.model_train_mse >= c.pca_optimum_train_mse * (1 - 1e-5)


def test_without_weight_decay_the_basis_is_not_orthogonal(comparisons):
    c = comparisons[5]
    assert c.max_abs_cos_between_columns > 0.05, c.table()
    assert c.gram_condition_number > 1.5, c.table()
    # the basis inside the subspace is arbitrary: its singular vectors are not PCA's directions
    assert min(c.direction_abs_cos) < 0.9, c.table()


def test_weight_decay_recovers_pcas_directions(decayed):
    assert decayed.max_principal_angle_deg < 1.0, decayed.table()
    assert min(decayed.direction_abs_cos[:3]) > 0.99, decayed.table()
    assert min(decayed.direction_abs_cos) > 0.99, decayed.table()


def test_weight_decay_singular_values_follow_kunin_closed_form(decayed, digits):
    observed = np.array(decayed.decoder_singular_values)
    expected = np.array(decayed.expected_singular_values)
    eigenvalues = np.array(decayed.pca_eigenvalues[:5])
    np.testing.assert_allclose(expected, np.sqrt(1 - 0.1 / (2 * eigenvalues)), rtol=1e-3)  # centred data
    np.testing.assert_allclose(observed, expected, rtol=5e-3)
    # shrunk towards 0, so the regularised AE reconstructs worse than PCA
    assert decayed.test_mse_ratio > 1.0


def test_nonlinear_models_get_the_error_ratio_only(digits):
    X_train, X_test = digits.X_train[:600], digits.X_test[:200]
    for model in (AutoEncoder(2, hidden=(32,), epochs=5, random_state=0), VAE(2, hidden=(32,), epochs=3, random_state=0)):
        c = compare_with_pca(model.fit(X_train), X_train, X_test)
        assert not c.linear and c.principal_angles_deg is None and c.direction_abs_cos is None
        assert c.test_mse_ratio == pytest.approx(c.model_test_mse / c.pca_test_mse)
        assert c.model_fit_seconds > 0
        assert "principal angles" not in c.table()


def test_to_dict_is_flat_and_json_able(comparisons):
    d = comparisons[2].to_dict()
    assert json.loads(json.dumps(d)) == d
    assert all(not isinstance(v, (dict, np.ndarray)) for v in d.values())
    assert d["max_principal_angle_deg"] == comparisons[2].principal_angles_deg[0]
    assert "principal angles" in comparisons[2].table() and "ratio" in comparisons[2].table()


def test_bad_input_is_a_clear_error(comparisons, digits):
    model = LinearAutoEncoder(2, epochs=1, random_state=0).fit(digits.X_train[:50])
    with pytest.raises(LatentspaceError, match="X_test has 10 features but the model has 64"):
        compare_with_pca(model, digits.X_train, np.zeros((5, 10)))
    with pytest.raises(LatentspaceError, match="NaN"):
        compare_with_pca(model, np.full((5, 64), np.nan), digits.X_test)
    with pytest.raises(NotFittedError):
        compare_with_pca(LinearAutoEncoder(2), digits.X_train, digits.X_test)


def test_figure_is_written_for_images_and_plain_features(comparisons, decayed, tmp_path):
    png = save_pca_figure(decayed, tmp_path / "fig.png", (8, 8), others=[comparisons[5]])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    fig = pca_figure(comparisons[2], image_shape=None)
    assert len(fig.axes) >= 5
    plain = save_pca_figure(comparisons[2], tmp_path / "plain.png")
    assert plain.stat().st_size > 10_000


def test_figure_refuses_a_nonlinear_comparison(comparisons):
    c = comparisons[2]
    fields = {k: v for k, v in c.to_dict().items() if k != "max_principal_angle_deg"}
    nonlinear = PCAComparison(**{**fields, "linear": False, "principal_angles_deg": None})
    with pytest.raises(ValueError, match="linear autoencoder"):
        pca_figure(nonlinear)


@requires_fashion_mnist
@pytest.mark.slow
def test_fashion_mnist_k16_subspace():
    from latentspace.data import load_fashion_mnist

    data = load_fashion_mnist()
    model = LinearAutoEncoder(16, epochs=60, random_state=0).fit(data.X_train)
    c = compare_with_pca(model, data.X_train, data.X_test)
    assert c.max_principal_angle_deg < 2.0, c.table()
    assert abs(c.test_mse_ratio - 1.0) < 0.01, c.table()
