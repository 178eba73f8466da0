"""The conditional VAE (Sohn et al. 2015): labels in, class-conditional samples out.

The design (docs/families.md): the decoder reads the class, p(x | z, y) = decoder([z, onehot(y)]); the
encoder reads the features alone, q(z | x). Sohn et al. condition both; conditioning the encoder would
make every encoding need the row's label, and the project's protocol encodes rows without labels
(``transform``, the explorer's map, the samplers' training codes, holes, the leaderboard). With the
class free to the decoder, the KL term charges the codes for any class information they repeat, so
they learn what the class does not say (the style of a digit), and a code decodes as any class.
Where a label is not given, the model answers as the joint model p(y) p(z) p(x | z, y) it is:
``sample`` and ``inverse_transform`` draw the class from the training frequencies, ``score_samples``
and ``log_likelihood`` give log p(x) = log sum_y p(y) p(x | y), and ``reconstruct`` goes through the
class the model finds most likely (``predict``).
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

import numpy as np
from scipy.special import logsumexp, softmax
from sklearn.utils.validation import _num_samples, check_is_fitted

from ..errors import DataError, LatentspaceError
from ..nn.variants import ConditionalVariationalAutoencoder
from ..training.streams import is_stream
from ._base import seed_from
from ._modules import PARTS
from ._params import Param
from ._vae import VAE

#: the most classes a model may have (a checkpoint declaring more is refused before anything is built)
MAX_CLASSES = 100_000


class ConditionalVAE(VAE):
    """A :class:`VAE` whose decoder is conditioned on the class: p(x | z, y), q(z | x), prior N(0, I).

    ``fit(X, y)`` needs the rows' labels: any hashable values (ints, strings), kept sorted as
    ``classes_`` (as scikit-learn's classifiers do) with their training frequencies ``class_prior_``.
    Every method that decodes takes ``y``, one label or one per row: ``sample(n, y=...)`` gives
    class-conditional samples with any sampler (the prior, or a density fitted to the training codes,
    which do not depend on the class), ``inverse_transform(Z, y)``, ``reconstruct(X, y)``,
    ``score_samples(X, y=y)`` and ``log_likelihood(X, y=y)`` (log p(x | y)). Without ``y`` they answer
    for the joint model (the module docstring); ``predict(X)`` is the class of highest
    p(y) exp(ELBO(x, y)).

    Parameters: the VAE's, except your own ``encoder``/``decoder`` modules (the decoder's input is the
    code and the one-hot, built by the estimator). Data come in memory (arrays, images, DataFrames; a
    memory-mapped array is read whole), not as streams, whose rows would have to travel with their labels.
    ``to_onnx`` writes an encoder of the rows alone and a decoder of ``[z, onehot(y)]`` (the one-hot in the
    order of ``classes_``), as the explorer's page decodes.
    """

    needs_labels: ClassVar[bool] = True

    _parameter_constraints: ClassVar[dict[str, Param]] = {
        k: v for k, v in VAE._parameter_constraints.items() if k not in PARTS
    }

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

    # ---- labels ------------------------------------------------------------------------------------
    def _take_labels(self, X, y, *, new: bool, classes=None) -> None:
        """Check the training labels ``y`` against ``X``; on a new fit set ``classes_`` (``classes`` or those
        of ``y``) and ``class_prior_``; keep their one-hot for the training rows."""
        if y is None:
            raise DataError("a ConditionalVAE requires y to be passed, but the target y is None: it learns "
                            "p(x | z, y) from the rows' labels")
        if is_stream(X):
            raise DataError("a ConditionalVAE trains on data held in memory with their labels (fit(X, y)); it "
                            f"takes no {type(X).__name__}: load the rows into an array")
        y = labels_array(y)
        n_rows = _num_samples(X)
        if len(y) != n_rows:
            raise DataError(f"y has {len(y)} labels for {n_rows} rows of X")
        if n_rows == 0:
            raise DataError("X and y hold 0 samples; need at least one")
        if new:
            try:
                self.classes_ = np.unique(y if classes is None else labels_array(classes))
            except TypeError:
                raise DataError("the labels mix kinds (numbers and strings); give one kind") from None
            if len(self.classes_) < 2:
                raise DataError(f"y holds one class ({self.classes_[0]!r}); a conditional model needs two or more")
            counts = np.bincount(self._class_indices(y, len(y)), minlength=len(self.classes_))
            self.class_prior_ = counts / counts.sum()
        self._fit_labels = {"train": self._one_hot(self._class_indices(y, len(y)))}

    def _class_indices(self, y, n: int) -> np.ndarray:
        """Indices into ``classes_`` ``(n,)`` of ``y``: one label for all ``n`` rows, or one per row."""
        y = np.asarray(y)
        if y.ndim == 0:
            y = np.full(n, y.item(), dtype=object)
        y = labels_array(y)
        if len(y) != n:
            raise DataError(f"y has {len(y)} labels for {n} rows")
        known = {c: i for i, c in enumerate(self.classes_.tolist())}
        index = np.fromiter((known.get(v, -1) for v in y.tolist()), np.int64, count=n)
        if (index < 0).any():
            unseen = y[np.argmax(index < 0)]
            raise DataError(f"class {unseen!r} was not seen in fit; the model knows {describe_classes(self.classes_)}")
        return index

    def _one_hot(self, index: np.ndarray, dtype=np.float32) -> np.ndarray:
        return np.eye(len(self.classes_), dtype=dtype)[index]

    def _drawn_classes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` classes drawn from the training frequencies ``class_prior_``."""
        check_is_fitted(self)
        return self.classes_[rng.choice(len(self.classes_), size=n, p=self.class_prior_)]

    # ---- what the conditioning changes in the VAE --------------------------------------------------
    def _model_class(self) -> type[ConditionalVariationalAutoencoder]:
        return ConditionalVariationalAutoencoder

    def _model_options(self, n_features: int) -> dict:
        return {"n_features": n_features, "n_classes": len(self.classes_)}

    def _encoder_decoder(self, n_features: int, n_latent: int, **sizes):
        return super()._encoder_decoder(n_features, n_latent + len(self.classes_), **sizes)

    def _split(self, X: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        parts = self._split_order(X.shape[0], seed)
        if parts is not None:
            labels = self._fit_labels["train"]
            self._fit_labels = {"train": labels[parts[0]], "validation": labels[parts[1]]}
        return super()._split(X, seed)

    def _training_rows(self, scaled: np.ndarray, part: str) -> np.ndarray:
        return np.hstack([scaled, self._fit_labels[part]])

    def _conditioned(self, rows: np.ndarray, y) -> np.ndarray:
        if y is None:
            raise DataError("a ConditionalVAE decodes with the class: pass y")
        return np.hstack([rows, self._one_hot(self._class_indices(y, len(rows)), rows.dtype)])

    def _fingerprint(self, n_features: int, data: dict, seed: int, world) -> dict:
        """The base's, and the labels: a run resumed with other labels for the same rows is refused."""
        classes = [str(c) for c in self.classes_.tolist()]
        labels = hashlib.sha256(np.argmax(self._fit_labels["train"], axis=1).astype("<i8").tobytes()).hexdigest()
        return {**super()._fingerprint(n_features, data, seed, world), "classes": classes, "labels_sha256": labels}

    def _fitted_json(self) -> dict:
        if not hasattr(self, "classes_"):
            return {}
        return {"classes_": self.classes_.tolist(), "class_prior_": self.class_prior_.tolist()}

    def _restore_fitted_json(self, fitted: dict) -> None:
        classes, prior = fitted.get("classes_"), fitted.get("class_prior_")
        if not isinstance(classes, list) or not 2 <= len(classes) <= MAX_CLASSES or len(set(map(repr, classes))) != len(classes) \
                or not all(isinstance(c, (str, int, float)) and not isinstance(c, bool) for c in classes):
            raise ValueError(f"fitted classes_ must be 2 to {MAX_CLASSES:,} distinct numbers or strings")
        if not isinstance(prior, list) or len(prior) != len(classes) or \
                not all(isinstance(p, (int, float)) and p >= 0 for p in prior) or not abs(sum(prior) - 1) < 1e-6:
            raise ValueError(f"fitted class_prior_ must be {len(classes)} frequencies summing to 1")
        self.classes_, self.class_prior_ = np.asarray(classes), np.asarray(prior, np.float64)

    # ---- fitting -----------------------------------------------------------------------------------
    def fit(self, X, y=None, **fit_params):
        """Train on rows (or images) ``X`` and their labels ``y`` ``(n_samples,)``; as :meth:`VAE.fit`
        otherwise (no ``validation_data``: the validation part is split from ``X`` and ``y``)."""
        if fit_params.get("validation_data") is not None:
            raise LatentspaceError("a ConditionalVAE splits its validation part from X and y "
                                   "(validation_fraction); it takes no validation_data")
        X = memory_rows(X)
        self._take_labels(X, y, new=not (self.warm_start and hasattr(self, "model_")))
        try:
            return super().fit(X, y, **fit_params)
        finally:
            del self._fit_labels

    def partial_fit(self, X, y=None, classes=None):
        """One pass over ``X`` and its labels ``y``, as :meth:`VAE.partial_fit`. ``classes``: every class
        the calls will see, on the first call (default: those of its ``y``), as scikit-learn's
        classifiers take it."""
        X = memory_rows(X)
        self._take_labels(X, y, new=not hasattr(self, "model_"), classes=classes)
        try:
            return super().partial_fit(X, y)
        finally:
            del self._fit_labels

    # ---- labels given or not -----------------------------------------------------------------------
    def inverse_transform(self, X, y=None) -> np.ndarray:
        """Decode codes ``(n, n_components)`` as class ``y`` (one label, or one per code); without ``y``
        each code's class is drawn from ``class_prior_`` (with a fixed random state)."""
        check_is_fitted(self)
        if y is None:
            y = self._drawn_classes(len(self._validated_codes(X)), np.random.default_rng(0))
        return super().inverse_transform(X, y)

    def reconstruct(self, X, y=None) -> np.ndarray:
        """``decode(encode(X), y)``; without ``y``, through each row's most likely class (``predict``)."""
        return super().reconstruct(X, self.predict(X) if y is None else y)

    def score_samples(self, X, n_samples: int = 16, random_state=0, *, y=None) -> np.ndarray:
        """Per-example ELBO of log p(x | y) in nats; without ``y``, of log p(x) = log sum_y p(y) p(x | y)."""
        if y is not None:
            return super().score_samples(X, n_samples, random_state, y=y)
        return logsumexp(self._per_class(lambda c: super(ConditionalVAE, self).score_samples(
            X, n_samples, random_state, y=c)), axis=1)

    def log_likelihood(self, X, k: int = 1000, random_state=0, progress: bool | None = None, *, y=None) -> np.ndarray:
        """Importance-weighted estimate of log p(x | y) with ``k`` samples; without ``y``, of log p(x) (one
        estimate per class: ``len(classes_)`` times the work)."""
        if y is not None:
            return super().log_likelihood(X, k, random_state, progress, y=y)
        return logsumexp(self._per_class(lambda c: super(ConditionalVAE, self).log_likelihood(
            X, k, random_state, progress, y=c)), axis=1)

    def score(self, X, y=None) -> float:
        """Mean ELBO of ``X`` (given its labels ``y``, or of the joint model without)."""
        return float(np.mean(self.score_samples(X, y=y)))

    def predict_proba(self, X) -> np.ndarray:
        """p(y | x) ``(n, n_classes)`` ~ p(y) exp(ELBO(x, y)), normalised; columns in the order of ``classes_``."""
        return softmax(self._per_class(lambda c: super(ConditionalVAE, self).score_samples(X, y=c)), axis=1)

    def predict(self, X) -> np.ndarray:
        """The class of highest p(y) exp(ELBO(x, y)) for each row: the model as a generative classifier."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def _per_class(self, score) -> np.ndarray:
        """``log p(c) + score(c)`` for every class c, ``(n, n_classes)``."""
        check_is_fitted(self)
        return np.stack([np.log(p) + score(c) for c, p in zip(self.classes_, self.class_prior_)], axis=1)

    def sample(self, n_samples: int = 1, random_state=None, *, sampler: str | None = None, y=None) -> np.ndarray:
        """Class-conditional samples: ``n_samples`` codes drawn by ``sampler`` (as :meth:`VAE.sample`), decoded
        as class ``y`` (one label, or one per sample); without ``y`` the classes are drawn from
        ``class_prior_``: samples of the joint model."""
        if y is None and int(n_samples) >= 1:
            y = self._drawn_classes(int(n_samples), np.random.default_rng([seed_from(random_state), 1]))
        return super().sample(n_samples, random_state, sampler=sampler, y=y)


    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # fit needs y, as a classifier's does
        return tags


def memory_rows(X):
    """A memory-mapped ``X`` as an ordinary array over the same file (read whole, in memory, as the rows
    travel with their labels); anything else as it is."""
    return np.asarray(X) if isinstance(X, np.memmap) else X


def labels_array(y) -> np.ndarray:
    """Labels as a 1-D numpy array (one line when they are not)."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"y must be one label per row, a 1-D array; got shape {y.shape}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise DataError("y holds NaN or infinite labels")
    return y


def describe_classes(classes: np.ndarray, shown: int = 12) -> str:
    names = ", ".join(map(str, classes[:shown].tolist()))
    return names + (f", ... ({len(classes)} classes)" if len(classes) > shown else "")
