"""The live latent explorer: a fitted decoder, embedded in the page, run by a small JavaScript forward pass.

``explorer_html(models, data)`` returns one HTML fragment (markup, inline style and script, the
weights as base64 in a JSON block) that works from ``file://`` with no network and no library. A
user drags through each model's latent map and watches it decode, moves one slider per latent
dimension, clicks two points for the interpolation between them, draws samples, and sees beside every
decoded image the nearest example of a stored sample of the training set and its distance.

What the page computes is what the library computes: :func:`decoder_program` turns the decoder's
torch modules (MLP or convolutional, each activation, norms in eval mode), the likelihood's mean and
the estimator's output scaling into a list of operations (``linear``, ``act``, ``reshape``,
``deconv``, ``channel_affine``, ``groupnorm``, ``mean``, ``affine``) that ``explorer.js`` replays.
A PCA decodes by its linear map. A conditional VAE's decoder reads the code and then the one-hot of
the class picked in the page's class select (its ``classes_``, in order). Weights are stored as
float16 (default) or float32.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from torch import nn

from ..analysis.protocol import display_name, has_prior
from ..analysis.protocol import model_kind as family_of
from ..analysis.samplers import GaussianMixtureDensity, sampler_density
from ..data import Dataset, Units
from ..errors import LatentspaceError
from ..nn.conv import ConvDecoder
from ..nn.likelihoods import Likelihood
from .html import Section, script_json
from .images import display_range
from .latent_plots import principal_directions
from .rows import feature_ranges

PRECISIONS = ("float16", "float32")
#: tensors smaller than this stay float32 whatever the precision: biases and norms cost nothing
SMALL_TENSOR = 4096
MAX_POINTS = 2000
MAX_REFERENCES = 1000
MAX_FIT_ROWS = 20000
#: how the page's arrays are stored (little-endian), by the name explorer.js reads
NUMPY_TYPES = {"f16": "<f2", "f32": "<f4", "u8": "u1"}


# ---- arrays in the page ----------------------------------------------------------------------------
def packed(array: np.ndarray, dtype: str = "f32") -> dict[str, Any]:
    """An array as ``{"dtype", "shape", "data": base64}`` (little-endian ``f16``, ``f32`` or ``u8``)."""
    array = np.ascontiguousarray(np.asarray(array), dtype=NUMPY_TYPES[dtype])
    if dtype != "u8" and not np.all(np.isfinite(array)):
        raise LatentspaceError(f"cannot embed an array with non-finite values as {dtype} (shape {array.shape})")
    return {"dtype": dtype, "shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode("ascii")}


def weight(tensor, precision: str) -> dict[str, Any]:
    array = tensor.detach().cpu().double().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)
    small = array.size < SMALL_TENSOR
    return packed(array, "f32" if precision == "float32" or small else "f16")


# ---- the decoder as a program ----------------------------------------------------------------------
def activation_op(module: nn.Module) -> dict[str, Any] | None:
    """The ``act`` operation of an activation module (None for ``nn.Identity``)."""
    if isinstance(module, nn.Identity):
        return None
    if isinstance(module, nn.ReLU):
        return {"op": "act", "fn": "relu"}
    if isinstance(module, nn.LeakyReLU):
        return {"op": "act", "fn": "leaky_relu", "slope": float(module.negative_slope)}
    if isinstance(module, nn.ELU):
        return {"op": "act", "fn": "elu", "alpha": float(module.alpha)}
    if isinstance(module, nn.GELU):
        return {"op": "act", "fn": "gelu_tanh" if module.approximate == "tanh" else "gelu"}
    for kind, name in ((nn.SiLU, "silu"), (nn.Tanh, "tanh"), (nn.Sigmoid, "sigmoid")):
        if isinstance(module, kind):
            return {"op": "act", "fn": name}
    return None if not isinstance(module, nn.Module) else _unsupported(module)


class UndrawableLayer(LatentspaceError):
    """A decoder layer the page has no operation for (the caller names where it sits)."""


def _unsupported(module: nn.Module):
    raise UndrawableLayer(f"the explorer cannot run a decoder layer of type {type(module).__name__}")


def undrawable_layers(module: nn.Module, name: str = "decoder") -> list[str]:
    """The layers of ``module`` the page cannot run, as ``"decoder.2 (MyBlock)"``: the innermost ones
    inside the containers the page flattens; a module of the user's own class is one layer (its
    ``forward`` is Python, which the page cannot read)."""
    try:
        layer_ops(module, "float32")
        return []
    except UndrawableLayer:
        pass
    if isinstance(module, nn.Sequential):
        return [bad for child_name, child in module.named_children()
                for bad in undrawable_layers(child, f"{name}.{child_name}")]
    if isinstance(module, ConvDecoder):
        return [*undrawable_layers(module.dense, f"{name}.dense"), *undrawable_layers(module.deconv, f"{name}.deconv")]
    return [f"{name} ({type(module).__name__})"]


def cannot_draw(model) -> list[str]:
    """Why the page cannot run ``model``'s decoder: its undrawable layers and likelihood steps (empty: it can)."""
    if isinstance(model, PCA) or not hasattr(model, "model_"):
        return []
    problems = undrawable_layers(model.model_.decoder)
    try:
        mean_op(model.model_.likelihood)
    except LatentspaceError as e:
        problems.append(str(e).removeprefix("the explorer cannot compute "))
    return problems


