"""Conv VAE vs MLP VAE on Fashion-MNIST at z = 16, same epochs, same optimiser, same likelihood.

Columns (test set, nats per image unless said otherwise):
  -ELBO        negative ELBO, 16 common noise draws per image
  IW-NLL       importance-weighted estimate of -log p(x) with k samples on the first --iw-images images
  MSE/px       reconstruction error per pixel of decode(encode(x)) (decoder means, grey levels in [0, 1])
  FD-PCA50     Fréchet distance between decoded prior samples and test images, both in the space of the
               top 50 principal components of the training images. A SELF-CONTAINED STAND-IN for the
               feature-net Fréchet distance of latentspace.analysis (not comparable with FID numbers).
  s/epoch      mean wall-clock seconds per training epoch (on whatever machine ran it)

Pixels are grey levels in [0, 1] under a Bernoulli likelihood (no binarisation), so the nats are not
comparable with the binarised-data numbers in the literature.

    python benchmarks/conv_vs_mlp_fashion_mnist.py --quick          # minutes on a laptop CPU
    python benchmarks/conv_vs_mlp_fashion_mnist.py                  # the full run (see --help)
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from scipy import linalg
from sklearn.decomposition import PCA

from latentspace import VAE
from latentspace.data import fashion_mnist_available, load_fashion_mnist

N_LATENT = 16


def models(epochs: int, seed: int) -> dict[str, VAE]:
    common = dict(n_components=N_LATENT, likelihood="bernoulli", epochs=epochs, batch_size=128, lr=1e-3,
                  validation_fraction=0.0, random_state=seed)
    return {
        "MLP VAE 784-512-256-16": VAE(hidden=(512, 256), **common),
        "conv VAE (32,64)+256-16": VAE(architecture="conv", image_shape=(1, 28, 28), channels=(32, 64),
                                        hidden=(256,), **common),
    }


def psd_sqrt(m: np.ndarray) -> np.ndarray:
    values, vectors = linalg.eigh(m)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to the rows of ``a`` and of ``b``.

    tr sqrt(C_a C_b) = tr sqrt(S C_b S) with S = C_a^(1/2): a symmetric PSD matrix, so its square
    root comes from an eigendecomposition, real and stable.
    """
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    s = psd_sqrt(cov_a)
    cross = np.sum(np.sqrt(np.clip(linalg.eigvalsh(s @ cov_b @ s), 0, None)))
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


def n_parameters(vae: VAE) -> int:
    return sum(p.numel() for p in vae.model_.parameters())


def measure(vae: VAE, X_test: np.ndarray, pca: PCA, args: argparse.Namespace) -> dict[str, float]:
    started = time.perf_counter()
    X_iw = X_test[: args.iw_images]
    samples = vae.sample(len(X_test), random_state=args.seed + 1)
    result = {
        "-ELBO": -float(np.mean(vae.score_samples(X_test))),
        "IW-NLL": -float(np.mean(vae.log_likelihood(X_iw, k=args.k, random_state=args.seed))),
        "MSE/px": float(np.mean((vae.reconstruct(X_test) - X_test) ** 2)),
        "FD-PCA50": frechet_distance(pca.transform(samples), pca.transform(X_test)),
        "s/epoch": float(np.mean([r["seconds"] for r in vae.history_])),
        "params": float(n_parameters(vae)),
    }
    result["eval s"] = time.perf_counter() - started
    return result


def print_table(rows: dict[str, dict[str, float]], args: argparse.Namespace, n_train: int, n_test: int) -> None:
    print(f"\nFashion-MNIST, z={N_LATENT}, {args.epochs} epochs on {n_train} training images, "
          f"tested on {n_test} (IW-NLL: k={args.k} on {min(args.iw_images, n_test)}); "
          f"torch threads={torch.get_num_threads()}")
    columns = ["-ELBO", "IW-NLL", "MSE/px", "FD-PCA50", "s/epoch", "params"]
    formats = {"MSE/px": "{:.4f}", "params": "{:,.0f}", "s/epoch": "{:.1f}"}
    print("| model | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for name, row in rows.items():
        cells = [formats.get(c, "{:.2f}").format(row[c]) for c in columns]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("FD-PCA50 is a stand-in (PCA-50 features of the training images), not the feature-net FD.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--train-size", type=int, default=None, help="use the first N training images (default all)")
    parser.add_argument("--test-size", type=int, default=None, help="use the first N test images (default all)")
    parser.add_argument("--k", type=int, default=500, help="importance samples for IW-NLL")
    parser.add_argument("--iw-images", type=int, default=2000, help="test images for IW-NLL")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="2 epochs on 5,000 training images, 1,000 test images, k=50 on 500")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.train_size, args.test_size, args.k, args.iw_images = 2, 5000, 1000, 50, 500
    if args.threads:
        torch.set_num_threads(args.threads)
        os.environ["LATENTSPACE_THREADS"] = str(args.threads)  # estimators' threads=None follow it
    if not fashion_mnist_available():
        raise SystemExit("Fashion-MNIST IDX files not found (apt-get install dataset-fashion-mnist)")
    data = load_fashion_mnist()
    X_train, X_test = data.X_train[: args.train_size], data.X_test[: args.test_size]
    pca = PCA(n_components=50, random_state=args.seed).fit(X_train)
    rows = {}
    for name, vae in models(args.epochs, args.seed).items():
        vae.fit(X_train)
        rows[name] = measure(vae, X_test, pca, args)
        print(f"{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in rows[name].items()), flush=True)
    print_table(rows, args, len(X_train), len(X_test))


if __name__ == "__main__":
    main()
