"""The matmul limit of the reference network on this machine, and latentspace's fraction of it.

One training step of the VAE 784-512-256-16 at batch 128 does, per linear layer, a forward product
(n x in x out) and two backward ones (input gradient, weight gradient); the first layer's input
gradient is not needed. This times exactly those products, alternating kernels in one process:

- ``aten``: ``torch.mm`` / ``F.linear``, PyTorch's default CPU kernels (MKL sgemm in the CPU wheel);
- ``onednn``: oneDNN's linear primitive (what ``latentspace.nn.backend.Linear`` uses);
- ``numpy``: numpy's BLAS (OpenBLAS; slowed here when OPENBLAS_CORETYPE pins an older kernel);

then times full latentspace training steps and reports the share of the best kernels' time in them.

    PYTHONPATH=src python benchmarks/matmul_limit.py [--quick] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import (
    BATCH,
    HIDDEN,
    LR,
    N_FEATURES,
    N_LATENT,
    build_latentspace_vae,
    machine,
    median,
    print_table,
)


def layer_shapes(n_features=N_FEATURES, hidden=HIDDEN, n_latent=N_LATENT) -> list[tuple[int, int]]:
    enc = [n_features, *hidden, 2 * n_latent]
    dec = [n_latent, *reversed(hidden), n_features]
    return list(zip(enc[:-1], enc[1:])) + list(zip(dec[:-1], dec[1:]))


def step_flops(shapes, batch=BATCH) -> int:
    """Multiply-adds x 2 of one training step's products (the first layer has no input gradient)."""
    return sum(2 * batch * a * b * (2 if i == 0 else 3) for i, (a, b) in enumerate(shapes))


def make_kernels(shapes, batch=BATCH):
    from latentspace.nn.backend import onednn_available

    torch_data = [(torch.randn(batch, a), torch.randn(b, a), torch.randn(batch, b)) for a, b in shapes]
    np_data = [(x.numpy(), w.numpy(), g.numpy()) for x, w, g in torch_data]

    def aten():
        for i, (x, w, g) in enumerate(torch_data):
            torch.mm(x, w.t())
            if i:
                torch.mm(g, w)
            torch.mm(g.t(), x)

    def onednn():
        op = torch.ops.mkldnn._linear_pointwise
        for i, (x, w, g) in enumerate(torch_data):
            op(x, w, None, "none", [], "")
            if i:
                op(g, w.t(), None, "none", [], "")
            op(g.t(), x.t(), None, "none", [], "")

    def numpy_blas():
        for i, (x, w, g) in enumerate(np_data):
            x @ w.T
            if i:
                g @ w
            g.T @ x

    kernels = {"aten": aten, "numpy": numpy_blas}
    if onednn_available():
        kernels["onednn"] = onednn
    return kernels


def full_step(shapes_model=None):
    """A closure doing one latentspace training step (forward, backward, fused Adam) at batch 128."""
    model = build_latentspace_vae()
    opt = torch.optim.Adam(model.parameters(), lr=LR, fused=True)
    x = torch.rand(BATCH, N_FEATURES)
    g = torch.Generator().manual_seed(0)

    def step():
        losses = model(x, generator=g)
        opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        opt.step()

    return step


def time_per_call(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="3 rounds of 20 calls")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.calls = 3, 20
    torch.set_num_threads(args.threads)
    try:  # numpy's BLAS has its own thread pool: give it the same number of threads
        from threadpoolctl import threadpool_info, threadpool_limits

        threadpool_limits(args.threads)
        blas = "; ".join(f"{i['internal_api']} {i.get('architecture', '?')} kernels" for i in threadpool_info()
                         if i.get("user_api") == "blas")
    except ImportError:
        blas = "threadpoolctl absent: numpy BLAS threads not limited"
    shapes = layer_shapes()
    flops = step_flops(shapes)
    fns = make_kernels(shapes)
    fns["latentspace step"] = full_step()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(args.rounds):  # alternate so that a busy moment hits every kernel alike
        for name, fn in fns.items():
            fn()
            times[name].append(time_per_call(fn, args.calls))
    med = {k: median(v) for k, v in times.items()}
    kernels = [k for k in fns if k != "latentspace step"]
    best = min(kernels, key=lambda k: med[k])
    steps_per_epoch = -(-60000 // BATCH)
    rows = [[k, med[k] * 1e3, flops / med[k] / 1e9, med[k] * steps_per_epoch, med[best] / med[k]] for k in kernels]
    step = med["latentspace step"]
    rows.append(["latentspace full step", step * 1e3, flops / step / 1e9, step * steps_per_epoch, med[best] / step])
    print_table(
        f"Matmul limit of one training step (6 layers, forward + both backward products, "
        f"{flops / 1e6:.0f} MFLOP/step, batch {BATCH}), medians of {args.rounds} alternating rounds; "
        f"best kernels: {best}. {machine()}",
        ["kernels", "ms/step", "GFLOP/s", "s/epoch (469 steps)", "fraction of best-kernel limit"],
        rows,
    )
    print(f"\nnumpy BLAS: {blas}")


if __name__ == "__main__":
    main()
