"""Linear AE vs PCA: the table for digits (k = 2, 5, 10) and Fashion-MNIST (k = 16) when present.

    PYTHONPATH=src python benchmarks/pca_check.py [--threads N] [--no-fashion] [--nonlinear]

Fit times are wall-clock on this machine: compare rows of one run only.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from threadpoolctl import threadpool_limits

from latentspace import VAE, AutoEncoder, LinearAutoEncoder
from latentspace.analysis import compare_with_pca
from latentspace.data import fashion_mnist_available, load_digits, load_fashion_mnist

HEADER = (f"{'data':<14}{'model':<20}{'k':>4}{'wd':>6}{'max angle':>11}{'test ratio':>12}{'max|cos|':>10}"
          f"{'min dir|cos|':>14}{'fit s':>9}{'PCA s':>8}")


def fitted(model, X):
    started = time.perf_counter()
    model.fit(X)
    return model, time.perf_counter() - started


def row(name: str, c, seconds: float) -> str:
    angle = "-" if c.linear is False else f"{c.max_principal_angle_deg:.3f}"
    cos = "-" if c.linear is False else f"{c.max_abs_cos_between_columns:.3f}"
    direction = "-" if c.linear is False else f"{min(c.direction_abs_cos):.4f}"
    return (f"{name:<14}{c.model:<20}{c.n_components:>4}{c.weight_decay:>6g}{angle:>11}{c.test_mse_ratio:>12.5f}"
            f"{cos:>10}{direction:>14}{seconds:>9.2f}{c.pca_fit_seconds:>8.3f}")


def measure(name, data, model) -> str:
    model, seconds = fitted(model, data.X_train)
    return row(name, compare_with_pca(model, data.X_train, data.X_test), seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-fashion", action="store_true")
    parser.add_argument("--nonlinear", action="store_true", help="add a deep AE and a VAE on digits")
    parser.add_argument("--fashion-epochs", type=int, default=60)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ["LATENTSPACE_THREADS"] = str(args.threads)  # estimators' threads=None follow it
    threadpool_limits(args.threads)  # PCA's BLAS gets the same cores as torch
    print(HEADER)
    print("-" * len(HEADER))
    digits = load_digits(seed=0)
    for k in (2, 5, 10):
        print(measure("digits", digits, LinearAutoEncoder(k, random_state=0)), flush=True)
        print(measure("digits", digits, LinearAutoEncoder(k, weight_decay=0.1, random_state=0)), flush=True)
        if args.nonlinear:
            print(measure("digits", digits, AutoEncoder(k, random_state=0)), flush=True)
            print(measure("digits", digits, VAE(k, random_state=0)), flush=True)
    if not args.no_fashion and fashion_mnist_available():
        fashion = load_fashion_mnist()
        model = LinearAutoEncoder(16, epochs=args.fashion_epochs, random_state=0)
        print(measure("fashion-mnist", fashion, model), flush=True)


if __name__ == "__main__":
    main()
