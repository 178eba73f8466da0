"""Observation models p(x | z): map the decoder's raw output to a negative log-likelihood and a mean.

Every ``nll`` is summed over features and returned per example, shape ``(n,)``, in nats (the
``squared_error`` loss of a plain AE is not a density and is reported as a summed squared error).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import LatentspaceError

LOG_2PI = math.log(2 * math.pi)


class ElementwiseOp(NamedTuple):
    """One elementwise function, by name, with its constants: a step of a likelihood's mean written so
    that code outside torch (the report's in-page decoder) can replay it. The names in use:
    ``sigmoid`` and ``continuous_bernoulli_mean`` (constant ``taylor_below``)."""

    fn: str
    params: dict[str, float] = {}


class Likelihood(nn.Module):
    """Base class. ``out`` is the decoder's raw output, shape ``(..., n_features)``."""

    #: True when the data must lie in [0, 1] (Bernoulli-type models).
    needs_unit_interval = False

    def nll(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def mean_ops(self) -> tuple[ElementwiseOp, ...]:
        """:meth:`mean` as elementwise functions applied in order (empty: the mean is ``out`` itself).

        A likelihood that does not say cannot be replayed outside torch; it gets a clear error, not a
        guess.
        """
        raise LatentspaceError(
            f"the {type(self).__name__} likelihood does not describe its mean as elementwise operations "
            "(it defines no mean_ops), so its decoder cannot run outside torch")


class SquaredError(Likelihood):
    """``||x - out||^2``: the classic autoencoder's reconstruction error (a Gaussian with sigma^2 = 1/2, less constants)."""

    def nll(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return (x - out).square().sum(-1)

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        return out

    def mean_ops(self) -> tuple[ElementwiseOp, ...]:
        return ()


class Bernoulli(Likelihood):
    """Bernoulli with logits ``out``; binary cross-entropy. Fractional x in [0, 1] is allowed."""

    needs_unit_interval = True

    def nll(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        # softplus(eta) - x * eta is the binary cross-entropy in fewer kernels than BCE's, which
        # matters when the importance-weighted bound decodes thousands of samples per example.
        # Subtracting per element (not sum minus sum) keeps extreme logits exact.
        return (F.softplus(out) - out * x).sum(-1)

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(out)

    def mean_ops(self) -> tuple[ElementwiseOp, ...]:
        return (ElementwiseOp("sigmoid"),)


class ContinuousBernoulli(Likelihood):
    """Continuous Bernoulli (Loaiza-Ganem & Cunningham 2019) with logits ``out``: a density on [0, 1].

    p(x | lam) = C(lam) lam^x (1 - lam)^(1 - x). In terms of the logit eta = log(lam / (1 - lam)) the
    normaliser is C = eta / tanh(eta / 2), which is 2 at eta = 0 (lam = 0.5), where the closed form is
    0/0; there a Taylor series is used instead. Its nll can be negative (it is a density).
    """

    needs_unit_interval = True
    #: below this |logit| (lam within ~0.475..0.525) the Taylor series replace the closed forms
    TAYLOR_BELOW = 0.1

    def nll(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        bce = F.binary_cross_entropy_with_logits(out, x.expand_as(out), reduction="none")
        return (bce - continuous_bernoulli_log_norm(out, self.TAYLOR_BELOW)).sum(-1)

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        return continuous_bernoulli_mean(out, self.TAYLOR_BELOW)

    def mean_ops(self) -> tuple[ElementwiseOp, ...]:
        return (ElementwiseOp("continuous_bernoulli_mean", {"taylor_below": float(self.TAYLOR_BELOW)}),)


def continuous_bernoulli_log_norm(logits: torch.Tensor, taylor_below: float = 0.1) -> torch.Tensor:
    """log C(lam) elementwise, from logits ``(...)``; finite and smooth for every finite logit.

    log C = log|eta| - log(1 - e^-|eta|) + log(1 + e^-|eta|) (= log(eta / tanh(eta / 2))), and near 0
    log C ~= log 2 + log1p(eta^2 / 12 - eta^4 / 720), whose next term is O(eta^6) < 1e-10 here.
    """
    a = logits.abs()
    small = a < taylor_below
    # torch.where differentiates both branches: feed each one only inputs where it is finite.
    a_far = torch.where(small, torch.full_like(a, taylor_below), a)
    closed = torch.log(a_far) - torch.log(-torch.expm1(-a_far)) + torch.log1p(torch.exp(-a_far))
    e2 = torch.where(small, logits, torch.zeros_like(logits)).square()
    taylor = math.log(2.0) + torch.log1p(e2 / 12.0 - e2.square() / 720.0)
    return torch.where(small, taylor, closed)


def continuous_bernoulli_mean(logits: torch.Tensor, taylor_below: float = 0.1) -> torch.Tensor:
    """E[x] elementwise: 1 / (1 - e^-eta) - 1 / eta, and 1/2 + eta/12 - eta^3/720 near eta = 0."""
    small = logits.abs() < taylor_below
    far = torch.where(small, torch.full_like(logits, taylor_below), logits)
    closed = -1.0 / torch.expm1(-far) - 1.0 / far
    near = torch.where(small, logits, torch.zeros_like(logits))
    taylor = 0.5 + near / 12.0 - near.pow(3) / 720.0
    return torch.where(small, taylor, closed).clamp(0.0, 1.0)


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

    def mean_ops(self) -> tuple[ElementwiseOp, ...]:
        return ()


class CalibratedGaussian(Likelihood):
    """Gaussian with mean ``out`` and one shared standard deviation set to its optimum (sigma-VAE).

    Rybkin et al. (2021), "Simple and effective VAE training with calibrated decoders": for a shared
    sigma the likelihood is maximised by sigma^2 = the mean squared error, so no variance is tuned by
    hand and the reconstruction term cannot be drowned by the KL (a fixed sigma = 1 on data in [0, 1]
    is, and the VAE then ignores its latent space). In training mode sigma^2 is the batch's own mean
    squared error (detached: the gradient of the sum of the nlls is then the same as the paper's
    D/2 log MSE); a running average of it (``log_sigma``, a buffer saved with the model) is the fixed
    sigma used in evaluation, so held-out ELBOs and IW-NLLs are those of one proper density.
    """

    #: weight of the newest batch in the running average of log sigma
    MOMENTUM = 0.02
    #: the smallest sigma: a noiseless feature would otherwise drive the density to infinity
    MIN_LOG_SIGMA = math.log(1e-3)

    def __init__(self, n_features: int, sigma: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("log_sigma", torch.tensor(math.log(sigma)))

    def nll(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        squared = (x - out).square()
        if self.training and torch.is_grad_enabled():
            batch = 0.5 * torch.log(squared.detach().mean()).clamp(min=self.MIN_LOG_SIGMA)
            with torch.no_grad():
                self.log_sigma.lerp_(batch, self.MOMENTUM)
            log_sigma = batch
        else:
            log_sigma = self.log_sigma.clamp(min=self.MIN_LOG_SIGMA)
        n_features = x.shape[-1]
        return 0.5 * squared.sum(-1) * torch.exp(-2 * log_sigma) + n_features * (log_sigma + 0.5 * LOG_2PI)

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        return out

    def mean_ops(self) -> tuple[ElementwiseOp, ...]:
        return ()


def make_likelihood(name: str, n_features: int, sigma: float = 1.0) -> Likelihood:
    """Build a likelihood by name (the estimators' ``likelihood`` / ``loss`` parameter).

    ``sigma`` is the Gaussian's fixed standard deviation, or the starting value of the learned or
    calibrated one.
    """
    if name in ("mse", "squared_error"):
        return SquaredError()
    if name in ("bernoulli", "bce"):
        return Bernoulli()
    if name == "continuous_bernoulli":
        return ContinuousBernoulli()
    if name in ("gaussian", "gaussian_learned", "gaussian_calibrated"):
        if not (math.isfinite(sigma) and sigma > 0):
            raise LatentspaceError(f"sigma must be a positive number, got {sigma}")
        if name == "gaussian_calibrated":
            return CalibratedGaussian(n_features, sigma=float(sigma))
        return Gaussian(n_features, sigma=float(sigma), learn_sigma=name == "gaussian_learned")
    raise LatentspaceError(f"unknown likelihood {name!r}; choose one of {', '.join(LIKELIHOODS)}")


def likelihood_for_data(low: float, high: float) -> str:
    """The VAE's likelihood for data spanning [``low``, ``high``] (after scaling): the one rule.

    Data in [0, 1] (images, proportions) get a Bernoulli decoder, the literature's choice whose nats
    compare with published numbers; anything else gets the calibrated Gaussian (sigma-VAE), whose
    variance follows the reconstruction error instead of being guessed.
    """
    return "bernoulli" if low >= -1e-6 and high <= 1 + 1e-6 else "gaussian_calibrated"


LIKELIHOODS = ("mse", "bce", "bernoulli", "continuous_bernoulli", "gaussian", "gaussian_learned",
               "gaussian_calibrated")
