"""``latentspace memorize``: the memorising 1-D AE beside a same-size VAE; table + strip."""

from __future__ import annotations

import argparse
from ..workflows.memorize import memorize_to_folder
from ._common import Stages, add_data_arguments, add_quiet_argument, add_threads_argument, load_data, parse_int_tuple, wrote
from .commands import summary


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "memorize", help=summary("memorize"),
        description="A high-capacity AE with one latent dimension memorises n examples. Does decoding between "
        "its codes give nonsense? Decoded points between and beyond neighbouring codes are scored against "
        "held-out data, beside a VAE of the same size.",
    )
    add_data_arguments(p)
    p.add_argument("--n-train", type=int, default=50, help="examples to memorise (default: 50)")
    p.add_argument("--hidden", type=parse_int_tuple, default=(512, 512, 512), help="layer widths (default: 512,512,512)")
    p.add_argument("--epochs", type=int, default=5000, help="full-batch steps (default: 5000)")
    p.add_argument("--random-state", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--no-vae", action="store_true", help="skip the VAE beside the AE")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for memorize.csv/.json/strip.npz/strip.png")
    add_quiet_argument(p)
    add_threads_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    say = Stages("memorize", quiet=args.quiet or None)
    say(f"loading {args.data}")
    data = load_data(args)
    say(f"training a 1-D autoencoder{'' if args.no_vae else ' and a 1-D VAE'} on {args.n_train} examples for "
        f"{args.epochs} epochs, then decoding its code line")
    result, files = memorize_to_folder(
        data, args.out, n_train=args.n_train, hidden=args.hidden, epochs=args.epochs, random_state=args.random_state,
        include_vae=not args.no_vae, data_name=args.data,
    )
    for row in result.table():
        print(f"{row['model']:>4}: train mse/feature {row['train_mse_per_feature']:.4g}  "
              f"recon precision {row['recon_precision']:.3f}  midpoint precision {row['midpoint_precision']:.3f}  "
              f"recon FD {row['recon_frechet']:.3g}  midpoint FD {row['midpoint_frechet']:.3g}")
    wrote(*files)
    return 0
