"""Every command, the module that implements it and its one-line summary: what ``--help`` lists.

Kept apart from the command modules (which import torch, scikit-learn and matplotlib) so that the
parser can be built with only the invoked command's module imported: ``latentspace --help`` or a
mistyped command answers in a fraction of a second instead of importing the whole library.
"""

from __future__ import annotations

from typing import NamedTuple

from .._families import NAMES


class Command(NamedTuple):
    module: str  # under latentspace.cli; its register(subparsers) adds the command's parser
    summary: str


#: in the order ``--help`` lists them
COMMANDS: dict[str, Command] = {
    "demo": Command("demo", "fit PCA, a linear AE, a deep AE and a VAE, compare them, write report.html (the main job)"),
    "train": Command("train", f"train one model ({', '.join(NAMES)}) and write a run folder"),
    "encode": Command("codec", "data (n, n_features) -> codes (n, n_components)"),
    "decode": Command("codec", "codes (n, n_components) -> data (n, n_features)"),
    "reconstruct": Command("codec", "data -> decode(encode(data))"),
    "sample": Command("sample", "decode samples of a trained model to .npy or a .png grid"),
    "evaluate": Command("evaluate", "measure a trained run on test data: -ELBO, IW-NLL, recon error, sample quality, holes"),
    "pca-check": Command("pca_check", "does the linear AE find PCA's subspace? angles, errors, a figure"),
    "memorize": Command("memorize", "train a 1-D AE to memorise a few examples; decode between its codes"),
    "compare": Command("compare", "train model families on one budget: leaderboard, verdicts, report with every model"),
    "sweep": Command("sweep", "held-out error and sample quality of PCA/linear/AE/VAE over latent sizes"),
    "report": Command("report", "write one self-contained HTML report of run folders (side by side)"),
    "explore": Command("explore", "write one offline HTML page to walk the latent space of run folders (decoder in the page)"),
    "export": Command("export", "write a trained model's encoder and decoder as ONNX graphs that take raw rows"),
    "datasets": Command("datasets", "list the named data sets and whether each is available here"),
}


def summary(name: str) -> str:
    """The command's one-line help, as ``--help`` lists it."""
    return COMMANDS[name].summary
