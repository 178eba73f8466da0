"""The model families: each objective against a direct computation on a tiny batch, the priors, the
samplers, and the contract every family keeps (registry, save/load, warm start, sampling)."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal, kl_divergence

import latentspace
from latentspace import _families
from latentspace.errors import LatentspaceError
from latentspace.estimators import ESTIMATORS, _samplers, load
from latentspace.estimators._samplers import GaussianMixtureDensity, fit_code_mixture
from latentspace.nn.likelihoods import make_likelihood
from latentspace.nn.mlp import mlp_encoder_decoder
from latentspace.nn.models import VariationalAutoencoder
from latentspace.nn.priors import StandardNormal, VampPrior, mixture_log_density
from latentspace.nn.variants import ImportanceWeightedAutoencoder, RegularizedAutoencoder, TotalCorrelationVAE, imq_mmd

torch.set_default_dtype(torch.float32)
N_FEATURES, K = 6, 3


def tiny(model_class=VariationalAutoencoder, prior=None, **options):
    """A small model with seeded weights, on 6 features and 3 latent dimensions, in float64."""
    torch.manual_seed(0)
    out = 2 * K if issubclass(model_class, VariationalAutoencoder) else K
    encoder, decoder = mlp_encoder_decoder(N_FEATURES, K, (8,), "tanh", encoder_out=out)
    model = model_class(encoder, decoder, make_likelihood("bernoulli", N_FEATURES), K, prior=prior, **options) \
        if issubclass(model_class, VariationalAutoencoder) else \
        model_class(encoder, decoder, make_likelihood("mse", N_FEATURES), K, **options)
    if prior is not None:
        torch.nn.init.uniform_(prior.pseudo_inputs, 0, 1)
    return model.double()


def batch(n=5, seed=1):
    return torch.rand((n, N_FEATURES), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# ---- priors ---------------------------------------------------------------------------------------
def test_the_vamp_prior_density_is_the_mixture_of_the_posteriors_at_the_pseudo_inputs():
    model = tiny(prior=VampPrior(K, N_FEATURES, 4))
    mu, logvar = model.posterior(model.prior.pseudo_inputs)
    direct = MixtureSameFamily(Categorical(torch.full((4,), 0.25, dtype=torch.float64)),
                               Independent(Normal(mu, torch.exp(0.5 * logvar)), 1))
    z = torch.randn((7, K), dtype=torch.float64)
    torch.testing.assert_close(model.prior.log_prob(z, model.posterior), direct.log_prob(z))


def test_a_mixture_of_standard_normals_is_the_standard_normal():
    zeros = torch.zeros((5, K), dtype=torch.float64)
    components = (torch.full((5,), -math.log(5), dtype=torch.float64), zeros, zeros)
    z = torch.randn((9, K), dtype=torch.float64)
    expected = Independent(Normal(torch.zeros(K, dtype=torch.float64), 1.0), 1).log_prob(z)
    torch.testing.assert_close(mixture_log_density(z, components), expected)
    torch.testing.assert_close(StandardNormal(K).double().log_prob(z, None), expected)


def test_the_kl_term_is_analytic_for_one_gaussian_and_log_q_minus_log_p_for_a_mixture():
    model = tiny()
    x = batch()
    mu, logvar = model.posterior(x)
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    z = q.sample()
    standard = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    torch.testing.assert_close(model.kl_to_prior(mu, logvar, z), kl_divergence(q, standard))
    vamp = tiny(prior=VampPrior(K, N_FEATURES, 3))
    mu, logvar = vamp.posterior(x)
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    z = q.sample()
    torch.testing.assert_close(vamp.kl_to_prior(mu, logvar, z), q.log_prob(z) - vamp.prior.log_prob(z, vamp.posterior))


def test_the_prior_as_numbers_is_the_prior_the_model_samples():
    model = tiny(prior=VampPrior(K, N_FEATURES, 3))
    log_w, mu, logvar = (t.detach().numpy() for t in model.prior_components())
    density = GaussianMixtureDensity.diagonal(log_w, mu, logvar)
    z = np.random.default_rng(0).normal(size=(6, K))
    expected = model.prior.log_prob(torch.from_numpy(z), model.posterior).detach().numpy()
    np.testing.assert_allclose(density.log_pdf(z), expected, rtol=1e-10)


# ---- objectives -----------------------------------------------------------------------------------
def test_the_iwae_bound_with_one_sample_is_the_one_sample_elbo():
    x = batch()
    iwae = tiny(ImportanceWeightedAutoencoder, iw_samples=1)
    bound = iwae.iw_bound(x, torch.Generator().manual_seed(3))
    mu, logvar = iwae.posterior(x)
    eps = torch.randn((1, *mu.shape), generator=torch.Generator().manual_seed(3), dtype=torch.float64)[0]
    z = mu + torch.exp(0.5 * logvar) * eps
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    elbo = -iwae.likelihood.nll(x, iwae.decoder(z)) + prior.log_prob(z) - q.log_prob(z)
    torch.testing.assert_close(bound, elbo)


def test_the_iwae_bound_is_the_log_mean_of_the_importance_weights():
    x = batch(3)
    iwae = tiny(ImportanceWeightedAutoencoder, iw_samples=4)
    bound = iwae.iw_bound(x, torch.Generator().manual_seed(5))
    mu, logvar = iwae.posterior(x)
    eps = torch.randn((4, *mu.shape), generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    weights = []
    for e in eps:
        z = mu + torch.exp(0.5 * logvar) * e
        weights.append(torch.exp(-iwae.likelihood.nll(x, iwae.decoder(z)) + prior.log_prob(z) - q.log_prob(z)))
    torch.testing.assert_close(bound, torch.log(torch.stack(weights).mean(0)))


def test_the_tc_decomposition_matches_minibatch_weighted_sampling_written_out():
    N, x = 100, batch(4)
    model = tiny(TotalCorrelationVAE, dataset_size=N)
    mu, logvar = model.posterior(x)
    z = model.reparameterize(mu, logvar, torch.Generator().manual_seed(2))
    terms = model.decomposition(mu, logvar, z)
    m = len(x)
    marginal = Normal(mu[None], torch.exp(0.5 * logvar)[None])  # q(z_d | x_j) for each row i, column j
    per_dim = marginal.log_prob(z[:, None, :])  # (i, j, d)
    log_qz = torch.log(torch.exp(per_dim.sum(-1)).sum(1) / (N * m))
    log_prod = torch.log(torch.exp(per_dim).sum(1) / (N * m)).sum(-1)
    log_q_zx = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1).log_prob(z)
    log_pz = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1).log_prob(z)
    torch.testing.assert_close(terms["mi"], (log_q_zx - log_qz).mean())
    torch.testing.assert_close(terms["tc"], (log_qz - log_prod).mean())
    torch.testing.assert_close(terms["dim_kl"], (log_prod - log_pz).mean())
    # the three add up to the batch's log q(z|x) - log p(z), the ELBO's one-sample KL
    torch.testing.assert_close(sum(terms.values()), (log_q_zx - log_pz).mean())


def test_the_imq_mmd_is_the_unbiased_estimate_written_out():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn((5, 2), generator=g, dtype=torch.float64), torch.randn((5, 2), generator=g, dtype=torch.float64)
    scale = 4.0
    total = 0.0

    def kernel(u, v, c):
        return scale * c / (scale * c + float(((u - v) ** 2).sum()))

    for c in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0):
        within = sum(kernel(a[i], a[j], c) + kernel(b[i], b[j], c) for i in range(5) for j in range(5) if i != j) / 20
        across = sum(kernel(a[i], b[j], c) for i in range(5) for j in range(5)) / 25
        total += within - 2 * across
    assert float(imq_mmd(a, b, scale)) == pytest.approx(total, rel=1e-10)
    far = imq_mmd(a, b + 10.0, scale)
    assert float(far) > 10 * abs(total)  # the penalty sees a shifted cloud


def test_the_rae_loss_is_reconstruction_plus_its_two_penalties():
    x = batch()
    rae = tiny(RegularizedAutoencoder, penalty="l2", code_weight=0.3, decoder_l2=0.01)
    z = rae.encoder(x)
    l2 = sum(float((w**2).sum()) for name, w in rae.decoder.named_parameters() if name.endswith("weight"))
    recon = float(((rae.decoder(z) - x) ** 2).sum(1).mean())
    expected = recon + 0.3 * float((z**2).sum(1).mean()) / 2 + 0.01 * l2
    assert float(rae(x)["loss"]) == pytest.approx(expected, rel=1e-10)


# ---- samplers -------------------------------------------------------------------------------------
def test_the_mixture_sampler_chooses_its_size_on_held_out_codes():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [8, 0], [0, 8], [8, 8], [4, 16]], float)
    clustered = centres[rng.integers(0, 5, 2000)] + 0.3 * rng.standard_normal((2000, 2))
    assert fit_code_mixture(clustered).n_components >= 5
    assert fit_code_mixture(rng.standard_normal((2000, 2))).n_components <= 2


def test_the_mixture_of_collapsed_codes_has_no_more_components_than_points(recwarn):
    """A collapsed model's codes are a few points, repeated: k-means, which starts the mixture, cannot
    place more components than points, and scikit-learn would warn in its own words; so no more are tried."""
    codes = np.repeat([[0.5, -1.0, 0.0, 2.0], [1.5, -1.0, 0.0, 2.0]], 60, axis=0)
    density = fit_code_mixture(codes)
    assert density.n_components <= 2
    assert np.average(density.means[:, 0], weights=density.weights) == pytest.approx(1.0)  # the codes' mean
    one_point = fit_code_mixture(np.ones((120, 4)))
    assert one_point.n_components == 1 and np.allclose(one_point.means, 1.0)
    assert not [w for w in recwarn if "distinct clusters" in str(w.message)]


# ---- every family ---------------------------------------------------------------------------------
FAMILIES = [f for f in _families.FAMILIES if f.name != "linear"]


def test_one_registry_feeds_the_package_the_cli_and_loading():
    from latentspace.cli._common import MODELS
    from latentspace.workflows.train import MODEL_CLASSES

    assert list(ESTIMATORS) == [f.class_name for f in _families.FAMILIES]
    assert MODELS == tuple(MODEL_CLASSES) == tuple(f.name for f in _families.FAMILIES)
    assert all(cls.__name__ == _families.BY_NAME[name].class_name for name, cls in MODEL_CLASSES.items())
    for f in _families.FAMILIES:
        assert f.class_name in latentspace.__all__ and getattr(latentspace, f.class_name) is ESTIMATORS[f.class_name]
    with pytest.raises(ValueError, match="choose from"):
        _families.family_names("vae,nope")


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_every_family_keeps_the_contract(family, small_digits, tmp_path, monkeypatch):
    # the contract, not the second stage's quality: 200 of its 4,000 steps (the two-stage fit took minutes)
    monkeypatch.setattr(_samplers, "SECOND_STAGE_STEPS", 200)
    cls = ESTIMATORS[family.class_name]
    params = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    assert set(params) == set(cls._parameter_constraints)  # every parameter has its constraint, no more
    X, X_test = small_digits
    y = digits_labels(len(X)) if cls.needs_labels else None  # a conditional VAE's samples: of the joint model
    model = cls(4, hidden=(32,), epochs=3, batch_size=64, random_state=0, warm_start=True).fit(X, y)
    assert np.all(np.isfinite([r["train_loss"] for r in model.history_]))
    samplers = ("prior", "gmm") if cls.has_prior else ("gmm", "gaussian")
    samples = {s: model.sample(6, sampler=s, random_state=1) for s in samplers}
    assert all(v.shape == (6, 64) and np.all(np.isfinite(v)) for v in samples.values())
    if not cls.has_prior:
        with pytest.raises(LatentspaceError, match="no prior"):
            model.sample(2, sampler="prior")
    model.save(tmp_path / "m")
    same = load(tmp_path / "m")
    assert type(same) is cls
    np.testing.assert_array_equal(same.transform(X_test), model.transform(X_test))
    for s in samplers:
        np.testing.assert_allclose(same.sample(6, sampler=s, random_state=1), samples[s], atol=1e-6)
    model.fit(X, y)  # warm start: three epochs more, numbered on
    assert model.n_iter_ == 6


def digits_labels(n):
    from latentspace.data import load_dataset

    return load_dataset("digits").y_train[:n]


def test_the_vamp_vae_samples_and_scores_through_its_mixture(small_digits):
    X, X_test = small_digits
    vamp = latentspace.VampVAE(3, n_pseudo_inputs=7, hidden=(32,), epochs=3, random_state=0).fit(X)
    density = vamp.prior_density()
    assert density.n_components == 7
    assert vamp.model_.prior.pseudo_inputs.std() > 0  # drawn at initialisation, not left at zero
    # the one-sample IW estimate and the ELBO estimate the same quantity
    assert vamp.log_likelihood(X_test, k=1).mean() == pytest.approx(vamp.score_samples(X_test).mean(), abs=1.0)


def test_the_tcvae_keeps_the_data_set_size_it_was_trained_with(small_digits, tmp_path):
    X, _ = small_digits
    model = latentspace.BetaTCVAE(3, hidden=(16,), epochs=1, validation_fraction=0.1, random_state=0).fit(X)
    assert int(model.model_.dataset_size) == 360
    model.save(tmp_path / "tc")
    assert int(load(tmp_path / "tc").model_.dataset_size) == 360


def test_the_explorer_draws_each_familys_own_density(small_digits):
    from latentspace.report.explorer import explorer_payload

    X, X_test = small_digits
    models = {name: latentspace.__getattribute__(cls)(2, hidden=(16,), epochs=2, random_state=0).fit(X)
              for name, cls in (("vamp", "VampVAE"), ("rae", "RAE"), ("wae", "WAE"))}
    models["vamp"].set_params(n_pseudo_inputs=3).fit(X)
    payload = {m["name"]: m for m in explorer_payload(models, X, X_test, max_points=50, max_references=20)["models"]}
    assert payload["vamp"]["kind"] == "VampPrior VAE" and len(payload["vamp"]["density"]) == 3  # the mixture prior
    assert payload["vamp"]["sampler"]["kind"] == "its prior, a mixture of 3 Gaussians"
    assert payload["wae"]["sampler"]["kind"] == "prior N(0, I)"
    assert payload["rae"]["sampler"]["kind"].endswith("mixture fitted to its training codes")


@pytest.mark.filterwarnings("ignore::latentspace.errors.PosteriorCollapseWarning")
@pytest.mark.parametrize("name, coupled", [("wae", True), ("tcvae", True), ("vae", False), ("rae", False)])
def test_a_loss_that_couples_a_batch_is_validated_in_batches_of_the_training_size(digits, name, coupled):
    """An MMD or a minibatch estimate of q(z) depends on how many rows it sees, and costs their square:
    validation scores it in training-size batches; a per-row loss is scored in big chunks."""
    from latentspace.training.loop import SCORE_CHUNK

    cls = ESTIMATORS[_families.BY_NAME[name].class_name]
    rows_seen = []
    model = cls(2, hidden=(16,), epochs=1, batch_size=32, random_state=0)
    model.fit(digits.X_train[:400])  # builds the module; then watch a second fit's forward passes
    module = model.model_
    module.register_forward_hook(lambda mod, args, out: rows_seen.append((mod.training, args[0].shape[0])))
    model.set_params(warm_start=True).fit(digits.X_train[:400])
    scored = {rows for training, rows in rows_seen if not training}
    assert module.batch_coupled is coupled
    assert max(scored) == (32 if coupled else min(SCORE_CHUNK, 40))  # 10% of 400 rows held out