def layer_ops(module: nn.Module, precision: str) -> list[dict[str, Any]]:
    """The operations of ``module`` in order: containers are flattened, norms folded for eval mode."""
    if isinstance(module, nn.Sequential):
        return [op for child in module for op in layer_ops(child, precision)]
    if isinstance(module, ConvDecoder):
        return [*layer_ops(module.dense, precision), {"op": "reshape", "shape": list(module.start_shape)},
                *layer_ops(module.deconv, precision)]
    if isinstance(module, nn.Linear):
        bias = module.bias if module.bias is not None else np.zeros(module.out_features)
        return [{"op": "linear", "w": weight(module.weight, precision), "b": weight(bias, precision)}]
    if isinstance(module, nn.ConvTranspose2d):
        if module.groups != 1 or tuple(module.dilation) != (1, 1):
            _unsupported(module)
        bias = module.bias if module.bias is not None else np.zeros(module.out_channels)
        return [{"op": "deconv", "w": weight(module.weight, precision), "b": weight(bias, precision),
                 "stride": list(module.stride), "padding": list(module.padding),
                 "output_padding": list(module.output_padding)}]
    if isinstance(module, nn.BatchNorm2d):
        return [batchnorm_op(module)]
    if isinstance(module, nn.GroupNorm):
        ones = np.ones(module.num_channels)
        w = module.weight if module.affine else ones
        b = module.bias if module.affine else 0 * ones
        return [{"op": "groupnorm", "groups": int(module.num_groups), "eps": float(module.eps),
                 "w": weight(w, "float32"), "b": weight(b, "float32")}]
    op = activation_op(module)
    return [] if op is None else [op]


def batchnorm_op(module: nn.BatchNorm2d) -> dict[str, Any]:
    """BatchNorm in eval mode is a per-channel affine map: ``x * scale + shift`` from its running stats."""
    if module.running_mean is None:
        _unsupported(module)
    mean = module.running_mean.detach().double().cpu().numpy()
    var = module.running_var.detach().double().cpu().numpy()
    scale = 1.0 / np.sqrt(var + module.eps)
    shift = -mean * scale
    if module.affine:
        w = module.weight.detach().double().cpu().numpy()
        scale, shift = scale * w, shift * w + module.bias.detach().double().cpu().numpy()
    return {"op": "channel_affine", "scale": packed(scale), "shift": packed(shift)}


#: explorer.js's operation for each elementwise function a likelihood's mean is written in
PAGE_MEAN_OPS: dict[str, Callable[[dict[str, float]], dict[str, Any]]] = {
    "sigmoid": lambda params: {"op": "act", "fn": "sigmoid"},
    "continuous_bernoulli_mean": lambda params: {"op": "mean", "fn": "continuous_bernoulli",
                                                 "taylor_below": float(params["taylor_below"])},
}


