"""Does ``torch.compile`` of the training step pay on this CPU? Time to compile against time saved.

The library's step is the model's forward (its loss), backward and Adam. This script times, for the
reference VAE (784-512-256-16, Bernoulli, batches of 128 binarised Fashion-MNIST-sized rows):

* eager steps per second with each dense-layer kernel (``nn/backend.py``): oneDNN's primitive (what a
  fit picks on this CPU) and PyTorch's own ``F.linear`` ("aten");
* the compiled model (``torch.compile(model)``, inductor, default mode) with the aten kernel: inductor
  cannot compile the oneDNN kernel's autograd function (torch 2.13: ``mkldnn_lowerings.linear_unary``
  asserts that the weights are graph constants, i.e. a frozen inference graph), so a compiled fit
  would have to give up oneDNN. Its first call's time with an empty inductor cache (cold) and with
  the cache filled (warm, a fresh process), and its steps per second;
* the break-even: how many steps a fit must run before the compiled step has paid its compile time,
  against the eager oneDNN step a fit uses today.

Rounds alternate eager and compiled timings (the machine's speed drifts). The library does not compile
by default; docs/training.md gives the decision and this table.

    PYTHONPATH=src python benchmarks/compile_step.py [--threads 1] [--steps 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import torch
from _common import BATCH, build_latentspace_vae, machine, print_table

from latentspace.nn import backend


def time_steps(model: torch.nn.Module, step_model, steps: int, X: torch.Tensor) -> float:
    """Seconds for ``steps`` optimiser steps of ``step_model`` (the model or its compiled form)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    for i in range(steps):
        xb = X[(i * BATCH) % (len(X) - BATCH):][:BATCH]
        loss = step_model(xb, generator=generator)["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def first_call_seconds(threads: int, cache: str) -> float:
    """Compile + first step in a fresh process (dynamo's in-memory caches empty), inductor cache ``cache``."""
    code = (
        "import sys, time, torch; sys.path.insert(0, 'benchmarks'); sys.path.insert(0, 'src');"
        "from latentspace.nn import backend; backend.set_linear_backend('aten');"
        f"torch.set_num_threads({threads});"
        "from _common import build_latentspace_vae;"
        "m = build_latentspace_vae(); m.train(); c = torch.compile(m);"
        "x = torch.bernoulli(torch.rand(128, 784, generator=torch.Generator().manual_seed(1)));"
        "t = time.perf_counter(); c(x, generator=torch.Generator().manual_seed(0))['loss'].backward();"
        "print(time.perf_counter() - t)"
    )
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as cache:
        cold = first_call_seconds(args.threads, cache)
        warm = first_call_seconds(args.threads, cache)
    X = torch.bernoulli(torch.rand(8192, 784, generator=torch.Generator().manual_seed(0)))
    model = build_latentspace_vae()
    model.train()
    aten, onednn = backend.Kernels("aten", "32"), backend.Kernels("onednn", "32")
    with backend.using(aten):
        compiled = torch.compile(model)
        time_steps(model, compiled, 5, X)  # compile here, outside the timings
    contenders = {"eager, oneDNN kernel (today's fit)": (onednn, model), "eager, aten kernel": (aten, model),
                  "compiled, aten kernel": (aten, compiled)}
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    for kernels, step_model in contenders.values():
        with backend.using(kernels):
            time_steps(model, step_model, 5, X)
    for _ in range(args.rounds):
        for name, (kernels, step_model) in contenders.items():
            with backend.using(kernels):
                seconds[name].append(time_steps(model, step_model, args.steps, X))
    per_step = {name: min(s) / args.steps for name, s in seconds.items()}
    today = per_step["eager, oneDNN kernel (today's fit)"]
    rows = []
    for name, step in per_step.items():
        saved = today - step
        first = f"{cold:.1f} / {warm:.1f}" if name.startswith("compiled") else "-"
        even = "-" if not name.startswith("compiled") else (
            "never" if saved <= 0 else f"{cold / saved:,.0f} / {warm / saved:,.0f}")
        rows.append([name, f"{1 / step:.1f}", f"{today / step:.3f}", first, even])
    print_table(f"torch.compile of the step, {args.steps} steps x {args.rounds} rounds (fastest round); {machine()}",
                ["step", "steps/s", "speed vs today's", "first call s (cold / warm cache)",
                 "break-even steps vs today's (cold / warm)"], rows)
    for name, s in seconds.items():
        print(f"{name}: rounds {', '.join(f'{x:.2f}' for x in s)} s")


if __name__ == "__main__":
    main()
