"""The two-stage VAE (Dai & Wipf 2019, "Diagnosing and enhancing VAE models")."""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from ..training import budget
from ._base import COMMON_PARAMS
from ._params import Param
from ._vae import VAE


class TwoStageVAE(VAE):
    """A :class:`VAE` whose samples come from a second, small VAE trained on its codes: the first stage
    learns the data's manifold, the second the distribution of the codes on it, which the prior N(0, I)
    matches poorly (the "holes" of the aggregate posterior).

    First stage: the VAE with one shared Gaussian variance kept at its optimum (``likelihood=
    "gaussian_calibrated"``, the sigma-VAE's; Dai & Wipf learn this gamma, whose optimum it is). Second
    stage: the ``two-stage`` sampler (``estimators/_samplers.py``), trained by ``fit`` on the codes it
    keeps (``training_codes_``); a loaded model trains it again from the same saved codes and seed, which
    gives the same second stage (seconds, on first use). ``sample`` uses it by default; ``sampler="prior"``
    gives the first stage's own prior samples, for comparison. Parameters: the VAE's.
    """

    default_sampler: ClassVar[str] = "two-stage"
    _parameter_constraints: ClassVar[dict[str, Param]] = {**VAE._parameter_constraints,
                                                          "epochs": COMMON_PARAMS["epochs"]}
    # Adam's constant 1e-3 by default, as the AE: its budget, not the VAE's (VAE_RULE assumes lr 5e-3 with
    # "warmup_cosine"; docs/training.md)
    _epoch_rule: ClassVar[budget.EpochRule] = budget.DEFAULT_RULE

    def __init__(
        self,
        n_components: int = 16,
        *,
        hidden: tuple[int, ...] = (256, 64),
        activation: str = "relu",
        architecture: str = "mlp",
        image_shape: tuple[int, ...] | None = None,
        channels: tuple[int, ...] = (32, 64),
        norm: str = "none",
        encoder: nn.Module | None = None,
        decoder: nn.Module | None = None,
        likelihood: str = "gaussian_calibrated",
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

    def fit(self, X, y=None, **fit_params):
        super().fit(X, y, **fit_params)
        self.code_sampler("two-stage")  # the second stage is part of the model's training (and its time)
        return self
