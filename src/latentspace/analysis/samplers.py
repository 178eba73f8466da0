"""Ways to draw latent codes for generation: the model's prior and ex-post densities fitted to codes.

The one implementation lives with the estimators (``estimators/_samplers.py``: ``model.sample(n,
sampler=...)`` uses it); the analysis, the report and the CLI import it from here.
"""

from ..estimators._samplers import (
    SAMPLERS,
    GaussianMixtureDensity,
    draw_codes,
    fit_code_mixture,
    fit_sampler,
    keeps_codes,
    sampler_density,
    samplers_for,
)

#: the samplers a regularity evaluation measures by default: the two-stage one trains a second VAE
#: per model (seconds), so it is measured where asked for (``latentspace compare``)
EVALUATED_SAMPLERS = tuple(s for s in SAMPLERS if s != "two-stage")

__all__ = ["EVALUATED_SAMPLERS", "SAMPLERS", "GaussianMixtureDensity", "draw_codes", "fit_code_mixture",
           "fit_sampler", "keeps_codes", "sampler_density", "samplers_for"]
