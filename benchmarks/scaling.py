"""How latentspace's training time grows: seconds per epoch against data size and against width.

Data size: Fashion-MNIST's 60,000 training images cut to 6,000 or repeated to 600,000 (the reference
network); width: hidden layers (w, w/2) for several w on 6,000 images. Each point trains
``--epochs`` epochs (the first is warm-up) and reports the median; "per 1k images" and "per MFLOP"
columns should stay flat if cost grows linearly.

    PYTHONPATH=src python benchmarks/scaling.py [--quick] [--threads 2]
"""

from __future__ import annotations

import argparse
import os

import torch
from _common import (
    BATCH,
    LR,
    N_LATENT,
    build_latentspace_vae,
    load_reference_data,
    machine,
    median,
    print_table,
)
from matmul_limit import layer_shapes, step_flops


def seconds_per_epoch(X: torch.Tensor, hidden, epochs: int) -> float:
    from latentspace.training import TrainConfig, train

    model = build_latentspace_vae(X.shape[1], hidden, N_LATENT)
    history = train(model, X, TrainConfig(epochs=epochs, batch_size=BATCH, lr=LR), torch.Generator().manual_seed(0))
    seconds = [r["seconds"] for r in history.records]
    return median(seconds[1:] if len(seconds) > 1 else seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--sizes", default="6000,60000,600000")
    parser.add_argument("--widths", default="128,256,512,1024")
    parser.add_argument("--width-images", type=int, default=6000)
    parser.add_argument("--quick", action="store_true", help="sizes 1.2k, 6k, 12k; 2 epochs")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.epochs = "1200,6000,12000", 2
    torch.set_num_threads(args.threads)
    os.environ["LATENTSPACE_THREADS"] = str(args.threads)  # estimators' threads=None follow it
    X_train, _ = load_reference_data()

    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        X = X_train[:n] if n <= X_train.shape[0] else X_train.repeat(-(-n // X_train.shape[0]), 1)[:n]
        s = seconds_per_epoch(X, (512, 256), args.epochs)
        rows.append([f"{n:,}", s, n / s, s / n * 1e6])
        del X
    print_table(f"Seconds per epoch against data size (784-512-256-16, batch {BATCH}). {machine()}",
                ["images", "s/epoch", "samples/s", "ms per 1k images"], rows)

    rows = []
    X = X_train[: args.width_images]
    for w in (int(s) for s in args.widths.split(",")):
        hidden = (w, w // 2)
        flops = step_flops(layer_shapes(hidden=hidden)) * -(-X.shape[0] // BATCH)
        s = seconds_per_epoch(X, hidden, args.epochs)
        rows.append([f"784-{w}-{w // 2}-16", s, flops / 1e9, flops / s / 1e9, s / flops * 1e9])
    print_table(f"Seconds per epoch against width ({X.shape[0]:,} images, batch {BATCH}). {machine()}",
                ["network", "s/epoch", "matmul GFLOP/epoch", "GFLOP/s", "s per GFLOP"], rows)


if __name__ == "__main__":
    main()
