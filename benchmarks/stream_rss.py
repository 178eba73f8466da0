"""Peak memory of training on a table larger than memory: one epoch of an AE through a torch Dataset
over an HDF5 file (docs/data.md's recipe), and through ``ChunkedRows``, each in a fresh process.

    PYTHONPATH=src python benchmarks/stream_rss.py --rows 2000000 [--file /tmp/table.h5] [--keep]

The table is Fashion-MNIST's 60,000 training images (784 float32 features) repeated, each copy with a
little noise, until it has ``--rows`` rows; 2,000,000 rows are 6.3 GB. It is written once (contiguous,
uncompressed) and reused while ``--file`` exists. Each contender runs in its own interpreter; the table
gives its wall time (the scan pass included), rows per second and peak resident memory (VmHWM), and
the peak of an interpreter that imports the library and builds the model without training (the floor).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import peak_rss_mb

FEATURES = 784


def write_table(path: Path, rows: int) -> None:
    import h5py

    from latentspace.data import load_fashion_mnist

    base = load_fashion_mnist().X_train.astype(np.float32)
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("X", shape=(rows, FEATURES), dtype=np.float32)
        for a in range(0, rows, len(base)):
            b = min(rows, a + len(base))
            noise = rng.normal(0, 0.01, size=(b - a, FEATURES)).astype(np.float32)
            ds[a:b] = base[: b - a] + noise


def child(mode: str, path: str) -> None:
    """One contender, in this (fresh) process: prints a JSON line."""
    import h5py
    import torch

    from latentspace import AutoEncoder
    from latentspace.data import ChunkedRows

    class HDF5Table(torch.utils.data.Dataset):
        """docs/data.md's recipe: rows of an HDF5 dataset, one read per batch."""

        def __init__(self, path: str, key: str):
            self.path, self.key, self.file = path, key, None
            with h5py.File(path, "r") as f:
                self.n = len(f[key])

        def __len__(self):
            return self.n

        def rows(self):
            if self.file is None:  # opened in the process that reads (h5py handles do not survive a fork)
                self.file = h5py.File(self.path, "r")
            return self.file[self.key]

        def __getitem__(self, i):
            return torch.from_numpy(self.rows()[i])

        def __getitems__(self, indices):
            idx = np.sort(np.asarray(indices))
            if idx[-1] - idx[0] + 1 == len(idx):  # a run of rows: one slice
                return torch.from_numpy(self.rows()[idx[0] : idx[-1] + 1])
            return torch.from_numpy(self.rows()[idx])  # h5py reads increasing indices in one call

    torch.set_num_threads(1)
    if mode == "floor":  # the interpreter, torch, the library and the model, without data
        AutoEncoder(16, hidden=(256, 64))._build_model(FEATURES)
        print(json.dumps({"mode": mode, "rows": 0, "seconds": 0, "peak": peak_rss_mb() * 2**20, "loss": None}))
        return
    model = AutoEncoder(16, hidden=(256, 64), epochs=1, validation_fraction=0.0, patience=None, random_state=0)
    started = time.perf_counter()
    if mode == "dataset":
        data = HDF5Table(path, "X")
        model.fit(data)
    elif mode == "chunked":
        data = ChunkedRows(path + ":/X", batch_size=128)
        model.fit(data)
    n = len(data) if mode == "dataset" else data.n_rows
    seconds = time.perf_counter() - started
    print(json.dumps({"mode": mode, "rows": n, "seconds": seconds, "peak": peak_rss_mb() * 2**20,
                      "loss": model.history_[-1]["train_loss"]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--file", default="/tmp/latentspace-table.h5")
    parser.add_argument("--modes", default="floor,dataset,chunked")
    parser.add_argument("--keep", action="store_true", help="keep the table file afterwards")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    path = Path(args.file)
    if not path.exists():
        started = time.perf_counter()
        write_table(path, args.rows)
        print(f"wrote {path}: {args.rows} x {FEATURES} float32, {path.stat().st_size / 1e9:.2f} GB in "
              f"{time.perf_counter() - started:.0f} s")
    print(f"load {os.getloadavg()[0]:.2f}; AE 784-256-64-16, batch 128, one epoch, one thread")
    print(f"{'path':<10}{'rows':>11}{'seconds':>9}{'rows/s':>9}{'peak RSS':>10}{'train loss':>12}")
    for mode in args.modes.split(","):
        out = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], capture_output=True,
                             text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rate = r["rows"] / r["seconds"] if r["seconds"] else 0
        loss = "-" if r["loss"] is None else f"{r['loss']:.3f}"
        print(f"{r['mode']:<10}{r['rows']:>11,}{r['seconds']:>9.0f}{rate:>9.0f}{r['peak'] / 2**20:>7.0f} MiB{loss:>12}",
              flush=True)
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    if not args.keep:
        path.unlink()


if __name__ == "__main__":
    main()
