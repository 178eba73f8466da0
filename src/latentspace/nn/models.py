"""The torch modules: a deterministic autoencoder and a variational autoencoder.

Both own their loss. ``forward(x, generator)`` returns a dict of scalar loss terms with the key
``"loss"`` being what the optimiser minimises; every term is summed over features and averaged over
the batch. The training loop calls ``forward`` (not a side method) so that DistributedDataParallel's
gradient hooks see the whole computation.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .likelihoods import Likelihood

#: numbers per intermediate of the importance-weighted bound's sample chunks (see iw_log_likelihood)
IW_CHUNK_ELEMENTS = 2**20


class LatentModel(nn.Module):
    """What the training loop and the estimators rely on."""

    n_latent: int
    #: numbers the encoder outputs per latent dimension (the code itself: 1)
    code_outputs = 1

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, n_features) -> (n, n_latent)``: the code (posterior mean for a VAE)."""
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(n, n_latent) -> (n, n_features)``: the mean of p(x | z)."""
        raise NotImplementedError

    def reconstruction_nll(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, n_features) -> (n,)``: the likelihood's loss of ``decode(encode(x))``, deterministic."""
        return self.likelihood.nll(x, self.decoder(self.encode(x)))

    def start_epoch(self, epoch: int) -> None:
        """Called by the training loop before each epoch (0-based), e.g. for KL warm-up."""

    def counts_for_early_stopping(self, epoch: int) -> bool:
        """Whether the validation loss of the epoch numbered ``epoch`` (1-based, just finished) may
        end training: not during a warm-up."""
        return True


