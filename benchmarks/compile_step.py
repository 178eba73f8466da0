"""Does ``torch.compile`` of the training step pay on this CPU? Time to compile against time saved.

The library's step is the model's forward (its loss), backward and Adam. This script times, for the
reference VAE (784-512-256-16, Bernoulli, batches of 128 binarised Fashion-MNIST-sized rows):

* eager steps per second;
* the compiled model (``torch.compile(model)``, inductor, default mode): the first call's compile time
  with an empty inductor cache (cold), again in a fresh process-local dynamo state with the cache
  filled (warm), and its steps per second;
* the break-even: how many steps a fit must run before the compiled step has paid its compile time,
  cold and warm.

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
        "import sys, time, torch; sys.path.insert(0, 'benchmarks');"
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
    compiled = torch.compile(model)
    time_steps(model, compiled, 5, X)  # compile here, outside the timings
    time_steps(model, model, 5, X)
    eager_s, compiled_s = [], []
    for _ in range(args.rounds):
        eager_s.append(time_steps(model, model, args.steps, X))
        compiled_s.append(time_steps(model, compiled, args.steps, X))
    eager, comp = min(eager_s) / args.steps, min(compiled_s) / args.steps
    saved = eager - comp
    rows = [
        ["eager", f"{1 / eager:.1f}", "-", "-", "-"],
        ["compiled", f"{1 / comp:.1f}", f"{eager / comp:.3f}", f"{cold:.1f} / {warm:.1f}",
         "never" if saved <= 0 else f"{cold / saved:,.0f} / {warm / saved:,.0f}"],
    ]
    print_table(f"torch.compile of the step, {args.steps} steps x {args.rounds} rounds (fastest round); {machine()}",
                ["step", "steps/s", "speed-up", "first call s (cold / warm cache)", "break-even steps (cold / warm)"],
                rows)
    print("eager rounds s:", ", ".join(f"{s:.2f}" for s in eager_s), "| compiled:", ", ".join(f"{s:.2f}" for s in compiled_s))


if __name__ == "__main__":
    main()
