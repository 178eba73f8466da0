"""Evaluation speed: encode throughput, and the importance-weighted NLL with k = 5,000.

Times the reference VAE (784-512-256-16, Bernoulli) on the 10,000 Fashion-MNIST test images with
both matmul back-ends of ``latentspace.nn.backend`` (``onednn`` and ``aten``, PyTorch's default
kernels; ``VAE.log_likelihood`` measures which is faster and uses it) and, for the IW NLL, the
sample-chunk size (2^20 numbers per intermediate, the default, against the former 2^23), alternating. Encoding runs under ``torch.inference_mode`` in chunks of
4,096 like the estimators' ``transform``; the IW NLL runs ``VAE.log_likelihood``'s path
(``iw_log_likelihood`` on 256 images at a time). The IW NLL on all 10,000 images costs about
10,000 x 5,000 decoder passes; by default it is timed on the first ``--iw-images`` images and the
full wall time is extrapolated linearly (each image costs the same), which the table says.

    PYTHONPATH=src python benchmarks/evaluation.py [--quick] [--iw-images 10000]
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import (
    build_latentspace_vae,
    load_reference_data,
    machine,
    median,
    peak_rss_mb,
    print_table,
)


@torch.inference_mode()
def encode_all(model, X: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    return torch.cat([model.encode(X[i : i + chunk]) for i in range(0, X.shape[0], chunk)])


@torch.inference_mode()
def iw_nll(model, X: torch.Tensor, k: int, seed: int = 0, chunk: int = 256, elements: int = 2**20) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return -torch.cat([model.iw_log_likelihood(X[i : i + chunk], k, g, max_elements=elements)
                       for i in range(0, X.shape[0], chunk)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--k", type=int, default=5000)
    parser.add_argument("--iw-images", type=int, default=None, help="images the IW NLL is timed on")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="IW NLL on 64 images, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 2
    args.iw_images = args.iw_images or (64 if args.quick else 256)
    torch.set_num_threads(args.threads)
    from latentspace.nn.backend import set_linear_backend

    _, X_test = load_reference_data()
    model = build_latentspace_vae().eval()
    X_iw = X_test[: args.iw_images]
    contenders = {"onednn": ("onednn", 2**20), "aten": ("aten", 2**20), "onednn, 2^23 chunks": ("onednn", 2**23),
                  "aten, 2^23 chunks": ("aten", 2**23)}
    backends = list(contenders)
    enc: dict[str, list[float]] = {b: [] for b in backends}
    iw: dict[str, list[float]] = {b: [] for b in backends}
    values = {}
    rss_before_iw = peak_rss_mb()
    for _ in range(args.rounds):
        for b, (kernel, elements) in contenders.items():
            set_linear_backend(kernel)
            start = time.perf_counter()
            encode_all(model, X_test)
            enc[b].append(time.perf_counter() - start)
            start = time.perf_counter()
            values[b] = iw_nll(model, X_iw, args.k, elements=elements)
            iw[b].append(time.perf_counter() - start)
    set_linear_backend("auto")
    scale = X_test.shape[0] / X_iw.shape[0]
    rows = []
    for b in backends:
        e, t = median(enc[b]), median(iw[b])
        rows.append([b, X_test.shape[0] / e, e, t, t * scale, X_iw.shape[0] * args.k / t / 1e3])
    note = "measured" if scale == 1 else f"extrapolated x{scale:.0f} from {X_iw.shape[0]} images"
    print_table(
        f"Evaluation of the reference VAE (untrained weights; cost does not depend on them) on "
        f"{X_test.shape[0]:,} test images, medians of {args.rounds} alternating rounds. {machine()}",
        ["matmul back-end, IW chunks", "encode images/s", "encode all s", f"IW NLL k={args.k} on {X_iw.shape[0]} s",
         f"IW NLL all 10,000 s ({note})", "IW samples/s (thousands)"],
        rows,
    )
    gap = float((values["onednn"] - values["aten"]).abs().max())
    print(f"\nIW NLL agreement between back-ends (same seed): max |difference| {gap:.2e} nats")
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB (before the IW runs: {rss_before_iw:.0f} MB)")


if __name__ == "__main__":
    main()
