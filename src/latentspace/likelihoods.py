"""Observation models p(x | z): map the decoder's raw output to a negative log-likelihood and a mean.

Every ``nll`` is summed over features and returned per example, shape ``(n,)``, in nats (the
``squared_error`` loss of a plain AE is not a density and is reported as a summed squared error).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

LOG_2PI = math.log(2 * math.pi)


class Likelihood(nn.Module):
    """Base class. ``out`` is the decoder's raw output, shape ``(..., n_features)``."""

    #: True when the data must lie in [0, 1] (Bernoulli-type models).
    needs_unit_interval = False

    def nll(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class SquaredError(Likelihood):
    """``||x - out||^2``: the seed's reconstruction error (a Gaussian with sigma^2 = 1/2, less constants)."""

    def nll(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return (x - out).square().sum(-1)

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        return out


class Bernoulli(Likelihood):
    """Bernoulli with logits ``out``; binary cross-entropy. Fractional x in [0, 1] is allowed."""

    needs_unit_interval = True

    def nll(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(out, x.expand_as(out), reduction="none").sum(-1)

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(out)


class Gaussian(Likelihood):
    """Gaussian with mean ``out`` and a per-feature standard deviation, fixed or learned."""

    def __init__(self, n_features: int, sigma: float = 1.0, learn_sigma: bool = False) -> None:
        super().__init__()
        log_sigma = torch.full((n_features,), math.log(sigma))
        if learn_sigma:
            self.log_sigma = nn.Parameter(log_sigma)
        else:
            self.register_buffer("log_sigma", log_sigma)

    def nll(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        # Keep sigma away from 0 so a learned variance cannot collapse onto a single pixel value.
        log_sigma = self.log_sigma.clamp(min=-7.0)
        z = (x - out) * torch.exp(-log_sigma)
        return (0.5 * z.square() + log_sigma + 0.5 * LOG_2PI).sum(-1)

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        return out


def make_likelihood(name: str, n_features: int) -> Likelihood:
    """Build a likelihood by name (the estimators' ``likelihood`` / ``loss`` parameter)."""
    if name in ("mse", "squared_error"):
        return SquaredError()
    if name in ("bernoulli", "bce"):
        return Bernoulli()
    if name == "gaussian":
        return Gaussian(n_features, sigma=1.0, learn_sigma=False)
    if name == "gaussian_learned":
        return Gaussian(n_features, sigma=1.0, learn_sigma=True)
    raise ValueError(f"unknown likelihood {name!r}; choose one of {', '.join(LIKELIHOODS)}")


LIKELIHOODS = ("mse", "bce", "bernoulli", "gaussian", "gaussian_learned")
