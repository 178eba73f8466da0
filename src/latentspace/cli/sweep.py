"""``latentspace sweep``: PCA, linear AE, deep AE and VAE over latent sizes; CSV + JSON table."""

from __future__ import annotations

import argparse
from ..analysis.sweep import DEFAULT_KS, SWEEP_MODELS
from ..workflows.sweep import sweep_to_folder
from ._common import Stages, add_data_arguments, add_quiet_argument, add_threads_argument, int_or_auto, load_data, parse_int_tuple, wrote
from .commands import summary


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep", help=summary("sweep"),
        description="For each latent size k, fit PCA, a linear AE, a deep AE and a VAE; write sweep.csv "
        "and sweep.json (Fréchet distances are in latentspace's classifier feature space, not Inception FID). "
        "Where the training repays it, the models are fitted side by side, one process per idle CPU; "
        "--threads 1 keeps them in one.",
    )
    add_data_arguments(p)
    p.add_argument("--ks", type=parse_int_tuple, default=DEFAULT_KS, metavar="K,K,...",
                   help=f"latent sizes (default: {','.join(map(str, DEFAULT_KS))})")
    p.add_argument("--models", default=",".join(SWEEP_MODELS), metavar="M,M,...",
                   help=f"models to fit (default: {','.join(SWEEP_MODELS)})")
    p.add_argument("--epochs", type=int_or_auto, default="auto", metavar="N|auto",
                   help="epochs of every model it trains (default: auto, each model's data-scaled budget, "
                   "docs/training.md)")
    p.add_argument("--n-samples", type=int, default=1000, help="generated samples per model (default: 1000)")
    p.add_argument("--random-state", type=int, default=0, help="seed of models and samplers (default: 0)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for sweep.csv and sweep.json")
    add_quiet_argument(p, also=", no rows printed as they finish")
    add_threads_argument(p)
    p.set_defaults(run=run)


COLUMNS = ("model", "k", "heldout_mse_per_feature", "sampler", "sample_frechet", "sample_precision",
           "sample_recall", "gmm_frechet", "gmm_precision", "fit_seconds")


def print_row(row: dict) -> None:
    cells = [f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c]) for c in COLUMNS]
    print("  ".join(f"{cell:>{width(c)}}" for c, cell in zip(COLUMNS, cells)), flush=True)


def width(column: str) -> int:
    """A column as wide as its full header (never cut), at least 10."""
    return max(10, len(column))


def run(args: argparse.Namespace) -> int:
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    data = load_data(args)
    if not args.quiet:
        Stages("sweep")(f"fitting {len(models)} model(s) at each of k = {', '.join(map(str, args.ks))}; "
                        "a row prints as each fit is measured")
        print("  ".join(f"{c:>{width(c)}}" for c in COLUMNS), flush=True)
    files = sweep_to_folder(data, args.out, args.ks, models=models, epochs=args.epochs, n_samples=args.n_samples,
                            random_state=args.random_state, data_name=args.data,
                            progress=None if args.quiet else print_row)
    wrote(*files)
    return 0
