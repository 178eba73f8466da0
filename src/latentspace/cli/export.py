"""``latentspace export``: a trained run's encoder and decoder as files another runtime can serve."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..workflows import runs
from ._common import add_allow_import_argument, wrote
from .commands import summary

FORMATS = ("onnx",)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help=summary("export"),
        description="Write a trained model's encoder and decoder as ONNX graphs (encoder.onnx: raw rows x -> "
        "codes z, and z_log_var for a VAE; decoder.onnx: z -> x, the likelihood's mean), the data's scaling "
        "folded in and the batch axis dynamic, so they give what `encode`/`decode` give. Needs the onnx extra "
        "only to check or run them (pip install 'latentspace[onnx]').",
    )
    p.add_argument("run_dir", metavar="RUN", help="run folder (or checkpoint folder) of a trained model")
    p.add_argument("--format", choices=FORMATS, default="onnx", help="file format (default: onnx)")
    p.add_argument("--out", metavar="DIR", default=None, help="folder to write them to (default: RUN/onnx)")
    add_allow_import_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    estimator = runs.load_run_model(args.run_dir, args.allow_import)
    paths = estimator.to_onnx(Path(args.out) if args.out else Path(args.run_dir) / "onnx")
    wrote(*paths.values())
    return 0
