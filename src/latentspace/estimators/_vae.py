"""The variational autoencoder estimator."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ..errors import LatentspaceError
from ..likelihoods import make_likelihood
from ..models import VariationalAutoencoder
from ..nets import mlp_encoder_decoder
from ._base import BaseAutoEncoder, seed_from


class VAE(BaseAutoEncoder):
    """Variational autoencoder with a Gaussian encoder, N(0, I) prior and an MLP decoder.

    Parameters (beyond :class:`AutoEncoder`'s)
    ----------
    likelihood : "bernoulli" (data in [0, 1]), "gaussian" (sigma = 1) or "gaussian_learned".
    beta : weight of the KL term (beta-VAE; 1 is the ELBO).
    warmup_epochs : KL weight ramps linearly from 0 to ``beta`` over this many epochs.

    Attributes (beyond the AE's)
    ----------
    active_units_ : number of latent dimensions whose posterior mean varies across the training data
        with variance above 0.01.
    """

    def __init__(
        self,
        n_components: int = 16,
        *,
        hidden: tuple[int, ...] = (256, 64),
        activation: str = "relu",
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        warmup_epochs: int = 0,
        epochs: int = 50,
        batch_size: int = 128,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        validation_fraction: float = 0.1,
        patience: int | None = None,
        lr_schedule: str = "constant",
        grad_clip: float | None = None,
        scaling: str = "none",
        device: str = "cpu",
        verbose: bool = False,
        random_state=None,
    ):
        self.n_components = n_components
        self.hidden = hidden
        self.activation = activation
        self.likelihood = likelihood
        self.beta = beta
        self.warmup_epochs = warmup_epochs
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.grad_clip = grad_clip
        self.scaling = scaling
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    def _build_model(self, n_features: int) -> VariationalAutoencoder:
        k = int(self.n_components)
        encoder, decoder = mlp_encoder_decoder(n_features, k, self.hidden, self.activation, encoder_out=2 * k)
        return VariationalAutoencoder(
            encoder, decoder, make_likelihood(self.likelihood, n_features), k, self.beta, self.warmup_epochs
        )

    def fit(self, X, y=None, **fit_params):
        super().fit(X, y, **fit_params)
        codes = self._encode_training_data(X)
        self.active_units_ = int(np.sum(np.var(codes, axis=0) > 0.01))
        return self

    def _generator(self, random_state) -> torch.Generator:
        return torch.Generator(device=self.device).manual_seed(seed_from(random_state))

    def score_samples(self, X, n_samples: int = 16, random_state=0) -> np.ndarray:
        """Per-example ELBO in nats (higher is better), ``(n_samples,)``.

        The expectation over q(z|x) is estimated with ``n_samples`` draws shared by every example, so
        an example's score does not depend on the rest of ``X`` (order, batch) and repeats exactly.
        """
        X = self._validated(X)
        g = self._generator(random_state)
        eps = torch.randn((int(n_samples), self.model_.n_latent), generator=g, device=self.device)
        return self._map_chunks(lambda x: self.model_.elbo_common_noise(x, eps), self._scale(X)).astype(np.float64)

    def log_likelihood(self, X, k: int = 1000, random_state=0) -> np.ndarray:
        """Importance-weighted estimate of log p(x) with ``k`` samples, nats, ``(n_samples,)``.

        A lower bound on log p(x) that tightens as ``k`` grows; ``k=1`` is the ELBO.
        """
        if int(k) < 1:
            raise LatentspaceError(f"k must be >= 1, got {k}")
        X = self._validated(X)
        g = self._generator(random_state)
        # The chunking of samples happens inside the model; keep the example chunk small for large k.
        out = []
        with torch.inference_mode():
            self.model_.eval()
            for start in range(0, X.shape[0], 256):
                x = self._to_tensor(self._scale(X[start : start + 256]))
                out.append(self.model_.iw_log_likelihood(x, int(k), g).cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Decode ``n_samples`` draws of the prior N(0, I): ``(n_samples, n_features)`` float64."""
        if int(n_samples) < 1:
            raise LatentspaceError(f"n_samples must be >= 1, got {n_samples}")
        check_is_fitted(self)
        g = self._generator(random_state)
        with torch.inference_mode():
            self.model_.eval()
            out = self.model_.sample(int(n_samples), g).cpu().numpy()
        return self._unscale(out).astype(np.float64)
