"""The demo's stage "which regulariser fills the holes": the deep AE and the VAE of the demo beside
other regularised families (the budget's ``families``), measured by ``latentspace compare``'s code.

The autoencoder's latent space has holes: a simple density over its codes puts codes where no
training code lies, and they decode to nothing plausible. Each regulariser shapes the codes so that
the model's own sampler stays on them. The stage measures, for each family's own sampler and for a
Gaussian and a mixture over the plain AE's codes, the share of sampled codes off the support of the
training codes (holes) and the Fréchet distance, precision and recall of their decoded rows; the
verdict is ``analysis.claims.regulariser_fills_the_holes``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from .._families import BY_NAME
from ..analysis.families import leaderboard
from ..analysis.protocol import model_kind
from ..report import plot_samples
from .compare import fit_families, sample_pictures
from .demo_context import BUDGETS, DemoContext
from .demo_stages import demo_features

def regulariser_of(model) -> str:
    """What ``model``'s family adds to reconstruction, in the table's words (the registry's ``regulariser``;
    "none": the plain AE, the baseline)."""
    family = BY_NAME.get(model_kind(model))
    return "?" if family is None else family.regulariser


#: the demo's own models that the stage measures instead of training them again (display names)
DEMO_FAMILIES = ("ae", "vae")
SAMPLES_SHOWN = 16


def samplers_of(model) -> tuple[str, ...]:
    """The samplers measured for ``model``: its own; for the plain AE also a Gaussian over its codes
    (the simple density whose codes fall into the holes; its own is the mixture)."""
    return ("gaussian", model.default_sampler) if regulariser_of(model) == "none" else (model.default_sampler,)


def family_fits(ctx: DemoContext) -> Iterator[tuple[str, tuple[object, float]]]:
    """The budget's families (not the demo's own deep AE and VAE), ``family_steps`` steps each with their
    defaults: their fits begun side by side (``fit_families``)."""
    return fit_families(list(ctx.budget.families), ctx.data, n_components=ctx.k, steps=ctx.budget.family_steps,
                        seed=ctx.seed)


def stage_models(ctx: DemoContext) -> tuple[dict[str, tuple[object, float]], list[str]]:
    """Display name -> (fitted model, fit seconds): the demo's deep AE and VAE where the fit stage made
    them (else trained here), then the budget's families (``family_fits``); and the names of the demo's own
    models among them."""
    reused = [BY_NAME[n].display for n in DEMO_FAMILIES if BY_NAME[n].display in ctx.models]
    models = {name: (ctx.models[name], ctx.fit_seconds.get(name, float("nan"))) for name in reused}
    missing = [n for n in DEMO_FAMILIES if BY_NAME[n].display not in reused]
    fitted = itertools.chain(  # no families missing: fit_families([]) yields nothing
        fit_families(missing, ctx.data, n_components=ctx.k, steps=ctx.budget.family_steps, seed=ctx.seed),
        ctx.work(family_fits))
    for name, (model, seconds) in ctx.steps(fitted, total=len(missing) + len(ctx.budget.families)):
        models[BY_NAME[name].display] = (model, seconds)
        model.save(ctx.out / "models" / BY_NAME[name].display.replace(" ", "-"))
    return models, reused


def regularisers_stage(ctx: DemoContext) -> None:
    """Holes and sample quality of each family's own sampler, against a Gaussian over the plain AE's codes."""
    budget = ctx.budget
    section = ctx.section(
        "Which regulariser fills the holes",
        f"An autoencoder's latent space has holes: codes drawn from a simple density over its codes (a Gaussian "
        f"fitted to them) land where no training code lies and decode to {ctx.words.garbled()}. A regulariser "
        "shapes the codes so that the model's own sampler stays on them: the VAE's KL to N(0, I), the VampPrior's "
        "learned mixture prior, the WAE's MMD to N(0, I), the RAE's penalty on the codes with a mixture fitted "
        "to them afterwards. 'Holes' is the share of a sampler's codes that land off the support of the model's "
        f"training codes; Fréchet distance, precision and recall judge the decoded {ctx.words.rows} as in the "
        "regularity section.",
    )
    if not budget.families:
        full = ", ".join(BY_NAME[n].display for n in BUDGETS["full"].families)
        reason = (f"not measured under the '{budget.name}' budget (it trains {full} beside the deep AE and the "
                  "VAE); the full budget (demo without --quick) or `latentspace compare` measures it")
        ctx.echo(f"which regulariser fills the holes: {reason}")
        section.text(f"{reason[0].upper()}{reason[1:]}.", note=True)
        return
    models, reused = stage_models(ctx)
    ctx.shared["family models"] = {name: m for name, (m, _) in models.items() if name not in reused}  # config.json
    rows, samples = leaderboard(models, ctx.data, n_samples=budget.samples, iw_samples=0, seed=ctx.seed,
                                features=demo_features(ctx), samplers=samplers_of)
    for r in (*rows, *samples):
        r["regulariser"] = regulariser_of(models[r["model"]][0])
    own = f"{' and '.join(reused)}: the demo's own; the others" if reused else "each"
    ctx.add_table(section, "regularisers", rows,
                  f"each family at k={ctx.k} ({own} {budget.family_steps:,} optimiser steps with their defaults): "
                  "held-out reconstruction, active units, its best sampler")
    ctx.add_table(section, "regulariser_samples", samples,
                  f"{budget.samples} codes from each family's own sampler (and a Gaussian over the deep AE's codes): "
                  f"the share off the training codes' support (holes) and their decoded {ctx.words.rows} against "
                  "held-out data")
    pictures = sample_pictures({n: m for n, (m, _) in models.items()}, samples, SAMPLES_SHOWN, ctx.seed)
    section.figure(plot_samples(pictures, ctx.view, n_cols=8, reference=ctx.data.X_train),
                   f"Decoded codes from each family's own sampler, {SAMPLES_SHOWN} {ctx.words.rows} each (and from "
                   f"a Gaussian over the deep AE's codes): look for {ctx.words.garbled()}.",
                   name="regulariser-samples")
