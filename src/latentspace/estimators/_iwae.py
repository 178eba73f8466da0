"""The importance-weighted autoencoder (Burda et al. 2016): the k-sample bound as the training objective."""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from ..nn.variants import ImportanceWeightedAutoencoder
from ..training import budget
from ._base import COMMON_PARAMS
from ._params import Param
from ._vae import VAE


class IWAE(VAE):
    """A :class:`VAE` trained to maximise log 1/k sum_i p(x, z_i) / q(z_i|x), z_i ~ q(z|x), with
    k = ``n_importance_samples`` (k = 1 is the ELBO; the paper's k = 5 and 50 tighten it).

    No ``beta`` and no warm-up: the bound has no separate KL term to weight. The validation loss,
    early stopping's, is the same k-sample bound.
    """

    _parameter_constraints: ClassVar[dict[str, Param]] = {
        **{k: v for k, v in VAE._parameter_constraints.items() if k not in ("beta", "warmup_epochs")},
        "n_importance_samples": Param("int", "IWAE: samples k of q(z|x) in the training bound (1: the ELBO)",
                                      low=1, high=10_000),
        "epochs": COMMON_PARAMS["epochs"],
    }
    # Adam's constant 1e-3 by default, as the AE: its budget, not the VAE's (VAE_RULE assumes lr 5e-3 with
    # "warmup_cosine"; docs/training.md)
    _epoch_rule: ClassVar[budget.EpochRule] = budget.DEFAULT_RULE

    def __init__(
        self,
        n_components: int = 16,
        *,
        n_importance_samples: int = 5,
        hidden: tuple[int, ...] = (256, 64),
        activation: str = "relu",
        architecture: str = "mlp",
        image_shape: tuple[int, ...] | None = None,
        channels: tuple[int, ...] = (32, 64),
        norm: str = "none",
        encoder: nn.Module | None = None,
        decoder: nn.Module | None = None,
        likelihood: str = "auto",
        sigma: float = 1.0,
        binarize: str | None = None,
        epochs: int | str = "auto",
        batch_size: int = 128,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        validation_fraction: float = 0.1,
        patience: int | str | None = "auto",
        lr_schedule: str = "constant",
        grad_clip: float | None = None,
        scaling: str = "none",
        device: str = "auto",
        threads: int | None = None,
        precision: str = "auto",
        verbose: bool = False,
        callbacks: list | None = None,
        warm_start: bool = False,
        random_state=None,
    ):
        self.n_components = n_components
        self.n_importance_samples = n_importance_samples
        self.hidden = hidden
        self.activation = activation
        self.architecture = architecture
        self.image_shape = image_shape
        self.channels = channels
        self.norm = norm
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.sigma = sigma
        self.binarize = binarize
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
        self.threads = threads
        self.precision = precision
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.random_state = random_state

    def _model_class(self) -> type[ImportanceWeightedAutoencoder]:
        return ImportanceWeightedAutoencoder

    def _model_options(self, n_features: int) -> dict:
        return {"iw_samples": int(self.n_importance_samples)}