class Autoencoder(LatentModel):
    """x -> encoder -> z -> decoder -> likelihood parameters. Loss: reconstruction only."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, likelihood: Likelihood, n_latent: int):
        super().__init__()
        self.encoder, self.decoder, self.likelihood = encoder, decoder, likelihood
        self.n_latent = n_latent

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.likelihood.mean(self.decoder(z))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        recon = self.reconstruction_nll(x).mean()
        return {"loss": recon, "recon": recon}


class VariationalAutoencoder(LatentModel):
    """Gaussian encoder q(z|x) = N(mu, diag(exp(logvar))), prior N(0, I), decoder p(x|z).

    The encoder network outputs ``2 * n_latent`` numbers per example: mean, then log-variance.
    """

    #: the encoder's outputs per latent dimension: a mean and a log-variance
    code_outputs = 2
    #: log-variance is soft-clamped to (-LOGVAR_LIMIT, LOGVAR_LIMIT) so exp() cannot overflow or vanish.
    LOGVAR_LIMIT = 10.0

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        likelihood: Likelihood,
        n_latent: int,
        beta: float = 1.0,
        warmup_epochs: int = 0,
    ):
        super().__init__()
        self.encoder, self.decoder, self.likelihood = encoder, decoder, likelihood
        self.n_latent, self.beta, self.warmup_epochs = n_latent, float(beta), int(warmup_epochs)
        self.kl_weight = self.beta if self.warmup_epochs == 0 else 0.0

    def start_epoch(self, epoch: int) -> None:
        ramp = 1.0 if self.warmup_epochs == 0 else min(1.0, epoch / self.warmup_epochs)
        self.kl_weight = self.beta * ramp

    def counts_for_early_stopping(self, epoch: int) -> bool:
        return epoch > self.warmup_epochs

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(n, n_features) -> (mu, logvar)``, each ``(n, n_latent)``."""
        h = self.encoder(x)
        mu, raw_logvar = h[..., : self.n_latent], h[..., self.n_latent :]
        logvar = self.LOGVAR_LIMIT * torch.tanh(raw_logvar / self.LOGVAR_LIMIT)
        return mu, logvar

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.likelihood.mean(self.decoder(z))

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None, n_samples: int | None = None
    ) -> torch.Tensor:
        """z = mu + sigma * eps; with ``n_samples`` the result is ``(n_samples, *mu.shape)``."""
        shape = mu.shape if n_samples is None else (n_samples, *mu.shape)
        eps = torch.randn(shape, generator=generator, dtype=mu.dtype, device=mu.device)
        return mu + torch.exp(0.5 * logvar) * eps

    @staticmethod
    def kl_to_prior(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """Analytic KL(q(z|x) || N(0, I)) per latent dimension, shape ``(n, n_latent)``."""
        return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)

    def elbo_terms(self, x: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """One-sample (reconstruction NLL, KL), each ``(n,)``: -ELBO = recon + KL."""
        mu, logvar = self.posterior(x)
        z = self.reparameterize(mu, logvar, generator)
        recon = self.likelihood.nll(x, self.decoder(z))
        return recon, self.kl_to_prior(mu, logvar).sum(-1)

    def elbo_with_noise(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """ELBO per example ``(n,)``: the reconstruction term averaged over each example's own noise
        draws ``eps`` ``(n, S, n_latent)``, the KL exact.

        Independent draws per example make the error of a data-set mean shrink with the number of
        examples as well as with S (draws shared by all examples do not average out across them).
        """
        mu, logvar = self.posterior(x)
        n, draws, k = eps.shape
        z = (mu[:, None, :] + torch.exp(0.5 * logvar)[:, None, :] * eps).reshape(n * draws, k)
        recon = self.likelihood.nll(x.repeat_interleave(draws, dim=0), self.decoder(z)).reshape(n, draws).mean(1)
        return -(recon + self.kl_to_prior(mu, logvar).sum(-1))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        recon, kl = self.elbo_terms(x, generator)
        recon, kl = recon.mean(), kl.mean()
        # Validation (eval mode) always scores the objective itself, -ELBO at the full weight beta,
        # so that early stopping compares like with like during and after the warm-up.
        weight = self.kl_weight if self.training else self.beta
        return {"loss": recon + weight * kl, "recon": recon, "kl": kl}

    def sample(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """Decode ``n`` draws of the prior: ``(n, n_features)`` decoder means."""
        p = next(self.parameters())
        z = torch.randn((n, self.n_latent), generator=generator, dtype=p.dtype, device=p.device)
        return self.decode(z)

    def widest_decoder_layer(self) -> int:
        """The largest per-example width of the decoder's layers (sizes the IW chunks)."""
        widths = [m.out_features for m in self.decoder.modules() if isinstance(m, nn.Linear)]
        return max(widths, default=1)

    def iw_log_likelihood(
        self, x: torch.Tensor, k: int, generator: torch.Generator | None, max_elements: int = IW_CHUNK_ELEMENTS
    ) -> torch.Tensor:
        """Importance-weighted estimate of log p(x), ``(n, n_features) -> (n,)`` nats.

        log p(x) ~= logsumexp_i[log p(x|z_i) + log p(z_i) - log q(z_i|x)] - log k, z_i ~ q(z|x).
        Samples are drawn in chunks so that no ``(samples, n, width)`` intermediate holds more than
        ``max_elements`` numbers (4 MiB of float32 by default: big enough to keep the matrix kernels
        busy, small enough for the element-wise likelihood terms to stay in cache; 1.2-1.5x faster
        than 32 MiB, benchmarks/README.md); the log-sum-exp is accumulated across chunks.
        """
        mu, logvar = self.posterior(x)
        n = x.shape[0]
        d = max(x.shape[-1], self.n_latent, self.widest_decoder_layer())
        chunk = max(1, min(k, max_elements // max(1, n * d)))
        total = torch.full((n,), -math.inf, dtype=mu.dtype, device=mu.device)
        std = torch.exp(0.5 * logvar)
        # log p(z) - log q(z|x) = sum_j [eps_j^2 + logvar_j - z_j^2] / 2: the 2*pi terms cancel.
        for start in range(0, k, chunk):
            s = min(chunk, k - start)
            eps = torch.randn((s, *mu.shape), generator=generator, dtype=mu.dtype, device=mu.device)
            z = mu + std * eps
            log_prior_minus_q = 0.5 * (eps.square() + logvar - z.square()).sum(-1)
            log_px_z = -self.likelihood.nll(x, self.decoder(z))
            total = torch.logaddexp(total, torch.logsumexp(log_px_z + log_prior_minus_q, dim=0))
        return total - math.log(k)
