"""Deterministic autoencoders with a regulariser on their codes: the RAE and the WAE-MMD."""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from ..nn.likelihoods import make_likelihood
from ..nn.variants import RegularizedAutoencoder
from ._autoencoder import AutoEncoder
from ._params import Param


class RAE(AutoEncoder):
    """Regularised autoencoder (Ghosh et al. 2020, "From variational to deterministic autoencoders"),
    RAE-L2: reconstruction + ``code_weight`` * ||z||^2 / 2 + ``decoder_l2`` * ||decoder weights||^2.

    No prior: ``sample`` draws from a Gaussian mixture fitted ex post to the training codes (``gmm``,
    its number of components chosen on held-out codes), the paper's sampler. Parameters otherwise the
    :class:`AutoEncoder`'s (16 latent dimensions by default, like the VAE).
    """

    _parameter_constraints: ClassVar[dict[str, Param]] = {
        **AutoEncoder._parameter_constraints,
        "code_weight": Param("float", "RAE: weight of the code penalty ||z||^2 / 2", low=0),
        "decoder_l2": Param("float", "RAE: weight of the decoder's L2 penalty ||W||^2", low=0),
    }

    def __init__(
        self,
        n_components: int = 16,
        *,
        code_weight: float = 0.1,
        decoder_l2: float = 1e-4,
        hidden: tuple[int, ...] = (256, 64),
        activation: str = "relu",
        architecture: str = "mlp",
        image_shape: tuple[int, ...] | None = None,
        channels: tuple[int, ...] = (32, 64),
        norm: str = "none",
        encoder: nn.Module | None = None,
        decoder: nn.Module | None = None,
        loss: str = "mse",
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
        self.code_weight = code_weight
        self.decoder_l2 = decoder_l2
        self.hidden = hidden
        self.activation = activation
        self.architecture = architecture
        self.image_shape = image_shape
        self.channels = channels
        self.norm = norm
        self.encoder = encoder
        self.decoder = decoder
        self.loss = loss
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

    def _build_model(self, n_features: int) -> RegularizedAutoencoder:
        k = int(self.n_components)
        encoder, decoder = self._encoder_decoder(n_features, k)
        return RegularizedAutoencoder(encoder, decoder, make_likelihood(self.loss, n_features), k, penalty="l2",
                                      code_weight=self.code_weight, decoder_l2=self.decoder_l2)


class WAE(AutoEncoder):
    """Wasserstein autoencoder with the MMD penalty (Tolstikhin et al. 2018): reconstruction +
    ``mmd_weight`` * MMD(codes of the batch, as many draws of N(0, I)), inverse multiquadratic kernels.

    Its prior is N(0, I): ``sample`` draws from it by default. Parameters otherwise the
    :class:`AutoEncoder`'s (16 latent dimensions by default, like the VAE).
    """

    has_prior: ClassVar[bool] = True
    default_sampler: ClassVar[str] = "prior"

    _parameter_constraints: ClassVar[dict[str, Param]] = {
        **AutoEncoder._parameter_constraints,
        "mmd_weight": Param("float", "WAE: weight lambda of the MMD between the codes and N(0, I)", low=0),
    }

    def __init__(
        self,
        n_components: int = 16,
        *,
        mmd_weight: float = 10.0,
        hidden: tuple[int, ...] = (256, 64),
        activation: str = "relu",
        architecture: str = "mlp",
        image_shape: tuple[int, ...] | None = None,
        channels: tuple[int, ...] = (32, 64),
        norm: str = "none",
        encoder: nn.Module | None = None,
        decoder: nn.Module | None = None,
        loss: str = "mse",
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
        self.mmd_weight = mmd_weight
        self.hidden = hidden
        self.activation = activation
        self.architecture = architecture
        self.image_shape = image_shape
        self.channels = channels
        self.norm = norm
        self.encoder = encoder
        self.decoder = decoder
        self.loss = loss
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

    def _build_model(self, n_features: int) -> RegularizedAutoencoder:
        k = int(self.n_components)
        encoder, decoder = self._encoder_decoder(n_features, k)
        return RegularizedAutoencoder(encoder, decoder, make_likelihood(self.loss, n_features), k, penalty="mmd",
                                      code_weight=self.mmd_weight)
