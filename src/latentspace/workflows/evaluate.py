"""Measure a trained run on held-out data and store the numbers in ``RUN/evaluation.json``
(``latentspace evaluate``; the report shows them)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._files import atomic_write_json
from ..analysis import evaluate_regularity
from ..analysis.heldout import evaluation_metrics
from ..data import Dataset, binarize
from ..errors import LatentspaceError
from . import runs
from .runs import EVALUATION_FILE, DataSource

#: beyond this the estimate's bound no longer tightens measurably, while the run takes hours
MAX_IW_SAMPLES = 100_000


def check_evaluation_options(iw_samples: int, regularity_samples: int, max_examples: int | None) -> None:
    if iw_samples < 0:
        raise LatentspaceError(f"--iw-samples must be >= 0, got {iw_samples}")
    if iw_samples > MAX_IW_SAMPLES:
        raise LatentspaceError(
            f"--iw-samples must be <= {MAX_IW_SAMPLES:,}, got {iw_samples} "
            "(each one costs a decoder pass per example; 1000 is the usual)"
        )
    if 0 < regularity_samples < 4:
        raise LatentspaceError(f"--regularity-samples must be 0 or >= 4, got {regularity_samples}")
    if max_examples is not None and max_examples < 1:
        raise LatentspaceError(f"--max-examples must be >= 1, got {max_examples}")


def heldout_array(data: Dataset, max_examples: int | None = None, binarize_seed: int | None = None) -> np.ndarray:
    """The test part of ``data``: its first ``max_examples`` rows, binarised once with ``binarize_seed``
    (the static-binarisation protocol) when given."""
    X = data.X_test if max_examples is None else data.X_test[:max_examples]
    return X if binarize_seed is None else binarize(X, binarize_seed)


def collect_metrics(estimator, data: Dataset, X: np.ndarray, iw_samples: int = 1000, regularity_samples: int = 1000,
                    say: Callable[[str], None] = lambda what: None) -> dict[str, Any]:
    """Every measurement ``evaluate`` reports, as one flat dict: likelihoods, then regularity."""
    iw = f", IW-NLL with {iw_samples} importance samples each (the long part)" if iw_samples else ""
    say(f"reconstruction and likelihoods on {len(X)} held-out examples{iw if hasattr(estimator, 'log_likelihood') else ''}")
    metrics = evaluation_metrics(estimator, X, iw_samples=iw_samples)
    if regularity_samples > 0:
        say(f"regularity: {regularity_samples} samples per sampler, Fréchet distance, precision/recall, "
            "interpolations, holes")
        heldout = dataclasses.replace(data, X_test=X, y_test=None)
        regularity = evaluate_regularity(estimator, heldout, n_samples=regularity_samples, random_state=0)
        metrics.update({k: v for k, v in regularity.items() if k not in metrics})
    return metrics


def evaluate_run(
    run_dir: str | Path,
    data: str | Path | DataSource | None = None,
    *,
    iw_samples: int = 1000,
    regularity_samples: int = 1000,
    max_examples: int | None = None,
    binarize_test: int | None = None,
    verbose: bool | int | None = None,
    say: Callable[[str], None] = lambda what: None,
    allow_import: bool = False,
) -> dict[str, Any]:
    """Measure the model of the run folder ``run_dir`` on the test part of ``data`` (default: the run's
    own data, split as it was) and write ``run_dir/evaluation.json``; returns what it wrote.

    ``iw_samples``: importance samples per example of the IW-NLL (0 skips it). ``regularity_samples``:
    generated samples per sampler for the regularity metrics (0 skips them). ``max_examples``: use the
    first so many test examples. ``binarize_test``: binarise the test part once with this seed.
    ``verbose``: the IW-NLL's progress bar (default: the saved model's own ``verbose``). ``say``: told
    what is being measured, stage by stage. ``allow_import``: as ``load``'s.
    """
    check_evaluation_options(iw_samples, regularity_samples, max_examples)
    estimator = runs.load_run_model(run_dir, allow_import)
    if verbose is not None:
        estimator.set_params(verbose=verbose)
    source = DataSource.of_run(run_dir) if data is None else data if isinstance(data, DataSource) else DataSource(str(data))
    say(f"loading the data ({source.name})")
    dataset = source.load()
    X = heldout_array(dataset, max_examples, binarize_test)
    metrics = collect_metrics(estimator, dataset, X, iw_samples, regularity_samples, say)
    metrics["data"] = {"name": dataset.name, "binarize_test_seed": binarize_test}
    atomic_write_json(Path(run_dir) / EVALUATION_FILE, metrics)
    runs.write_model_card(run_dir)  # the card lists every metric measured so far
    return metrics
