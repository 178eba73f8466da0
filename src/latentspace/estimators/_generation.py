"""What a fitted model generates: its prior as numbers, the code samplers fitted to its training codes,
and decoded samples. A mixin of :class:`~._base.BaseAutoEncoder`, which supplies ``model_``,
``training_codes_``, ``has_prior``, ``default_sampler``, ``device_``, ``n_features_in_``, the scaling
(``_unscale``), ``_as_examples`` and ``inverse_transform``.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._files import check_allocation
from ..errors import LatentspaceError
from ._samplers import SAMPLERS, GaussianMixtureDensity, fit_sampler


def seed_from(random_state) -> int:
    """An int seed from sklearn's ``random_state`` convention (None, int or RandomState)."""
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


class Generation:
    """Priors, code samplers and samples of a fitted model (see the module's docstring)."""

    def prior_density(self) -> GaussianMixtureDensity:
        """The model's prior p(z) as numbers (a mixture of diagonal Gaussians); models with a prior only."""
        check_is_fitted(self)
        if not self.has_prior:
            raise LatentspaceError(f"a {type(self).__name__} has no prior; its samplers fit densities to its codes")
        with torch.inference_mode():
            self.model_.eval()
            parts = [t.detach().double().cpu().numpy() for t in self.model_.prior_components()]
        return GaussianMixtureDensity.diagonal(*parts)

    def code_sampler(self, sampler: str | None = None):
        """The density ``sampler`` (``SAMPLERS``; default ``default_sampler``) fitted to ``training_codes_``:
        its ``sample(n, rng)`` draws codes. Fitted once per sampler and kept (not saved)."""
        check_is_fitted(self)
        sampler = self.default_sampler if sampler is None else sampler
        if sampler not in SAMPLERS:
            raise LatentspaceError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
        cache = self.__dict__.setdefault("_code_samplers", {})
        if sampler not in cache:
            codes = getattr(self, "training_codes_", None)
            if codes is None and sampler != "prior":
                raise LatentspaceError(f"sampler {sampler!r} needs the training codes, which this model (saved by "
                                       "an older version) lacks; fit it again")
            cache[sampler] = fit_sampler(sampler, codes, 0, self)
        return cache[sampler]

    def sample(self, n_samples: int = 1, random_state=None, *, sampler: str | None = None, y=None) -> np.ndarray:
        """Decode ``n_samples`` codes drawn by ``sampler`` (``prior``, ``gaussian``, ``box``, ``gmm``,
        ``two-stage``; default: the prior for a model with one, else ``gmm``): ``(n_samples, n_features)``
        float64 decoder means (images ``(n_samples, *example_shape_)`` when ``fit`` was given images).
        ``y``: the samples' classes, for a conditional model only."""
        if int(n_samples) < 1:
            raise LatentspaceError(f"n_samples must be >= 1, got {n_samples}")
        check_is_fitted(self)
        # codes, float32 means on the device and in numpy, float64 result: ~24 bytes per value
        check_allocation(int(n_samples) * (self.n_features_in_ + self.model_.n_latent) * 24,
                         f"{int(n_samples):,} samples of {self.n_features_in_} features")
        sampler = self.default_sampler if sampler is None else sampler
        if sampler == "prior" and self.has_prior and y is None:  # drawn on the device by the model's own prior
            g = torch.Generator(device=self.device_).manual_seed(seed_from(random_state))
            with torch.inference_mode():
                self.model_.eval()
                out = self.model_.sample(int(n_samples), g).cpu().numpy()
            return self._as_examples(self._unscale(out).astype(np.float64))
        Z = self.code_sampler(sampler).sample(int(n_samples), np.random.default_rng(seed_from(random_state)))
        return self.inverse_transform(Z.astype(np.float32), y).astype(np.float64)
