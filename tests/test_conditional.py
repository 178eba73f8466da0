"""The conditional VAE: its objective against a direct computation on a tiny batch, its labels (any
hashable classes, one-line refusals), the joint model's answers where no label is given, save/load,
warm start and partial_fit, and on real data: samples of class c look like c to a classifier."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from torch.nn import functional as F

from latentspace import VAE, ConditionalVAE, load
from latentspace.errors import CheckpointError, DataError, LatentspaceError
from latentspace.estimators._base import seed_from
from latentspace.nn.likelihoods import make_likelihood
from latentspace.nn.mlp import mlp_encoder_decoder
from latentspace.nn.models import VariationalAutoencoder
from latentspace.nn.variants import ConditionalVariationalAutoencoder

N_FEATURES, K, C = 6, 3, 4
pytestmark = pytest.mark.filterwarnings("ignore::latentspace.errors.PosteriorCollapseWarning")  # 1- to 3-epoch fits


def tiny_conditional():
    """A small decoder-conditioned VAE in float64 with seeded weights: 6 features, 3 latent dims, 4 classes."""
    torch.manual_seed(0)
    encoder, decoder = mlp_encoder_decoder(N_FEATURES, K + C, (8,), "tanh", encoder_out=2 * K)
    return ConditionalVariationalAutoencoder(encoder, decoder, make_likelihood("bernoulli", N_FEATURES), K,
                                             n_features=N_FEATURES, n_classes=C).double()


def labelled_rows(n=5, seed=1):
    """Rows [x | onehot(y)] ``(n, 6 + 4)`` and their labels."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand((n, N_FEATURES), generator=g, dtype=torch.float64)
    y = torch.randint(0, C, (n,), generator=g)
    return torch.cat([x, F.one_hot(y, C).double()], 1), y


def test_the_elbo_reads_the_label_through_the_decoder_as_written_out():
    model = tiny_conditional()
    rows, _ = labelled_rows()
    x, onehot = rows[:, :N_FEATURES], rows[:, N_FEATURES:]
    terms = model(rows, torch.Generator().manual_seed(3))
    # by hand: q(z|x) from the features alone, one draw, the decoder fed [z, onehot(y)]
    h = model.encoder(x)
    mu, logvar = h[:, :K], 10.0 * torch.tanh(h[:, K:] / 10.0)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=torch.Generator().manual_seed(3), dtype=mu.dtype)
    logits = model.decoder(torch.cat([z, onehot], 1))
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
    kl = 0.5 * (torch.exp(logvar) + mu.square() - 1.0 - logvar).sum(1)
    torch.testing.assert_close(terms["recon"], recon.mean())
    torch.testing.assert_close(terms["kl"], kl.mean())
    torch.testing.assert_close(terms["loss"], (recon + kl).mean())