def mean_op(likelihood: Likelihood) -> list[dict[str, Any]]:
    """The likelihood's mean of the decoder's raw output, as the likelihood itself describes it."""
    ops = []
    for step in likelihood.mean_ops():
        if step.fn not in PAGE_MEAN_OPS:
            raise LatentspaceError(f"the explorer cannot compute {step.fn!r}, a step of the mean of a "
                                   f"{type(likelihood).__name__} likelihood")
        ops.append(PAGE_MEAN_OPS[step.fn](step.params))
    return ops


def decoder_program(model, precision: str = "float16") -> list[dict[str, Any]]:
    """What ``model.inverse_transform`` computes for one code, as operations for ``explorer.js``.

    ``model`` is a fitted latentspace estimator (MLP or conv; AE, linear AE or VAE) or a sklearn PCA.
    """
    if precision not in PRECISIONS:
        raise LatentspaceError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if isinstance(model, PCA):
        components = np.asarray(model.components_, np.float64)
        if model.whiten:
            components = components * np.sqrt(model.explained_variance_)[:, None]
        return [{"op": "linear", "w": weight(components.T, precision), "b": weight(model.mean_, precision)}]
    if not hasattr(model, "model_"):
        raise LatentspaceError(f"the explorer needs a fitted model, got {type(model).__name__}")
    torch_model = model.model_
    ops = [*layer_ops(torch_model.decoder, precision), *mean_op(torch_model.likelihood)]
    offset, scale = np.asarray(model.offset_, np.float64), np.asarray(model.scale_, np.float64)
    if np.any(offset != 0) or np.any(scale != 1):
        ops.append({"op": "affine", "scale": packed(scale), "shift": packed(offset)})
    return ops


def decoder_summary(model) -> str:
    """One line naming the decoder, e.g. ``MLP 2-64-256-64, relu; likelihood Bernoulli``."""
    if isinstance(model, PCA):
        return f"PCA's linear map {model.n_components_}-{model.n_features_in_}"
    hidden = tuple(reversed(tuple(getattr(model, "hidden", ()))))
    inputs = f"{model.n_components}+{len(model.classes_)} classes" if getattr(model, "needs_labels", False) \
        else str(model.n_components)
    widths = "-".join(str(w) for w in (inputs, *hidden))
    if getattr(model, "architecture", "mlp") == "conv":
        norm = "" if model.norm == "none" else f", {model.norm} norm"
        body = f"conv: dense {widths}, transposed convs {'-'.join(map(str, reversed(tuple(model.channels))))}{norm}"
    else:
        body = f"MLP {widths}-{model.n_features_in_}"
    likelihood = type(model.model_.likelihood).__name__
    return f"{body}, {getattr(model, 'activation', 'identity')}; likelihood {likelihood}"


# ---- the map, the density and the sampler ------------------------------------------------------------
@dataclass
class MapPlane:
    """Map coordinates ``u = (z - center) @ axes.T``: for k = 2 the codes themselves, for k > 2 the
    codes' first two principal axes through their mean (the other directions are set by sliders)."""

    center: np.ndarray  # (k,)
    axes: np.ndarray  # (m, k), orthonormal rows, m = min(k, 2)
    share: np.ndarray | None  # variance share per axis (k > 2), else None

    @classmethod
    def of(cls, codes: np.ndarray) -> MapPlane:
        k = codes.shape[1]
        if k <= 2:
            return cls(np.zeros(k), np.eye(k), None)
        center, axes, share = principal_directions(codes)
        return cls(center, axes, share)

    def project(self, Z: np.ndarray) -> np.ndarray:
        return (Z - self.center) @ self.axes.T


