"""Does a linear AE find PCA's subspace? Fit both at the same k, compare, write the table, the bases
and a figure (``latentspace pca-check``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._files import atomic_write_json, atomic_write_npz
from ..analysis.pca import PCAComparison, PCAReference, compare_with_pca, pca_reference
from ..analysis.protocol import comparison_model
from ..data import Dataset
from ..errors import LatentspaceError
from ..estimators import LinearAutoEncoder

#: the non-linear models it can fit beside the linear AE
NONLINEAR = ("ae", "vae")


@dataclass
class PCACheckResult:
    """The linear AE's comparison with PCA, those of the ``also`` models, and the files written."""

    linear: PCAComparison
    others: list[PCAComparison] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def check_k(k: int, data: Dataset) -> None:
    limit = min(data.X_train.shape)
    if not 1 <= k <= limit:
        raise LatentspaceError(f"--n-components must be between 1 and {limit} for {data.name}, got {k}")


def pca_check(
    data: Dataset,
    n_components: int,
    out: str | Path,
    *,
    weight_decay: float = 0.0,
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    also: Sequence[str] = (),
    random_state: int = 0,
    verbose: bool | int = False,
    data_name: str | None = None,
    split_seed: int | None = None,
    on_comparison: Callable[[PCAComparison], None] = lambda comparison: None,
) -> PCACheckResult:
    """Fit PCA and a linear AE with ``n_components`` on ``data``'s training part, compare them on its
    test part, and write ``out/pca_check.json``, ``out/pca_check.png`` and ``out/bases.npz``.

    ``weight_decay`` > 0 makes the decoder's left singular vectors PCA's directions. ``epochs``: of
    every model it fits (default: each model's own "auto"); ``lr``, ``batch_size``: the linear AE's
    (default: its own). ``also``: "ae" and/or "vae", fitted at the same k and compared with the same
    PCA. ``verbose``: the models' progress bars. ``on_comparison``: called with each comparison as it is
    measured. ``data_name``/``split_seed``: recorded in the JSON (default: the data set's name).
    """
    unknown = [name for name in also if name not in NONLINEAR]
    if unknown:
        raise LatentspaceError(f"--also: unknown model {unknown[0]!r}; choose from {', '.join(NONLINEAR)}")
    if epochs is not None and epochs < 1:
        raise LatentspaceError(f"--epochs must be >= 1, got {epochs}")
    if weight_decay < 0:
        raise LatentspaceError(f"--weight-decay must be >= 0, got {weight_decay}")
    check_k(n_components, data)
    linear = LinearAutoEncoder(n_components, weight_decay=weight_decay, random_state=random_state, verbose=verbose)
    linear.set_params(**{k: v for k, v in dict(lr=lr, batch_size=batch_size, epochs=epochs).items() if v is not None})
    # one PCA for the linear AE and every --also model
    reference = pca_reference(*(np.asarray(X, np.float64) for X in (data.X_train, data.X_test)), n_components)
    result = PCACheckResult(fit_and_compare(linear, data, reference))
    on_comparison(result.linear)
    for name in dict.fromkeys(also):
        model = comparison_model(name, n_components, random_state=random_state,
                                 epochs="auto" if epochs is None else epochs).set_params(verbose=verbose)
        result.others.append(fit_and_compare(model, data, reference))
        on_comparison(result.others[-1])
    result.files = write_outputs(Path(out), data, result, data_name or data.name, split_seed)
    return result


def fit_and_compare(model, data: Dataset, reference: PCAReference) -> PCAComparison:
    started = time.perf_counter()
    model.fit(data.X_train)
    seconds = time.perf_counter() - started
    comparison = compare_with_pca(model, data.X_train, data.X_test, reference=reference)
    comparison.model_fit_seconds = seconds  # the whole fit, as PCA's is timed, not only the loop
    return comparison


def write_outputs(out: Path, data: Dataset, result: PCACheckResult, data_name: str, split_seed: int | None) -> list[Path]:
    from ..report.pca_plot import save_pca_figure  # matplotlib only when a figure is drawn

    out.mkdir(parents=True, exist_ok=True)
    comparisons = (result.linear, *result.others)
    atomic_write_json(out / "pca_check.json", {
        "command": "pca-check",
        "data": data_name,
        "split_seed": split_seed,
        "image_shape": data.image_shape,
        "comparisons": [c.to_dict() for c in comparisons],
    })
    figure = save_pca_figure(result.linear, out / "pca_check.png", data.image_shape, result.others)
    atomic_write_npz(out / "bases.npz", pca_components=result.linear.pca_components,
                     decoder_columns=result.linear.decoder_columns, recovered_directions=result.linear.recovered_directions)
    return [out / "pca_check.json", Path(figure), out / "bases.npz"]
