"""The one registry of model families: the package's exports, the command line's model names and
help, loading saved models and the report's names all read this table.

It imports nothing (not torch): ``latentspace --help`` and ``import latentspace`` read it for free.
A new family is its estimator module under ``latentspace/estimators/`` plus one row here.
"""

from __future__ import annotations

from typing import NamedTuple


class Family(NamedTuple):
    name: str  # on the command line (``train NAME``, ``compare --models``) and in metrics ("model_kind")
    class_name: str  # the estimator class, exported by ``latentspace`` and recorded in saved models
    module: str  # its module under latentspace.estimators
    display: str  # in tables and the report
    summary: str  # one line for --help and docs/families.md
    regulariser: str  # what it adds to reconstruction, in the demo's table ("none": a plain autoencoder)


FAMILIES: tuple[Family, ...] = (
    Family("ae", "AutoEncoder", "_autoencoder", "deep AE",
           "deterministic MLP/conv autoencoder: reconstruction only; sampled through densities fitted to its codes",
           "none"),
    Family("linear", "LinearAutoEncoder", "_autoencoder", "linear AE",
           "one linear layer each side: finds PCA's subspace",
           "none"),
    Family("vae", "VAE", "_vae", "VAE", "variational autoencoder with the standard normal prior N(0, I)",
           "KL to the prior N(0, I)"),
    Family("vamp", "VampVAE", "_vamp", "VampPrior VAE",
           "VAE whose prior is a mixture of its posteriors at learned pseudo-inputs (Tomczak & Welling 2018)",
           "KL to a learned prior (a mixture of posteriors)"),
    Family("iwae", "IWAE", "_iwae", "IWAE",
           "VAE trained on the k-sample importance-weighted bound (Burda et al. 2016)",
           "importance-weighted bound, prior N(0, I)"),
    Family("rae", "RAE", "_regularized", "RAE",
           "deterministic AE with a code and decoder penalty, sampled by an ex-post mixture (Ghosh et al. 2020)",
           "penalty on each code's norm, density fitted after"),
    Family("wae", "WAE", "_regularized", "WAE-MMD",
           "deterministic AE whose codes are pulled to N(0, I) by an MMD penalty (Tolstikhin et al. 2018)",
           "MMD between the codes and N(0, I)"),
    Family("two-stage", "TwoStageVAE", "_two_stage", "two-stage VAE",
           "VAE sampled through a second VAE trained on its codes (Dai & Wipf 2019)",
           "KL to N(0, I), a second VAE on the codes"),
    Family("tcvae", "BetaTCVAE", "_tcvae", "beta-TCVAE",
           "VAE that penalises the total correlation of its codes by beta (Chen et al. 2018)",
           "KL to N(0, I), total correlation penalised"),
    Family("cvae", "ConditionalVAE", "_conditional", "conditional VAE",
           "VAE whose decoder reads the class: labels in, class-conditional samples out (Sohn et al. 2015)",
           "KL to N(0, I), the decoder given the class"),
)

BY_NAME: dict[str, Family] = {f.name: f for f in FAMILIES}
BY_CLASS: dict[str, Family] = {f.class_name: f for f in FAMILIES}
#: what ``train`` and ``compare`` accept, in the table's order
NAMES: tuple[str, ...] = tuple(BY_NAME)


def family_names(names: str) -> tuple[str, ...]:
    """'vae,vamp' -> ('vae', 'vamp'), each checked against the table (ValueError naming the choices)."""
    chosen = tuple(n.strip() for n in names.split(",") if n.strip())
    unknown = [n for n in chosen if n not in BY_NAME]
    if unknown or not chosen:
        raise ValueError(f"unknown model {', '.join(unknown) or '(none given)'}; choose from {', '.join(NAMES)}")
    return chosen
