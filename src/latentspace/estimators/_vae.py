"""The variational autoencoder estimator."""

from __future__ import annotations

import dataclasses
import warnings
import zlib
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from ..data.binarize import BINARIZE_MODES, binarize, dynamic_binarizer
from ..errors import Advice, LatentspaceError, PosteriorCollapseWarning, Setting
from ..nn import backend
from ..nn.likelihoods import likelihood_for_data, make_likelihood
from ..nn.models import IW_CHUNK_ELEMENTS, VariationalAutoencoder
from ..nn.priors import Prior
from ..training import TrainConfig, budget
from ..training.progress import progress_bar
from ._base import CODE_ROWS, COMMON_PARAMS, NETWORK_PARAMS, BaseAutoEncoder, seed_from
from ._inputs import streamable
from ._params import Param

VAE_LIKELIHOODS = ("bernoulli", "continuous_bernoulli", "gaussian", "gaussian_learned", "gaussian_calibrated")
#: a latent dimension is "active" when its posterior mean varies across the data by more than this
ACTIVE_UNIT_THRESHOLD = 0.01
#: examples per chunk of the importance-weighted estimate (the samples are chunked inside the model)
IW_EXAMPLE_CHUNK = 512
#: the ELBO's rows per chunk hold at most this many decoded numbers (draws x rows x width)
ELBO_ELEMENTS = 2**22


