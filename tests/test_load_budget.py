"""The memory budget bounds the whole load: the reader's array, the validation and the split's float32
parts, decided before the first large allocation; a real MemoryError names the file and the budget."""

from __future__ import annotations

import gzip
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from fuzzing import memory_budget

from latentspace.data import load_dataset, read_data_file
from latentspace.data.readers import load_bytes
from latentspace.errors import DataError


def gzip_idx(path, shape):
    """A gzip IDX file of zeros declaring ``shape`` (uint8): kilobytes that expand to the full size."""
    header = bytes([0, 0, 8, len(shape)]) + b"".join(int(s).to_bytes(4, "big") for s in shape)
    with gzip.open(path, "wb") as f:
        f.write(header + bytes(int(np.prod(shape))))
    return path


def test_the_budget_counts_the_float32_copy_not_only_the_file(tmp_path, monkeypatch):
    """2,000,000 uint8 values fit a 4 MB budget on their own; with their float32 copy (10 MB) they do not."""
    path = gzip_idx(tmp_path / "x-idx3-ubyte.gz", (2500, 800))
    monkeypatch.setenv("LATENTSPACE_MEMORY_BUDGET", "4M")
    with pytest.raises(DataError, match=r"x-idx3-ubyte\.gz: loading uint8 .* needs 9\.5 MB, more than the memory "
                                        r"budget of 4\.0 MB \(LATENTSPACE_MEMORY_BUDGET\)"):
        load_dataset(path)


@pytest.mark.parametrize("kind", ["gzip-idx", "npy-uint8", "npy-float64", "npz", "csv"])
def test_a_load_that_fits_stays_within_its_budget(tmp_path, kind):
    """The budget set just above what the load needs: the traced peak (numpy's buffers included) stays
    within 1.25 times it, through validation and the split."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 255, (4000, 256)).astype(np.uint8)
    if kind == "gzip-idx":
        path = tmp_path / "x-idx2-ubyte.gz"
        path.write_bytes(gzip.compress(bytes([0, 0, 8, 2]) + (4000).to_bytes(4, "big") + (256).to_bytes(4, "big")
                                       + X.tobytes()))
        needed = load_bytes(X.shape, X.dtype)
    elif kind.startswith("npy"):
        X = X.astype(kind.split("-")[1])
        np.save(path := tmp_path / "x.npy", X)
        needed = load_bytes(X.shape, X.dtype)
    elif kind == "npz":
        np.savez(path := tmp_path / "x.npz", X=X.astype(np.float32), y=np.arange(4000))
        needed = load_bytes(X.shape, np.float32) + load_bytes((4000,), np.int64)
    else:
        path = tmp_path / "x.csv"
        path.write_text("\n".join(",".join(map(str, row)) for row in X[:1000]) + "\n")
        needed = 1000 * 256 * 12 + 1001 * 112 + 2 * len(path.read_text().splitlines()[0])
    with memory_budget(int(needed * 1.01)):  # asserts the traced peak <= 1.25 x the budget
        data = load_dataset(path)
    assert data.X_train.dtype == np.float32 and len(data.X_train) + len(data.X_test) in (1000, 4000)
    with pytest.raises(DataError, match="more than the memory budget"), memory_budget(int(needed * 0.9)):
        load_dataset(path)


def test_a_one_line_csv_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    path = tmp_path / "one.csv"
    path.write_bytes(b"0.5," * 2_000_000 + b"0.5\n")
    monkeypatch.setenv("LATENTSPACE_MEMORY_BUDGET", "20M")
    with pytest.raises(DataError, match=r"one\.csv: loading up to 2,000,00\d cells in 1 lines .* needs 38\.\d MB"):
        read_data_file(path)


def test_a_real_memory_error_names_the_file_and_the_budget(tmp_path):
    """Under an address-space limit below what the budget allows, the load runs out of memory: one
    DataError naming the file and the budget, not a bare MemoryError."""
    path = gzip_idx(tmp_path / "bomb-idx3-ubyte.gz", (100_000, 28, 28))  # 78 MB, 392 MB with its float32 copy
    script = textwrap.dedent(f"""
        import resource, sys
        from latentspace.data import load_dataset
        from latentspace.errors import DataError
        in_use = next(int(line.split()[1]) << 10 for line in open("/proc/self/status") if line.startswith("VmSize"))
        resource.setrlimit(resource.RLIMIT_AS, (in_use + (200 << 20), in_use + (200 << 20)))
        try:
            load_dataset({str(path)!r})
        except DataError as e:
            print(e)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={"LATENTSPACE_MEMORY_BUDGET": "2G", "PATH": "/usr/bin:/bin",
                               "PYTHONPATH": ":".join(sys.path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{path}: out of memory while loading it (memory budget 2.0 GB)" in proc.stdout, proc.stdout
