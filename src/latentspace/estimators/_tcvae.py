"""beta-TCVAE (Chen et al. 2018): the KL's total-correlation part weighted by beta."""

from __future__ import annotations

from ..nn.variants import TotalCorrelationVAE
from ._vae import VAE


class BetaTCVAE(VAE):
    """A :class:`VAE` with the loss recon + MI + ``beta`` * TC + dimension-wise KL, the aggregate posterior
    estimated on each batch by minibatch-weighted sampling with the training set's size N (kept in the
    model, so a saved model carries it). ``beta`` weights the total correlation only (the paper: 6);
    its default here is the VAE's 1, with which the loss is the ELBO's, estimated differently.

    Same parameters as the VAE; ``history_`` records ``mi``, ``tc`` and ``dim_kl``.
    """

    def _model_class(self) -> type[TotalCorrelationVAE]:
        return TotalCorrelationVAE

    def _model_options(self, n_features: int) -> dict:
        return {"dataset_size": int(getattr(self, "n_train_", 1))}
