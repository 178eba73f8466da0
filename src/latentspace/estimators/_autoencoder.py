"""Deterministic autoencoders: the deep MLP ``AutoEncoder`` and the ``LinearAutoEncoder``."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..nn.likelihoods import make_likelihood
from ..nn.mlp import mlp_encoder_decoder
from ..nn.models import Autoencoder
from ..training import budget
from . import _pca
from ._base import COMMON_PARAMS, NETWORK_PARAMS, BaseAutoEncoder
from ._params import Param

#: A deterministic autoencoder's reconstruction loss.
LOSS = Param("str", "reconstruction loss: mse (summed squared error) or bce (binary cross-entropy, data in [0, 1])",
             choices=("mse", "bce"))


class AutoEncoder(BaseAutoEncoder):
    """MLP autoencoder: ``n_features -> hidden... -> n_components -> reversed(hidden) -> n_features``,
    or a convolutional one for images (``architecture="conv"``).

    Parameters
    ----------
    n_components : size of the code.
    hidden : widths of the encoder's hidden layers; the decoder mirrors them. With
        ``architecture="conv"``: the dense layers between the flattened feature maps and the code.
    architecture : "mlp" (fully connected) or "conv" (strided 3x3 convolutions with ``channels``
        maps, then dense layers ``hidden``; the decoder mirrors it with transposed convolutions).
    image_shape : ``(C, H, W)`` or ``(H, W)`` of one image when ``X`` comes as flat rows (one entry
        may be -1, inferred); None when ``X`` comes as images ``(n, C, H, W)`` / ``(n, H, W)`` or
        is not image data. ``architecture="conv"`` needs one or the other.
    channels : feature maps of each conv layer (its length is the depth); conv only.
    norm : normalisation after each conv layer: "none", "batch" or "group"; conv only.
    activation : nonlinearity between layers ("relu", "elu", "gelu", "tanh", ...).
    loss : "mse" (summed squared error) or "bce" (binary cross-entropy, data in [0, 1]).
    epochs : passes over the data, or "auto" (default): enough for 6,000 optimiser steps and at least
        20 passes, at most 1,000 (the rule in ``latentspace.training.budget``, docs/training.md).
    batch_size, lr, weight_decay : optimisation (Adam; weight decay is an L2 penalty).
    validation_fraction : share of the training data held out for ``history_``'s val_* columns.
    patience : early stopping on the validation loss, restoring the best epoch's weights: an int,
        None (train all epochs), or "auto" (default): a fifth of the epochs, at least 10, whenever
        there is a validation set.
    lr_schedule : "constant" or "cosine".
    grad_clip : max global gradient norm, or None.
    scaling : "none", "center", "standard" or "minmax"; kept with the model and applied to new data.
    encoder, decoder : your own ``torch.nn.Module`` s in place of the built networks (either or both):
        the encoder maps rows ``(batch, n_features)`` to codes ``(batch, n_components)``, the decoder
        codes to ``(batch, n_features)`` (the likelihood's parameters: means for "mse", logits for
        "bce"); images arrive flattened. Checked on the first batch; trained as a copy; their initial
        weights are kept. See ``latentspace.estimators._modules`` and README "Bring your own networks".
    device : "auto" (CUDA when present, else the CPU), "cpu", "cuda", "cuda:N", ...
    threads : torch CPU threads while this estimator computes (restored afterwards). None: one for
        small networks, else the CPUs this process may use that other processes leave idle.
    precision : "auto", "32" (float32) or "bf16": bfloat16 matrix products in training, with float32
        weights, optimiser state, loss terms and checkpoints; refused where the hardware has no
        native bfloat16 (CPUs without AVX512_BF16/AMX). "auto": bf16 for a heavy step (at least
        ``nn.backend.LIGHT_STEP_FLOPS``) on a CPU with native bfloat16, else float32
        (``compute_["precision"]`` says which ran). Inference stays float32.
    verbose : show a progress bar (optimiser steps, with the last epoch's losses).
    callbacks : objects with ``on_train_begin`` / ``on_step`` / ``on_epoch_end`` / ``on_train_end``
        hooks (``latentspace.training.callbacks``), e.g. ``TensorBoardLogger``, ``MLflowLogger``.
    warm_start : when True, ``fit`` on a fitted estimator trains the fitted model ``epochs`` more
        epochs (same scaling, history continued, Adam's state carried over) instead of starting anew.
    random_state : seed for initialisation, shuffling and the split.

    Layouts: ``transform`` takes rows or images; ``reconstruct`` returns its input's layout;
    ``inverse_transform`` (and a VAE's ``sample``) return the layout ``fit`` was given.

    Attributes
    ----------
    model_ : the fitted torch module.
    image_shape_ : ``(C, H, W)`` of the images, or None.
    example_shape_ : shape of one example as given to ``fit`` (e.g. ``(1, 28, 28)``), None for rows.
    history_ : list of per-epoch dicts (train_* and val_* loss terms, seconds).
    epochs_, patience_ : the epochs and patience used ("auto" resolved).
    device_ : the torch device the model is on.
    n_features_in_, n_iter_, best_epoch_, offset_, scale_.
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
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

    _parameter_constraints: ClassVar[dict[str, Param]] = {**COMMON_PARAMS, **NETWORK_PARAMS, "loss": LOSS}

    def _build_model(self, n_features: int) -> Autoencoder:
        encoder, decoder = self._encoder_decoder(n_features, int(self.n_components))
        return Autoencoder(encoder, decoder, make_likelihood(self.loss, n_features), int(self.n_components))


class LinearAutoEncoder(BaseAutoEncoder):
    """One linear layer each side, no nonlinearity: finds PCA's subspace, in a basis of its own.

    Same parameters as :class:`AutoEncoder` minus ``hidden``/``activation``; data are centred by
    default (``scaling="center"``) as PCA's are.

    The defaults (Adam, lr 0.05 decayed to 0 by a cosine, batches of 512, 300 epochs on digits) were
    measured to bring the decoder's column space within 0.2 degrees of PCA's subspace on digits at
    k = 2, 5, 10 for every seed tried, in about a second; smaller batches, fewer epochs or lower rates
    left the slowest direction (the one whose eigenvalue gap to the next is smallest) degrees to tens of
    degrees off. Large data sets take more steps per epoch and need fewer epochs (Fashion-MNIST, k = 16:
    60, 0.74 degrees; lr 0.1 left 13 degrees there), hence ``epochs="auto"``: 7,000 steps, at least 20
    and at most 300 epochs (``training.budget.LINEAR_RULE``). See docs/pca.md.

    ``weight_decay`` > 0 (an L2 penalty ``weight_decay / 2 * ||W||^2`` on both layers) makes the decoder's
    left singular vectors PCA's principal directions and its singular values
    ``sqrt(1 - weight_decay / (2 s_i))``, ``s_i`` the covariance eigenvalues (Kunin et al., 2019);
    ``latentspace.analysis.compare_with_pca`` measures both.

    PCA's vocabulary: ``n_components`` may also be a fraction of variance to keep (``0.95``: the fewest
    components whose share of the training data's variance exceeds it) or ``"mle"`` (Minka's estimate),
    resolved from the scaled training data's spectrum as ``sklearn.decomposition.PCA`` resolves it.
    After ``fit`` the learned subspace is described in PCA's own terms, over the training rows in data
    units: ``mean_``, ``components_`` ``(n_components_, n_features)`` (orthonormal rows spanning the
    decoder's column space, ordered by the variance they explain, signs as PCA's),
    ``explained_variance_``, ``explained_variance_ratio_``, ``singular_values_``, ``noise_variance_``,
    ``n_components_`` and ``n_samples_``. When the decoder has found PCA's subspace these are PCA's
    numbers (tests/test_pca_vocabulary.py measures how close; docs/pca.md). ``transform`` is still the
    encoder's map, whose basis is its own: ``(X - mean_) @ components_.T`` gives PCA's coordinates.
    With ``scaling="standard"`` or ``"minmax"`` the subspace is PCA's of the scaled data, described in
    data units.
    """

    _parameter_constraints: ClassVar[dict[str, Param]] = {
        **COMMON_PARAMS,
        "n_components": replace(COMMON_PARAMS["n_components"], kind="components",
                                help="size of the code, or as PCA's: a fraction of variance to keep "
                                     "(0.95) or mle"),
        "loss": LOSS,
        "epochs": replace(COMMON_PARAMS["epochs"], help=f"passes over the training data (auto: "
                          f"{budget.LINEAR_RULE.describe()}; docs/pca.md)"),
    }
    _epoch_rule: ClassVar[budget.EpochRule] = budget.LINEAR_RULE

    def __init__(
        self,
        n_components: int = 2,
        *,
        loss: str = "mse",
        epochs: int | str = "auto",
        batch_size: int = 512,
        lr: float = 0.05,
        weight_decay: float = 0.0,
        validation_fraction: float = 0.0,
        patience: int | None = None,
        lr_schedule: str = "cosine",
        grad_clip: float | None = None,
        scaling: str = "center",
        device: str = "auto",
        threads: int | None = None,
        precision: str = "auto",
        verbose: bool = False,
        callbacks: list | None = None,
        warm_start: bool = False,
        random_state=None,
    ):
        self.n_components = n_components
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

    def _build_model(self, n_features: int) -> Autoencoder:
        k = int(getattr(self, "n_components_", self.n_components))
        encoder, decoder = mlp_encoder_decoder(n_features, k, hidden=(), activation="identity")
        return Autoencoder(encoder, decoder, make_likelihood(self.loss, n_features), k)

    def _resolve_for_rows(self, train_data) -> None:
        """``n_components_``: the int given, or PCA's choice for a fraction or "mle" (one pass over the data)."""
        chunks = self._data_chunks(train_data, scaled=True)
        self.n_components_ = _pca.components_for(self.n_components, chunks, self.n_features_in_)

    def _after_training(self, train_data) -> None:
        """PCA's fitted attributes of the decoder's column space over the training rows (one pass)."""
        found = _pca.subspace_attributes(self.decoder_weight(data_units=True), self._data_chunks(train_data))
        for name, value in vars(found).items():
            setattr(self, name, value)

    def _extra_array_shapes(self, n_features: int) -> dict[str, tuple[int, ...]]:
        k = self.model_.n_latent if hasattr(self, "model_") else int(getattr(self, "n_components_", self.n_components))
        k = min(k, n_features)  # more codes than features span at most the whole feature space
        return {"mean_": (n_features,), "components_": (k, n_features), "explained_variance_": (k,),
                "explained_variance_ratio_": (k,), "singular_values_": (k,)}

    def decoder_weight(self, data_units: bool = True) -> np.ndarray:
        """The decoder's matrix ``D`` ``(n_features, n_components)``: ``x_hat = D @ z + constant``.

        In data units (default) row ``j`` is multiplied by ``scale_[j]``, so that its columns live where
        PCA's components do; otherwise it is the raw weight acting in the model's scaled space.
        """
        check_is_fitted(self)
        linear = self.model_.decoder[-1]
        weight = linear.weight.detach().cpu().numpy().astype(np.float64)
        return weight * self.scale_[:, None] if data_units else weight
