"""DistributedDataParallel under torchrun on CPU (gloo): two processes with batch B each train the same
model as one process with batch 2B."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from latentspace import load
from latentspace.training.batches import TensorBatches, shard
from latentspace.training.distributed import World

# Float32 sums in a different order (two half-batch gradients averaged by all-reduce instead of one
# full-batch gradient), compounded over 60 Adam steps: measured max |dw| 3.7e-8 on this machine.
WEIGHT_TOLERANCE = 1e-5


def env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""), "OMP_NUM_THREADS": "1"}


def test_ranks_shards_of_one_permutation_make_the_single_process_batches():
    """Rank r takes order[r::2]; rank batches of B together are the single-process batch of 2B."""
    X = torch.arange(20.0)[:, None]
    single = list(TensorBatches(X).plan(torch.Generator().manual_seed(3), 4).batches(0))
    ranks = [list(TensorBatches(X).plan(torch.Generator().manual_seed(3), 2, World(r, 2)).batches(0)) for r in (0, 1)]
    assert len(single) == len(ranks[0]) == len(ranks[1]) == 5
    for whole, a, b in zip(single, *ranks):
        assert sorted(torch.cat([a, b]).flatten().tolist()) == sorted(whole.flatten().tolist())
    padded = shard(torch.arange(5), World(1, 2))  # 5 rows on 2 ranks: padded like DistributedSampler
    assert padded.tolist() == [1, 3, 0]


def train_command(data: Path, out: Path, batch_size: int) -> list[str]:
    return ["-m", "latentspace", "train", "ae", "--data", str(data), "--hidden", "64", "--n-components", "4",
            "--epochs", "6", "--batch-size", str(batch_size), "--validation-fraction", "0", "--quiet", "--keep-checkpoint",
            "--out", str(out)]


def run_torchrun(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run torchrun once more if a worker died of SIGABRT with no Python error at all.

    Seen once in a loaded CI run (rank 1: "terminate called without an active exception", nothing else
    on stderr) and never reproduced in dozens of runs, loaded or not; a second failure fails the test.
    The retry is announced as a warning so it stays visible in the test summary.
    """
    proc = subprocess.run(command, capture_output=True, text=True, env=env(), timeout=300, cwd=cwd)
    if proc.returncode != 0 and "exitcode  : -6" in proc.stderr and "latentspace train: error" not in proc.stderr:
        warnings.warn(f"torchrun worker aborted (SIGABRT), retrying once: {proc.stderr[:200]!r}", stacklevel=2)
        shutil.rmtree(Path(command[-1]), ignore_errors=True)  # the --out folder rank 0 may have started
        proc = subprocess.run(command, capture_output=True, text=True, env=env(), timeout=300, cwd=cwd)
    return proc


@pytest.mark.slow  # torchrun and two ranks, each a fresh interpreter importing torch: ~30 s
def test_torchrun_two_processes_match_one_process_of_the_same_effective_batch(tmp_path, digits, cli):
    data = tmp_path / "digits.npy"
    np.save(data, np.concatenate([digits.X_train, digits.X_test])[:1600])  # 1280 train rows: 10 steps of 128
    runs = tmp_path / "runs"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    ddp = run_torchrun(torchrun + train_command(data, runs / "ddp", 64), tmp_path)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    code, _, err = cli(*train_command(data, runs / "single", 128)[2:])  # the one process: this one
    assert code == 0, err[-3000:]

    assert sorted(p.name for p in runs.iterdir()) == ["ddp", "single"]  # rank 1 wrote no folder of its own
    assert ddp.stdout.count(str(runs / "ddp")) == 1  # and printed nothing
    metrics = json.loads((runs / "ddp" / "metrics.json").read_text())
    assert metrics["processes"] == 2  # both ranks joined; DDP's all-reduce blocks until both step
    state = json.loads((runs / "ddp" / "checkpoint" / "state.json").read_text())
    assert state["world_size"] == 2 and state["global_step"] == 6 * 10

    a, b = load(runs / "ddp"), load(runs / "single")
    wa, wb = a.model_.state_dict(), b.model_.state_dict()
    worst = max(float((wa[k] - wb[k]).abs().max()) for k in wa)
    assert worst < WEIGHT_TOLERANCE, f"max weight difference {worst:g}"
    losses_a = [r["train_loss"] for r in a.history_]
    losses_b = [r["train_loss"] for r in b.history_]
    np.testing.assert_allclose(losses_a, losses_b, rtol=1e-5)
    print(f"DDP 2x64 fit {metrics['fit_seconds']:.2f}s; single 1x128 "
          f"{json.loads((runs / 'single' / 'metrics.json').read_text())['fit_seconds']:.2f}s; max |dw| {worst:.2e}")


@pytest.mark.parametrize("world_size", [2, 3])
def test_every_rank_takes_the_same_number_of_steps(world_size):
    X = torch.arange(23.0)[:, None]
    steps = {TensorBatches(X).plan(torch.Generator().manual_seed(0), 4, World(r, world_size)).steps
             for r in range(world_size)}
    assert len(steps) == 1


@pytest.mark.slow  # two torchrun launches of two ranks each: ~1 min
@pytest.mark.parametrize("mode", ["dataset", "loader"])
def test_streamed_sources_under_torchrun_match_one_process(tmp_path, mode):
    """A Dataset (sharded here) or a DataLoader with a DistributedSampler (sharded by the user) on two
    processes of batch 64 trains the model one process trains with batch 128: each process reads only
    its shard, and the scaling pools every shard's statistics."""
    script = str(Path(__file__).resolve().parent / "ddp_stream_fit.py")
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    ddp = run_torchrun(torchrun + [script, mode, "64", str(tmp_path / "ddp")], tmp_path)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    single = subprocess.run([sys.executable, script, mode, "128", str(tmp_path / "single")], capture_output=True,
                            text=True, env=env(), timeout=300, cwd=tmp_path)
    assert single.returncode == 0, single.stderr[-3000:]
    a, b = load(tmp_path / "ddp"), load(tmp_path / "single")
    np.testing.assert_allclose(a.offset_, b.offset_, rtol=1e-6)
    np.testing.assert_allclose(a.scale_, b.scale_, rtol=1e-6)
    wa, wb = a.model_.state_dict(), b.model_.state_dict()
    worst = max(float((wa[k] - wb[k]).abs().max()) for k in wa)
    assert worst < WEIGHT_TOLERANCE, f"max weight difference {worst:g}"
    assert len(a.history_) == 4
