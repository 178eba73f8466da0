"""Convolutional encoder and decoder for images of any shape ``(C, H, W)``.

Both modules take and return FLAT tensors, ``(..., C*H*W)`` in and ``(..., n_out)`` out for the
encoder, ``(..., n_latent)`` in and ``(..., out_channels*H*W)`` out for the decoder, and reshape
inside. So the models, likelihoods, training loop, estimators and checkpoints see the same flat rows
as for the MLP. Any number of leading dimensions is allowed (the VAE decodes ``(S, n, n_latent)``).

Odd sizes: every encoder layer is a 3x3 convolution with stride 2 and padding 1, which maps a side of
length ``L`` to ``ceil(L / 2)`` (never to 0, so any depth is valid). The decoder's matching 3x3
transposed convolution with stride 2 and padding 1 gives ``2 * l - 1 + output_padding``; choosing
``output_padding = L - (2 * l - 1)`` (0 for odd ``L``, 1 for even ``L``) reproduces the encoder's
sizes exactly, layer by layer, so the output has the input's shape with no crop or interpolation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..errors import LatentspaceError
from .mlp import activation_layer, mlp

KERNEL, STRIDE, PADDING = 3, 2, 1
NORMS = ("none", "batch", "group")


def conv_output_side(side: int) -> int:
    """Side length after one stride-2, pad-1, 3x3 convolution: ``ceil(side / 2)``."""
    return (side + 2 * PADDING - KERNEL) // STRIDE + 1


def encoder_sizes(height: int, width: int, depth: int) -> list[tuple[int, int]]:
    """Spatial sizes ``[(H, W), after layer 1, ..., after layer depth]`` of the encoder."""
    sizes = [(int(height), int(width))]
    for _ in range(depth):
        h, w = sizes[-1]
        sizes.append((conv_output_side(h), conv_output_side(w)))
    return sizes


def output_padding(target: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
    """``output_padding`` that makes the transposed convolution map ``source`` back to ``target``."""
    pads = tuple(t - ((s - 1) * STRIDE - 2 * PADDING + KERNEL) for t, s in zip(target, source))
    assert all(0 <= p < STRIDE for p in pads), (target, source)  # holds because s = ceil(t / 2)
    return pads  # type: ignore[return-value]


def norm_layer(norm: str, channels: int, size: tuple[int, int]) -> nn.Module:
    """Normalisation of ``channels`` maps of ``size`` (H, W) pixels.

    Maps of a single pixel are left alone: there a group (or a batch of one) holds a single number per
    channel, which normalisation would wipe out (and torch refuses to normalise in training).
    """
    if norm not in NORMS:
        raise LatentspaceError(f"unknown norm {norm!r}; choose one of {', '.join(NORMS)}")
    if norm == "none" or size == (1, 1):
        return nn.Identity()
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    # Up to 8 groups of at least 2 channels each; GroupNorm needs groups that divide the channels.
    return nn.GroupNorm(math.gcd(8, max(1, channels // 2)), channels)


def normalize_image_shape(shape: Sequence[int]) -> tuple[int, int, int]:
    """``(H, W)`` or ``(C, H, W)`` -> ``(C, H, W)``, every entry a positive int."""
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise LatentspaceError(f"image_shape must be a tuple of ints like (C, H, W), got {shape!r}") from None
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or any(s < 1 for s in shape):
        raise LatentspaceError(f"image_shape must be (H, W) or (C, H, W) of positive ints, got {shape}")
    return shape  # type: ignore[return-value]


class ConvEncoder(nn.Module):
    """``(..., C*H*W) -> (..., n_out)``: strided convolutions, then dense layers ``hidden`` to ``n_out``."""

    def __init__(
        self,
        image_shape: Sequence[int],
        n_out: int,
        channels: Sequence[int],
        hidden: Sequence[int],
        activation: str,
        norm: str = "none",
    ):
        super().__init__()
        self.image_shape = normalize_image_shape(image_shape)
        c, h, w = self.image_shape
        sizes = encoder_sizes(h, w, len(channels))
        layers: list[nn.Module] = []
        for c_in, c_out, size in zip((c, *channels[:-1]), channels, sizes[1:]):
            conv = nn.Conv2d(c_in, c_out, KERNEL, STRIDE, PADDING)
            layers += [conv, norm_layer(norm, c_out, size), activation_layer(activation)]
        self.conv = nn.Sequential(*layers)
        h_out, w_out = sizes[-1]
        n_flat = (channels[-1] if channels else c) * h_out * w_out
        self.head = mlp((n_flat, *hidden, n_out), activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        h = self.conv(x.reshape(-1, *self.image_shape))
        return self.head(h.flatten(1)).reshape(*lead, -1)


class ConvDecoder(nn.Module):
    """``(..., n_latent) -> (..., out_channels*H*W)``: dense layers, then transposed convolutions.

    Mirrors :class:`ConvEncoder`: ``reversed(hidden)`` dense widths, then ``reversed(channels)``
    feature maps at the encoder's sizes in reverse; the last layer has ``out_channels`` maps and no
    activation or normalisation (the likelihood interprets it). With ``out_channels = k * C`` the
    flat output is ``k`` consecutive blocks of ``C*H*W`` numbers.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        n_latent: int,
        channels: Sequence[int],
        hidden: Sequence[int],
        activation: str,
        norm: str = "none",
        out_channels: int | None = None,
    ):
        super().__init__()
        c, h, w = normalize_image_shape(image_shape)
        out_channels = out_channels or c
        sizes = encoder_sizes(h, w, len(channels))
        self.start_shape = (channels[-1] if channels else out_channels, *sizes[-1])
        n_flat = math.prod(self.start_shape)
        widths = (n_latent, *reversed(tuple(hidden)), n_flat)
        # With no conv layers the dense stack is the whole decoder and ends without an activation.
        self.dense = nn.Sequential(mlp(widths, activation), *([activation_layer(activation)] if channels else []))
        layers: list[nn.Module] = []
        maps = (*reversed(tuple(channels)), out_channels)
        for i, (c_in, c_out) in enumerate(zip(maps[:-1], maps[1:])):
            target, source = sizes[-2 - i], sizes[-1 - i]
            layers.append(nn.ConvTranspose2d(c_in, c_out, KERNEL, STRIDE, PADDING, output_padding(target, source)))
            if i < len(channels) - 1:
                layers += [norm_layer(norm, c_out, target), activation_layer(activation)]
        self.deconv = nn.Sequential(*layers)
        self.n_out = out_channels * h * w

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        lead = z.shape[:-1]
        h = self.dense(z.reshape(-1, z.shape[-1])).reshape(-1, *self.start_shape)
        return self.deconv(h).reshape(*lead, self.n_out)


