"""The metrics themselves, checked on digits: real vs real, real vs noise, known analytic cases."""

import json
import math

import numpy as np
import pytest

from latentspace.analysis.features import FeatureConfig, feature_space, fingerprint
from latentspace.analysis.metrics import Manifold, frechet_distance, precision_recall
from latentspace.analysis.regularity import elbo_surgery
from latentspace.analysis.samplers import draw_codes
from latentspace.errors import LatentspaceError


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A cache of this module's own, so that ``fresh`` is fitted here rather than read."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def fresh(digits, cache):
    return feature_space(digits, cache_dir=cache)


def test_feature_net_is_cached_as_safetensors_and_json_and_reloads_identically(digits, cache, fresh):
    folder = cache / "features" / fingerprint(digits, FeatureConfig())
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "weights.safetensors"]
    assert json.loads((folder / "config.json").read_text())["kind"] == "classifier"
    again = feature_space(digits, cache_dir=cache)
    np.testing.assert_array_equal(again(digits.X_test[:20]), fresh(digits.X_test[:20]))
    assert fresh.meta["test_accuracy"] > 0.9  # a feature space that knows the classes


def test_feature_net_is_seeded(digits, fresh, features):
    """Two fits (this module's, and the run's shared one, perhaps in another process) agree."""
    np.testing.assert_allclose(fresh(digits.X_test[:20]), features(digits.X_test[:20]), rtol=1e-5, atol=1e-6)


def test_without_labels_the_features_are_pca(digits, tmp_path):
    from dataclasses import replace

    unlabelled = replace(digits, y_train=None, y_test=None)
    f = feature_space(unlabelled, cache_dir=tmp_path)
    assert f.kind == "pca" and f(digits.X_test).shape == (len(digits.X_test), 32)


def test_heldout_halves_score_near_zero_distance_and_near_one_precision_recall(digits, features):
    real = features(digits.X_test)
    half = len(real) // 2
    noise = features(np.random.default_rng(0).random(digits.X_test.shape, dtype=np.float32))
    fd_halves, fd_noise = frechet_distance(real[:half], real[half:]), frechet_distance(real, noise)
    assert fd_halves < 0.05 * fd_noise
    precision, recall = precision_recall(real[:half], real[half:])
    assert precision > 0.85 and recall > 0.85


def test_pure_noise_is_far_and_imprecise(digits, features):
    real = features(digits.X_test)
    rng = np.random.default_rng(1)
    for noise in (rng.random(digits.X_test.shape), np.clip(rng.normal(0.3, 0.3, digits.X_test.shape), 0, 1)):
        fake = features(noise.astype(np.float32))
        precision, recall = precision_recall(real, fake)
        assert precision < 0.05 and recall < 0.05
        assert frechet_distance(real, fake) > 20 * frechet_distance(features(digits.X_train), real)


def test_frechet_distance_known_cases():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 4))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    shift = np.array([1.0, 2.0, 0.0, -1.0])
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-9)
    # Two Gaussians with covariances I and 4I in d dims: d * (1 + 4 - 2 * 2) = d.
    b = (a - a.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(a, rowvar=False))).T
    assert frechet_distance(b, 2 * b) == pytest.approx(4.0, rel=1e-6)


def test_a_kept_reference_gaussian_gives_the_same_distance(digits, features):
    from latentspace.analysis.metrics import FeatureGaussian

    real, fake = features(digits.X_test), features(digits.X_train[:300])
    assert FeatureGaussian.of(real).frechet_distance(fake) == frechet_distance(real, fake) > 0


def test_one_judge_per_feature_net_and_reference_contents(digits, features):
    from latentspace.analysis.regularity import Judge

    X = digits.X_test.copy()
    judge = Judge.of(features, X)
    assert Judge.of(features, X.copy()) is judge  # same contents: the judge is reused
    X[0, 0] += 0.5
    assert Judge.of(features, X) is not judge  # changed in place: judged anew
    assert Judge.of(features, digits.X_test) is not judge  # (only the last one is kept)


def test_the_judges_frechet_alone_is_its_scores(digits, features):
    from latentspace.analysis.regularity import Judge

    judge = Judge.of(features, digits.X_test)
    for X in (digits.X_train[:300], digits.X_train[:300] * 0.5):
        assert judge.frechet(X) == judge.score("x", X)["x_frechet"] > 0
    broken = digits.X_train[:300].copy()
    broken[0, 0] = np.nan
    assert judge.frechet(broken) == judge.score("x", broken)["x_frechet"] == np.inf


def test_precision_recall_of_a_set_with_itself_is_one_and_of_a_distant_set_is_zero():
    a = np.random.default_rng(0).normal(size=(200, 3))
    assert precision_recall(a, a) == (1.0, 1.0)
    assert precision_recall(a, a + 100.0) == (0.0, 0.0)


def test_manifold_balls_use_the_kth_other_neighbour():
    line = np.arange(10, dtype=float)[:, None]  # neighbours at distance 1, 1, 2, 2, ...
    assert Manifold.of(line, k=3).radii[5] == 2.0
    assert Manifold.of(line, k=3).contains(np.array([[11.5], [20.0]])).tolist() == [True, False]


