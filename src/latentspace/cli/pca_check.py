"""``latentspace pca-check``: fit a linear AE and PCA at the same k, measure, tabulate, draw."""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from .._files import atomic_write_json, atomic_write_npz
from ..analysis.pca import PCAComparison, PCAReference, compare_with_pca, pca_reference
from ..analysis.protocol import comparison_model
from ..data import Dataset
from ..errors import LatentspaceError
from ..estimators import LinearAutoEncoder
from ._common import add_data_arguments, add_threads_argument, load_data
from .commands import summary

NONLINEAR = ("ae", "vae")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "pca-check", help=summary("pca-check"),
        description="Fit PCA and a linear autoencoder with K components on the training part, compare "
        "them on the test part (principal angles, error ratio, orthogonality of the decoder, the "
        "directions recovered with weight decay), print the table, write JSON and a PNG figure.",
    )
    add_data_arguments(p, default=None)
    p.add_argument("--n-components", type=int, required=True, metavar="K", help="number of components")
    p.add_argument("--weight-decay", type=float, default=0.0, metavar="L",
                   help="L2 weight decay of the linear AE; > 0 makes the decoder's left singular vectors "
                   "PCA's directions (default: 0)")
    defaults = LinearAutoEncoder()
    p.add_argument("--epochs", type=int, default=None, metavar="N",
                   help="epochs of every model it trains (default: each model's own 'auto', the "
                   "data-scaled budget)")
    p.add_argument("--lr", type=float, default=defaults.lr, help=f"linear AE learning rate (default: {defaults.lr})")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size,
                   help=f"linear AE batch size (default: {defaults.batch_size})")
    p.add_argument("--also", default="", metavar="MODELS",
                   help="also fit non-linear models at the same K and report their error ratio to PCA: "
                   "ae, vae or ae,vae (default: none)")
    p.add_argument("--random-state", type=int, default=0, help="seed of the models (default: 0)")
    p.add_argument("--out", default=None, metavar="DIR", help="output folder (default: runs/pca-check-TIMESTAMP)")
    add_threads_argument(p)
    p.set_defaults(run=run)


def parse_also(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in NONLINEAR]
    if unknown:
        raise LatentspaceError(f"--also: unknown model {unknown[0]!r}; choose from {', '.join(NONLINEAR)}")
    return list(dict.fromkeys(names))


def check_k(k: int, data: Dataset) -> None:
    limit = min(data.X_train.shape)
    if not 1 <= k <= limit:
        raise LatentspaceError(f"--n-components must be between 1 and {limit} for {data.name}, got {k}")


def run(args: argparse.Namespace) -> int:
    also = parse_also(args.also)
    if args.epochs is not None and args.epochs < 1:
        raise LatentspaceError(f"--epochs must be >= 1, got {args.epochs}")
    if args.weight_decay < 0:
        raise LatentspaceError(f"--weight-decay must be >= 0, got {args.weight_decay}")
    data = load_data(args)
    check_k(args.n_components, data)
    out = Path(args.out or f"runs/pca-check-{datetime.now():%Y%m%d-%H%M%S}")
    print(data.describe())
    linear = LinearAutoEncoder(
        args.n_components, lr=args.lr, batch_size=args.batch_size,
        weight_decay=args.weight_decay, random_state=args.random_state, verbose=True,  # a steps bar on stderr
    )
    if args.epochs is not None:
        linear.set_params(epochs=args.epochs)
    # one PCA for the linear AE and every --also model
    reference = pca_reference(*(np.asarray(X, np.float64) for X in (data.X_train, data.X_test)), args.n_components)
    comparison = fit_and_compare(linear, data, reference)
    print(comparison.table())
    others = []
    for name in also:
        model = comparison_model(name, args.n_components, random_state=args.random_state,
                                 epochs="auto" if args.epochs is None else args.epochs).set_params(verbose=True)
        other = fit_and_compare(model, data, reference)
        print(other.table())
        others.append(other)
    write_outputs(out, data, comparison, others, args)
    return 0


def fit_and_compare(model, data: Dataset, reference: PCAReference) -> PCAComparison:
    started = time.perf_counter()
    model.fit(data.X_train)
    seconds = time.perf_counter() - started
    comparison = compare_with_pca(model, data.X_train, data.X_test, reference=reference)
    comparison.model_fit_seconds = seconds  # the whole fit, as PCA's is timed, not only the loop
    return comparison


def write_outputs(out: Path, data: Dataset, comparison: PCAComparison, others: list[PCAComparison], args) -> None:
    from ..report.pca_plot import (
        save_pca_figure,  # matplotlib only when a figure is drawn
    )

    out.mkdir(parents=True, exist_ok=True)
    result = {
        "command": "pca-check",
        "data": args.data,
        "split_seed": args.seed,
        "image_shape": data.image_shape,
        "comparisons": [c.to_dict() for c in (comparison, *others)],
    }
    atomic_write_json(out / "pca_check.json", result)
    figure = save_pca_figure(comparison, out / "pca_check.png", data.image_shape, others)
    atomic_write_npz(out / "bases.npz", pca_components=comparison.pca_components,
             decoder_columns=comparison.decoder_columns, recovered_directions=comparison.recovered_directions)
    print(f"wrote {out / 'pca_check.json'}, {figure}, {out / 'bases.npz'}")
