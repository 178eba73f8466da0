"""The model families' objectives, each a small change to one of the two models in ``models.py``.

- :class:`ImportanceWeightedAutoencoder` (Burda et al. 2016): the k-sample bound
  log 1/k sum_i p(x, z_i) / q(z_i|x) as the training objective (k = 1: the ELBO).
- :class:`TotalCorrelationVAE` (beta-TCVAE, Chen et al. 2018): the KL split into index-code mutual
  information, total correlation (weighted by beta) and dimension-wise KL, estimated on the minibatch
  with minibatch-weighted sampling, which needs the data set's size N.
- :class:`ConditionalVariationalAutoencoder` (Sohn et al. 2015, decoder-conditioned): p(x | z, y) with the
  label's one-hot appended to the code, q(z | x) of the features alone.
- :class:`RegularizedAutoencoder`: a deterministic autoencoder plus one penalty on its codes, the RAE
  (Ghosh et al. 2020: ||z||^2 / 2 and an L2 penalty on the decoder) or the WAE-MMD (Tolstikhin et al.
  2018: the maximum mean discrepancy between the batch's codes and draws of the prior N(0, I)).

Every loss is, like the base models', summed over features and averaged over the batch.
"""

from __future__ import annotations

import math

import torch

from .models import Autoencoder, VariationalAutoencoder
from .priors import LOG_2PI, StandardNormal, diagonal_log_density


