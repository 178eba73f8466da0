"""Memory of loading a large .npy memory-mapped: ``load_dataset(path, mmap=True)`` (read, validate, split).

Writes an N x D float32 .npy (default 1,000,000 x 784, 3.1 GB) in a temporary folder, then in a fresh
process loads it memory-mapped (the NaN/infinity check reads every row) and reports the process's
peak resident memory against the file's size. Run: ``python benchmarks/data_mmap.py [--rows N]``.
The file is deleted afterwards. Training from the memmap is the trainer's part and is not timed here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MEASURE = r"""
import json, re, sys, time
from latentspace.data import load_dataset
def status():
    text = open('/proc/self/status').read()
    return {k: int(re.search(k + r':\s+(\d+)', text).group(1)) / 1024 for k in ('VmHWM', 'VmRSS', 'RssAnon', 'RssFile')}
before = status()
start = time.perf_counter()
data = load_dataset(sys.argv[1], mmap=True, test_fraction=0.1)
seconds = time.perf_counter() - start
after = status()
print(json.dumps({'before': before, 'after': after, 'seconds': seconds, 'describe': data.describe()}))
"""


def write_npy(path: Path, rows: int, features: int, chunk: int = 16384) -> None:
    """Write in chunks through plain file writes, so the writer never holds the array either."""
    rng = np.random.default_rng(0)
    with path.open("wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (rows, features)})
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            f.write(rng.random((n, features), dtype=np.float32).tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=784)
    parser.add_argument("--dir", default=None, help="where to write the temporary file (default: system temp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        path = Path(folder) / "big.npy"
        started = time.perf_counter()
        write_npy(path, args.rows, args.features)
        write_seconds = time.perf_counter() - started
        size_mib = path.stat().st_size / 2**20
        result = json.loads(subprocess.run([sys.executable, "-c", MEASURE, str(path)], check=True,
                                           capture_output=True, text=True).stdout)
    after, before = result["after"], result["before"]
    print(result["describe"])
    print(f"{'file size':<34} {size_mib:>10.0f} MiB   (written in {write_seconds:.0f} s)")
    print(f"{'peak resident memory (VmHWM)':<34} {after['VmHWM']:>10.0f} MiB   (before loading: {before['VmHWM']:.0f})")
    print(f"{'resident after load: anonymous':<34} {after['RssAnon']:>10.0f} MiB")
    print(f"{'resident after load: file pages':<34} {after['RssFile']:>10.0f} MiB")
    print(f"{'load + full NaN check + split':<34} {result['seconds']:>10.1f} s")
    print(f"{'peak / file size':<34} {after['VmHWM'] / size_mib:>10.1%}")


if __name__ == "__main__":
    main()
