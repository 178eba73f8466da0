"""Training throughput on the reference workload, side by side in one process.

MLP VAE 784-512-256-16, Bernoulli, Fashion-MNIST 60,000, batch 128, Adam lr 1e-3, float32. Contenders:

- ``latentspace``: ``latentspace.training.train`` on the model ``VAE(hidden=(512, 256))`` builds, with
  the kernels it measures fastest at the start of the fit (``nn.backend.choose_kernels``);
- ``latentspace-onednn`` / ``latentspace-aten``: the same with the kernels forced (``LATENTSPACE_LINEAR``);
- ``latentspace-bf16``: the same with ``precision="bf16"`` (skipped with a message where refused);
- ``latentspace-fit``: the public estimator, ``VAE(16, hidden=(512, 256), ...).fit(X)`` on a numpy
  array; its row also gives fit's time beyond its epochs ("fit overhead s");
- ``plain``: the hand-written loop of ``baseline_loop.py`` (pytorch/examples style, default Adam);
- ``plain-fused``: the same with ``Adam(fused=True)``;
- ``pythae``: pythae 0.1.2's VAE and BaseTrainer, when it imports (skipped with a message otherwise).

The machine may be shared, so the contenders run in alternating rounds (each round trains every
contender from the same seed for ``--epochs`` epochs); seconds per epoch are medians over all rounds
with each run's first epoch dropped as warm-up. Test -ELBO is the same estimator for every contender.
Peak memory is measured in a child process per contender (one epoch alone), so they do not mix.

    PYTHONPATH=src python benchmarks/train_throughput.py            # 4 epochs x 3 rounds
    PYTHONPATH=src python benchmarks/train_throughput.py --quick    # 12k images, 3 epochs, 1 round
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import torch
from _common import (
    BATCH,
    HIDDEN,
    LR,
    N_LATENT,
    build_latentspace_vae,
    load_reference_data,
    machine,
    median,
    peak_rss_mb,
    print_table,
    test_nelbo,
)

CONTENDERS = ("latentspace", "latentspace-onednn", "latentspace-aten", "latentspace-bf16", "latentspace-fit",
              "plain", "plain-fused", "pythae")


class LatentspaceRun:
    def __init__(self, X: torch.Tensor, linear_backend: str = "auto", seed: int = 0, precision: str = "32"):
        self.model = build_latentspace_vae(X.shape[1], HIDDEN, N_LATENT, seed)
        self.X, self.linear_backend, self.seed, self.precision = X, linear_backend, seed, precision
        self.compute: dict = {}
        self.overhead = float("nan")

    def run_epochs(self, epochs: int) -> list[float]:
        from latentspace.nn.backend import set_linear_backend
        from latentspace.training import TrainConfig, train

        previous = set_linear_backend(self.linear_backend)
        try:
            config = TrainConfig(epochs=epochs, batch_size=BATCH, lr=LR, precision=self.precision)
            history = train(self.model, self.X, config, torch.Generator().manual_seed(self.seed))
        finally:
            set_linear_backend(previous)
        self.compute = history.compute
        return [r["seconds"] for r in history.records]

    def posterior(self, x):
        return self.model.posterior(x)

    def decoder_logits(self, z):
        return self.model.decoder(z)


class EstimatorRun:
    """The public estimator on a numpy array, as a user calls it; ``overhead``: fit's seconds beyond its epochs."""

    def __init__(self, X: torch.Tensor, seed: int = 0):
        self.X, self.seed, self.compute, self.overhead = X.numpy(), seed, {}, float("nan")

    def run_epochs(self, epochs: int) -> list[float]:
        import time

        from latentspace import VAE

        self.vae = VAE(N_LATENT, hidden=HIDDEN, epochs=epochs, batch_size=BATCH, lr=LR, validation_fraction=0.0,
                       random_state=self.seed, threads=torch.get_num_threads())
        start = time.perf_counter()
        self.vae.fit(self.X)
        wall = time.perf_counter() - start
        seconds = [r["seconds"] for r in self.vae.history_]
        self.overhead, self.compute = wall - sum(seconds), self.vae.compute_
        return seconds

    def posterior(self, x):
        return self.vae.model_.posterior(x)

    def decoder_logits(self, z):
        return self.vae.model_.decoder(z)


class PlainRun:
    def __init__(self, X: torch.Tensor, fused: bool, seed: int = 0):
        from baseline_loop import PlainLoop

        self.loop = PlainLoop(X, HIDDEN, N_LATENT, BATCH, LR, fused=fused, seed=seed)

    def run_epochs(self, epochs: int) -> list[float]:
        import time

        seconds = []
        for _ in range(epochs):
            start = time.perf_counter()
            self.loop.run_epoch()
            seconds.append(time.perf_counter() - start)
        return seconds

    def posterior(self, x):
        return self.loop.posterior(x)

    def decoder_logits(self, z):
        return self.loop.decoder_logits(z)