def conv_encoder_decoder(
    image_shape: Sequence[int],
    n_latent: int,
    channels: Sequence[int],
    hidden: Sequence[int],
    activation: str,
    norm: str = "none",
    *,
    encoder_out: int | None = None,
    decoder_out: int | None = None,
) -> tuple[ConvEncoder, ConvDecoder]:
    """Conv counterpart of ``nets.mlp_encoder_decoder``, same ``encoder_out``/``decoder_out`` meaning.

    ``decoder_out`` must be a multiple of ``C*H*W`` (several parameters per pixel).
    """
    shape = normalize_image_shape(image_shape)
    channels = tuple(int(c) for c in channels)
    if any(c < 1 for c in channels):
        raise LatentspaceError(f"channels must be positive ints, got {channels}")
    n_features = math.prod(shape)
    per_pixel, rest = divmod(decoder_out or n_features, n_features)
    if rest:
        raise LatentspaceError(f"decoder_out {decoder_out} is not a multiple of the {n_features} pixels")
    hidden = tuple(int(h) for h in hidden)
    encoder = ConvEncoder(shape, encoder_out or n_latent, channels, hidden, activation, norm)
    decoder = ConvDecoder(shape, n_latent, channels, hidden, activation, norm, out_channels=per_pixel * shape[0])
    return encoder, decoder


def resolve_image_shape(shape: Sequence[int], n_features: int) -> tuple[int, int, int]:
    """``image_shape`` (one entry may be -1, inferred as in numpy's reshape) -> ``(C, H, W)``.

    Raises if the shape does not hold exactly ``n_features`` numbers.
    """
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise LatentspaceError(f"image_shape must be a tuple of ints like (C, H, W), got {shape!r}") from None
    if shape.count(-1) == 1:
        known = math.prod(s for s in shape if s != -1)
        if known > 0 and n_features % known == 0:
            shape = tuple(n_features // known if s == -1 else s for s in shape)
    resolved = normalize_image_shape(shape)
    if math.prod(resolved) != n_features:
        raise LatentspaceError(
            f"image_shape {tuple(shape)} holds {math.prod(resolved)} numbers but the data have {n_features} features"
        )
    return resolved