class ImportanceWeightedAutoencoder(VariationalAutoencoder):
    """A VAE trained on the k-sample importance-weighted bound (``iw_samples`` = k)."""

    def __init__(self, *args, iw_samples: int = 5, **kwargs):
        super().__init__(*args, **kwargs)
        self.iw_samples = int(iw_samples)

    def iw_bound(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """log 1/k sum_i w_i, per example ``(n,)``, with k = ``iw_samples`` draws of q(z|x)."""
        mu, logvar = self.posterior(x)
        eps = torch.randn((self.iw_samples, *mu.shape), generator=generator, dtype=mu.dtype, device=mu.device)
        components = None if self.prior.standard_normal else self.prior_components()
        return torch.logsumexp(self.log_weights(x, mu, logvar, eps, components), dim=0) - math.log(self.iw_samples)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        loss = -self.iw_bound(x, generator).mean()
        return {"loss": loss, "neg_iw_bound": loss}


class ConditionalVariationalAutoencoder(VariationalAutoencoder):
    """A VAE whose decoder reads the class: p(x | z, y) = decoder([z, onehot(y)]), q(z | x) = encoder(x).

    The rows it trains and is scored on carry their labels: ``(n, n_features + n_classes)``, the features
    then the one-hot ``y`` (the training loop, the ELBO and the importance weights pass rows through
    unchanged). The encoder reads the first ``n_features`` columns of whatever rows it is given, so a
    row without its label encodes too. ``decode`` takes conditioned codes ``(n, n_latent + n_classes)``.
    """

    def __init__(self, *args, n_features: int, n_classes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.n_features, self.n_classes = int(n_features), int(n_classes)

    @property
    def decoder_inputs(self) -> int:
        return self.n_latent + self.n_classes

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return super().posterior(x[..., : self.n_features])

    def recon_nll(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        features, onehot = x[..., : self.n_features], x[..., self.n_features :]
        return self.likelihood.nll(features, self.decoder(torch.cat([z, onehot.expand(*z.shape[:-1], -1)], -1)))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(torch.cat([self.encode(x), x[..., self.n_features :]], -1))

    def sample(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        raise NotImplementedError("a conditional model decodes codes with their classes: decode([z, onehot(y)])")


def log_q_pairs(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log q(z_i,d | x_j,d) for every pair of batch rows, per dimension: ``(n, k) x3 -> (n, n, k)``."""
    diff = z[:, None, :] - mu[None, :, :]
    return -0.5 * (diff.square() * torch.exp(-logvar[None]) + logvar[None] + LOG_2PI)


class TotalCorrelationVAE(VariationalAutoencoder):
    """beta-TCVAE: recon + MI + beta * TC + dimension-wise KL (prior N(0, I); ``beta`` weights the TC).

    The aggregate posterior q(z) is estimated on each batch of M rows by minibatch-weighted sampling:
    log q(z_i) ~= logsumexp_j log q(z_i|x_j) - log(N M), with N = ``dataset_size``.
    """

    batch_coupled = True

    def __init__(self, *args, dataset_size: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        # a buffer, so that a saved model carries the N it was trained with
        self.register_buffer("dataset_size", torch.tensor(int(dataset_size)))

    def decomposition(self, mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Batch means of mutual information, total correlation and dimension-wise KL (nats)."""
        m = z.shape[0]
        log_nm = math.log(int(self.dataset_size) * m)
        pairs = log_q_pairs(z, mu, logvar)  # (m, m, k)
        log_qz = torch.logsumexp(pairs.sum(-1), dim=1) - log_nm
        log_prod_marginals = (torch.logsumexp(pairs, dim=1) - log_nm).sum(-1)
        log_q_zx = diagonal_log_density(z, mu, logvar)
        log_pz = -0.5 * (z.square() + LOG_2PI).sum(-1)
        return {"mi": (log_q_zx - log_qz).mean(), "tc": (log_qz - log_prod_marginals).mean(),
                "dim_kl": (log_prod_marginals - log_pz).mean()}

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        mu, logvar = self.posterior(x)
        z = self.reparameterize(mu, logvar, generator)
        recon = self.likelihood.nll(x, self.decoder(z)).mean()
        terms = self.decomposition(mu, logvar, z)
        ramp = self.ramp if self.training else 1.0
        loss = recon + ramp * (terms["mi"] + self.beta * terms["tc"] + terms["dim_kl"])
        return {"loss": loss, "recon": recon, **terms}


def imq_mmd(a: torch.Tensor, b: torch.Tensor, scale: float) -> torch.Tensor:
    """Unbiased MMD^2 between samples ``a`` and ``b`` ``(n, k)`` with the inverse multiquadratic kernel
    C / (C + ||x - y||^2), summed over C = ``scale`` * {0.1, 0.2, 0.5, 1, 2, 5, 10} (the WAE paper's
    kernel, with C = 2 k sigma^2 for a prior of variance sigma^2 = 1)."""
    n = a.shape[0]
    off_diagonal = 1.0 - torch.eye(n, dtype=a.dtype, device=a.device)
    distances = [torch.cdist(u, v).square() for u, v in ((a, a), (b, b), (a, b))]
    total = a.new_zeros(())
    for c in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0):
        kaa, kbb, kab = (scale * c / (scale * c + d) for d in distances)
        within = ((kaa + kbb) * off_diagonal).sum() / (n * (n - 1))
        total = total + within - 2.0 * kab.mean()
    return total


class RegularizedAutoencoder(Autoencoder):
    """recon + ``code_weight`` * penalty(z) + ``decoder_l2`` * ||decoder weights||^2.

    ``penalty``: "l2" (RAE: ||z||^2 / 2, batch mean) or "mmd" (WAE-MMD against N(0, I), which is
    then the model's prior: its samples come from it).
    """

    PENALTIES = ("l2", "mmd")

    def __init__(self, *args, penalty: str = "l2", code_weight: float = 1.0, decoder_l2: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        if penalty not in self.PENALTIES:
            raise ValueError(f"unknown penalty {penalty!r}; choose one of {', '.join(self.PENALTIES)}")
        self.penalty, self.code_weight, self.decoder_l2 = penalty, float(code_weight), float(decoder_l2)
        if penalty == "mmd":
            self.prior = StandardNormal(self.n_latent)
        self.batch_coupled = penalty == "mmd"  # the MMD compares the batch's codes with as many prior draws

    def code_penalty(self, z: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if self.penalty == "l2":
            return 0.5 * z.square().sum(-1).mean()
        if z.shape[0] < 2:
            return z.new_zeros(())
        prior = torch.randn(z.shape, generator=generator, dtype=z.dtype, device=z.device)
        return imq_mmd(z, prior, 2.0 * z.shape[1])

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        z = self.encoder(x)
        recon = self.likelihood.nll(x, self.decoder(z)).mean()
        penalty = self.code_penalty(z, generator)
        loss = recon + self.code_weight * penalty
        terms = {"recon": recon, self.penalty: penalty}
        if self.decoder_l2 > 0:
            l2 = sum(p.square().sum() for name, p in self.decoder.named_parameters() if name.endswith("weight"))
            loss = loss + self.decoder_l2 * l2
            terms["decoder_l2"] = l2
        return {"loss": loss, **terms}
