"""The main job: the tutorial's claims, measured and pictured on one data set.

The demo is a list of stages. A stage is a small function ``stage(ctx: DemoContext) -> None`` that
reads what earlier stages left in the context (fitted models, data, shared values) and adds tables
and figures to the report through ``ctx``. Adding an analysis is one function and one line::

    def pca_check(ctx: DemoContext) -> None:
        result = compare_with_pca(ctx.models["linear AE"], ctx.data.X_train, ctx.data.X_test)
        section = ctx.section("Linear AE = PCA", "The angles should be near 0 degrees.")
        ctx.add_table(section, "pca_check", [result.to_dict()], "principal angles ...")

    STAGES.insert(stage_index("reconstruction") + 1, Stage("linear AE vs PCA", pca_check))
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._files import atomic_write_bytes, atomic_write_json, output_folder
from ..analysis.claims import verdicts
from ..analysis.heldout import likelihood_metrics
from ..analysis.pca import ratio_to_pca
from ..analysis.protocol import HELDOUT_MSE, comparison_models, has_posterior, has_prior, heldout_mse
from ..data import Dataset, Units
from ..report import (
    Report,
    plot_interpolations,
    plot_latent_scatter,
    plot_manifold_grid,
    plot_reconstructions,
    plot_samples,
    plot_training_curves,
    plot_traversals,
)
from ..report.samplers import model_samples
from ..training.side_by_side import fit_side_by_side, shared_workers
from ..training.threads import pinned_threads
from .demo_context import BUDGETS, DemoBudget, DemoContext, DemoResult, Stage
from .demo_regularisers import family_fits, regularisers_stage
from .demo_stages import (
    explorer_stage,
    memorize_fits,
    memorize_stage,
    pca_stage,
    regularity_stage,
    sweep_rows,
    sweep_stage,
)

REPORT_FILE = "report.html"


# ---- the models ------------------------------------------------------------------------------------
def in_unit_interval(X: np.ndarray) -> bool:
    return float(X.min()) >= 0.0 and float(X.max()) <= 1.0


def standardised(data: Dataset) -> Dataset:
    """The data set scaled by its training part's mean and standard deviation (constant features kept);
    its ``units`` map the scaled rows back to the user's, for display."""
    mean = data.X_train.mean(axis=0, dtype=np.float64)
    std = data.X_train.std(axis=0, dtype=np.float64)
    std = np.where(std > 1e-12, std, 1.0)
    scale = lambda X: ((X - mean) / std).astype(np.float32)
    return dataclasses.replace(data, name=f"{data.name} (standardised)", X_train=scale(data.X_train),
                               X_test=scale(data.X_test), units=Units(mean, std).then(data.units))


def subsampled(data: Dataset, budget: DemoBudget, seed: int) -> Dataset:
    """The data set cut to the budget's row caps (a seeded random subset of each part, order kept)."""
    rng = np.random.default_rng(seed)

    def cut(X, y, cap):
        if cap is None or len(X) <= cap:
            return X, y
        keep = np.sort(rng.choice(len(X), cap, replace=False))
        return X[keep], None if y is None else y[keep]

    X_train, y_train = cut(data.X_train, data.y_train, budget.train_rows)
    X_test, y_test = cut(data.X_test, data.y_test, budget.test_rows)
    if len(X_train) == len(data.X_train) and len(X_test) == len(data.X_test):
        return data
    return dataclasses.replace(data, X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test)


def demo_models(k: int, seed: int, epochs: int | str = "auto", n_features: int | None = None) -> dict[str, object]:
    """PCA, a linear AE, a deep AE and a VAE at latent size ``k``: the analysis protocol's comparison
    models (exact PCA; every estimator with its defaults; ``epochs`` for the deep AE and the VAE)."""
    return comparison_models(k, random_state=seed, epochs=epochs, n_features=n_features)


# ---- the stages ------------------------------------------------------------------------------------
def demo_fits(ctx: DemoContext) -> tuple[list[str], Iterator[tuple[Any, float]]]:
    """The names of the demo's models (``demo_models``) and their fits, begun side by side (independent fits)."""
    specs = demo_models(ctx.k, ctx.seed, ctx.epochs_for(ctx.budget.steps), ctx.data.n_features)
    return list(specs), fit_side_by_side(list(specs.values()), ctx.data.X_train)


def fit_stage(ctx: DemoContext) -> None:
    """Fit every model on the training part; save the estimators under ``models/``."""
    names, fitted = ctx.work(demo_fits)
    for name, (model, seconds) in ctx.steps(zip(names, fitted), total=len(names)):
        ctx.fit_seconds[name] = seconds
        ctx.models[name] = model
        if hasattr(model, "save"):
            model.save(ctx.out / "models" / name.replace(" ", "-"))


