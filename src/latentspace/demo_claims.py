"""Demo stages that measure the seed's specific claims (linear AE = PCA; lack of regularity; latent size).

Each stage takes the demo's shared context (see ``demo.py``) and adds tables and figures; they are
appended to ``demo.STAGES`` there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .analysis.pca import compare_with_pca
from .report.pca_plot import pca_figure

if TYPE_CHECKING:
    from .demo import DemoContext

PCA_COLUMNS = ("model", "n_components", "max_principal_angle_deg", "test_mse_ratio",
               "max_abs_cos_between_columns", "gram_condition_number")


def pca_stage(ctx: DemoContext) -> None:
    """The linear AE against PCA: same subspace (angles near 0), another basis (columns not orthogonal)."""
    comparisons = {name: compare_with_pca(model, ctx.data.X_train, ctx.data.X_test)
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
