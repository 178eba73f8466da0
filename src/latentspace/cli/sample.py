"""``latentspace sample``: decode draws of a trained VAE's prior to a .npy array or a PNG grid."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import LatentspaceError
from ..report.images import save_image_grid
from ..workflows import runs
from ._common import add_threads_argument, write_array

SUFFIXES = (".npy", ".png")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sample", help="decode samples of a trained VAE's prior to .npy or a .png grid",
        description="Draw z ~ N(0, I), decode it with a trained VAE, and write the decoder means: an "
        "array (n, n_features) as .npy, or a grid of images as .png (uses the run's image shape).",
    )
    p.add_argument("run_dir", metavar="RUN", help="run folder of a trained VAE")
    p.add_argument("-n", "--n-samples", type=int, default=64, metavar="N", help="how many samples (default: 64)")
    p.add_argument("--out", required=True, metavar="FILE.npy|FILE.png", help="where to write them")
    p.add_argument("--seed", type=int, default=0, help="seed of the prior draws (default: 0)")
    add_threads_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in SUFFIXES:
        raise LatentspaceError(f"{out}: output must end in .npy or .png")
    if args.n_samples < 1:
        raise LatentspaceError(f"-n must be >= 1, got {args.n_samples}")
    estimator = runs.load_run_model(args.run_dir)
    if not hasattr(estimator, "sample"):
        raise LatentspaceError(f"{args.run_dir}: a {type(estimator).__name__} cannot sample; train a vae")
    image_shape = None
    if out.suffix.lower() == ".png":
        # Check the run can be drawn before spending time on sampling.
        image_shape = runs.read_run_config(args.run_dir).get("image_shape")
        if not image_shape:
            raise LatentspaceError(f"{args.run_dir}: the run's data have no image shape; write .npy instead")
    X = estimator.sample(args.n_samples, random_state=args.seed)
    if image_shape:
        save_image_grid(out, X, tuple(image_shape))
    else:
        write_array(out, X)
    print(out)
    return 0
