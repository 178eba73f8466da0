"""The VampPrior VAE (Tomczak & Welling 2018): the prior is the encoder's own posteriors at learned pseudo-inputs."""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from ..nn.priors import VampPrior
from ..training import budget
from ._base import COMMON_PARAMS
from ._params import Param
from ._vae import VAE


class VampVAE(VAE):
    """A :class:`VAE` whose prior is p(z) = 1/K sum_j q(z | u_j), K = ``n_pseudo_inputs`` learned
    pseudo-inputs ``u_j`` (rows in the model's scaled data space, trained with the networks).

    The KL term becomes the one-draw estimate log q(z|x) - log p(z) (the paper's), the importance
    weights of ``log_likelihood`` use the mixture, and ``sample`` draws from it. Everything else,
    parameters included, is the VAE's.
    """

    _parameter_constraints: ClassVar[dict[str, Param]] = {
        **VAE._parameter_constraints,
        "n_pseudo_inputs": Param("int", "VampPrior: number K of learned pseudo-inputs whose posteriors make the "
                                 "prior (the paper: 500 on MNIST)", low=1, high=100_000),
        "epochs": COMMON_PARAMS["epochs"],
    }
    # Adam's constant 1e-3 by default, as the AE: its budget, not the VAE's (VAE_RULE assumes lr 5e-3 with
    # "warmup_cosine"; docs/training.md)
    _epoch_rule: ClassVar[budget.EpochRule] = budget.DEFAULT_RULE

    def __init__(
        self,
        n_components: int = 16,
        *,
        n_pseudo_inputs: int = 50,
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
        beta: float = 1.0,
        warmup_epochs: int | str = "auto",
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
        self.n_pseudo_inputs = n_pseudo_inputs
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
        self.beta = beta
        self.warmup_epochs = warmup_epochs
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

    def _prior(self, n_features: int) -> VampPrior:
        return VampPrior(int(self.n_components), n_features, int(self.n_pseudo_inputs))