def density_components(model, plane: MapPlane, codes: np.ndarray, seed: int) -> tuple[list, dict]:
    """The density drawn on the map and the sampler of the sample button.

    A model with a prior (VAE family, WAE): its own, as the model computes it (N(0, I), a VampPrior's
    mixture, ...). Any other model: the ``gmm`` sampler's mixture fitted to its training codes.
    Returns (the mixture's marginal on the map plane as ``[{w, mean, cov}]``, the full sampler).
    """
    density = generating_density(model, codes, seed)
    if not has_prior(model):
        kind = f"{density.n_components}-Gaussian mixture fitted to its training codes"
    elif is_standard_normal(density):
        kind = "prior N(0, I)"
    else:
        kind = f"its prior, a mixture of {density.n_components} Gaussians"
    k = codes.shape[1]
    chol = np.stack([np.linalg.cholesky(c + 1e-9 * np.eye(k)) for c in density.covs])
    sampler = {"kind": kind, "weights": packed(density.weights), "means": packed(density.means), "chol": packed(chol)}
    return density.marginal(plane.center, plane.axes), sampler


def generating_density(model, codes: np.ndarray, seed: int) -> GaussianMixtureDensity:
    """The prior of a model with one, else the ``gmm`` mixture fitted to its training codes: the one the
    model keeps (the same its samples come from), or one fitted to ``codes`` for a model that keeps none."""
    return model.prior_density() if has_prior(model) else sampler_density("gmm", codes, seed, model)


def is_standard_normal(density: GaussianMixtureDensity) -> bool:
    k = density.means.shape[1]
    return density.n_components == 1 and not density.means.any() and np.allclose(density.covs[0], np.eye(k))


def prior_box(model) -> tuple[np.ndarray, np.ndarray]:
    """Where a prior puts its mass: each component's mean +- 3 standard deviations, ``(k,)`` each."""
    density = model.prior_density()
    sd = np.sqrt(np.diagonal(density.covs, axis1=1, axis2=2))
    return (density.means - 3 * sd).min(0), (density.means + 3 * sd).max(0)


def slider_ranges(model, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension slider bounds: the codes' range widened by 10% (and the prior's +-3 sd for a model
    with one)."""
    lo, hi = codes.min(0), codes.max(0)
    pad = 0.1 * np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad, hi + pad
    if has_prior(model):
        low, high = prior_box(model)
        lo, hi = np.minimum(lo, low), np.maximum(hi, high)
    return lo, hi


def map_extent(model, points: np.ndarray, plane: MapPlane) -> list[float]:
    """``[x0, x1, y0, y1]`` of the map: the points widened by 8%, and the prior's +-3 sd for a model with one."""
    lo, hi = points.min(0), points.max(0)
    if has_prior(model):
        low, high = prior_box(model)
        middle, half = plane.project((low + high) / 2), np.max(high - low) / 2
        lo, hi = np.minimum(lo, middle - half), np.maximum(hi, middle + half)
    pad = 0.08 * np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad, hi + pad
    if len(lo) == 1:  # 1-D codes: the map's vertical axis carries nothing
        return [float(lo[0]), float(hi[0]), -1.0, 1.0]
    return [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])]


def model_kind(model) -> str:
    """The family's display name ("PCA", "deep AE", "VAE", "VampPrior VAE", ...)."""
    return "PCA" if isinstance(model, PCA) else display_name(family_of(model), 0)


def units_op(units: Units | None) -> list[dict[str, Any]]:
    """The operation that takes a decode from the models' scale to the user's units (none without units)."""
    return [] if units is None else [{"op": "affine", "scale": packed(units.scale), "shift": packed(units.offset)}]


def explorer_model(name: str, model, X_train: np.ndarray, X_points: np.ndarray, precision: str, seed: int,
                   units: Units | None = None) -> dict:
    """Everything the page needs for one model: its decoder program (ending in the user's units), map,
    density, sampler, sliders."""
    train_codes = np.asarray(model.transform(X_train), np.float64)
    codes = np.asarray(model.transform(X_points), np.float64)
    plane = MapPlane.of(codes)
    points = plane.project(codes)
    marginal, sampler = density_components(model, plane, train_codes, seed)
    lo, hi = slider_ranges(model, np.concatenate([train_codes, codes]))
    k = codes.shape[1]
    start = plane.center if k > 2 else prior_mean(model) if has_prior(model) else train_codes.mean(0)
    return {
        "name": name, "kind": model_kind(model), "k": k, "summary": decoder_summary(model),
        "precision": precision, "ops": [*decoder_program(model, precision), *units_op(units)],
        "plane": {"center": plane.center.tolist(), "axes": plane.axes.tolist(),
                  "share": None if plane.share is None else plane.share.tolist()},
        "points": packed(points), "extent": map_extent(model, points, plane),
        "density": marginal, "sampler": sampler,
        "slider_lo": lo.tolist(), "slider_hi": hi.tolist(), "start": start.tolist(),
        **class_picker(model),
    }