def reconstruction_stage(ctx: DemoContext) -> None:
    X = ctx.data.X_test
    rows, pca_mse = [], None
    variance = float(np.var(np.asarray(X, np.float64), axis=0).mean())
    for name, model in ctx.steps(ctx.models.items()):
        mse = heldout_mse(model, X)
        pca_mse = mse if pca_mse is None else pca_mse
        rows.append({"model": name, "k": ctx.k, HELDOUT_MSE: mse, "ratio_to_pca": ratio_to_pca(mse, pca_mse, variance),
                     "fit_seconds": ctx.fit_seconds[name]})
    section = ctx.section(
        "Reconstruction",
        "The linear AE should match PCA (ratio near 1: it finds the same subspace); the deep AE should beat "
        "it at the same k (ratio below 1): nonlinearity compresses further.",
    )
    ctx.add_table(section, "reconstruction", rows, f"held-out reconstruction error at k={ctx.k}")
    where = ("Held-out examples (top row) and each model's reconstruction below" if ctx.words.images else
             "Held-out rows, one panel each: the original in black, each model's reconstruction in colour")
    section.figure(plot_reconstructions(ctx.models, X, ctx.view, n=12), f"{where}: {ctx.words.confusions()}",
                   name="reconstructions")


def curves_stage(ctx: DemoContext) -> None:
    section = ctx.section("Training", "Train (solid) and validation (dashed) losses should fall together; "
                          "a widening gap is overfitting.")
    for _ in ctx.steps([0]):
        section.figure(plot_training_curves(ctx.autoencoders),
                       "Every loss term per epoch. The VAE's loss is reconstruction plus KL, in nats.",
                       name="training-curves")


def vae_stage(ctx: DemoContext) -> None:
    X = ctx.data.X_test[: ctx.budget.iw_rows]
    rows = []
    iw_k = ctx.budget.iw_samples
    for name, model in ctx.steps([(n, m) for n, m in ctx.models.items() if has_posterior(m)]):
        m = likelihood_metrics(model, X, iw_samples=iw_k, random_state=ctx.seed)
        rows.append({"model": name, "k": ctx.k, "likelihood": model.likelihood_, "n_examples": len(X),
                     "neg_elbo": m["neg_elbo"], "neg_elbo_stderr": m["neg_elbo_stderr"],
                     "iw_nll": m["iw_nll"], "iw_nll_stderr": m["iw_nll_stderr"], "iw_samples": iw_k,
                     "active_units": int(model.active_units_)})
    if rows:
        section = ctx.section("The VAE's likelihood", "The importance-weighted NLL is a tighter bound than "
                              "the negative ELBO, so it should be lower; active units count the latent "
                              "dimensions the VAE actually uses.")
        ctx.add_table(section, "vae", rows, f"held-out negative ELBO and importance-weighted NLL ({iw_k} samples), "
                      f"nats per example on {len(X)} held-out examples, with standard errors")


def latent_stage(ctx: DemoContext) -> None:
    X, y = ctx.data.X_test, ctx.data.y_test
    section = ctx.section(
        "Latent spaces",
        "Each point is a held-out example's code. The AE's codes sit wherever training put them; the VAE's "
        "are pulled into a round N(0, I) cloud, so its decoded grid is meaningful everywhere.",
    )
    grids = {n: m for n, m in ctx.autoencoders.items() if int(getattr(m, "n_components", 0)) == 2}
    for item in ctx.steps(["scatter", *grids]):
        if item == "scatter":
            section.figure(plot_latent_scatter(ctx.models, X, y, label_names=ctx.data.label_names or None),
                           f"Codes of held-out {ctx.words.rows} coloured by "
                           f"{ctx.words.classes or 'nothing (the data have no labels)'}: look for separated "
                           "clusters and for gaps.",
                           name="latent-scatter")
        else:
            how = "N(0,1) quantiles" if has_prior(grids[item]) else "the range of its codes"
            section.figure(plot_manifold_grid(grids[item], ctx.view, X=ctx.data.X_train, title=item),
                           f"{item}: decoded points on a grid over {how}. Look for {ctx.words.garbled()}: "
                           "regions of the latent space that decode to nothing plausible.",
                           name=f"manifold-{item.replace(' ', '-')}")