def _inside_by_float64(queries, manifold):
    """The decision computed directly: all pairs' distances in float64, from the differences."""
    import torch

    d = torch.cdist(torch.from_numpy(np.asarray(queries, np.float64)), torch.from_numpy(manifold.features),
                    compute_mode="donot_use_mm_for_euclid_dist")
    return (d <= torch.from_numpy(manifold.radii)[None, :]).any(1).numpy()


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_float32_screening_decides_as_float64_on_and_near_every_balls_edge(offset):
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(300, 64)) + offset  # far from the origin: float32 loses digits there
    manifold = Manifold.of(centres, k=3)
    direction = rng.normal(size=(300, 64))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    edge = centres + direction * manifold.radii[:, None]  # on each ball's surface: just in and just out
    queries = np.concatenate([edge + direction * 1e-6, edge - direction * 1e-6, centres[:5],
                              rng.normal(size=(500, 64)) + offset])
    inside = manifold.contains(queries)
    assert inside.tolist() == _inside_by_float64(queries, manifold).tolist()
    assert inside[-500:].any() and not inside[-500:].all()  # the random queries fall on both sides


def test_float32_screening_keeps_duplicates_and_zero_radii_exact():
    rows = np.repeat(np.random.default_rng(2).normal(size=(5, 8)), 4, axis=0)  # every row four times
    manifold = Manifold.of(rows, k=3)
    assert (manifold.radii == 0).all()
    queries = np.concatenate([rows, rows + 1e-9])
    assert manifold.contains(queries).tolist() == [True] * len(rows) + [False] * len(rows)


def test_float32_screening_decides_as_float64_on_feature_rows(digits, features):
    real, fake = features.transform(digits.X_test), features.transform(digits.X_train[:500])
    manifold = Manifold.of(real, k=3)
    assert manifold.contains(fake).tolist() == _inside_by_float64(fake, manifold).tolist()


def test_metrics_reject_bad_shapes():
    with pytest.raises(LatentspaceError):
        frechet_distance(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(LatentspaceError):
        precision_recall(np.zeros((3, 2)), np.zeros((10, 2)))


def test_elbo_surgery_posterior_equal_to_prior_has_no_information():
    mu, logvar = np.zeros((100, 3)), np.zeros((100, 3))
    out = elbo_surgery(mu, logvar, 500, np.random.default_rng(0))
    assert out["vae_average_kl"] == 0.0
    assert out["vae_marginal_kl"] == pytest.approx(0.0, abs=1e-12)
    assert out["vae_mutual_information"] == pytest.approx(0.0, abs=1e-12)


def test_elbo_surgery_separated_posteriors_carry_log_n_nats():
    n = 50
    mu = np.stack([np.linspace(-3, 3, n), np.zeros(n)], 1)
    logvar = np.full((n, 2), math.log(1e-6))  # far narrower than the spacing: q(z) is n spikes
    out = elbo_surgery(mu, logvar, 2000, np.random.default_rng(0))
    # Exact up to the Monte Carlo error of the marginal-KL estimate (reported as its stderr).
    assert out["vae_mutual_information"] == pytest.approx(math.log(n), abs=4 * out["vae_marginal_kl_stderr"])
    assert out["vae_average_kl"] == pytest.approx(out["vae_mutual_information"] + out["vae_marginal_kl"])
    assert out["vae_marginal_kl"] > 3 * out["vae_marginal_kl_stderr"]


def test_samplers_draw_from_their_densities():
    rng = np.random.default_rng(0)
    codes = rng.normal(loc=[5.0, -2.0], scale=[1.0, 3.0], size=(2000, 2))
    box = draw_codes("box", codes, 1000, rng)
    assert np.all(box >= codes.min(0)) and np.all(box <= codes.max(0))
    gauss = draw_codes("gaussian", codes, 4000, rng)
    np.testing.assert_allclose(gauss.mean(0), [5.0, -2.0], atol=0.2)
    np.testing.assert_allclose(gauss.std(0), [1.0, 3.0], rtol=0.1)
    assert draw_codes("gmm", codes, 300, rng).shape == (300, 2)
    with pytest.raises(LatentspaceError, match="no prior"):  # the prior is a model's: none given here
        draw_codes("prior", codes, 7, rng)
    with pytest.raises(LatentspaceError):
        draw_codes("nope", codes, 3, rng)


def test_a_model_of_ours_is_sampled_from_the_one_density_it_keeps(digits, features):
    """Its samples, its explorer and its regularity numbers draw from one density per sampler, fitted
    once to the codes it kept at fit; a model without kept codes (PCA) gets one fitted to the codes given."""
    from sklearn.decomposition import PCA

    from latentspace import AutoEncoder
    from latentspace.analysis.regularity import evaluate_regularity
    from latentspace.report.explorer import generating_density

    model = AutoEncoder(2, hidden=(32,), epochs=3, random_state=0).fit(digits.X_train)
    far = model.training_codes_ + 100.0  # codes the model never made
    box = draw_codes("box", far, 500, np.random.default_rng(0), model)
    kept = model.training_codes_
    assert np.all(box >= kept.min(0) - 1e-6) and np.all(box <= kept.max(0) + 1e-6)
    evaluate_regularity(model, digits, n_samples=50, random_state=0, features=features)
    gmm = model.code_sampler("gmm")
    assert generating_density(model, far, seed=1) is gmm  # the explorer's, the same object
    pca = PCA(2).fit(digits.X_train)
    box = draw_codes("box", far, 500, np.random.default_rng(0), pca)
    assert np.all(box >= far.min(0)) and np.all(box <= far.max(0))
