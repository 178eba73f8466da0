"""``latentspace sample``: decode draws of a latent density to a .npy array or a PNG grid.

A model with a prior (the VAE family, a WAE) samples it by default; an autoencoder has no prior, so its
codes come from a density fitted to the codes of its training data that the model keeps (``--sampler``;
``model.sample(n, sampler=...)``, estimators/_samplers.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..analysis.protocol import encode
from ..analysis.samplers import SAMPLERS, keeps_codes, samplers_for
from ..errors import LatentspaceError
from ..report.images import save_image_grid
from ..workflows import runs
from ..workflows.runs import DataSource
from ._common import add_allow_import_argument, add_class_argument, add_threads_argument, chosen_class, write_array
from .commands import summary

SUFFIXES = (".npy", ".png")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sample", help=summary("sample"),
        description="Draw latent codes, decode them with a trained model, and write the decoder means: an "
        "array (n, n_features) as .npy, or a grid of images as .png (uses the run's image shape).",
    )
    p.add_argument("run_dir", metavar="RUN", help="run folder of a trained model")
    p.add_argument("-n", "--n-samples", type=int, default=64, metavar="N", help="how many samples (default: 64)")
    p.add_argument("--out", required=True, metavar="FILE.npy|FILE.png", help="where to write them")
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (default: 0)")
    p.add_argument(
        "--sampler", choices=SAMPLERS, default=None,
        help="where codes come from: prior = the model's own p(z) (models with one: VAE family, WAE; their "
        "default); gaussian = a Gaussian fitted to the training codes; box = uniform over their bounding box; "
        "gmm = a Gaussian mixture fitted to them, its size chosen on held-out codes (the others' default); "
        "two-stage = a second VAE trained on them (Dai & Wipf 2019)",
    )
    p.add_argument("--data", default=None, metavar="NAME|PATH",
                   help="data whose training part (split with seed 0) the sampler is fitted to (default: the run's "
                   "own; needed for a model written by save())")
    p.add_argument("--data-dir", default=None, metavar="DIR", help="folder holding a named set's files")
    add_class_argument(p, "decode every sample")
    add_threads_argument(p)
    add_allow_import_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in SUFFIXES:
        raise LatentspaceError(f"{out}: output must end in .npy or .png")
    if args.n_samples < 1:
        raise LatentspaceError(f"-n must be >= 1, got {args.n_samples}")
    estimator = runs.load_run_model(args.run_dir, args.allow_import)
    label = chosen_class(estimator, args.class_name)
    sampler = args.sampler or estimator.default_sampler
    if sampler not in samplers_for(estimator):
        name = type(estimator).__name__
        choices = samplers_for(estimator)
        raise LatentspaceError(
            f"{'an' if name[0] in 'AEIOU' else 'a'} {name} has no prior to sample from; draw its codes from a "
            f"density fitted to its training codes: --sampler {', '.join(choices[:-1])} or {choices[-1]} "
            f"(without --sampler: {estimator.default_sampler})"
        )
    image_shape = None
    if out.suffix.lower() == ".png":
        # Check the run can be drawn before spending time on sampling.
        image_shape = runs.read_run_config(args.run_dir).get("image_shape")
        if not image_shape:
            raise LatentspaceError(f"{args.run_dir}: the run's data have no image shape; write .npy instead")
    X = draw(estimator, sampler, args, label)
    if image_shape:
        save_image_grid(out, X.reshape(X.shape[0], -1), tuple(image_shape))
    else:
        write_array(out, X)
    of_class = "" if label is None else f", class {label}"
    print(f"wrote {out} ({args.n_samples} samples, sampler {sampler}{of_class})")
    return 0


def draw(estimator, sampler: str, args: argparse.Namespace, label=None) -> np.ndarray:
    """``model.sample``; with ``--data``, or for a model saved without its training codes (a run from
    before models kept them), the ex-post samplers are fitted to the codes of that data's training part."""
    if sampler != "prior" and (args.data is not None or not keeps_codes(estimator)):
        source = DataSource(args.data, args.data_dir) if args.data is not None else DataSource.of_run(args.run_dir)
        estimator.training_codes_ = encode(estimator, source.load().X_train).astype(np.float32)
        estimator._code_samplers = {}
    of_class = {} if label is None else {"y": label}
    return estimator.sample(args.n_samples, sampler=sampler, random_state=args.seed, **of_class)