def samples_stage(ctx: DemoContext) -> None:
    samples: dict[str, np.ndarray] = {}
    for name, model in ctx.steps(ctx.autoencoders.items()):
        samples.update(model_samples(name, model, ctx.data.X_train, n=24, seed=ctx.seed))
    ctx.shared["samples"] = samples
    section = ctx.section(
        "Generating",
        "An AE has no prior, so its samples here come from densities fitted to its training codes (a "
        f"Gaussian, their bounding box, a Gaussian mixture): these often decode to plausible {ctx.words.rows}, "
        "and the box, which puts mass where no code lies, is where implausible ones appear. The VAE samples its "
        f"own prior N(0, I); the regularity table measures how close each sampler's {ctx.words.rows} come to the "
        "data.",
    )
    section.figure(plot_samples(samples, ctx.view, n_cols=8, reference=ctx.data.X_train),
                   "Decoded random codes, per model and sampler.", name="samples")


def interpolation_stage(ctx: DemoContext) -> None:
    X = ctx.data.X_test
    rng = np.random.default_rng(ctx.seed + 1)
    pairs = rng.choice(len(X), size=(3, 2), replace=False)
    models = {n: m for n, m in ctx.autoencoders.items() if n != "linear AE"}
    section = ctx.section("Interpolation and traversals",
                          f"Between two held-out codes a regular latent space decodes to a smooth path of "
                          f"{ctx.words.rows}; "
                          "moving one dimension at a time shows what each dimension encodes.")
    for item in ctx.steps(["interpolation", *models]):
        if item == "interpolation":
            section.figure(plot_interpolations(models, X[pairs[:, 0]], X[pairs[:, 1]], ctx.view),
                           f"Each {'strip' if ctx.words.images else 'panel'}: start, decoded points along the "
                           "straight line between the codes, end. Look for abrupt jumps or implausible middles.",
                           name="interpolations")
        else:
            section.figure(plot_traversals(models[item], X, ctx.view, index=int(pairs[0, 0]), title=item),
                           f"{item}: one {'row' if ctx.words.images else 'panel'} per latent dimension, swept "
                           "across the range of its codes.",
                           name=f"traversal-{item.replace(' ', '-')}")


STAGES: list[Stage] = [
    Stage("fit", fit_stage, ahead=demo_fits),
    Stage("reconstruction", reconstruction_stage),
    Stage("linear AE vs PCA", pca_stage),
    Stage("training curves", curves_stage),
    Stage("vae", vae_stage),
    Stage("latent spaces", latent_stage),
    Stage("latent explorer", explorer_stage),
    Stage("samples", samples_stage),
    Stage("regularity", regularity_stage),
    Stage("regularisers", regularisers_stage, ahead=family_fits),
    Stage("interpolation", interpolation_stage),
    Stage("memorising AE", memorize_stage, ahead=memorize_fits),
    Stage("latent size", sweep_stage, ahead=sweep_rows),
]


def stage_index(name: str, stages: list[Stage] | None = None) -> int:
    """Position of the stage called ``name`` (to insert another before or after it)."""
    names = [s.name for s in (STAGES if stages is None else stages)]
    if name not in names:
        raise ValueError(f"no demo stage {name!r}; stages: {', '.join(names)}")
    return names.index(name)


# ---- running it ------------------------------------------------------------------------------------
def run_demo(
    data: Dataset,
    out: str | Path,
    quick: bool = False,
    seed: int = 0,
    k: int = 2,
    stages: list[Stage] | None = None,
    echo: Callable[[str], None] = print,
    show_progress: bool = True,
    threads: int | None = None,
    budget: str | DemoBudget | None = None,
    skip: tuple[str, ...] = (),
) -> DemoResult:
    """Run every stage on ``data``; write models, metrics.json, config.json, summary.txt and report.html.

    ``budget``: "quick", "full" or a ``DemoBudget`` (default: "quick" when ``quick``, else "full").
    ``skip``: names of stages not to run. Stopped by Ctrl-C, the demo still writes the report and
    metrics of the stages it finished (``DemoResult.interrupted_in`` names the one it stopped in).
    ``threads``: torch CPU threads for every model while the demo runs (restored afterwards). None:
    each model's default (one thread for these small networks, see ``training.threads``).
    """
    if budget is None:
        budget = "quick" if quick else "full"
    if isinstance(budget, str):
        if budget not in BUDGETS:
            raise ValueError(f"unknown demo budget {budget!r}; choose one of {', '.join(BUDGETS)}")
        budget = BUDGETS[budget]
    stages = STAGES if stages is None else stages
    unknown = [name for name in skip if name not in [s.name for s in stages]]
    if unknown:
        raise ValueError(f"no demo stage {unknown[0]!r}; stages: {', '.join(s.name for s in stages)}")
    # one pool of worker processes for every stage that fits side by side, started now: its workers import
    # torch while the first stage begins (training/side_by_side.py)
    with pinned_threads(threads), output_folder(out) as folder, shared_workers(start=True):  # folder: removed again if refused before writing
        return run_stages(data, folder, budget, seed, k, [s for s in stages if s.name not in skip], echo,
                          show_progress)


