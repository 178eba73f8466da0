"""The torch modules: a deterministic autoencoder and a variational autoencoder with a prior of its own.

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
from .priors import Prior, StandardNormal, diagonal_log_density, mixture_log_density

#: numbers per intermediate of the importance-weighted bound's sample chunks (see iw_log_likelihood)
IW_CHUNK_ELEMENTS = 2**20


class LatentModel(nn.Module):
    """What the training loop and the estimators rely on."""

    n_latent: int
    #: numbers the encoder outputs per latent dimension (the code itself: 1)
    code_outputs = 1
    #: whether the loss couples the rows of a batch (an MMD between a batch's codes and the prior's, a
    #: minibatch estimate of the aggregate posterior): then it is scored in batches of the training size
    batch_coupled = False
    # ``prior``: p(z), a Prior module for the models that have one (a VAE, a WAE); None for the others,
    # whose samples need a density fitted to their codes. (An instance attribute: nn.Module registers it.)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, n_features) -> (n, n_latent)``: the code (posterior mean for a VAE)."""
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(n, n_latent) -> (n, n_features)``: the mean of p(x | z)."""
        raise NotImplementedError

    def reconstruction_nll(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, n_features) -> (n,)``: the likelihood's loss of ``decode(encode(x))``, deterministic."""
        return self.recon_nll(x, self.encode(x))

    def recon_nll(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """-log p(x | z): rows ``x`` ``(n, n_features)``, codes ``z`` ``(..., n, n_latent)`` -> ``(..., n)``.
        The one place the decoder meets the rows it is scored on (a conditional model reads their labels here)."""
        return self.likelihood.nll(x, self.decoder(z))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``decode(encode(x))``: ``(n, n_features) -> (n, n_features)``."""
        return self.decode(self.encode(x))

    @property
    def decoder_inputs(self) -> int:
        """Numbers ``decode`` reads per example: the code (a conditional model's: and its class's one-hot)."""
        return self.n_latent

    def prior_components(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The prior as a mixture of diagonal Gaussians: ``(log_weights (K,), means (K, k), logvars (K, k))``."""
        return self.prior.components(getattr(self, "posterior", None))

    def sample(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """Decode ``n`` draws of the prior: ``(n, n_features)`` decoder means."""
        return self.decode(self.prior.sample(n, getattr(self, "posterior", None), generator))

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
        self.prior: Prior | None = None
        self.n_latent = n_latent

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.likelihood.mean(self.decoder(z))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        recon = self.reconstruction_nll(x).mean()
        return {"loss": recon, "recon": recon}


class VariationalAutoencoder(LatentModel):
    """Gaussian encoder q(z|x) = N(mu, diag(exp(logvar))), a prior p(z) (N(0, I) unless given), decoder p(x|z).

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
        prior: Prior | None = None,
    ):
        super().__init__()
        self.encoder, self.decoder, self.likelihood = encoder, decoder, likelihood
        self.prior = StandardNormal(n_latent) if prior is None else prior
        self.n_latent, self.beta, self.warmup_epochs = n_latent, float(beta), int(warmup_epochs)
        self.ramp = 1.0 if self.warmup_epochs == 0 else 0.0
        self.kl_weight = self.beta * self.ramp

    def start_epoch(self, epoch: int) -> None:
        self.ramp = 1.0 if self.warmup_epochs == 0 else min(1.0, epoch / self.warmup_epochs)
        self.kl_weight = self.beta * self.ramp

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

    def kl_to_prior(self, mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """KL(q(z|x) || p(z)) per example ``(n,)`` (the prior's own: analytic or one-sample, ``Prior.kl``);
        ``z`` ``(n, k)`` or ``(n, S, k)`` are draws of q, averaged over S."""
        if z.dim() == 3:
            return self.prior.kl(mu[:, None], logvar[:, None], z, self.posterior).reshape(z.shape[0], -1).mean(1)
        return self.prior.kl(mu, logvar, z, self.posterior)

    def elbo_terms(self, x: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """One-sample (reconstruction NLL, KL), each ``(n,)``: -ELBO = recon + KL."""
        mu, logvar = self.posterior(x)
        z = self.reparameterize(mu, logvar, generator)
        recon = self.recon_nll(x, z)
        return recon, self.kl_to_prior(mu, logvar, z)

    def elbo_with_noise(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """ELBO per example ``(n,)``: the reconstruction term averaged over each example's own noise
        draws ``eps`` ``(n, S, n_latent)``, the KL exact.

        Independent draws per example make the error of a data-set mean shrink with the number of
        examples as well as with S (draws shared by all examples do not average out across them).
        """
        mu, logvar = self.posterior(x)
        n, draws, k = eps.shape
        z = mu[:, None, :] + torch.exp(0.5 * logvar)[:, None, :] * eps
        recon = self.recon_nll(x.repeat_interleave(draws, dim=0), z.reshape(n * draws, k))
        return -(recon.reshape(n, draws).mean(1) + self.kl_to_prior(mu, logvar, z))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        recon, kl = self.elbo_terms(x, generator)
        recon, kl = recon.mean(), kl.mean()
        # Validation (eval mode) always scores the objective itself, -ELBO at the full weight beta,
        # so that early stopping compares like with like during and after the warm-up.
        weight = self.kl_weight if self.training else self.beta
        return {"loss": recon + weight * kl, "recon": recon, "kl": kl}

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
        components = None if self.prior.standard_normal else self.prior_components()
        for start in range(0, k, chunk):
            eps = torch.randn((min(chunk, k - start), *mu.shape), generator=generator, dtype=mu.dtype, device=mu.device)
            total = torch.logaddexp(total, torch.logsumexp(self.log_weights(x, mu, logvar, eps, components), dim=0))
        return total - math.log(k)

    def log_weights(self, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor,
                    components=None) -> torch.Tensor:
        """Importance weights log p(x|z) + log p(z) - log q(z|x) ``(s, n)`` of the draws z = mu + sigma * eps,
        ``eps`` ``(s, n, k)``; ``components``: the prior's (None for N(0, I))."""
        z = mu + torch.exp(0.5 * logvar) * eps
        if components is None:  # log N(z; 0, I) - log q(z|x) = sum_j [eps_j^2 + logvar_j - z_j^2] / 2: 2*pi cancels
            log_prior_minus_q = 0.5 * (eps.square() + logvar - z.square()).sum(-1)
        else:
            log_prior_minus_q = mixture_log_density(z, components) - diagonal_log_density(z, mu, logvar)
        return -self.recon_nll(x, z) + log_prior_minus_q
