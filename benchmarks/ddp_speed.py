"""Throughput of the training loop in one process vs. several under torchrun (same effective batch).

    PYTHONPATH=src python benchmarks/ddp_speed.py --batch-size 128
    PYTHONPATH=src torchrun --standalone --nproc_per_node=2 benchmarks/ddp_speed.py --batch-size 64

VAE 784-512-256-16 on Fashion-MNIST (digits with --data digits); one thread per process. Rank 0
prints seconds per epoch and examples per second. On a 2-core CPU expect no speed-up: the point of
running it there is that it works.
"""

from __future__ import annotations

import argparse
import os

import torch

from latentspace.data import load_dataset
from latentspace.estimators import VAE


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128, help="per process")
    args = parser.parse_args()
    torch.set_num_threads(1)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    X = load_dataset(args.data).X_train
    vae = VAE(n_components=16, hidden=(512, 256), epochs=args.epochs, batch_size=args.batch_size,
              validation_fraction=0.0, random_state=0).fit(X)
    if int(os.environ.get("RANK", "0")) == 0:
        seconds = sum(r["seconds"] for r in vae.history_) / len(vae.history_)
        print(f"processes {world}  batch/process {args.batch_size}  effective batch {world * args.batch_size}  "
              f"s/epoch {seconds:.2f}  examples/s {len(X) / seconds:.0f}  loss {vae.history_[-1]['train_loss']:.3f}")


if __name__ == "__main__":
    main()
