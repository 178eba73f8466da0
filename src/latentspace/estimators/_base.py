"""The scikit-learn contract shared by every latentspace estimator.

Subclasses declare their parameters in ``__init__`` (stored verbatim, as sklearn requires) and say how
to build their torch module in ``_build_model``; this class owns validation, the train/validation
split, seeding, chunked inference, and the fitted attributes. Three mixins hold the rest:
``_sources.DataSources`` (memory-mapped files, streams, ``validation_data``),
``_generation.Generation`` (the prior, the code samplers, ``sample``) and ``_scaling.Scaling`` (the
scaling kept with the model).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from .._files import check_allocation, json_default
from ..data.validate import array_digest
from ..errors import DataError, LatentspaceError
from ..nn import backend, export
from ..nn.conv import (
    conv_encoder_decoder,
    normalize_image_shape,
    resolve_image_shape,
)
from ..nn.devices import resolve_device
from ..nn.mlp import init_parameters, mlp_encoder_decoder
from ..nn.models import LatentModel
from ..training import CheckpointPlan, TrainConfig, budget, distributed, train
from ..training.batches import (
    MemmapBatches,
    RowReader,
)
from ..training.config import WarmStart
from ..training.loop import as_batches, preload_optimizer
from ..training.streams import is_stream, per_batch_rows
from ..training.threads import resolve_threads, using_threads
from ._checkpoint import jsonable_params, save_estimator
from ._generation import Generation, seed_from
from ._inputs import checked_array, spaced_rows, stream_digest, streamable
from ._modules import check_contract, custom_parts, fresh_copy
from ._params import Param, validate_params
from ._scaling import Scaling
from ._shared_params import ARCHITECTURES, COMMON_PARAMS, NETWORK_PARAMS, SCALINGS  # noqa: F401  (re-exported)
from ._sources import DataSources

INFERENCE_CHUNK = 8192
#: training rows whose codes ``fit`` keeps (``training_codes_``): what the ex-post samplers are fitted to
CODE_ROWS = 4096


class BaseAutoEncoder(DataSources, Generation, Scaling, TransformerMixin, BaseEstimator):
    """Base class; not for direct use."""

    #: What each parameter may be (see ``_params``): subclasses merge their own over this one.
    _parameter_constraints: ClassVar[dict[str, Param]] = COMMON_PARAMS
    #: What ``epochs="auto"`` means for this class (training/budget.py).
    _epoch_rule: ClassVar[budget.EpochRule] = budget.DEFAULT_RULE
    #: Whether the model has a prior p(z) to sample (``prior_density``); the others sample through
    #: densities fitted to their codes.
    has_prior: ClassVar[bool] = False
    #: Whether it has a posterior q(z|x) and a likelihood: ``posterior``, ELBO, IW-NLL (the VAE family).
    has_posterior: ClassVar[bool] = False
    #: The sampler ``sample`` uses when none is named.
    default_sampler: ClassVar[str] = "gmm"
    #: Whether ``fit`` needs the rows' labels ``y`` (a conditional model); the others ignore ``y``.
    needs_labels: ClassVar[bool] = False

    # ---- what subclasses provide -------------------------------------------------------------
    def _build_model(self, n_features: int) -> LatentModel:
        raise NotImplementedError

    def _validate_params(self) -> None:
        """Check every parameter against the class's ``_parameter_constraints``; LatentspaceError if not."""
        validate_params(self.get_params(deep=False), self._parameter_constraints)

    def _parameter_count(self, n_features: int) -> int:
        """Parameters of the model for ``n_features`` inputs, counted on the meta device (no memory)."""
        with torch.device("meta"):
            model = self._build_model(n_features)
        return sum(p.numel() for p in model.parameters())

    def _check_model_size(self, n_features: int, copies: int = 4) -> None:
        """The model fits the memory budget: ``copies`` float32 copies of its parameters (weights,
        gradients and Adam's two moments when training). Checked before any weight is allocated."""
        n = self._parameter_count(n_features)
        check_allocation(
            copies * 4 * n, f"a model of {n:,} parameters (n_features={n_features}, hidden={getattr(self, 'hidden', ())!r}, "
            f"n_components={self.n_components!r})",
        )

    def _check_loadable(self, n_features: int) -> None:
        """What ``load`` checks before allocating: every parameter (device included), and the model's size."""
        self._validate_params()
        self._check_model_size(n_features, copies=2)

    def _encoder_decoder(self, n_features: int, n_latent: int, **sizes):
        """The encoder/decoder pair of ``architecture``; ``sizes`` are ``encoder_out``/``decoder_out``.

        Both kinds take and return flat rows, so the models never know which one they hold. A module
        passed as ``encoder=`` / ``decoder=`` takes the place of the built one (a copy of it does).
        """
        custom = custom_parts(self)
        if len(custom) == 2:
            return fresh_copy(custom["encoder"], "encoder"), fresh_copy(custom["decoder"], "decoder")
        if getattr(self, "architecture", "mlp") == "conv":
            built = conv_encoder_decoder(
                self.image_shape_, n_latent, self.channels, self.hidden, self.activation, self.norm, **sizes
            )
        else:
            built = mlp_encoder_decoder(n_features, n_latent, self.hidden, self.activation, **sizes)
        encoder, decoder = built
        return (fresh_copy(custom["encoder"], "encoder") if "encoder" in custom else encoder,
                fresh_copy(custom["decoder"], "decoder") if "decoder" in custom else decoder)

    def _initialise(self, model: LatentModel, generator: torch.Generator) -> None:
        """Draw the built parts' weights from ``generator``; the user's own modules keep theirs."""
        custom = custom_parts(self)
        for name, part in model.named_children():
            if name not in custom:
                init_parameters(part, generator)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """The output columns of ``transform``: ``latent0, latent1, ...`` (``n_components`` names)."""
        check_is_fitted(self)
        return np.asarray([f"latent{i}" for i in range(self.model_.n_latent)], dtype=object)

    # ---- images in, rows inside ------------------------------------------------------------------
    @staticmethod
    def _rows(X) -> tuple:
        """Flatten image batches ``(n, C, H, W)`` or ``(n, H, W)`` to rows ``(n, C*H*W)``.

        sklearn's validation takes 2-D arrays only, so this runs first. Returns ``(rows, example)``
        where ``example`` is the shape of one input example, or None when ``X`` had fewer than 3
        dimensions (then ``X`` passes through untouched for sklearn to validate).
        """
        shape = getattr(X, "shape", None)
        if shape is None and isinstance(X, (list, tuple)):
            try:
                array = np.asarray(X)
            except ValueError:  # ragged: let sklearn's validation name the problem
                array = None
            if array is not None and array.ndim >= 3:
                X, shape = array, array.shape
        if shape is None or len(shape) < 3:
            return X, None
        if len(shape) > 4:
            raise LatentspaceError(f"expected rows (n, features) or images (n, C, H, W) / (n, H, W), got shape {shape}")
        return np.asarray(X).reshape(shape[0], -1), tuple(int(s) for s in shape[1:])

    def _fitted_rows(self, X):
        """``_rows`` for an already fitted estimator: images must have the fitted ``image_shape_``."""
        X, example = self._rows(X)
        self._check_example_shape(example)
        return X

    def _check_example_shape(self, example: tuple[int, ...] | None) -> None:
        fitted = getattr(self, "image_shape_", None)
        if example is not None and normalize_image_shape(example) != fitted:
            raise LatentspaceError(f"images of shape {example} do not match the fitted image shape {fitted}")

    def _fit_image_shape(self, n_features: int, example: tuple[int, ...] | None) -> None:
        """Set ``image_shape_`` ``(C, H, W)`` (or None) from the images seen or the ``image_shape`` parameter,
        and ``example_shape_``, the layout of one training example (None for rows)."""
        given = getattr(self, "image_shape", None)
        shape = None if given is None else resolve_image_shape(given, n_features)
        if example is not None:
            seen = normalize_image_shape(example)
            if shape is not None and shape != seen:
                raise LatentspaceError(f"image_shape {tuple(given)} does not match the images' shape {seen}")
            shape = seen
        if shape is None and getattr(self, "architecture", "mlp") == "conv":
            raise LatentspaceError(
                "architecture='conv' needs images: pass X as (n, C, H, W) / (n, H, W) or set image_shape"
            )
        self.image_shape_, self.example_shape_ = shape, example

    def _as_examples(self, rows: np.ndarray) -> np.ndarray:
        """Rows ``(n, n_features)`` in the layout ``fit`` was given: rows, or images ``(n, *example_shape_)``."""
        example = getattr(self, "example_shape_", None)
        return rows if example is None else rows.reshape(rows.shape[0], *example)

    def training_step_flops(self, n_features: int) -> float | None:
        """Matrix-product FLOPs of one training step (a batch of ``batch_size`` rows of ``n_features``
        columns) of the MLP these parameters build, before any fit; None for convolutions or your own
        modules. Below ``nn.backend.LIGHT_STEP_FLOPS`` a step is light: mostly per-call overhead."""
        if getattr(self, "architecture", "mlp") != "mlp" or custom_parts(self):
            return None
        unfitted = clone(self)
        try:  # "auto" settings as a fit would resolve them; the ones the data decide add no products
            unfitted._resolve_budget(int(self.batch_size), False, 1)
            unfitted._resolve_for_data(0.0, 1.0)
            model = unfitted._new_model(n_features)
        except (TypeError, ValueError, AttributeError):  # only the data can tell: n_components="mle", classes
            return None
        return backend.matmul_flops(model, int(self.batch_size))

    def training_steps(self, n_train: int) -> int:
        """Optimiser steps a fit on ``n_train`` rows would take at most (its epochs, "auto" resolved by the
        rule, before early stopping; on one process)."""
        epochs = budget.resolve_epochs(self.epochs, n_train, int(self.batch_size), 1, self._epoch_rule)
        return epochs * budget.steps_per_epoch(n_train, int(self.batch_size))

    def _new_model(self, n_features: int) -> LatentModel:
        """Build the module without consuming the caller's global RNG (weights are drawn again later)."""
        with torch.random.fork_rng(devices=[]):
            return self._build_model(n_features)

    # ---- fitting ---------------------------------------------------------------------------------
    def fit(
        self,
        X,
        y=None,
        *,
        validation_data=None,
        checkpoint_dir=None,
        checkpoint_every: int | None = None,
        resume: bool = False,
        resume_hint: str | None = None,
    ):
        """Train on rows ``X`` ``(n_samples, n_features)`` or images ``(n_samples, C, H, W)`` /
        ``(n_samples, H, W)``; ``y`` is ignored. Returns ``self``.

        ``X`` may also arrive in batches: a torch ``Dataset`` (its items are examples, optionally with
        labels), a ``DataLoader``, or any re-iterable of batches (arrays or tensors, or (features,
        labels) tuples). It is streamed: one pass for the scaling's statistics, then one pass per epoch,
        holding a few batches at a time (``latentspace.training.streams``; docs/data.md's recipes). A
        Dataset is shuffled and split (``validation_fraction``) here; a loader's order is its own.
        ``validation_data``: held-out data of any of these kinds, in place of the split.

        ``X`` may be a ``np.memmap`` (``np.load(path, mmap_mode="r")``), even one larger than RAM: it is
        streamed in chunks and never loaded whole. With ``checkpoint_dir`` a resumable checkpoint is
        written there at epoch ends (as often as costs at most ~5% of the run), at the end, on an
        interrupt, and every ``checkpoint_every`` steps; ``resume=True``
        continues from it, ending with the same weights as an uninterrupted run. Under torchrun, every
        process calls ``fit`` on the same ``X`` and trains on its shard (DistributedDataParallel).
        """
        return self._fit(X, validation_data=validation_data, checkpoint_dir=checkpoint_dir,
                         checkpoint_every=checkpoint_every, resume=resume, resume_hint=resume_hint)

    def partial_fit(self, X, y=None):
        """One optimiser pass over ``X`` (rows, images or a ``np.memmap``, as ``fit`` takes), continuing
        from the previous call: weights, Adam's state and ``history_`` carry over (one record per call),
        so a loop over the chunks of a stream trains like ``fit`` over the whole. Returns ``self``.

        The first call (on an unfitted estimator) builds the model and fits the scaling on its rows;
        later calls (and calls after ``fit``) train on that model and check ``X`` against it as
        ``transform`` does. Each call trains on all of ``X``
        (no validation split, no early stopping) at the constant rate ``lr`` (a schedule needs the
        stream's length, which a stream does not know); ``epochs`` is not read.
        """
        return self._fit(X, partial=True)

    def _fit(self, X, *, validation_data=None, checkpoint_dir=None, checkpoint_every: int | None = None,
             resume: bool = False, resume_hint: str | None = None, partial: bool = False):
        """``fit``, or with ``partial`` one pass of ``partial_fit``."""
        self._validate_params()
        warm = (partial or bool(getattr(self, "warm_start", False))) and hasattr(self, "model_")
        given = X  # as given (a DataFrame keeps its column names, a memmap stays one): encoded after training
        self.device_ = resolve_device(self.device)
        backend.check_precision(self.precision, self.device_)  # the hardware, beyond the table
        preload_optimizer()  # overlaps torch.optim's first-use import with the data preparation below
        world = distributed.setup(self.device_)  # under torchrun: joins the group, picks this rank's GPU
        seed = seed_from(self.random_state) + (self.n_iter_ if warm else 0)  # a warm start draws new orders
        split = not partial and validation_data is None
        if is_stream(X):
            train_data, val_data, n_features, low, high, example = self._from_stream(X, seed, warm, world, split)
            if warm:
                self._check_example_shape(example)
            else:
                self._fit_image_shape(n_features, example)
        elif isinstance(X, np.memmap) and X.ndim == 2:
            train_data, val_data, n_features, low, high = self._streamed(X, seed, warm, split=split)
            if not warm:
                self._fit_image_shape(n_features, None)
        else:
            X, example = self._rows(X)
            if warm:
                self._check_example_shape(example)
            X = self._checked_data(X, reset=not warm)
            if not warm:
                self._fit_image_shape(X.shape[1], example)
            X_train, X_val = self._split(X, seed) if split else (X, None)
            if not warm:
                self._fit_scaling(X_train)
            scaled = self._scale(X_train)
            n_features = X.shape[1]
            low = high = None  # the range is scanned only when the likelihood needs it
            train_data = self._to_tensor(self._training_rows(scaled, "train"))
            val_data = None if X_val is None else self._to_tensor(self._training_rows(self._scale(X_val), "validation"))
        if validation_data is not None:
            val_data = self._validation_source(validation_data)
        n_val = 0 if val_data is None else int(val_data.n if hasattr(val_data, "n") else val_data.shape[0])
        n_train = int(train_data.n if hasattr(train_data, "n") else train_data.shape[0])
        if getattr(train_data, "steps_per_epoch", None):  # a loader's own batches set the steps of an epoch
            n_train = train_data.steps_per_epoch * int(self.batch_size) * world.size
        self._resolve_budget(n_train, n_val > 0, world.size)
        if not warm:  # a warm start keeps the settings (and the model) its first fit resolved
            if self._range_decides_settings() and low is None:
                low, high = float(scaled.min()), float(scaled.max())
            self._resolve_for_data(low, high)
            self._resolve_for_rows(train_data)
            self._check_model_size(n_features)
        generator = torch.Generator().manual_seed(seed)
        model = self.model_.to(self.device_) if warm else self._new_model(n_features)
        if self._needs_range(model):
            if low is None:
                low, high = float(scaled.min()), float(scaled.max())
            self._check_range(low, high, model)
        if not warm:
            self._initialise(model, generator)
            self.model_ = model = model.to(self.device_)
            check_contract(model, as_batches(train_data).head(2), custom_parts(self))
        config = self._train_config()
        warm_start = None
        if partial:  # one pass, numbered on from the earlier ones, at a constant rate, never stopping early
            config.epochs, config.patience, config.lr_schedule = (self.n_iter_ if warm else 0) + 1, None, "constant"
        elif warm:  # epochs more, numbered on from the fitted ones
            config.epochs = self.n_iter_ + int(self.epochs_)
        if warm:
            warm_start = WarmStart(self.n_iter_, getattr(self, "_optimizer_state", None))
        # what the model card names (bounded: sampled past 256 MB; a stream's bytes are not hashed)
        self.training_data_ = stream_digest(X, train_data.n, n_features) if is_stream(X) else array_digest(X)
        checkpoints = None if checkpoint_dir is None else CheckpointPlan(
            checkpoint_dir, checkpoint_every, resume, resume_hint, self._fingerprint(n_features, self.training_data_, seed, world)
        )
        with self._compute(config.batch_size):
            history = train(self.model_, train_data, config, generator, X_val=val_data, checkpoints=checkpoints,
                            callbacks=tuple(getattr(self, "callbacks", None) or ()), params=jsonable_params(self),
                            warm=warm_start)
        self.history_ = list(self.history_) + history.records if warm else history.records
        self.n_iter_ = len(self.history_)
        self.best_epoch_ = history.best_epoch
        self.compute_ = history.compute
        self._after_training(train_data)
        # Adam's moments are twice the weights: kept (in memory, not in saved files) only when asked to.
        keep = partial or getattr(self, "warm_start", False)
        self._optimizer_state = history.optimizer_state if keep else None
        # Not a second pass over all the data: the codes of evenly spaced rows, what the ex-post samplers fit.
        self.training_codes_ = self._training_codes(given).astype(np.float32)
        self._code_samplers = {}
        return self

    def _resolve_budget(self, n_train: int, has_validation: bool, world_size: int) -> None:
        """Set ``epochs_`` and ``patience_``, resolving "auto" by the rule in training/budget.py."""
        self.epochs_ = budget.resolve_epochs(self.epochs, n_train, int(self.batch_size), world_size, self._epoch_rule)
        self.patience_ = budget.resolve_patience(self.patience, self.epochs_, has_validation)

    def _range_decides_settings(self) -> bool:
        """Whether ``_resolve_for_data`` needs the training data's range (scanned only then)."""
        return False

    def _resolve_for_data(self, low: float | None, high: float | None) -> None:
        """Settings that depend on the (scaled) training data's range ``[low, high]``; none here."""

    def _resolve_for_rows(self, train_data) -> None:
        """Settings resolved from the scaled training rows (``train_data.chunks``) before the model is
        built, on a fresh fit; none here."""

    def _after_training(self, train_data) -> None:
        """Fitted attributes computed from the scaled training rows once the model is trained; none here."""

    def _fitted_json(self) -> dict:
        """Fitted values of this class beyond ``FITTED_SCALARS`` that ``save`` writes to config.json; none here."""
        return {}

    def _restore_fitted_json(self, fitted: dict) -> None:
        """Set what ``_fitted_json`` wrote from config.json's ``fitted`` (before the model is built);
        ValueError naming the bad field. None here."""

    def _extra_array_shapes(self, n_features: int) -> dict[str, tuple[int, ...]]:
        """Fitted arrays of this class beyond ``offset_``/``scale_`` that ``save`` keeps, by name, with the
        shape each must have (checked on loading); none here."""
        return {}

    def _data_chunks(self, train_data, scaled: bool = False, rows: int = INFERENCE_CHUNK) -> Iterator[np.ndarray]:
        """The rows of ``train_data`` (a tensor or a batch source) chunk by chunk, float64: back in data
        units, or as the model sees them (``scaled``)."""
        for chunk in as_batches(train_data).chunks(rows):
            x = chunk.detach().cpu().numpy().astype(np.float64)
            yield x if scaled else x * self.scale_ + self.offset_

    @contextlib.contextmanager
    def _compute(self, rows: int) -> Iterator[int]:
        """torch's CPU threads for this estimator's work on ``rows`` examples at a time (the
        ``threads`` parameter, or the default for the network's size), restored afterwards."""
        flops = backend.matmul_flops(self.model_, rows)
        with using_threads(resolve_threads(self.threads, flops)) as threads:
            yield threads

    def _fingerprint(self, n_features: int, data: dict, seed: int, world) -> dict:
        """What a resumed run must share with the one that wrote the checkpoint (JSON-normalised):
        ``data`` is ``array_digest`` of the training array (its bytes' hash, dtype and shape)."""
        # epochs may grow (a finished run extended); callbacks and verbosity do not change the result
        ignored = ("verbose", "epochs", "callbacks", "warm_start")
        params = {k: v for k, v in jsonable_params(self).items() if k not in ignored}
        facts = {"estimator": type(self).__name__, "n_features": n_features, "data": data,
                 "seed": seed, "params": params}
        return json.loads(json.dumps(facts, default=json_default))

    def _encode_training_data(self, X, max_rows: int, encode: Callable | None = None) -> np.ndarray:
        """``encode`` (a tensor function; default: the model's code) of at most ``max_rows`` evenly spaced
        rows of ``X``, float32 (a DataFrame keeps its column names; a memory-mapped ``X`` is read row by
        row, never whole)."""
        encode = self.model_.encode if encode is None else encode
        if hasattr(X, "iloc"):
            rows = self._validated(X.iloc[spaced_rows(len(X), max_rows)])
            return self._map_chunks(encode, self._scale(rows))
        if is_stream(X):  # the first batches, up to max_rows rows
            codes, n = [], 0
            for batch in per_batch_rows(X):
                codes.append(self._map_chunks(encode, self._scale(self._validated(batch)))[: max_rows - n])
                n += codes[-1].shape[0]
                if n >= max_rows:
                    break
            return np.concatenate(codes)
        if not isinstance(X, np.memmap):
            X = np.asarray(X)
            return self._map_chunks(encode, self._scale(self._validated(X[spaced_rows(X.shape[0], max_rows)])))
        rows = spaced_rows(X.shape[0], max_rows)
        source = MemmapBatches(RowReader(X), [(int(i), int(i) + 1) for i in rows], self.offset_, self.scale_, self.device_)
        self.model_.eval()
        with torch.inference_mode(), self._compute(INFERENCE_CHUNK):
            return np.concatenate([encode(x).cpu().numpy() for x in source.chunks(INFERENCE_CHUNK)])

    def _training_codes(self, X) -> np.ndarray:
        """The codes ``fit`` keeps for the ex-post samplers: those of up to ``CODE_ROWS`` evenly spaced rows."""
        return self._encode_training_data(X, CODE_ROWS)

    def _train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs_,
            batch_size=int(self.batch_size),
            lr=float(self.lr),
            weight_decay=float(self.weight_decay),
            patience=self.patience_,
            lr_schedule=self.lr_schedule,
            grad_clip=self.grad_clip,
            verbose=bool(self.verbose),
            precision=str(self.precision),
            reproducible=self.random_state is not None,
        )

    def _split(self, X: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        parts = self._split_order(X.shape[0], seed)
        return (X, None) if parts is None else (X[parts[0]], X[parts[1]])

    def _split_order(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The rows of the training and of the validation part (None: no validation part)."""
        n_val = self._n_validation(n)
        if n_val == 0:
            return None
        order = np.random.default_rng(seed).permutation(n)
        return order[n_val:], order[:n_val]

    def _n_validation(self, n: int) -> int:
        """Rows of ``n`` held out for validation: ``validation_fraction`` of them, 0 when that leaves none
        (or all) to train on. The in-memory split and the streamed one both size themselves by it."""
        n_val = int(round(float(self.validation_fraction) * n))
        return 0 if n_val >= n else n_val

    def _training_rows(self, scaled: np.ndarray, part: str) -> np.ndarray:
        """The rows the model trains on for the ``part`` ("train" or "validation") of in-memory data whose
        features are ``scaled``: those features (a conditional model appends its labels)."""
        return scaled

    def _conditioned(self, rows: np.ndarray, y) -> np.ndarray:
        """``rows`` (scaled features, or codes) as the model reads them with labels ``y``: a model that is
        not conditional takes none."""
        if y is not None:
            raise LatentspaceError(f"a {type(self).__name__} is not conditioned on labels; y is for a ConditionalVAE")
        return rows

    # ---- inference -----------------------------------------------------------------------------
    def _to_tensor(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32), device=self.device_)

    def _map_chunks(self, fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray) -> np.ndarray:
        """Apply a tensor function to ``X`` in chunks under inference mode; returns float32 numpy."""
        self.model_.eval()
        outputs = []
        with torch.inference_mode(), self._compute(INFERENCE_CHUNK):
            for start in range(0, X.shape[0], INFERENCE_CHUNK):
                outputs.append(fn(self._to_tensor(X[start : start + INFERENCE_CHUNK])).cpu().numpy())
        return np.concatenate(outputs)

    def _validated(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._checked_data(self._fitted_rows(X), reset=False)

    def _checked_data(self, X, reset: bool) -> np.ndarray:
        """sklearn's validation, failing with one line in this package's words (``checked_array``)."""
        if X is None:
            raise DataError("X is None; pass an array of shape (n_samples, n_features)")
        return checked_array(
            lambda: validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=1, reset=reset), X, "X")

    @streamable
    def transform(self, X) -> np.ndarray:
        """Encode: ``(n_samples, n_features)`` or images ``(n_samples, C, H, W)`` / ``(n_samples, H, W)``
        -> ``(n_samples, n_components)``, in ``X``'s float dtype."""
        X = self._validated(X)
        return self._map_chunks(self.model_.encode, self._scale(X)).astype(X.dtype, copy=False)

    def inverse_transform(self, X, y=None) -> np.ndarray:
        """Decode codes ``(n_samples, n_components)`` to data space, in the layout ``fit`` was given:
        rows ``(n_samples, n_features)``, or images ``(n_samples, *example_shape_)``. ``y``: the codes'
        classes, for a conditional model only."""
        check_is_fitted(self)
        Z = self._validated_codes(X)
        decoded = self._map_chunks(self.model_.decode, self._conditioned(Z, y))
        return self._as_examples(self._unscale(decoded).astype(Z.dtype, copy=False))

    def _validated_codes(self, Z) -> np.ndarray:
        Z = checked_array(lambda: check_array(Z, dtype=[np.float64, np.float32]), Z, "codes")
        if Z.shape[1] != self.model_.n_latent:
            raise LatentspaceError(f"codes have {Z.shape[1]} columns but the model has {self.model_.n_latent}")
        return Z

    @streamable
    def reconstruct(self, X, y=None) -> np.ndarray:
        """``decode(encode(X))`` in one pass, in ``X``'s own layout (rows stay rows, images stay images).
        ``y``: the rows' classes, for a conditional model only."""
        shape = np.shape(X)
        X = self._validated(X)
        out = self._map_chunks(self.model_.reconstruct, self._conditioned(self._scale(X), y))
        return self._unscale(out).astype(X.dtype, copy=False).reshape(shape)

    @streamable
    def score_samples(self, X) -> np.ndarray:
        """Per-example negative reconstruction loss (higher is better), ``(n_samples,)``."""
        X = self._validated(X)
        return -self._map_chunks(self.model_.reconstruction_nll, self._scale(X)).astype(np.float64)

    def score(self, X, y=None) -> float:
        """Mean of ``score_samples`` over ``X``: higher is better."""
        return float(np.mean(self.score_samples(X)))

    # ---- persistence -----------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write weights (safetensors) and parameters/history (JSON) to the folder ``path``."""
        save_estimator(self, path)

    def to_onnx(self, path, *, opset: int = export.OPSET) -> dict[str, Path]:
        """Write ``encoder.onnx`` and ``decoder.onnx`` to the folder ``path``; returns their paths.

        The encoder maps raw rows ``x`` ``(batch, n_features)`` to codes ``z`` (a VAE's posterior mean,
        with ``z_log_var``), the decoder codes ``z`` to ``x``, the likelihood's mean; the scaling is
        folded in, so they agree with ``transform`` and ``inverse_transform`` on rows; the batch axis
        is dynamic (``latentspace.nn.export``). Run them with onnxruntime::

            import onnxruntime as ort
            z = ort.InferenceSession("path/encoder.onnx").run(None, {"x": X.astype("float32")})[0]
            x = ort.InferenceSession("path/decoder.onnx").run(None, {"z": z})[0]
        """
        check_is_fitted(self)
        return export.export_onnx(self.model_, self.offset_, self.scale_, self.n_features_in_, path, opset)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
