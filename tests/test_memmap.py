"""Training from a memory-mapped .npy streams it in chunks instead of loading it whole."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from latentspace import VAE, AutoEncoder
from latentspace.training.batches import MemmapBatches, RowReader
from latentspace.training.distributed import World


@pytest.fixture
def digits_memmap(tmp_path, digits):
    path = tmp_path / "digits.npy"
    np.save(path, digits.X_train)
    return np.load(path, mmap_mode="r")


def test_an_epoch_visits_every_row_once_in_shuffled_chunks(digits_memmap):
    X = np.asarray(digits_memmap)
    source = MemmapBatches(RowReader(digits_memmap), [(0, 300), (400, 1000)], np.zeros(64), np.ones(64), "cpu",
                           chunk_rows=100)
    plan = source.plan(torch.Generator().manual_seed(0), 32)
    rows = torch.cat(list(plan.batches(0))).numpy()
    assert rows.shape == (900, 64) and sum(plan.sizes) == 900
    expected = np.concatenate([X[:300], X[400:1000]])
    assert sorted(map(bytes, rows)) == sorted(map(bytes, expected))
    assert not np.array_equal(rows, expected)  # shuffled
    # restarting mid-epoch (a resumed run) yields exactly the remaining batches
    later = torch.cat(list(source.plan(torch.Generator().manual_seed(0), 32).batches(7))).numpy()
    np.testing.assert_array_equal(later, rows[sum(plan.sizes[:7]) :])


def test_ranks_share_chunks_and_take_equal_steps(tmp_path):
    np.save(tmp_path / "rows.npy", np.repeat(np.arange(1000, dtype=np.float32)[:, None], 3, axis=1))
    X = np.load(tmp_path / "rows.npy", mmap_mode="r")
    source = MemmapBatches(RowReader(X), [(0, 1000)], np.zeros(3), np.ones(3), "cpu", chunk_rows=96)
    plans = [source.plan(torch.Generator().manual_seed(1), 32, World(r, 2)) for r in (0, 1)]
    assert plans[0].steps == plans[1].steps
    seen = [set(torch.cat(list(p.batches(0)))[:, 0].tolist()) for p in plans]
    assert not seen[0] & seen[1]  # disjoint shards
    assert len(seen[0] | seen[1]) > 1000 - 2 * 96  # at most about a chunk of surplus is dropped


def test_fit_on_a_memmap_streams_and_scales_like_in_memory(digits_memmap, digits):
    ae = AutoEncoder(n_components=3, epochs=3, scaling="standard", random_state=0).fit(digits_memmap)
    in_memory = AutoEncoder(n_components=3, epochs=1, scaling="standard", validation_fraction=0, random_state=0)
    in_memory.fit(digits.X_train)
    n_val = round(0.1 * len(digits.X_train))
    start = int(np.random.default_rng(np.random.RandomState(0).randint(0, 2**31 - 1)).integers(0, len(digits.X_train) - n_val + 1))
    train_rows = np.concatenate([digits.X_train[:start], digits.X_train[start + n_val :]]).astype(np.float64)
    np.testing.assert_allclose(ae.offset_, train_rows.mean(0), rtol=1e-5, atol=1e-6)
    std = train_rows.std(0)
    np.testing.assert_allclose(ae.scale_, np.where(std > 1e-12, std, 1.0), rtol=1e-4, atol=1e-6)
    assert ae.history_[-1]["train_loss"] < ae.history_[0]["train_loss"]
    assert "val_loss" in ae.history_[0]
    assert ae.transform(digits.X_test).shape == (len(digits.X_test), 3)
    vae = VAE(n_components=2, epochs=2, random_state=0).fit(digits_memmap)
    assert 0 <= vae.active_units_ <= 2


def test_a_memmap_with_nan_names_the_row(tmp_path, digits):
    X = digits.X_train[:100].copy()
    X[42, 5] = np.nan
    np.save(tmp_path / "bad.npy", X)
    with pytest.raises(ValueError, match="row 42, column 5"):
        AutoEncoder(epochs=1, validation_fraction=0).fit(np.load(tmp_path / "bad.npy", mmap_mode="r"))


CHILD = """
import sys, time, numpy as np, torch
torch.set_num_threads(1)
from latentspace import AutoEncoder
X = np.load(sys.argv[1], mmap_mode="r")
t = time.perf_counter()
ae = AutoEncoder(n_components=8, hidden=(64,), epochs=1, batch_size=2048, lr=1e-3, validation_fraction=0.01,
                 random_state=0).fit(X)
# Measured: 727 MB peak (of which ~250 MB is Python + torch + sklearn) for the 3.14 GB file.
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec,
# and the parent has just written the file through a mapping.
peak_kb = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
print(peak_kb * 1024, time.perf_counter() - t, ae.history_[-1]["train_loss"])
"""


@pytest.mark.slow
def test_a_memmap_larger_than_memory_budget_trains_with_small_peak_rss(tmp_path):
    path = tmp_path / "big.npy"
    n, d, step = 1_000_000, 784, 50_000
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(0)
    for start in range(0, n, step):
        X[start : start + step] = rng.random((step, d), dtype=np.float32)
    X.flush()
    del X
    size = path.stat().st_size
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True, env=env,
                         timeout=900, check=True).stdout.split()
    peak, seconds, loss = int(out[0]), float(out[1]), float(out[2])
    print(f"\nfile {size / 1e9:.2f} GB; peak RSS {peak / 1e6:.0f} MB; fit {seconds:.0f} s; loss {loss:.2f}")
    assert np.isfinite(loss)
    assert peak < 1e9, f"peak RSS {peak / 1e6:.0f} MB for a {size / 1e9:.2f} GB file"


@pytest.mark.parametrize("full_bytes", [1 << 30, 4096], ids=["every-byte", "sampled"])
def test_the_digest_of_a_memmap_reads_its_file_and_equals_the_arrays(tmp_path, digits, monkeypatch, full_bytes):
    """The model card's data hash: the same whether the rows come memory-mapped (read with pread, so no
    page of the mapping stays resident) or in memory, whole or sampled."""
    from latentspace.data import validate

    monkeypatch.setattr(validate, "DIGEST_FULL_BYTES", full_bytes)
    monkeypatch.setattr(validate, "DIGEST_BLOCK_BYTES", 1024)
    np.save(tmp_path / "x.npy", digits.X_train)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    in_memory = np.array(digits.X_train)
    assert validate.array_digest(mapped) == validate.array_digest(in_memory)
    assert validate.array_digest(mapped)["sampled"] == (full_bytes == 4096)
    assert validate.array_digest(mapped[10:20]) == validate.array_digest(in_memory[10:20])  # a view: sliced