def class_picker(model) -> dict:
    """A conditional model's classes, in the order of its decoder's one-hot, and the one the page starts
    with (the most frequent); nothing for the others."""
    if not getattr(model, "needs_labels", False):
        return {}
    return {"classes": [str(c) for c in model.classes_.tolist()], "class_start": int(np.argmax(model.class_prior_))}


def prior_mean(model) -> np.ndarray:
    density = model.prior_density()
    return density.weights @ density.means / density.weights.sum()


# ---- the data the page shows -----------------------------------------------------------------------
def quantized_rows(X: np.ndarray) -> dict[str, Any]:
    """Rows stored at 8 bits per value: ``x ~= lo + q * step`` per feature (what the page compares to)."""
    X = np.asarray(X, np.float64)
    lo, hi = X.min(0), X.max(0)
    step = np.where(hi > lo, (hi - lo) / 255.0, 1.0)
    q = np.clip(np.rint((X - lo) / step), 0, 255).astype(np.uint8)
    return {"q": packed(q, "u8"), "lo": packed(lo), "step": packed(step)}


def feature_ranges_json(X: np.ndarray) -> dict[str, Any]:
    """Each feature's display range for the page's bars (see ``rows.feature_ranges``)."""
    lo, hi = feature_ranges(X)
    return {"feature_lo": packed(lo), "feature_hi": packed(hi)}


def dequantized(stored: dict[str, Any]) -> np.ndarray:
    """The rows the page holds, ``(n, n_features)`` float64, from :func:`quantized_rows`'s output."""
    def unpack(p):
        array = np.frombuffer(base64.b64decode(p["data"]), NUMPY_TYPES[p["dtype"]])
        return array.reshape(p["shape"]).astype(np.float64)
    return unpack(stored["lo"]) + unpack(stored["q"]) * unpack(stored["step"])


def explorer_payload(
    models: dict[str, Any],
    X_train: np.ndarray,
    X_test: np.ndarray,
    y_train: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    image_shape: tuple[int, ...] | None = None,
    label_names: list[str] | None = None,
    precision: str = "float16",
    max_points: int = MAX_POINTS,
    max_references: int = MAX_REFERENCES,
    seed: int = 0,
    units: Units | None = None,
    feature_names: list[str] | None = None,
) -> dict[str, Any]:
    """The JSON the page reads: the data (held-out points, their labels, the reference training rows,
    how to display a row) and one entry per model (see :func:`explorer_model`).

    ``units``: how the models' rows map back to the user's units (the demo's standardisation). The page
    then decodes and stores rows in those units, and measures the nearest-example distance in the
    models' scale (differences divided by ``units.scale``), where features of different units compare.
    """
    if not models:
        raise LatentspaceError("the explorer needs at least one fitted model")
    rng = np.random.default_rng(seed)
    shown = np.sort(rng.choice(len(X_test), size=min(max_points, len(X_test)), replace=False))
    reference = np.sort(rng.choice(len(X_train), size=min(max_references, len(X_train)), replace=False))
    # The densities and slider ranges come from at most MAX_FIT_ROWS training rows (a memory-mapped
    # training set is never read whole).
    fitted = np.sort(rng.choice(len(X_train), size=min(MAX_FIT_ROWS, len(X_train)), replace=False))
    X_fit = np.asarray(X_train[fitted], np.float32)
    in_units = (lambda X: X) if units is None else units.to_units
    X_ref, X_points = in_units(np.asarray(X_train[reference], np.float32)), np.asarray(X_test[shown], np.float32)
    labels = None if y_test is None else np.asarray(y_test)[shown]
    shape = None if image_shape is None else [int(s) for s in image_shape]
    if shape is not None and len(shape) == 2:
        shape = [1, *shape]
    data = {
        "n_features": int(X_train.shape[1]), "image_shape": shape,
        "vrange": list(display_range(X_ref, in_units(X_points))),
        "distance_scale": None if units is None else packed(units.scale),
        "feature_names": [str(n) for n in (feature_names or [])],
        **({} if shape is not None else feature_ranges_json(X_ref)),
        "labels": None if labels is None else [int(v) for v in labels],
        "label_names": [str(n) for n in (label_names or [])],
        "reference": {**quantized_rows(X_ref), "index": reference.tolist(),
                      "labels": None if y_train is None else [int(v) for v in np.asarray(y_train)[reference]]},
    }
    skipped = {name: problems for name, model in models.items() if (problems := cannot_draw(model))}
    if len(skipped) == len(models):
        raise LatentspaceError("the explorer cannot draw " + describe_skipped(skipped))
    entries = [explorer_model(name, model, X_fit, X_points, precision, seed, units)
               for name, model in models.items() if name not in skipped]
    return {"data": data, "models": entries, "skipped": skipped}


