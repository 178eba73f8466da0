"""Seconds per epoch of the one training loop: VAE 784-512-256-16 (Bernoulli) on Fashion-MNIST.

    PYTHONPATH=src python benchmarks/train_speed.py [--epochs 2] [--threads 1]

Prints one row per epoch. The machine is shared, so compare two code versions in alternating runs.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from latentspace.data import load_fashion_mnist
from latentspace.estimators import VAE


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ["LATENTSPACE_THREADS"] = str(args.threads)  # estimators' threads=None follow it
    X = load_fashion_mnist().X_train
    vae = VAE(n_components=16, hidden=(512, 256), epochs=args.epochs, batch_size=args.batch_size,
              validation_fraction=0.0, random_state=0)
    started = time.perf_counter()
    vae.fit(X)
    total = time.perf_counter() - started
    print(f"{'epoch':>5} {'seconds':>8} {'train_loss':>11}")
    for r in vae.history_:
        print(f"{int(r['epoch']):>5} {r['seconds']:>8.2f} {r['train_loss']:>11.3f}")
    print(f"fit total {total:.2f} s ({X.shape[0]} examples, batch {args.batch_size}, {args.threads} thread(s))")


if __name__ == "__main__":
    main()