def make_run(name: str, X: torch.Tensor, seed: int = 0):
    if name == "latentspace":
        return LatentspaceRun(X, "auto", seed)
    if name in ("latentspace-onednn", "latentspace-aten"):
        return LatentspaceRun(X, name.split("-")[1], seed)
    if name == "latentspace-bf16":
        return LatentspaceRun(X, "auto", seed, precision="bf16")
    if name == "latentspace-fit":
        return EstimatorRun(X, seed)
    if name in ("plain", "plain-fused"):
        return PlainRun(X, fused=name == "plain-fused", seed=seed)
    if name == "pythae":
        from pythae_peer import PythaeRun

        return PythaeRun(X, HIDDEN, N_LATENT, BATCH, LR, seed=seed)
    raise SystemExit(f"unknown contender {name!r}; choose from {', '.join(CONTENDERS)}")


def child_memory(name: str, n_train: int, threads: int) -> float:
    """Peak RSS (MB) of a fresh process that loads the data and trains ``name`` for one epoch."""
    cmd = [sys.executable, __file__, "--child", name, "--n-train", str(n_train), "--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1])["peak_rss_mb"] if lines else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run (the first is warm-up)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of every contender")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-train", type=int, default=None, help="first N training images (default all)")
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--no-memory", action="store_true", help="skip the per-contender memory runs")
    parser.add_argument("--quick", action="store_true", help="12,000 images, 3 epochs, 1 round")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.n_train, args.epochs, args.rounds = args.n_train or 12000, 3, 1
    torch.set_num_threads(args.threads)
    X_train, X_test = load_reference_data(args.n_train)

    if args.child:
        make_run(args.child, X_train).run_epochs(1)
        print(json.dumps({"peak_rss_mb": peak_rss_mb()}))
        return

    names = [n.strip() for n in args.contenders.split(",") if n.strip()]
    if "pythae" in names:
        from pythae_peer import available

        reason = available()
        if reason is not None:
            print(f"pythae skipped (not importable here: {reason}); see benchmarks/requirements-pythae.txt")
            names.remove("pythae")
    if "latentspace-bf16" in names:
        from latentspace.nn.backend import bf16_problem

        problem = bf16_problem("cpu")
        if problem is not None:
            print(f"latentspace-bf16 skipped: {problem}")
            names.remove("latentspace-bf16")
    seconds: dict[str, list[float]] = {n: [] for n in names}
    nelbo: dict[str, list[float]] = {n: [] for n in names}
    overhead: dict[str, list[float]] = {n: [] for n in names}
    kernels: dict[str, str] = {}
    for r in range(args.rounds):
        for name in names:
            run = make_run(name, X_train, seed=r)
            per_epoch = run.run_epochs(args.epochs)
            seconds[name] += per_epoch[1:] if len(per_epoch) > 1 else per_epoch
            nelbo[name].append(test_nelbo(run.posterior, run.decoder_logits, X_test))
            overhead[name].append(getattr(run, "overhead", float("nan")))
            compute = getattr(run, "compute", {})
            if compute:
                kernels[name] = f"{compute['kernel']} {compute['precision']} ({compute['how']})"
            print(f"round {r + 1} {name:18s} s/epoch {' '.join(f'{s:.2f}' for s in per_epoch)}  "
                  f"test -ELBO {nelbo[name][-1]:.2f}  {compute or ''}  load {os.getloadavg()[0]:.1f}", flush=True)
    memory = {n: float("nan") if args.no_memory else child_memory(n, X_train.shape[0], args.threads) for n in names}

    ours = median(seconds.get("latentspace", [float("nan")]))
    ref_nelbo = median(nelbo.get("latentspace", [float("nan")]))
    rows = []
    for n in names:
        s = median(seconds[n])
        rows.append([n, kernels.get(n, ""), s, X_train.shape[0] / s, s / ours, median(nelbo[n]),
                     median(nelbo[n]) - ref_nelbo, median(overhead[n]), memory[n]])
    print_table(
        f"Training throughput: VAE 784-512-256-16, Bernoulli, {X_train.shape[0]:,} Fashion-MNIST images, batch "
        f"{BATCH}; {args.epochs} epochs x {args.rounds} alternating rounds, medians, warm-up epoch dropped. "
        f"{machine()}",
        ["contender", "kernels", "s/epoch", "samples/s", "latentspace speed-up", "test -ELBO", "vs latentspace",
         "fit overhead s", "peak RSS MB (alone)"],
        rows,
    )


if __name__ == "__main__":
    main()
