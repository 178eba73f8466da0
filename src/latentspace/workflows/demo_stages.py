"""Demo stages that measure specific claims: a linear AE finds PCA's subspace; an AE's latent space is
irregular, so it cannot generate by decoding random codes; the latent size must suit the purpose.

Each stage takes the demo's shared context (see ``demo.py``) and adds tables and figures; they are
appended to ``demo.STAGES`` there.
"""

from __future__ import annotations

import numpy as np

from ..analysis import SAMPLERS, evaluate_regularity, feature_space
from ..analysis.memorize import MemorizationFits, measure_memorization, start_memorization
from ..analysis.pca import compare_with_pca, pca_reference
from ..analysis.protocol import HELDOUT_MSE
from ..analysis.sweep import SweepRun, start_sweep
from ..report import plot_latent_sweep, plot_memorising_lines
from ..report.explorer import EXPLORER_INTRO, add_explorer
from ..report.pca_plot import pca_figure
from .demo_context import DemoContext

PCA_COLUMNS = ("model", "n_components", "max_principal_angle_deg", "test_mse_ratio",
               "max_abs_cos_between_columns", "gram_condition_number")


def pca_stage(ctx: DemoContext) -> None:
    """The linear AE against PCA: same subspace (angles near 0), another basis (columns not orthogonal)."""
    X_train, X_test = (np.asarray(X, np.float64) for X in (ctx.data.X_train, ctx.data.X_test))
    reference = pca_reference(X_train, X_test, ctx.k)  # one PCA for every model compared
    comparisons = {name: compare_with_pca(model, X_train, X_test, reference=reference)
                   for name, model in ctx.steps(ctx.autoencoders.items())}
    rows = [{key: c.to_dict().get(key) for key in PCA_COLUMNS} | {"model": name}
            for name, c in comparisons.items()]
    section = ctx.section(
        "Linear AE = PCA, in another basis",
        "The linear AE's largest principal angle to PCA's subspace should be near 0 degrees and its error "
        "ratio near 1: the same subspace. Its decoder columns are not orthogonal (|cos| between columns "
        "above 0): gradient descent lands on any basis of that subspace. Deep models are compared by error only.",
    )
    ctx.add_table(section, "pca_check", rows, "each model against PCA(k) fitted on the same training data")
    linear = comparisons.get("linear AE")
    if linear is not None and linear.linear:
        others = [c for name, c in comparisons.items() if name != "linear AE"]
        section.figure(pca_figure(linear, ctx.image_shape, others),
                       "Top: PCA's components, the linear AE's decoder columns, and the directions recovered "
                       "from the decoder; bottom: principal angles and each model's error against PCA.",
                       name="pca-check")


def demo_features(ctx: DemoContext):
    """The feature net that judges samples: trained once per data set (and cached on disk)."""
    if "features" not in ctx.shared:
        ctx.shared["features"] = feature_space(ctx.data)
    return ctx.shared["features"]


def judging_basis(ctx: DemoContext, features) -> dict:
    """What the sample-quality numbers rest on (the verdicts read it to say where a claim is weak)."""
    return {"feature_space": features.name, "dim": features.dim, "heldout_rows": len(ctx.data.X_test),
            "n_features": ctx.data.n_features, "images": ctx.data.image_shape is not None,
            "classes": len(np.unique(ctx.data.y_train)) if ctx.data.y_train is not None else 0,
            "classifier_test_accuracy": features.meta.get("test_accuracy")}


def regularity_stage(ctx: DemoContext) -> None:
    """Sample quality by sampler, interpolation midpoints, and the VAE's KL split (issue: regularity)."""
    features = demo_features(ctx)
    n = ctx.budget.samples
    results = {name: evaluate_regularity(model, ctx.data, n_samples=n, random_state=ctx.seed, features=features)
               for name, model in ctx.steps(ctx.models.items())}
    sample_rows, interp_rows = [], []
    for name, r in results.items():
        interp_rows.append({"model": name, "midpoint_frechet": r["interp_midpoint_frechet"],
                            "midpoint_precision": r["interp_midpoint_precision"],
                            "path_smoothness_median": r["interp_smoothness_ratio_median"]})
        for sampler in SAMPLERS:
            if f"sample_{sampler}_frechet" in r:
                sample_rows.append({"model": name, "sampler": sampler,
                                    "frechet": r[f"sample_{sampler}_frechet"],
                                    "precision": r[f"sample_{sampler}_precision"],
                                    "recall": r[f"sample_{sampler}_recall"],
                                    "outside_code_support": r[f"holes_{sampler}_outside_code_support"]})
    section = ctx.section(
        "Regularity, measured",
        f"Decoded samples judged in the feature space of a small classifier trained on the labels "
        f"({features.name}; not Inception FID). Lower Fréchet distance and higher precision (samples on the "
        "data manifold) and recall (the manifold covered) are better. The claim under test: an AE cannot generate by "
        "decoding random codes and a VAE can: compare the AE's 'box' and 'gaussian' rows with the VAE's 'prior' row, and "
        "see how much a Gaussian mixture fitted to the codes (gmm) recovers: that part of the AE's failure "
        "is the sampler, not the space.",
    )
    ctx.add_table(section, "feature_space", [judging_basis(ctx, features)],
                  "where samples are judged: the feature space, and the held-out rows they are compared with")
    ctx.add_table(section, "sample_quality", sample_rows,
                  f"{n} decoded samples per model and sampler against the held-out data")
    ctx.add_table(section, "interpolation", interp_rows,
                  "decoded midpoints between held-out pairs' codes; smoothness = path length / endpoint distance")
    vae_rows = [{"model": name, "mutual_information": r["vae_mutual_information"],
                 "marginal_kl": r["vae_marginal_kl"], "average_kl": r["vae_average_kl"],
                 "active_units": r["vae_active_units"]} for name, r in results.items() if "vae_marginal_kl" in r]
    if vae_rows:
        ctx.add_table(section, "kl_split", vae_rows,
                      "the VAE's KL = mutual information + KL(aggregate posterior || prior), nats "
                      "(Hoffman & Johnson 2016): a large marginal KL means the prior has holes")