def run_stages(data: Dataset, out: Path, budget: DemoBudget, seed: int, k: int, stages: list[Stage],
               echo: Callable[[str], None], show_progress: bool) -> DemoResult:
    out.mkdir(parents=True, exist_ok=True)  # output_folder made it for run_demo; a direct caller gets it too
    # Every model must see the same numbers for their errors to compare: data outside [0, 1] are
    # standardised once here, for PCA too, rather than by each estimator in its own way.
    rescaled = not (in_unit_interval(data.X_train) and in_unit_interval(data.X_test))
    source_name = data.name
    if rescaled:
        data = standardised(data)
        echo("data outside [0, 1]: standardised with the training part's mean and std for every model")
    full_sizes = (len(data.X_train), len(data.X_test))
    data = subsampled(data, budget, seed)
    if (len(data.X_train), len(data.X_test)) != full_sizes:
        echo(f"budget {budget.name!r}: {len(data.X_train)} of {full_sizes[0]} training and {len(data.X_test)} of "
             f"{full_sizes[1]} test examples (a seeded random subset)")
    config = {"command": "demo", "data": source_name, "standardised": rescaled, "budget": budget.name,
              "quick": budget.name == "quick", "seed": seed, "n_components": k, "n_train": len(data.X_train),
              "n_test": len(data.X_test), "image_shape": data.image_shape, "stages": [s.name for s in stages]}
    report = Report(f"latentspace demo on {data.name}", data.describe())
    claims = report.section("Verdicts", "Each claim of the tutorial, judged on this run's measurements "
                            "(the sections below hold the numbers).")
    ctx = DemoContext(data, out, budget, seed, k, report, echo=echo, show_progress=show_progress)
    result = DemoResult(tables=ctx.tables, out=out)
    try:
        for stage in stages:  # the stages' fits begin now, in the order the stages need them
            if stage.ahead is not None:
                ctx.stage_name = stage.name
                ctx.begin(stage.ahead)
        for stage in stages:
            ctx.stage_name = stage.name
            started = time.perf_counter()
            stage.run(ctx)
            result.stage_seconds[stage.name] = time.perf_counter() - started
    except KeyboardInterrupt:
        result.interrupted_in = ctx.stage_name
        echo(f"\nstopped during stage {ctx.stage_name!r}: writing the report of the stages that finished")
        config["interrupted_in"] = ctx.stage_name
    found = verdicts(ctx.tables)
    result.verdicts = [v.line() for v in found]
    for line in result.verdicts:
        claims.text(line)
    if not found:
        claims.text("No claim was measured: the stages that measure them did not run.", note=True)
    if result.interrupted_in:
        claims.text(f"The demo was stopped during stage '{result.interrupted_in}': later sections are missing.",
                    note=True)
    config["models"] = {name: describe_model(m) for name, m in ctx.models.items()}
    if ctx.shared.get("family models"):  # the stage "which regulariser fills the holes" trained them
        config["family_models"] = {name: describe_model(m) for name, m in ctx.shared["family models"].items()}
    report.configuration(config)
    timing = [{"stage": name, "seconds": s} for name, s in result.stage_seconds.items()]
    report.section("Configuration").table(timing, "wall time per stage (seconds)", name="stage-seconds")
    atomic_write_json(out / "metrics.json", {"data": source_name, **ctx.tables, "stage_seconds": result.stage_seconds,
                                             "verdicts": [v.to_dict() for v in found]})
    atomic_write_json(out / "config.json", config)
    atomic_write_bytes(out / "summary.txt", (result.table() + "\n").encode())
    result.report_path = report.write(out / REPORT_FILE)
    return result


def describe_model(model) -> dict[str, Any]:
    params = model.get_params() if hasattr(model, "get_params") else {}
    return {"class": type(model).__name__, "params": {k: v for k, v in params.items() if k != "verbose"}}


__all__ = [
    "BUDGETS",
    "STAGES",
    "DemoBudget",
    "DemoContext",
    "DemoResult",
    "Stage",
    "demo_models",
    "run_demo",
    "stage_index",
]
