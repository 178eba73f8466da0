"""partial_fit over 10 chunks of Fashion-MNIST against fit with the same number of optimiser steps.

    PYTHONPATH=src python benchmarks/partial_fit.py [--passes 1,3] [--models ae,vae,linear] [--threads N]

The 60,000 training images are cut into 10 chunks of 6,000; with batches of 100 one pass of
``partial_fit`` over the chunks takes 600 optimiser steps, exactly one epoch of ``fit`` over the whole.
Both run at the same constant learning rate, without a validation split or early stopping (which
``partial_fit`` does not do), from the same random_state; the table gives the held-out loss (the mean
of ``-score_samples`` over the 10,000 test images: summed squared error for the AEs, -ELBO in nats for
the VAE) and its ratio, partial_fit / fit. Target: within 5% (ratio <= 1.05). Times are wall-clock on
this machine: compare rows of one run only.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from latentspace import VAE, AutoEncoder, LinearAutoEncoder
from latentspace.data import fashion_mnist_available, load_fashion_mnist

CHUNKS, BATCH = 10, 100
MODELS = {
    "ae": lambda **kw: AutoEncoder(16, hidden=(256, 64), **kw),
    "vae": lambda **kw: VAE(16, hidden=(256, 64), likelihood="bernoulli", warmup_epochs=0, **kw),
    "linear": lambda **kw: LinearAutoEncoder(16, lr=0.01, **kw),
}


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def stream(model, chunks, passes: int):
    for _ in range(passes):
        for chunk in chunks:
            model.partial_fit(chunk)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", default="1,3", help="passes over the 10 chunks (= epochs of fit), comma-separated")
    parser.add_argument("--models", default="ae,vae,linear")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if not fashion_mnist_available():
        raise SystemExit("Fashion-MNIST is not installed (Debian's dataset-fashion-mnist)")
    torch.set_num_threads(args.threads)
    data = load_fashion_mnist()
    X, T = data.X_train, data.X_test
    chunks = np.array_split(X, CHUNKS)
    print(f"Fashion-MNIST {X.shape[0]} train / {T.shape[0]} test, {CHUNKS} chunks of {chunks[0].shape[0]}, "
          f"batch {BATCH}, threads {args.threads}, load {os.getloadavg()[0]:.2f}")
    print(f"{'model':<8}{'passes':>7}{'steps':>7}{'fit loss':>12}{'partial loss':>14}{'ratio':>8}{'fit s':>8}{'partial s':>11}")
    for name in args.models.split(","):
        for passes in (int(p) for p in args.passes.split(",")):
            common = dict(batch_size=BATCH, lr_schedule="constant", random_state=0)
            whole, fit_s = timed(lambda: MODELS[name](epochs=passes, validation_fraction=0.0, patience=None,
                                                      **common).fit(X))
            part, part_s = timed(lambda: stream(MODELS[name](**common), chunks, passes))
            steps = int(part._optimizer_state["state"][0]["step"])
            fit_loss, part_loss = -whole.score(T), -part.score(T)
            print(f"{name:<8}{passes:>7}{steps:>7}{fit_loss:>12.3f}{part_loss:>14.3f}{part_loss / fit_loss:>8.4f}"
                  f"{fit_s:>8.1f}{part_s:>11.1f}", flush=True)
    print(f"load at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