class VAE(BaseAutoEncoder):
    """Variational autoencoder with a Gaussian encoder, N(0, I) prior (``_prior``) and an MLP decoder.

    Parameters (beyond :class:`AutoEncoder`'s)
    ----------
    likelihood : "auto" (default: "bernoulli" when the scaled training data lie in [0, 1],
        "gaussian_calibrated" otherwise; ``latentspace.nn.likelihoods.likelihood_for_data``),
        "bernoulli" (logits; data in [0, 1]), "continuous_bernoulli" (data in [0, 1]), "gaussian"
        (fixed standard deviation ``sigma``), "gaussian_learned" (a learned per-feature standard
        deviation that starts at ``sigma``) or "gaussian_calibrated" (one shared standard deviation
        kept at its optimum, the root mean squared error: the sigma-VAE of Rybkin et al. 2021).
    sigma : the Gaussian likelihoods' standard deviation (fixed, or the learned/calibrated one's start).
    beta : weight of the KL term (beta-VAE; 1 is the ELBO).
    architecture, image_shape, channels, norm : "mlp" or "conv" networks, as in :class:`AutoEncoder`.
    encoder, decoder : your own modules, as in :class:`AutoEncoder`, except that the encoder returns
        ``(batch, 2 * n_components)``: the posterior's means, then its log-variances.
    warmup_epochs : KL weight ramps linearly from 0 to ``beta`` over this many epochs; "auto"
        (default): the first half of the epochs. Early stopping does not count the warm-up epochs,
        and the validation loss is always the negative ELBO at the full weight ``beta``.
    epochs, patience : as for :class:`AutoEncoder` ("auto" by default: a budget that scales with the
        data, and early stopping on the validation negative ELBO), with the VAE's own budget: 2,000
        optimiser steps and at least 10 passes (``training.budget.VAE_RULE``).
    lr, lr_schedule : Adam's peak learning rate (default 5e-3) and its schedule (default
        "warmup_cosine": a linear warm-up over the first 5% of the steps, then cosine decay to a tenth);
        measured to reach a given held-out -ELBO in fewer steps than a constant 1e-3 (docs/training.md).
    binarize : None, or "dynamic": each training batch is redrawn as Bernoulli(pixel) every time it is
        used (the literature's dynamically binarised MNIST protocol; data must be in [0, 1]). The
        validation part is then binarised once, with a seed, so early stopping sees binary data too.

    Attributes (beyond the AE's)
    ----------
    active_units_ : number of latent dimensions whose posterior mean varies across the training data
        with variance above 0.01 (measured on up to 4,096 evenly spaced training rows).
    likelihood_, warmup_epochs_, epochs_, patience_ : the settings used ("auto" resolved).

    A :class:`~latentspace.errors.PosteriorCollapseWarning` is issued when a fitted VAE uses no
    latent dimension or its KL to the prior is near zero.
    """

    has_prior: ClassVar[bool] = True
    has_posterior: ClassVar[bool] = True
    default_sampler: ClassVar[str] = "prior"

    _parameter_constraints: ClassVar[dict[str, Param]] = {
        **COMMON_PARAMS,
        **NETWORK_PARAMS,
        "epochs": dataclasses.replace(COMMON_PARAMS["epochs"], help=f"passes over the training data (auto: "
                                      f"{budget.VAE_RULE.describe()}; docs/training.md)"),
        "likelihood": Param("str", "p(x|z): auto (bernoulli for data in [0, 1], else gaussian_calibrated), "
                            "bernoulli or continuous_bernoulli (data in [0, 1]), gaussian (fixed sigma), "
                            "gaussian_learned (per-feature sigma, learned) or gaussian_calibrated (one sigma at "
                            "its optimum, the sigma-VAE)", choices=(budget.AUTO, *VAE_LIKELIHOODS)),
        "sigma": Param("float", "the Gaussian likelihoods' standard deviation (fixed, or the learned one's start)",
                       low=0, low_open=True),
        "beta": Param("float", "weight of the KL term (1: the ELBO; beta-VAE otherwise)", low=0),
        "warmup_epochs": Param("int", "epochs over which the KL weight ramps linearly from 0 to beta (auto: the "
                               "first half of the epochs)", low=0, auto=True),
        "binarize": Param("str", "dynamic: redraw each training batch as Bernoulli(pixel) on every use "
                          "(None: use the data as they are)", choices=BINARIZE_MODES, optional=True),
    }
    #: fewer steps than the AE's rule: the VAE's default learning rate and schedule converge faster
    _epoch_rule: ClassVar[budget.EpochRule] = budget.VAE_RULE

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
        likelihood: str = "auto",
        sigma: float = 1.0,
        beta: float = 1.0,
        warmup_epochs: int | str = "auto",
        binarize: str | None = None,
        epochs: int | str = "auto",
        batch_size: int = 128,
        lr: float = 5e-3,
        weight_decay: float = 0.0,
        validation_fraction: float = 0.1,
        patience: int | str | None = "auto",
        lr_schedule: str = "warmup_cosine",
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

    # ---- fitting -------------------------------------------------------------------------------
    def _resolve_budget(self, n_train: int, has_validation: bool, world_size: int) -> None:
        super()._resolve_budget(n_train, has_validation, world_size)
        self.warmup_epochs_ = budget.resolve_warmup(getattr(self, "warmup_epochs", 0), self.epochs_)
        self.n_train_ = n_train  # a beta-TCVAE's estimate of the aggregate posterior needs it

    def _range_decides_settings(self) -> bool:
        return self.likelihood == budget.AUTO

    def _resolve_for_data(self, low: float | None, high: float | None) -> None:
        self.likelihood_ = likelihood_for_data(low, high) if self.likelihood == budget.AUTO else self.likelihood

    def _build_model(self, n_features: int) -> VariationalAutoencoder:
        k = int(self.n_components)
        encoder, decoder = self._encoder_decoder(n_features, k, encoder_out=2 * k)
        # Saved models from before "auto" existed carry no resolved attributes: their parameters are.
        name = getattr(self, "likelihood_", self.likelihood)
        likelihood = make_likelihood(name, n_features, sigma=float(self.sigma))
        warmup = getattr(self, "warmup_epochs_", getattr(self, "warmup_epochs", 0))
        return self._model_class()(encoder, decoder, likelihood, k, getattr(self, "beta", 1.0), warmup,
                                   prior=self._prior(n_features),
                                   **self._model_options(n_features))

    # ---- what a family of the VAE changes ---------------------------------------------------------
    def _prior(self, n_features: int) -> Prior | None:
        """The model's prior p(z); None: N(0, I)."""
        return None

    def _model_class(self) -> type[VariationalAutoencoder]:
        return VariationalAutoencoder

    def _model_options(self, n_features: int) -> dict:
        """Keywords of ``_model_class`` beyond the VAE's (an IWAE's number of samples, ...)."""
        return {}

    def _needs_range(self, model) -> bool:
        return super()._needs_range(model) or self.binarize is not None

    def _check_range(self, low: float, high: float, model) -> None:
        super()._check_range(low, high, model)
        if self.binarize is not None and (low < -1e-6 or high > 1 + 1e-6):
            raise LatentspaceError(Advice(
                Setting("binarize", self.binarize), " reads the (scaled) data as pixel probabilities and needs "
                f"them in [0, 1], but they span [{low:.4g}, {high:.4g}]; use ", Setting("scaling", "minmax")))

    def _split(self, X: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        X_train, X_val = super()._split(X, seed)
        if self.binarize == "dynamic" and X_val is not None and self.scaling == "none":
            X_val = binarize(np.clip(X_val, 0.0, 1.0), seed)
        return X_train, X_val

    def _train_config(self) -> TrainConfig:
        config = super()._train_config()
        if self.binarize == "dynamic":
            config = dataclasses.replace(config, batch_transform=dynamic_binarizer())
        return config

    def fit(self, X, y=None, **fit_params):
        super().fit(X, y, **fit_params)  # sets active_units_ (in _training_codes)
        warn_if_collapsed(self)
        return self

    def _training_codes(self, X) -> np.ndarray:
        """One draw of q(z|x) per kept row: samples of the aggregate posterior, the distribution the prior
        is meant to match and the two-stage VAE's second stage learns (Dai & Wipf), rather than the
        posterior means, which are narrower. Also measures ``active_units_`` on those rows' means: the
        variance of each code over evenly spaced rows is plenty for a threshold test
        (``count_active_units(X)`` measures any X in full)."""
        both = self._encode_training_data(X, CODE_ROWS, lambda x: torch.cat(self.model_.posterior(x), dim=-1))
        k = self.model_.n_latent
        mean, logvar = both[:, :k].astype(np.float64), both[:, k:].astype(np.float64)
        self.active_units_ = count_active(mean)
        noise = np.random.default_rng(seed_from(self.random_state)).standard_normal(mean.shape)
        return mean + np.exp(0.5 * logvar) * noise

    # ---- the latent space ----------------------------------------------------------------------
    def _generator(self, random_state) -> torch.Generator:
        return torch.Generator(device=self.device_).manual_seed(seed_from(random_state))

    @streamable
    def posterior(self, X) -> tuple[np.ndarray, np.ndarray]:
        """q(z|x) = N(mean, diag(var)): ``(mean, var)``, each ``(n_samples, n_components)``."""
        X = self._validated(X)
        both = self._map_chunks(lambda x: torch.cat(self.model_.posterior(x), dim=-1), self._scale(X))
        k = self.model_.n_latent
        return both[:, :k].astype(X.dtype), np.exp(both[:, k:]).astype(X.dtype)

    @streamable
    def transform(self, X, *, sample: bool = False, random_state=None) -> np.ndarray:
        """Encode ``(n_samples, n_features) -> (n_samples, n_components)``.

        The posterior mean by default; with ``sample=True`` one draw of q(z|x) per example, seeded by
        ``random_state``.
        """
        if not sample:
            return super().transform(X)
        mean, var = self.posterior(X)
        g = np.random.default_rng(seed_from(random_state))
        return (mean + np.sqrt(var) * g.standard_normal(mean.shape)).astype(mean.dtype)

    def kl_to_prior(self, X, random_state=0) -> np.ndarray:
        """KL(q(z|x) || p(z)) per example ``(n_samples,)`` nats: analytic for N(0, I), else the one-draw
        estimate log q(z|x) - log p(z) (the prior's own, ``nn.priors.Prior.kl``)."""
        X = self._validated(X)
        g = self._generator(random_state)

        def kl(x: torch.Tensor) -> torch.Tensor:
            mu, logvar = self.model_.posterior(x)
            return self.model_.kl_to_prior(mu, logvar, VariationalAutoencoder.reparameterize(mu, logvar, g))

        return self._map_chunks(kl, self._scale(X)).astype(np.float64)

    def count_active_units(self, X, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
        """How many latent dimensions' posterior means vary across ``X`` by more than ``threshold``."""
        return count_active(self.transform(X), threshold)

    # ---- likelihoods -----------------------------------------------------------------------------
    @streamable
    def score_samples(self, X, n_samples: int = 16, random_state=0, *, y=None) -> np.ndarray:
        """Per-example ELBO in nats (higher is better), shape ``(len(X),)`` (``y``: the rows' classes, for a
        conditional model only).

        The expectation over q(z|x) is estimated with ``n_samples`` draws per example, drawn from a
        generator seeded by ``random_state`` and the example's own values: an example's score does
        not depend on the rest of ``X`` (order, batch) and repeats exactly, while the draws of
        different examples are independent, so the Monte Carlo error of a data-set mean falls as
        1 / sqrt(len(X) * n_samples) (measured on Fashion-MNIST in docs/vae.md).
        """
        if int(n_samples) < 1:
            raise LatentspaceError(f"n_samples must be >= 1, got {n_samples}")
        X = self._validated(X)
        scaled = self._conditioned(self._scale(X), y)
        seed, draws, k = seed_from(random_state), int(n_samples), self.model_.n_latent
        width = max(scaled.shape[1], self.model_.widest_decoder_layer())
        rows = max(1, ELBO_ELEMENTS // (draws * width))
        out = []
        self.model_.eval()
        with torch.inference_mode():
            for start in range(0, X.shape[0], rows):
                x = self._to_tensor(scaled[start : start + rows])
                eps = torch.from_numpy(example_noise(X[start : start + rows], draws, k, seed)).to(x.device)
                out.append(self.model_.elbo_with_noise(x, eps).cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    @streamable
    def log_likelihood(self, X, k: int = 1000, random_state=0, progress: bool | None = None, *, y=None) -> np.ndarray:
        """Importance-weighted estimate of log p(x) with ``k`` samples, nats, shape ``(len(X),)``.

        A lower bound on log p(x) that tightens as ``k`` grows; ``k=1`` is a one-sample ELBO. Memory
        is bounded whatever ``k`` and ``len(X)``: examples go in chunks of 512 and samples in chunks
        sized so that no intermediate exceeds ~4 MiB. The decoder's products use the kernels measured
        fastest at these shapes, in float32, unless ``random_state`` is given (the default): then the
        build's default kernel, so the same call gives the same numbers whatever the machine's load.
        ``progress``: a progress bar over the examples (None: the estimator's ``verbose``, drawn only
        on a terminal or in a notebook; True: drawn wherever stderr goes). ``y``: the rows' classes, for a
        conditional model only.
        """
        if int(k) < 1:
            raise LatentspaceError(f"k must be >= 1, got {k}")
        X = self._validated(X)
        rows_of_model = self._conditioned(self._scale(X), y)
        g = self._generator(random_state)
        out = []
        self.model_.eval()
        show = bool(self.verbose) if progress is None else bool(progress)
        # rows of each decoder product: iw_log_likelihood's sample chunks hold ~IW_CHUNK_ELEMENTS numbers
        widest = max(X.shape[1], self.model_.widest_decoder_layer())
        rows = max(1, min(int(k) * min(len(X), IW_EXAMPLE_CHUNK), IW_CHUNK_ELEMENTS // widest))
        bar = progress_bar(total=len(X), desc=f"IW-NLL k={int(k)}", unit="ex", show=show, force=progress is True,
                           leave=False)
        with torch.inference_mode(), self._compute(rows):
            kernels = backend.choose_kernels(self.model_.decoder, rows, reproducible=random_state is not None).kernels
            with backend.using(kernels):
                for start in range(0, X.shape[0], IW_EXAMPLE_CHUNK):
                    x = self._to_tensor(rows_of_model[start : start + IW_EXAMPLE_CHUNK])
                    out.append(self.model_.iw_log_likelihood(x, int(k), g).cpu().numpy())
                    bar.update(x.shape[0])
        bar.close()
        return np.concatenate(out).astype(np.float64)


def count_active(codes: np.ndarray, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
    """Latent dimensions whose values vary across ``codes`` ``(n, k)`` with variance above ``threshold``."""
    return int(np.sum(np.var(codes.astype(np.float64), axis=0) > threshold))


#: the configurations (their parameters) already warned of collapse in this process
_COLLAPSE_WARNED: set[str] = set()


def warn_if_collapsed(vae) -> None:
    """One-line PosteriorCollapseWarning when the posterior has collapsed onto the prior: no latent unit
    is active (``active_units_``: no posterior mean varies across the training data), so the codes carry
    nothing about the input. A fit with some units active is not collapsed, however small its KL.

    Once per configuration and process: GridSearchCV fits a clone per fold, and resets Python's own
    once-only registry for each (it runs every fold under ``warnings.catch_warnings``).
    """
    if vae.active_units_ > 0:
        return
    params = vae.get_params(deep=False)
    key = repr(sorted((k, v) for k, v in params.items() if k not in ("verbose", "callbacks", "warm_start")))
    if key in _COLLAPSE_WARNED:
        return
    _COLLAPSE_WARNED.add(key)
    # In the reader's words: epochs='auto' in Python, --epochs auto on the command line (errors.Advice);
    # only advice the fit has not already taken
    remedies = []
    gaussian = str(getattr(vae, "likelihood_", "")).startswith("gaussian")
    if gaussian and getattr(vae, "scaling", None) == "none":
        # one variance shared by every feature: a feature in the thousands (wine's proline) drowns the
        # rest, and the posterior collapses (wine: 0 of 16 units active raw, 13 of 16 z-scored)
        remedies.append(["z-scored features (", Setting("scaling", "standard"), ")"])
    if getattr(vae, "epochs", None) == "auto":
        remedies.append(["more epochs (", Setting("epochs"), f", above the {vae.epochs_} it had)"])
    else:
        remedies.append(["more epochs (", Setting("epochs", "auto"), ")"])
    remedies += [["a longer KL warm-up (", Setting("warmup_epochs"), ")"], ["a smaller ", Setting("beta")]]
    if getattr(vae, "likelihood_", None) != "gaussian_calibrated":
        remedies.append([Setting("likelihood", "gaussian_calibrated"), " for real-valued data"])
    parts: list[str | Setting] = [(f"posterior collapse: 0 of {vae.model_.n_latent} latent units active (no posterior "
                                   "mean varies with the input, so the codes carry nothing about it); try ")]
    for i, remedy in enumerate(remedies):
        parts += ([", "] if 0 < i < len(remedies) - 1 else [" or "] if i else []) + remedy
    warnings.warn(PosteriorCollapseWarning(Advice(*parts)), stacklevel=3)


def example_noise(X: np.ndarray, n_samples: int, k: int, seed: int) -> np.ndarray:
    """``(n, n_samples, k)`` standard normal float32 draws; each example's depend only on ``seed`` and
    its own values (a CRC of its float32 bytes), never on its position or neighbours in ``X``."""
    rows = np.ascontiguousarray(X, dtype=np.float32)
    out = np.empty((rows.shape[0], n_samples, k), np.float32)
    for i, row in enumerate(rows):
        rng = np.random.default_rng([seed, zlib.crc32(row.tobytes())])
        out[i] = rng.standard_normal((n_samples, k), dtype=np.float32)
    return out
