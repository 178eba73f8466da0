"""Shared pieces of the benchmark scripts: the reference workload, timing, memory, tables."""

from __future__ import annotations

import math
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))  # so scripts can import each other

#: the reference workload of issue 10
N_FEATURES, HIDDEN, N_LATENT, BATCH, LR = 784, (512, 256), 16, 128, 1e-3


def machine() -> str:
    """CPU model name, core count, torch version and the thread count in use: for table captions."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{model}, {os.cpu_count()} cores, load {load:.1f}, torch {torch.__version__}, "
            f"{torch.get_num_threads()} thread(s)")


def load_reference_data(n_train: int | None = None, n_test: int | None = None):
    """Fashion-MNIST as float32 tensors in [0, 1]: ``(X_train, X_test)``; exits with a message if absent."""
    from latentspace.data import load_fashion_mnist

    try:
        d = load_fashion_mnist()
    except Exception as exc:  # noqa: BLE001 - the message is what a user needs
        sys.exit(f"Fashion-MNIST is needed for this benchmark: {exc}")
    X_train, X_test = torch.from_numpy(d.X_train), torch.from_numpy(d.X_test)
    return X_train[:n_train], X_test[:n_test]


def build_latentspace_vae(n_features=N_FEATURES, hidden=HIDDEN, n_latent=N_LATENT, seed=0):
    """The model ``latentspace.VAE(n_components=16, hidden=(512, 256))`` trains, seeded."""
    from latentspace.nn.likelihoods import make_likelihood
    from latentspace.nn.mlp import init_parameters, mlp_encoder_decoder
    from latentspace.nn.models import VariationalAutoencoder

    encoder, decoder = mlp_encoder_decoder(n_features, n_latent, hidden, "relu", encoder_out=2 * n_latent)
    model = VariationalAutoencoder(encoder, decoder, make_likelihood("bernoulli", n_features), n_latent)
    init_parameters(model, torch.Generator().manual_seed(seed))
    return model


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, MiB: /proc's VmHWM, which starts afresh at exec
    (``ru_maxrss`` does not: a process started by a large parent reports at least the parent's size)."""
    for line in open("/proc/self/status").read().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@torch.inference_mode()
def test_nelbo(posterior, decoder_logits, X: torch.Tensor, n_draws: int = 4, seed: int = 123) -> float:
    """-ELBO in nats per example (Bernoulli likelihood), the same estimator for every contender.

    ``posterior(x) -> (mu, logvar)``, ``decoder_logits(z) -> logits``; ``n_draws`` fixed noise draws.
    """
    g = torch.Generator().manual_seed(seed)
    total = 0.0
    for start in range(0, X.shape[0], 2000):
        x = X[start : start + 2000]
        mu, logvar = posterior(x)
        kl = 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).sum(-1)
        recon = torch.zeros(x.shape[0])
        for _ in range(n_draws):
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=g)
            recon += F.binary_cross_entropy_with_logits(decoder_logits(z), x, reduction="none").sum(-1)
        total += float((recon / n_draws + kl).sum())
    return total / X.shape[0]


def median(values) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def print_table(title: str, header: list[str], rows: list[list]) -> None:
    """A plain-text table (also valid Markdown) with a title line."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |")
    sys.stdout.flush()


def fmt(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