def memorize_fits(ctx: DemoContext) -> MemorizationFits:
    """The memorising pair's 50 examples and their fits, begun (``start_memorization``)."""
    return start_memorization(ctx.data, n_train=50, epochs=ctx.budget.memorize_epochs, random_state=ctx.seed)


def memorize_stage(ctx: DemoContext) -> None:
    """The memorising AE: a 1-D AE that memorises 50 examples, and a same-size VAE beside it."""
    result = None
    for _ in ctx.steps([0]):
        result = measure_memorization(ctx.work(memorize_fits), ctx.data, features=demo_features(ctx))
    section = ctx.section(
        "The memorising autoencoder",
        "An AE with a 1-D code trained on 50 examples until it reconstructs them: its codes spread on a line. "
        "The claim under test: points between the codes decode to nonsense; compare the midpoints' and the "
        "past-the-ends points' precision with the reconstructions'.",
    )
    columns = ("model", "train_mse_per_feature", "recon_frechet", "recon_precision", "midpoint_frechet",
               "midpoint_precision", "beyond_frechet", "beyond_precision")
    ctx.add_table(section, "memorize", [{c: r[c] for c in columns} for r in result.table()],
                  "50 training examples, 1-D latent space; 'beyond' = codes past the ends of the line")
    for name, line in result.lines.items():
        section.figure(
            plot_memorising_lines({name: line}, ctx.view),
            f"{name}: decoded points along its 1-D code line; * marks a training example's code.",
            name=f"memorize-{name}",
        )


def sweep_rows(ctx: DemoContext) -> SweepRun:
    """The latent-size sweep's rows, begun (``start_sweep``)."""
    ks = [k for k in ctx.budget.sweep_ks if k <= ctx.data.n_features]
    return start_sweep(ctx.data, ks=ks, models=ctx.budget.sweep_models,
                       epochs=ctx.sweep_epochs_for(ctx.budget.sweep_steps),
                       linear_epochs=ctx.linear_epochs_for(ctx.budget.sweep_steps),
                       n_samples=ctx.budget.sweep_samples, random_state=ctx.seed, features=demo_features(ctx))


def sweep_stage(ctx: DemoContext) -> None:
    """The latent size trade-off: reconstruction and sample quality against k for every model."""
    run = ctx.work(sweep_rows)
    with ctx.bar(len(run.tasks)) as bar:
        rows = run.rows(progress=lambda row: bar.update(1))
    section = ctx.section(
        "Latent size",
        "How large should the code be? Reconstruction error falls with k for every model, while "
        "sample quality need not improve. Look for where the deep AE stops beating PCA and where the VAE's "
        "samples are best.",
    )
    columns = ("model", "k", HELDOUT_MSE, "sampler", "sample_frechet", "sample_precision",
               "gmm_frechet")
    ctx.add_table(section, "sweep", [{c: r[c] for c in columns} for r in rows], "held-out error and sample quality by k")
    section.figure(plot_latent_sweep(rows, [HELDOUT_MSE, "sample_frechet", "gmm_frechet"]),
                   "Against k: reconstruction error (left) and the Fréchet distance of samples (the model's "
                   "own sampler, then a mixture fitted to its codes).", name="latent-sweep")


def explorer_stage(ctx: DemoContext) -> None:
    """Every model's decoder in the page: walk each latent space live (PCA decodes by its linear map)."""
    section = ctx.section("Latent explorer", EXPLORER_INTRO)
    for _ in ctx.steps([0]):
        add_explorer(section, ctx.models, ctx.data, seed=ctx.seed)
