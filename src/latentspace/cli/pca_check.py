"""``latentspace pca-check``: fit a linear AE and PCA at the same k, measure, tabulate, draw."""

from __future__ import annotations

import argparse
from datetime import datetime

from ..estimators import LinearAutoEncoder
from ..workflows.pca_check import pca_check
from ._common import add_data_arguments, add_quiet_argument, add_threads_argument, load_data, wrote
from .commands import summary


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
    add_quiet_argument(p)
    add_threads_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    also = [name.strip() for name in args.also.split(",") if name.strip()]
    data = load_data(args)
    print(data.describe())
    result = pca_check(
        data, args.n_components, args.out or f"runs/pca-check-{datetime.now():%Y%m%d-%H%M%S}",
        weight_decay=args.weight_decay, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, also=also,
        random_state=args.random_state, verbose=not args.quiet, data_name=args.data, split_seed=args.seed,
        on_comparison=lambda comparison: print(comparison.table()),
    )
    wrote(*result.files)
    return 0
