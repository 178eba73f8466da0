"""``latentspace evaluate``: measure a trained run on held-out data; print and store the numbers."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from .._files import atomic_write_json
from ..analysis import evaluate_regularity
from ..analysis.heldout import evaluation_metrics
from ..data import Dataset, binarize, load_dataset
from ..errors import LatentspaceError
from ..workflows import runs
from ._common import Stages, add_threads_argument, wrote
from .commands import summary

EVALUATION_FILE = runs.EVALUATION_FILE
#: beyond this the estimate's bound no longer tightens measurably, while the run takes hours
MAX_IW_SAMPLES = 100_000


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help=summary("evaluate"),
        description="Measure a trained run on a data set's test part; print the numbers and write "
        "RUN/evaluation.json. NLLs are in nats per example.",
    )
    p.add_argument("run_dir", metavar="RUN", help="run folder written by `latentspace train`")
    p.add_argument("--data", default=None, metavar="NAME|PATH", help="data set (default: the run's own)")
    p.add_argument("--data-dir", default=None, metavar="DIR", help="folder holding a named set's files")
    p.add_argument("--seed", type=int, default=None, help="seed of the train/test split (default: the run's)")
    p.add_argument("--iw-samples", type=int, default=1000, metavar="K",
                   help="importance samples per example for the IW-NLL; 0 skips it (default: 1000)")
    p.add_argument("--binarize-test", type=int, default=None, metavar="SEED",
                   help="binarise the test images once with this seed (the static-binarisation protocol)")
    p.add_argument("--max-examples", type=int, default=None, metavar="N", help="use the first N test examples")
    p.add_argument("--regularity-samples", type=int, default=1000, metavar="N",
                   help="generated samples per sampler for the regularity metrics (Fréchet distance, "
                   "precision/recall, interpolation, holes); 0 skips them (default: 1000)")
    add_threads_argument(p)
    p.set_defaults(run=run)


def heldout_data(args: argparse.Namespace, config: dict[str, Any]) -> Dataset:
    """The data set named on the command line, or the one the run was trained on."""
    name = args.data or config.get("data")
    if not name:
        raise LatentspaceError(f"{args.run_dir}: the run does not name its data set; pass --data")
    data_dir = args.data_dir if args.data else args.data_dir or config.get("data_dir")
    seed = args.seed if args.seed is not None else int(config.get("split_seed") or 0)
    return load_dataset(name, data_dir=data_dir, seed=seed)


def heldout_array(args: argparse.Namespace, data: Dataset) -> np.ndarray:
    X = data.X_test
    if args.max_examples is not None:
        if args.max_examples < 1:
            raise LatentspaceError(f"--max-examples must be >= 1, got {args.max_examples}")
        X = X[: args.max_examples]
    if args.binarize_test is not None:
        X = binarize(X, args.binarize_test)
    return X


def collect_metrics(estimator, data: Dataset, X: np.ndarray, args: argparse.Namespace,
                    say=lambda what: None) -> dict[str, Any]:
    """Every measurement ``evaluate`` reports, as one flat dict: likelihoods, then regularity."""
    iw = f", IW-NLL with {args.iw_samples} importance samples each (the long part)" if args.iw_samples else ""
    say(f"reconstruction and likelihoods on {len(X)} held-out examples{iw if hasattr(estimator, 'log_likelihood') else ''}")
    metrics = evaluation_metrics(estimator, X, iw_samples=args.iw_samples)
    if args.regularity_samples > 0:
        say(f"regularity: {args.regularity_samples} samples per sampler, Fréchet distance, precision/recall, "
            "interpolations, holes")
        heldout = dataclasses.replace(data, X_test=X, y_test=None)
        regularity = evaluate_regularity(estimator, heldout, n_samples=args.regularity_samples, random_state=0)
        metrics.update({k: v for k, v in regularity.items() if k not in metrics})
    return metrics


def run(args: argparse.Namespace) -> int:
    if args.iw_samples < 0:
        raise LatentspaceError(f"--iw-samples must be >= 0, got {args.iw_samples}")
    if args.iw_samples > MAX_IW_SAMPLES:
        raise LatentspaceError(
            f"--iw-samples must be <= {MAX_IW_SAMPLES:,}, got {args.iw_samples} "
            "(each one costs a decoder pass per example; 1000 is the usual)"
        )
    if 0 < args.regularity_samples < 4:
        raise LatentspaceError(f"--regularity-samples must be 0 or >= 4, got {args.regularity_samples}")
    say = Stages("evaluate")
    config = runs.read_run_config(args.run_dir)
    estimator = runs.load_run_model(args.run_dir)
    say(f"loading the data ({args.data or config.get('data')})")
    data = heldout_data(args, config)
    X = heldout_array(args, data)
    metrics = collect_metrics(estimator, data, X, args, say)
    metrics["data"] = {"name": data.name, "binarize_test_seed": args.binarize_test}
    atomic_write_json(Path(args.run_dir) / EVALUATION_FILE, metrics)
    runs.write_model_card(args.run_dir)
    width = max(len(name) for name in metrics)
    for name, value in metrics.items():
        if isinstance(value, float):
            print(f"{name:>{width}}  {value:.6g}")
        elif not isinstance(value, dict):
            print(f"{name:>{width}}  {value}")
    wrote(Path(args.run_dir) / EVALUATION_FILE, Path(args.run_dir) / runs.CARD_FILE)
    return 0