def describe_skipped(skipped: dict[str, list[str]]) -> str:
    """One sentence naming each model the page leaves out and the layers why."""
    names = "; ".join(f"{name}: {', '.join(problems)}" for name, problems in skipped.items())
    return (f"{names} (the page runs Linear, ConvTranspose2d, Batch/GroupNorm and the usual activations; "
            "a module of your own class runs Python, which the page cannot)")


def package_text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def explorer_html(payload: dict[str, Any], element_id: str = "latent-explorer") -> str:
    """The fragment: the explorer's markup, its data as JSON, its style and its script (all inline)."""
    data = script_json(payload)
    return (
        f'<div class="ls-explorer" id="{html.escape(element_id)}" data-explorer>'
        f'<script type="application/json" class="ls-explorer-data">{data}</script>'
        '<noscript>The latent explorer needs JavaScript.</noscript></div>'
        f"<style>{package_text('explorer.css')}</style><script>{package_text('explorer.js')}</script>"
    )


EXPLORER_INTRO = (
    "Drag or hover over the map (codes of held-out data, coloured by label, over the density that "
    "generates: the prior for a VAE, a mixture fitted to the codes for the others) and the decoder, "
    "running in this page, decodes the point. Beside it: the nearest stored training example and its "
    "distance (a decode that equals a training example is recall, not generation). Sliders move one "
    "latent dimension; click two points for the interpolation between them; arrow keys move the point. "
    "A conditional model decodes as the class picked beside the model."
)


def describe_budget(payload: dict[str, Any]) -> str:
    """A short line: how many models, references and points the page holds (for the section's note)."""
    data = payload["data"]
    n_ref = len(data["reference"]["index"])
    models = ", ".join(f"{m['name']} (k={m['k']})" for m in payload["models"])
    return (f"Models: {models}. The nearest example is searched among {n_ref} training examples stored at "
            f"8 bits per value; weights are {payload['models'][0]['precision']}.")




def add_explorer(
    section: Section,
    models: dict[str, Any],
    data: Dataset,
    precision: str = "float16",
    seed: int = 0,
    max_points: int = MAX_POINTS,
    max_references: int = MAX_REFERENCES,
) -> dict[str, Any]:
    """Put the explorer of ``models`` (fitted on ``data``) into ``section``; returns the page's payload."""
    payload = explorer_payload(models, data.X_train, data.X_test, data.y_train, data.y_test, data.image_shape,
                               data.label_names, precision, max_points, max_references, seed, data.units,
                               data.feature_names)
    section.text(describe_budget(payload))
    if payload["skipped"]:
        section.text("Not in the explorer: " + describe_skipped(payload["skipped"]) + ".", note=True)
    section.markup(explorer_html(payload, element_id=f"{section.id}-explorer"))
    return payload


__all__ = [
    "EXPLORER_INTRO",
    "PRECISIONS",
    "add_explorer",
    "cannot_draw",
    "describe_skipped",
    "decoder_program",
    "dequantized",
    "explorer_html",
    "explorer_payload",
]
