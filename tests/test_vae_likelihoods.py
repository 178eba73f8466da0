"""Observation models: the continuous Bernoulli's normaliser and mean against numerical integration,
and every likelihood's loss finite (with finite gradients) on the edges of the data and the logits."""

import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from latentspace.errors import LatentspaceError
from latentspace.nn.likelihoods import (
    ContinuousBernoulli,
    continuous_bernoulli_log_norm,
    continuous_bernoulli_mean,
    make_likelihood,
)

# Both sides of the Taylor switch (|logit| = 0.1), lam = 0.5 itself, and far into the tails.
LOGITS = [-12.0, -4.0, -1.0, -0.1000001, -0.09, -1e-3, -1e-6, 0.0, 1e-7, 0.02, 0.0999, 0.1, 0.35, 3.0, 12.0]


def unnormalised(x: float, eta: float) -> float:
    lam = 1.0 / (1.0 + math.exp(-eta))
    return lam**x * (1.0 - lam) ** (1.0 - x)


@pytest.mark.parametrize("eta", LOGITS)
def test_continuous_bernoulli_log_normaliser_matches_quadrature(eta):
    area, _ = quad(unnormalised, 0.0, 1.0, args=(eta,), epsabs=1e-13, epsrel=1e-12)
    expected = -math.log(area)
    for dtype, tol in ((torch.float64, 1e-9), (torch.float32, 2e-6)):
        got = continuous_bernoulli_log_norm(torch.tensor([eta], dtype=dtype)).item()
        assert got == pytest.approx(expected, abs=tol), (dtype, got, expected)


@pytest.mark.parametrize("eta", LOGITS)
def test_continuous_bernoulli_mean_matches_quadrature(eta):
    area, _ = quad(unnormalised, 0.0, 1.0, args=(eta,), epsabs=1e-13, epsrel=1e-12)
    moment, _ = quad(lambda x: x * unnormalised(x, eta), 0.0, 1.0, epsabs=1e-13, epsrel=1e-12)
    got = continuous_bernoulli_mean(torch.tensor([eta], dtype=torch.float64)).item()
    assert got == pytest.approx(moment / area, abs=1e-9)


def test_continuous_bernoulli_density_integrates_to_one():
    cb = ContinuousBernoulli()
    for eta in (-3.0, 0.0, 0.05, 2.0):
        density = lambda x: math.exp(-cb.nll(torch.tensor([[x]], dtype=torch.float64),  # noqa: E731
                                             torch.tensor([[eta]], dtype=torch.float64)).item())
        assert quad(density, 0.0, 1.0)[0] == pytest.approx(1.0, abs=1e-8)


LIKELIHOOD_NAMES = ["mse", "bernoulli", "continuous_bernoulli", "gaussian", "gaussian_learned", "gaussian_calibrated"]


@pytest.mark.parametrize("name", LIKELIHOOD_NAMES)
def test_loss_and_gradient_are_finite_on_edge_inputs(name):
    lik = make_likelihood(name, 6)
    x = torch.tensor([[0.0, 1.0, 0.0, 1.0, 0.5, 1.0], [1.0, 0.0, 0.0, 1.0, 0.0, 1.0]])
    # exact 0 and 1 pixels against saturated, zero and near-zero decoder outputs
    out = torch.tensor([[1e4, -1e4, -80.0, 80.0, 0.0, 1e-8], [-1e4, 1e4, 0.0, -0.05, 0.1, 30.0]], requires_grad=True)
    loss = lik.nll(x, out)
    assert loss.shape == (2,) and torch.isfinite(loss).all(), loss
    loss.sum().backward()
    assert torch.isfinite(out.grad).all(), out.grad
    assert torch.isfinite(lik.mean(out)).all()
    for p in lik.parameters():
        assert torch.isfinite(p.grad).all()


@pytest.mark.parametrize("name", ["bernoulli", "continuous_bernoulli"])
def test_saturated_correct_logits_cost_nothing_for_bernoulli(name):
    lik = make_likelihood(name, 2)
    loss = lik.nll(torch.tensor([[1.0, 0.0]]), torch.tensor([[1e30, -1e30]]))
    # A Bernoulli loses nothing; a continuous Bernoulli's density grows without bound (log|eta|).
    assert loss.item() == pytest.approx(0.0, abs=1e-6) if name == "bernoulli" else loss.item() < -100


def test_calibrated_gaussian_uses_the_optimal_sigma_in_training_and_its_average_in_evaluation():
    lik = make_likelihood("gaussian_calibrated", 4)
    x, out = torch.zeros(8, 4), 3 * torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    mse = out.square().mean().item()
    lik.train()
    # at sigma^2 = mse each example costs 0.5 * ||x - out||^2 / mse + D/2 log(2 pi mse): summed, N D/2 (1 + log 2 pi mse)
    total = lik.nll(x, out.requires_grad_()).sum().item()
    assert total == pytest.approx(8 * 4 / 2 * (1 + math.log(2 * math.pi * mse)), rel=1e-5)
    assert 0 < float(lik.log_sigma) < 0.5 * math.log(mse)  # the running average moved from log 1 towards it
    lik.eval()
    with torch.no_grad():
        sigma = float(lik.log_sigma.exp())
        expected = 0.5 * out.square().sum(-1) / sigma**2 + 4 * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
        torch.testing.assert_close(lik.nll(x, out), expected)


def test_gaussian_sigma_is_a_parameter_fixed_or_learned():
    fixed = make_likelihood("gaussian", 3, sigma=0.1)
    x, out = torch.zeros(1, 3), torch.full((1, 3), 0.1)
    # per feature: 0.5 * (0.1 / 0.1)^2 + log 0.1 + 0.5 log 2 pi
    expected = 3 * (0.5 + math.log(0.1) + 0.5 * math.log(2 * math.pi))
    assert fixed.nll(x, out).item() == pytest.approx(expected, rel=1e-5)
    assert not list(fixed.parameters())
    learned = make_likelihood("gaussian_learned", 3, sigma=0.1)
    assert [p.shape for p in learned.parameters()] == [torch.Size([3])]
    with pytest.raises(LatentspaceError, match="sigma must be a positive number"):
        make_likelihood("gaussian", 3, sigma=0.0)
    with pytest.raises(LatentspaceError, match="unknown likelihood 'poisson'"):
        make_likelihood("poisson", 3)


def test_bernoulli_nll_is_the_binary_cross_entropy():
    g = torch.Generator().manual_seed(0)
    out = torch.randn(4, 7, 20, generator=g) * 20
    x = torch.rand(7, 20, generator=g)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(out, x.expand_as(out), reduction="none").sum(-1)
    np.testing.assert_allclose(make_likelihood("bernoulli", 20).nll(x, out), expected, rtol=1e-5, atol=1e-4)
