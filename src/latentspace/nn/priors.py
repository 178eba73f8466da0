"""Priors p(z) owned by the models: every one a mixture of diagonal Gaussians.

A prior says what it is through ``components(posterior)``: ``(log_weights (K,), means (K, k),
logvars (K, k))``. From that one description follow its sample, its log-density, the KL term of the
ELBO, and what the estimators hand to the analysis and the explorer (the mixture as numbers). The
standard normal is the mixture of one component N(0, I); the VampPrior (Tomczak & Welling 2018) is
the uniform mixture of the encoder's posteriors at K learned pseudo-inputs, which is why
``components`` is given the model's posterior function.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

#: ``(n, n_features) -> (mu, logvar)``, each ``(n, k)``: the encoder's posterior q(z|x)
Posterior = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
Components = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
LOG_2PI = math.log(2 * math.pi)


def diagonal_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag exp(logvar)) summed over the last axis (broadcasting): ``(..., k) -> (...)``."""
    return -0.5 * ((z - mu).square() * torch.exp(-logvar) + logvar + LOG_2PI).sum(-1)


def mixture_log_density(z: torch.Tensor, components: Components) -> torch.Tensor:
    """log sum_j w_j N(z; mu_j, diag exp(logvar_j)): ``(..., k) -> (...)``."""
    log_w, mu, logvar = components
    per_component = diagonal_log_density(z[..., None, :], mu, logvar)  # (..., K)
    return torch.logsumexp(per_component + log_w, dim=-1)


def mixture_sample(n: int, components: Components, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` draws ``(n, k)``: a component by its weight, then a point of that Gaussian."""
    log_w, mu, logvar = components
    if mu.shape[0] == 1:  # one component: no choice to draw
        which = torch.zeros(n, dtype=torch.long, device=mu.device)
    else:
        which = torch.multinomial(log_w.exp(), n, replacement=True, generator=generator)
    eps = torch.randn((n, mu.shape[-1]), generator=generator, dtype=mu.dtype, device=mu.device)
    return mu[which] + torch.exp(0.5 * logvar[which]) * eps


class Prior(nn.Module):
    """p(z), a mixture of diagonal Gaussians; subclasses say which in ``components``."""

    #: True for N(0, I): its KL is analytic and factorises over the latent dimensions
    standard_normal = False

    def __init__(self, n_latent: int):
        super().__init__()
        self.n_latent = int(n_latent)

    def components(self, posterior: Posterior) -> Components:
        raise NotImplementedError

    def log_prob(self, z: torch.Tensor, posterior: Posterior) -> torch.Tensor:
        """log p(z): ``(..., k) -> (...)``."""
        return mixture_log_density(z, self.components(posterior))

    def sample(self, n: int, posterior: Posterior, generator: torch.Generator | None) -> torch.Tensor:
        """``n`` draws of p(z), ``(n, k)``."""
        return mixture_sample(n, self.components(posterior), generator)

    def kl(self, mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor, posterior: Posterior) -> torch.Tensor:
        """The ELBO's KL(q(z|x) || p(z)) per example ``(n,)``, for q = N(mu, diag exp(logvar)) ``(n, k)``
        and one draw ``z`` ``(n, k)`` of it: analytic for one Gaussian component, otherwise the
        one-sample estimate log q(z|x) - log p(z) (unbiased, the VampPrior paper's choice)."""
        _, p_mu, p_logvar = self.components(posterior)
        if p_mu.shape[0] == 1:
            ratio = torch.exp(logvar - p_logvar)
            return 0.5 * (ratio + (mu - p_mu).square() * torch.exp(-p_logvar) - 1.0 - logvar + p_logvar).sum(-1)
        return diagonal_log_density(z, mu, logvar) - self.log_prob(z, posterior)


class StandardNormal(Prior):
    """N(0, I): the standard VAE's prior, one component with no parameters."""

    standard_normal = True

    def __init__(self, n_latent: int):
        super().__init__(n_latent)
        # follows the model's device and dtype, so the components are made where they are used
        self.register_buffer("anchor", torch.zeros(1), persistent=False)

    def components(self, posterior: Posterior) -> Components:
        zeros = self.anchor.new_zeros((1, self.n_latent))
        return self.anchor.new_zeros(1), zeros, zeros


class VampPrior(Prior):
    """p(z) = 1/K sum_j q(z | u_j): the encoder's posteriors at K learned pseudo-inputs ``u`` ``(K, n_features)``
    (Tomczak & Welling 2018, "VAE with a VampPrior")."""

    #: the pseudo-inputs start as this much noise around ``start`` (the paper's MNIST setting: 0.01)
    INIT_STD = 0.01

    def __init__(self, n_latent: int, n_features: int, n_pseudo_inputs: int, start: float = 0.0):
        super().__init__(n_latent)
        self.pseudo_inputs = nn.Parameter(torch.zeros(int(n_pseudo_inputs), int(n_features)))
        self.start = float(start)

    @torch.no_grad()
    def initialise(self, generator: torch.Generator) -> None:
        """Draw the pseudo-inputs from ``generator`` (called with the rest of the model's weights)."""
        noise = torch.randn(self.pseudo_inputs.shape, generator=generator, dtype=self.pseudo_inputs.dtype)
        self.pseudo_inputs.copy_(self.start + self.INIT_STD * noise.to(self.pseudo_inputs.device))

    def components(self, posterior: Posterior) -> Components:
        mu, logvar = posterior(self.pseudo_inputs)
        K = mu.shape[0]
        return torch.full((K,), -math.log(K), dtype=mu.dtype, device=mu.device), mu, logvar
