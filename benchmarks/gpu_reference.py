"""The reference workload on a CUDA GPU: float32 and bfloat16, the plain loop and ``VAE.fit``.

Part of ``benchmarks/gpu_check.sh``. Trains the reference network (784-512-256-16, Bernoulli,
Fashion-MNIST; digits when Fashion-MNIST is not on the machine, said in the table) for ``--epochs``
epochs with each contender and prints seconds per epoch and the test -ELBO (one estimator, on the
CPU, for all). The plain loop runs in float32 and under ``torch.autocast(dtype=torch.bfloat16)``;
``VAE.fit`` with ``precision="32"`` and ``"bf16"``. ``--save DIR`` keeps the float32 VAE, so that a
CPU-only process can check that it loads.

    PYTHONPATH=src python benchmarks/gpu_reference.py --epochs 3 --save /tmp/gpu-vae
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

import torch
from _common import N_LATENT, HIDDEN, machine, print_table, test_nelbo
from baseline_loop import PlainLoop


def reference_data():
    """Fashion-MNIST's train/test tensors in [0, 1] and its name; digits (named so) where it is absent."""
    from latentspace.data import fashion_mnist_available, load_digits, load_fashion_mnist

    if fashion_mnist_available():
        d, name = load_fashion_mnist(), "fashion-mnist"
    else:
        d, name = load_digits(seed=0), "digits (fashion-mnist not on this machine)"
    return torch.from_numpy(d.X_train), torch.from_numpy(d.X_test), name


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def plain_row(X, X_test, epochs: int, bf16: bool, device: str) -> list:
    loop = PlainLoop(X.to(device), HIDDEN, N_LATENT, binarize=True)
    loop.model.to(device)
    autocast = torch.autocast(device.split(":")[0], dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    seconds = []
    with autocast:
        for _ in range(epochs):
            synchronize(device)
            start = time.perf_counter()
            loop.run_epoch()
            synchronize(device)
            seconds.append(time.perf_counter() - start)
    loop.model.float().cpu()
    nelbo = test_nelbo(loop.posterior, loop.decoder_logits, X_test)
    return ["plain loop", "bf16 autocast" if bf16 else "float32", min(seconds), nelbo]


def library_row(X, X_test, epochs: int, precision: str, save: str | None, device: str) -> list:
    from latentspace import VAE

    vae = VAE(N_LATENT, hidden=HIDDEN, epochs=epochs, binarize="dynamic", device=device, precision=precision,
              validation_fraction=0.0, random_state=0).fit(X.numpy())
    per_epoch = min(r["seconds"] for r in vae.history_)
    if save:
        vae.save(save)
    model = vae.model_.cpu()
    nelbo = test_nelbo(model.posterior, model.decoder, X_test)
    return ["VAE.fit", f"precision={precision!r}", per_epoch, nelbo]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--save", default=None, help="folder for the float32 VAE (for the CPU-load check)")
    parser.add_argument("--device", default="cuda", help="cuda (default); cpu for a smoke run of this script")
    parser.add_argument("--rows", type=int, default=None, help="train on the first ROWS images (smoke runs)")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: the GPU reference workload did not run")
        return 0
    X, X_test, name = reference_data()
    X = X[: args.rows]
    X_test = torch.bernoulli(X_test, generator=torch.Generator().manual_seed(0))  # binarised once
    bf16 = args.device.startswith("cuda") and torch.cuda.is_bf16_supported()
    rows = [plain_row(X, X_test, args.epochs, False, args.device)]
    rows += [plain_row(X, X_test, args.epochs, True, args.device)] if bf16 else []
    rows += [library_row(X, X_test, args.epochs, "32", args.save, args.device)]
    rows += [library_row(X, X_test, args.epochs, "bf16", None, args.device)] if bf16 else []
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device
    print_table(f"reference workload on {where} ({name}, {len(X):,} images, "
                f"{args.epochs} epochs, batch 128; fastest epoch; test -ELBO, 4 draws, nats); {machine()}",
                ["contender", "precision", "s/epoch", "test -ELBO"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
