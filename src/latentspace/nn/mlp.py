"""Network builders: an MLP encoder and a decoder that mirrors it.

Shapes: the encoder maps ``(n, n_features) -> (n, n_out)`` through ``hidden`` widths; the decoder maps
``(n, n_latent) -> (n, n_features * params_per_feature)`` through ``reversed(hidden)`` unless
``decoder_hidden`` is given. With ``hidden=()`` both are single linear maps: the linear autoencoder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .backend import Linear

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


def activation_layer(name: str) -> nn.Module:
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(sorted(ACTIVATIONS))}"
        ) from None


def mlp(widths: Sequence[int], activation: str) -> nn.Sequential:
    """Linear layers between consecutive ``widths``, ``activation`` between them, none after the last.

    The layers are :class:`latentspace.nn.backend.Linear`: an ``nn.Linear`` that runs on the fastest
    matrix kernels of the CPU (oneDNN) and falls back to ``F.linear`` elsewhere (CUDA, float64).
    """
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        if i > 0:
            layers.append(activation_layer(activation))
        layers.append(Linear(n_in, n_out))
    return nn.Sequential(*layers)


def mlp_encoder_decoder(
    n_features: int,
    n_latent: int,
    hidden: Sequence[int],
    activation: str,
    *,
    encoder_out: int | None = None,
    decoder_out: int | None = None,
    decoder_hidden: Sequence[int] | None = None,
) -> tuple[nn.Sequential, nn.Sequential]:
    """Encoder ``n_features -> hidden... -> encoder_out`` and decoder ``n_latent -> ... -> decoder_out``.

    ``encoder_out`` defaults to ``n_latent`` (a VAE asks for ``2 * n_latent``: mean and log-variance);
    ``decoder_out`` defaults to ``n_features``.
    """
    hidden = tuple(int(h) for h in hidden)
    dec_hidden = tuple(reversed(hidden)) if decoder_hidden is None else tuple(decoder_hidden)
    encoder = mlp((n_features, *hidden, encoder_out or n_latent), activation)
    decoder = mlp((n_latent, *dec_hidden, decoder_out or n_features), activation)
    return encoder, decoder


@torch.no_grad()
def init_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """Re-initialise every linear/conv layer from ``generator`` with PyTorch's default scheme.

    PyTorch's constructors draw from the global RNG; drawing again from a local generator gives
    reproducible weights without touching the caller's global random state.
    """
    for layer in module.modules():
        weight = getattr(layer, "weight", None)
        if hasattr(layer, "initialise"):  # a module with parameters of its own kind (a VampPrior's pseudo-inputs)
            layer.initialise(generator)
        if not isinstance(layer, (nn.Linear, nn.modules.conv._ConvNd)) or weight is None:
            continue
        # kaiming_uniform_(a=sqrt(5)) as in nn.Linear.reset_parameters: bound = 1/sqrt(fan_in).
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
        if layer.bias is not None:
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(weight)
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
