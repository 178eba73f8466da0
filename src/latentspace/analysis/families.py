"""Model families compared on one protocol: the leaderboard of ``latentspace compare`` and its verdicts.

Every fitted model is measured the same way on the data set's held-out part: reconstruction error,
the importance-weighted NLL where the model has a likelihood, active units, and, for every sampler
that fits the model (its prior where it has one, the ex-post mixture, the two-stage VAE), the
Fréchet distance, precision and recall of decoded samples and the share of codes off the training
codes' support (holes). Verdicts name the winner of each column and test pythae's finding (an
ex-post mixture improves every family's samples) and Dai & Wipf's (a second stage beats the prior).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from ..data import Dataset
from .features import FeatureExtractor, feature_space
from .metrics import PR_NEIGHBOURS, Manifold
from .protocol import encode, has_posterior, heldout_mse, model_kind
from .regularity import Judge, sample_quality
from .samplers import samplers_for

#: the samplers the leaderboard measures, each where it fits the model
COMPARED_SAMPLERS = ("prior", "gmm", "two-stage")
ACTIVE_THRESHOLD = 0.01


def active_units(codes: np.ndarray) -> int:
    """Latent dimensions whose codes vary over the held-out data with variance above 0.01 (for every
    family: a VAE's posterior means, an AE's codes)."""
    return int(np.sum(np.var(np.asarray(codes, np.float64), axis=0) > ACTIVE_THRESHOLD))


def measure_family(name: str, model, data: Dataset, judge: Judge, *, n_samples: int, iw_samples: int,
                   iw_rows: int, fit_seconds: float, seed: int = 0,
                   samplers: tuple[str, ...] = COMPARED_SAMPLERS) -> tuple[dict, list[dict]]:
    """One leaderboard row of a fitted model and its rows per sampler (those of ``samplers`` that fit it)."""
    rng = np.random.default_rng(seed)
    X_test = np.asarray(data.X_test, np.float32)
    row = {"model": name, "family": model_kind(model), "k": int(model.n_components),
           "fit_seconds": float(fit_seconds), "heldout_mse": heldout_mse(model, X_test),
           "active_units": active_units(encode(model, X_test))}
    if has_posterior(model) and iw_samples > 0:
        ll = model.log_likelihood(X_test[:iw_rows], k=iw_samples, random_state=seed)
        row.update(iw_nll=float(-ll.mean()), iw_nll_stderr=float(ll.std(ddof=1) / math.sqrt(len(ll))),
                   likelihood=str(model.likelihood_))
    # the codes the samplers were fitted to (a VAE's: draws of q(z|x)): the support that holes are measured against
    codes = np.asarray(model.training_codes_, np.float64)
    support = Manifold.of(codes, PR_NEIGHBOURS)
    per_sampler = []
    for sampler in (s for s in samplers_for(model) if s in samplers):
        # the model's own sampler (what model.sample draws), fitted once to the codes it kept
        Z = model.code_sampler(sampler).sample(n_samples, rng)
        quality = sample_quality(model, sampler, codes, judge, n_samples, rng, support, Z)
        per_sampler.append({"model": name, "sampler": sampler,
                            "frechet": quality[f"sample_{sampler}_frechet"],
                            "precision": quality[f"sample_{sampler}_precision"],
                            "recall": quality[f"sample_{sampler}_recall"],
                            "holes_outside_code_support": quality[f"holes_{sampler}_outside_code_support"]})
    best = min(per_sampler, key=lambda r: r["frechet"])
    row.update(best_sampler=best["sampler"], best_frechet=best["frechet"])
    return row, per_sampler


def leaderboard(models: dict[str, tuple[object, float]], data: Dataset, *, n_samples: int = 1000,
                iw_samples: int = 1000, iw_rows: int = 500, seed: int = 0,
                features: FeatureExtractor | None = None, progress=None,
                samplers: Sequence[str] | Callable[[object], Sequence[str]] = COMPARED_SAMPLERS,
                ) -> tuple[list[dict], list[dict]]:
    """``models``: name -> (fitted model, its fit seconds). Returns (one row per model, one row per
    model x sampler of ``samplers``, each where it fits the model; ``samplers`` may also be a function
    of the model). ``progress``: called with each model's name before it is measured."""
    judge = Judge.of(features or feature_space(data), np.asarray(data.X_test, np.float32))
    rows, samples = [], []
    for name, (model, seconds) in models.items():
        if progress is not None:
            progress(name)
        row, per_sampler = measure_family(name, model, data, judge, n_samples=n_samples, iw_samples=iw_samples,
                                          iw_rows=iw_rows, fit_seconds=seconds, seed=seed,
                                          samplers=tuple(samplers(model) if callable(samplers) else samplers))
        rows.append(row)
        samples += per_sampler
    return rows, samples


def verdicts(rows: list[dict], samples: list[dict]) -> list[str]:
    """One line per question the leaderboard answers, with the numbers that answer it."""
    lines = []
    best = min(rows, key=lambda r: r["heldout_mse"])
    lines.append(f"reconstruction: {best['model']} reconstructs held-out data best "
                 f"({best['heldout_mse']:.4g} mean squared error per feature)")
    by_likelihood: dict[str, list[dict]] = {}
    for r in rows:
        if "iw_nll" in r:
            by_likelihood.setdefault(r["likelihood"], []).append(r)
    for likelihood, group in by_likelihood.items():  # NLLs compare only under one likelihood
        top = sorted(group, key=lambda r: r["iw_nll"])
        if len(top) > 1:
            margin = top[1]["iw_nll"] - top[0]["iw_nll"]
            noise = math.hypot(top[0]["iw_nll_stderr"], top[1]["iw_nll_stderr"])
            held = "beyond" if margin > 2 * noise else "within"
            lines.append(f"likelihood ({likelihood}): {top[0]['model']} has the lowest IW-NLL, {top[0]['iw_nll']:.2f} "
                         f"nats, {margin:.2f} below {top[1]['model']} ({held} twice the standard error {noise:.2f})")
    winner = min(samples, key=lambda r: r["frechet"])
    lines.append(f"samples: {winner['model']} with the {winner['sampler']} sampler gives the closest samples "
                 f"(Fréchet {winner['frechet']:.4g}, precision {winner['precision']:.2f}, recall {winner['recall']:.2f})")
    lines += sampler_verdicts(samples, "gmm", "ex-post mixture", "pythae's finding: an ex-post mixture improves "
                                                                  "every family's samples")
    lines += sampler_verdicts(samples, "two-stage", "two-stage VAE", "Dai & Wipf: a second stage beats the prior")
    return lines


def sampler_verdicts(samples: list[dict], sampler: str, label: str, claim: str) -> list[str]:
    """Does ``sampler`` beat each model's prior in Fréchet distance? One line with the tally."""
    by_model: dict[str, dict[str, float]] = {}
    for r in samples:
        by_model.setdefault(r["model"], {})[r["sampler"]] = r["frechet"]
    pairs = {m: (s["prior"], s[sampler]) for m, s in by_model.items() if "prior" in s and sampler in s}
    if not pairs:
        return []
    better = [m for m, (prior, other) in pairs.items() if other < prior]
    holds = "holds" if len(better) == len(pairs) else "does not hold" if not better else "holds in part"
    detail = ", ".join(f"{m} {prior:.3g} -> {other:.3g}" for m, (prior, other) in pairs.items())
    line = (f"{claim}: {holds} here ({len(better)} of {len(pairs)} models with a prior; Fréchet prior -> "
            f"{label}: {detail})")
    return [line]