def test_with_a_decoder_that_ignores_the_label_it_is_the_plain_vae():
    conditional = tiny_conditional()
    with torch.no_grad():
        conditional.decoder[0].weight[:, K:] = 0.0  # the one-hot's columns of the first layer
    plain_decoder = torch.nn.Sequential(torch.nn.Linear(K, 8), *list(conditional.decoder)[1:]).double()
    with torch.no_grad():
        plain_decoder[0].weight.copy_(conditional.decoder[0].weight[:, :K])
        plain_decoder[0].bias.copy_(conditional.decoder[0].bias)
    plain = VariationalAutoencoder(conditional.encoder, plain_decoder, make_likelihood("bernoulli", N_FEATURES), K)
    rows, _ = labelled_rows(7)
    x = rows[:, :N_FEATURES]
    torch.testing.assert_close(conditional(rows, torch.Generator().manual_seed(5))["loss"],
                               plain(x, torch.Generator().manual_seed(5))["loss"])
    eps = torch.randn((7, 4, K), generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    torch.testing.assert_close(conditional.elbo_with_noise(rows, eps), plain.elbo_with_noise(x, eps))
    torch.testing.assert_close(conditional.iw_log_likelihood(rows, 9, torch.Generator().manual_seed(7)),
                               plain.iw_log_likelihood(x, 9, torch.Generator().manual_seed(7)))


@pytest.fixture(scope="module")
def fitted(digits):
    """A cvae on 400 digits, classes named by strings."""
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    X, y = digits.X_train[:400], names[digits.y_train[:400]]
    return ConditionalVAE(4, hidden=(32,), epochs=3, batch_size=64, random_state=0).fit(X, y), X, y


def test_classes_are_kept_as_sklearn_classifiers_keep_them(fitted):
    model, X, y = fitted
    assert model.classes_.tolist() == sorted(set(y.tolist()))
    np.testing.assert_allclose(model.class_prior_, [np.mean(y == c) for c in model.classes_])
    assert model.transform(X).shape == (400, 4)  # the encoder reads rows without labels
    assert model.sample(5, y="seven").shape == (5, 64)
    assert model.sample(3, y=["one", "two", "one"], sampler="gmm").shape == (3, 64)
    assert model.inverse_transform(np.zeros((2, 4)), y="one").shape == (2, 64)
    assert set(model.predict(X[:20])) <= set(model.classes_)


def test_labels_that_cannot_be_used_are_one_line(fitted):
    model, X, y = fitted
    with pytest.raises(DataError, match="requires y to be passed, but the target y is None"):
        ConditionalVAE(2).fit(X)
    with pytest.raises(DataError, match="'eleven' was not seen in fit; the model knows eight, five"):
        model.sample(2, y="eleven")
    with pytest.raises(DataError, match="y has 1 labels for 2 rows"):
        model.inverse_transform(np.zeros((2, 4)), y=["one"])
    with pytest.raises(DataError, match="y has 3 labels for 400 rows"):
        ConditionalVAE(2).fit(X, y[:3])
    with pytest.raises(DataError, match="one class"):
        ConditionalVAE(2).fit(X, np.zeros(len(X)))
    with pytest.raises(LatentspaceError, match="not conditioned on labels; y is for a ConditionalVAE"):
        VAE(2, epochs=1).fit(X).sample(2, y="one")


def test_without_labels_it_answers_for_the_joint_model(fitted):
    model, X, y = fitted
    rows = X[:6]
    per_class = np.stack([np.log(p) + model.log_likelihood(rows, k=20, y=c)
                          for c, p in zip(model.classes_, model.class_prior_)], 1)
    np.testing.assert_allclose(model.log_likelihood(rows, k=20), logsumexp(per_class, axis=1), rtol=1e-6)
    proba = model.predict_proba(rows)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(model.reconstruct(rows), model.reconstruct(rows, model.predict(rows)))
    # sample() draws the classes from the training frequencies, then decodes as sample(y=...) does
    drawn = model.classes_[np.random.default_rng([seed_from(7), 1]).choice(10, 4, p=model.class_prior_)]
    np.testing.assert_array_equal(model.sample(4, random_state=7), model.sample(4, random_state=7, y=drawn))
    assert np.isfinite(model.score(rows)) and np.isfinite(model.score(rows, y[:6]))


def test_save_load_warm_start_and_partial_fit_keep_the_classes(fitted, tmp_path):
    model, X, y = fitted
    model.save(tmp_path / "cvae")
    same = load(tmp_path / "cvae")
    assert same.classes_.tolist() == model.classes_.tolist()
    np.testing.assert_array_equal(same.sample(4, y="three", random_state=2), model.sample(4, y="three", random_state=2))
    np.testing.assert_array_equal(same.log_likelihood(X[:3], k=10, y=y[:3]), model.log_likelihood(X[:3], k=10, y=y[:3]))
    warm = ConditionalVAE(2, hidden=(16,), epochs=1, warm_start=True, random_state=0).fit(X, y)
    warm.fit(X[:100], y[:100])  # a warm start keeps the classes of the first fit
    assert warm.n_iter_ == 2 and len(warm.classes_) == 10
    with pytest.raises(DataError, match="was not seen in fit"):
        warm.fit(X[:2], ["one", "ten"])
    partial = ConditionalVAE(2, hidden=(16,), random_state=0)
    partial.partial_fit(X[:50], y[:50], classes=model.classes_).partial_fit(X[50:100], y[50:100])
    assert partial.n_iter_ == 2 and len(partial.classes_) == 10
    path = tmp_path / "cvae" / "config.json"
    config = json.loads(path.read_text())
    config["fitted"]["classes_"][0] = True  # a tampered checkpoint: refused before the model is built
    path.write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="classes_ must be 2 to"):
        load(tmp_path / "cvae")


@pytest.mark.slow
def test_samples_of_each_class_look_like_that_class_to_a_classifier(digits):
    from sklearn.linear_model import LogisticRegression

    classifier = LogisticRegression(max_iter=2000).fit(digits.X_train, digits.y_train)  # 0.97 on the test part
    model = ConditionalVAE(8, epochs=30, random_state=0).fit(digits.X_train, digits.y_train)
    wanted = np.repeat(model.classes_, 50)
    for sampler in ("prior", "gmm"):
        hits = np.mean(classifier.predict(model.sample(len(wanted), y=wanted, sampler=sampler, random_state=1)) == wanted)
        # measured 1.00 for both (30 epochs, 8 dimensions; the two-stage sampler too); chance is 0.10
        assert hits > 0.9, (sampler, hits)
    # the model as a generative classifier (p(y) exp(ELBO(x, y))): measured 0.95 on the test part
    assert np.mean(model.predict(digits.X_test) == digits.y_test) > 0.85


def test_a_run_resumed_with_other_labels_is_refused(digits, tmp_path):
    X, y = digits.X_train[:300], digits.y_train[:300]
    params = dict(n_components=2, hidden=(16,), epochs=1, random_state=0)
    ConditionalVAE(**params).fit(X, y, checkpoint_dir=tmp_path / "ck")
    ConditionalVAE(**params).fit(X, y, checkpoint_dir=tmp_path / "ck", resume=True)  # the same labels: resumes
    with pytest.raises(CheckpointError, match="other data or parameters.*labels_sha256"):
        ConditionalVAE(**params).fit(X, np.roll(y, 1), checkpoint_dir=tmp_path / "ck", resume=True)
