"""The parameters every estimator shares (optimiser, data handling) and those of the built networks
(MLP or convolutional), as constraint tables the estimators' ``_parameter_constraints`` combine."""

from __future__ import annotations

from ..nn import backend
from ..nn.conv import NORMS
from ..nn.mlp import ACTIVATIONS
from ..training import budget
from ..training.loop import LR_SCHEDULES
from ._params import Param

SCALINGS = ("none", "center", "standard", "minmax")
ARCHITECTURES = ("mlp", "conv")
#: Upper bounds on sizes, so that a typo is refused instead of allocating the machine away.
MAX_WIDTH = 65_536
MAX_LAYERS = 32

#: The optimiser's and the data handling's parameters, shared by every estimator.
COMMON_PARAMS: dict[str, Param] = {
    "n_components": Param("int", "size of the code: the number of latent dimensions", low=1, high=MAX_WIDTH),
    "epochs": Param("int", f"passes over the training data (auto: {budget.DEFAULT_RULE.describe()}; "
                    "docs/training.md)", low=1, high=10**7, auto=True),
    "batch_size": Param("int", "examples per optimiser step", low=1, high=10**8),
    "lr": Param("float", "Adam's learning rate", low=0, low_open=True),
    "weight_decay": Param("float", "L2 penalty weight_decay/2 * ||W||^2 on every weight", low=0),
    "validation_fraction": Param(
        "float", "share of the training data held out for the val_* history and early stopping",
        low=0, high=1, high_open=True),
    "patience": Param("int", "stop after this many epochs without a better validation loss, keeping the best "
                      "epoch (None: never; auto: a fifth of the epochs, at least 10, given a validation split)",
                      low=1, optional=True, auto=True),
    "lr_schedule": Param("str", "learning-rate schedule: constant, cosine (decay to 0 over the epochs) or "
                         "warmup_cosine (a linear warm-up over the first twentieth of the steps, then cosine decay to "
                         "a tenth of lr)", choices=LR_SCHEDULES),
    "grad_clip": Param("float", "clip the global gradient norm to this value (None: no clipping)",
                       low=0, low_open=True, optional=True),
    "scaling": Param("str", "per-feature scaling kept with the model: none, center, standard (z-scores) "
                     "or minmax (to [0, 1])", choices=SCALINGS),
    "device": Param("device", "torch device of the network: auto (CUDA when present, else the CPU), cpu, cuda, "
                    "cuda:1, ..."),
    "threads": Param("int", "torch CPU threads while the estimator computes (None: one for small networks, "
                     "else the CPUs other processes leave idle)", low=1, high=4096, optional=True),
    "precision": Param("str", "matrix products in float32 (32) or bfloat16 (bf16; float32 weights, optimiser "
                       "state and checkpoints; needs native bf16 hardware); auto: bf16 for heavy networks on "
                       "a CPU with native bf16 (AMX, AVX512_BF16), else 32", choices=backend.PRECISIONS),
    "verbose": Param("level", "show a progress bar while training (optimiser steps, with the last epoch's "
                     "losses): True or any int > 0, as in scikit-learn"),
    "callbacks": Param("callbacks", "objects with on_train_begin / on_step / on_epoch_end / on_train_end hooks "
                       "(latentspace.training.callbacks), e.g. TensorBoardLogger, MLflowLogger", optional=True),
    "warm_start": Param("bool", "fit on a fitted estimator trains the fitted model epochs more epochs (same "
                        "scaling, history and Adam state continued) instead of starting anew"),
    "random_state": Param("seed", "seed of initialisation, shuffling, the split and the noise "
                          "(None: fresh randomness)", optional=True),
}
#: The network's shape: MLP or convolutional, widths, activation.
NETWORK_PARAMS: dict[str, Param] = {
    "hidden": Param("ints", "widths of the encoder's hidden layers; the decoder mirrors them (conv: the dense "
                    "layers after the feature maps)", low=1, high=MAX_WIDTH, max_len=MAX_LAYERS),
    "activation": Param("str", "nonlinearity between layers", choices=tuple(ACTIVATIONS)),
    "architecture": Param("str", "mlp (fully connected) or conv (strided convolutions; needs images)",
                          choices=ARCHITECTURES),
    "image_shape": Param("shape", "(C, H, W) or (H, W) of one image when X comes as rows (None: from the "
                         "data)", optional=True),
    "channels": Param("ints", "feature maps of each conv layer (its length is the depth); conv only",
                      low=1, high=4096, max_len=MAX_LAYERS),
    "norm": Param("str", "normalisation after each conv layer; conv only", choices=NORMS),
    "encoder": Param("module", "your own torch.nn.Module in place of the built encoder: rows (batch, n_features) "
                     "-> (batch, n_components), a VAE's (batch, 2 * n_components)", optional=True),
    "decoder": Param("module", "your own torch.nn.Module in place of the built decoder: codes "
                     "(batch, n_components) -> (batch, n_features)", optional=True),
}
