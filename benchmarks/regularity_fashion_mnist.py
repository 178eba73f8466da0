"""Full regularity table on Fashion-MNIST: PCA, deep AE and VAE at k = 2 and k = 16.

    PYTHONPATH=src python benchmarks/regularity_fashion_mnist.py --epochs 10 --out bench-regularity

Prints one table per model kind and writes every metric to OUT/regularity_fashion_mnist.json. The
Fréchet distances are in latentspace's classifier feature space (not Inception FID). A few minutes on
two CPU cores with the defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

from latentspace import VAE, AutoEncoder
from latentspace.analysis import evaluate_regularity, feature_space
from latentspace.data import fashion_mnist_available, load_dataset, load_fashion_mnist

SHOWN = [
    "heldout_mse_per_feature", "recon_frechet", "recon_precision", "recon_recall",
    "sample_prior_frechet", "sample_prior_precision", "sample_prior_recall",
    "sample_gaussian_frechet", "sample_gaussian_precision", "sample_gaussian_recall",
    "sample_box_frechet", "sample_box_precision", "sample_gmm_frechet", "sample_gmm_precision",
    "holes_gaussian_outside_code_support", "holes_box_outside_code_support",
    "interp_midpoint_frechet", "interp_midpoint_precision", "interp_path_precision",
    "interp_smoothness_ratio_median", "interp_pixel_midpoint_frechet",
    "vae_active_units", "vae_average_kl", "vae_mutual_information", "vae_marginal_kl", "vae_marginal_kl_stderr",
    "fit_seconds",
]


def models(k: int, epochs: int, seed: int):
    from latentspace.analysis.protocol import reference_pca

    # The settings of the documented tables (docs/regularity.md), pinned: no early stopping, no warm-up.
    yield "pca", reference_pca(k, seed)
    yield "ae", AutoEncoder(k, epochs=epochs, batch_size=128, patience=None, random_state=seed)
    yield "vae", VAE(k, epochs=epochs, batch_size=128, likelihood="bernoulli", warmup_epochs=0, patience=None,
                     random_state=seed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="fashion-mnist", help="fashion-mnist (default) or digits, for a quick look")
    parser.add_argument("--ks", default="2,16")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--n-samples", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="bench-regularity")
    args = parser.parse_args()
    if args.data == "fashion-mnist" and not fashion_mnist_available():
        print("Fashion-MNIST not found (apt-get install dataset-fashion-mnist)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    os.environ["LATENTSPACE_THREADS"] = str(args.threads)  # estimators' threads=None follow it
    data = load_fashion_mnist() if args.data == "fashion-mnist" else load_dataset(args.data)
    started = time.perf_counter()
    features = feature_space(data)
    print(f"feature space {features.name}: test accuracy {features.meta.get('test_accuracy', float('nan')):.4f} "
          f"({time.perf_counter() - started:.1f} s, cached after the first run)", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for k in (int(s) for s in args.ks.split(",")):
        for name, estimator in models(k, args.epochs, 0):
            t0 = time.perf_counter()
            estimator.fit(data.X_train)
            fit_seconds = time.perf_counter() - t0
            row = {"model": name, "k": k, **evaluate_regularity(estimator, data, n_samples=args.n_samples, features=features)}
            row["fit_seconds"] = fit_seconds
            row["eval_seconds"] = time.perf_counter() - t0 - fit_seconds
            results.append(row)
            print(f"  {name} k={k}: fit {fit_seconds:.0f} s, metrics {row['eval_seconds']:.0f} s", flush=True)
            # Written after every model so that an interrupted run keeps what it measured.
            (out / f"regularity_{args.data.replace('-', '_')}.json").write_text(json.dumps(results, indent=2))
    header = ["metric"] + [f"{r['model']} k={r['k']}" for r in results]
    print("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for key in SHOWN:
        cells = [f"{r[key]:.4g}" if isinstance(r.get(key), float) else "-" for r in results]
        print(f"| {key} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
