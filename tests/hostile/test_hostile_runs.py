"""Run folders lose nothing: divergence on the last step, owned folders (a lock, unfinished runs, the
model swapped in whole; crashes injected at every file operation), atomic outputs, no hangs on FIFOs,
the resume fingerprint.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import Killed, copy_run, kill_at
from hostile_helpers import TRAIN, one_line, time_limit

from latentspace import AutoEncoder, load
from latentspace._files import atomic_write_json, read_json
from latentspace.cli import main
from latentspace.data.validate import array_digest
from latentspace.errors import CheckpointError, TrainingDivergedError
from latentspace.workflows import runs


# ---- divergence on the last step; JSON never holds NaN --------------------------------------------
def test_divergence_on_the_last_step_is_caught_in_the_weights(digits):
    with pytest.raises(TrainingDivergedError) as caught:
        AutoEncoder(epochs=1, batch_size=5000, lr=1e30, random_state=0).fit(digits.X_train)
    message = one_line(caught.value)
    assert "weights became NaN or infinite in epoch 1" in message or "of the weights after epoch 1 is nan" in message
    assert "train from the CLI" not in str(caught.value)


def test_one_bad_weight_anywhere_is_found():
    """The end-of-epoch weight check: NaN, +inf or -inf in any tensor, at any place."""
    from latentspace.training.loop import weights_finite

    weights = [torch.zeros(3, 4), torch.zeros(4), torch.zeros(0, 3), torch.zeros(2, 2)]
    assert weights_finite(weights) and weights_finite([]) and weights_finite([torch.zeros(0)])
    for bad in (float("nan"), float("inf"), -float("inf")):
        for tensor in (t for t in weights if t.numel()):
            for place in (0, -1):
                tensor.view(-1)[place] = bad
                assert not weights_finite(weights)
                tensor.view(-1)[place] = 0.0


def test_cli_divergence_on_the_last_step_is_exit_2_and_writes_no_model(tmp_path, cli):
    code, _, err = cli("train", "ae", "--epochs", "1", "--batch-size", "5000", "--lr", "1e30", "--quiet",
                       "--out", tmp_path / "R")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "diverged before the first checkpoint" in err and "train from the CLI" not in err
    assert not (tmp_path / "R" / "model").exists() and not (tmp_path / "R" / "metrics.json").exists()


def test_json_files_never_hold_nan(tmp_path):
    atomic_write_json(tmp_path / "m.json", {"a": float("nan"), "b": [1.0, float("inf")], "c": np.float32("nan")})
    assert read_json(tmp_path / "m.json") == {"a": None, "b": [1.0, None], "c": None}

# ---- run folders ----------------------------------------------------------------------------------


def test_a_second_train_refuses_naming_the_holder(ae_run, tmp_path, cli):
    run = tmp_path / "busy"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, sys, time
        f = open({str(run / runs.LOCK_FILE)!r}, "a+")
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(f"{{os.getpid()}}\\n"); f.flush()
        print("locked", flush=True)
        time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, _, err = cli("train", "ae", *TRAIN, "--out", run)
        assert code == 2 and f"another process (pid {holder.pid}) is training in this run folder" in err, err
        assert not (run / "model").exists()
    finally:
        holder.kill()
        holder.wait()
    # released when its holder died: taken again here, and then held against a third party
    with runs.run_lock(run), open(run / runs.LOCK_FILE) as f, pytest.raises(BlockingIOError):
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)


def assert_old_or_new(run: Path) -> str:
    """The folder holds a whole model, the AE it had or the VAE being written, and a finished run's
    config.json describes that very model."""
    model = load(run)
    kind = type(model).__name__
    assert kind in ("AutoEncoder", "VAE")
    assert np.isfinite(model.transform(np.zeros((2, 64), np.float32))).all()
    if runs.is_finished(run):
        assert runs.read_run_config(run)["estimator"] == kind
    return kind


def overwrite_killed_at(k: int, ae_run: Path, tmp_path: Path, monkeypatch, cli) -> tuple[str, list[str]]:
    run = copy_run(ae_run, tmp_path)
    seen = kill_at(monkeypatch, k)
    with pytest.raises(Killed):
        main(["train", "vae", *TRAIN, "--overwrite", "--checkpoint-every", "20", "--out", str(run)])
    monkeypatch.undo()
    before = assert_old_or_new(run)
    code, _, err = cli("train", "--resume", run, "--quiet")
    if runs.pending_config_path(run).exists() or code == 0:
        assert code == 0, err
        assert assert_old_or_new(run) == "VAE" and runs.is_finished(run)
        assert [r["epoch"] for r in load(run).history_] == [1.0, 2.0]
    else:  # killed before the new run had started: the old run is untouched and finished
        assert before == "AutoEncoder" and runs.is_finished(run) and "already finished" in err
    return before, seen


def count_renames(ae_run: Path, tmp_path: Path, monkeypatch) -> list[str]:
    run = copy_run(ae_run, tmp_path / "count")
    seen = kill_at(monkeypatch, 10**9)
    assert main(["train", "vae", *TRAIN, "--overwrite", "--checkpoint-every", "20", "--out", str(run)]) == 0
    monkeypatch.undo()
    return list(seen)


@pytest.mark.parametrize("point", ["model exchange", "history", "metrics", "config"])
def test_overwrite_killed_inside_the_model_save(point, ae_run, tmp_path, monkeypatch, cli):
    """Killed at the swap of the model folder and at each file written after it: old or new model,
    never a mix, and --resume finishes the new run."""
    renames = count_renames(ae_run, tmp_path, monkeypatch)
    save_at = next(i for i, r in enumerate(renames, 1) if r.startswith("exchange"))
    k = {"model exchange": save_at, "history": save_at + 1, "metrics": len(renames) - 1, "config": len(renames)}[point]
    before, seen = overwrite_killed_at(k, ae_run, tmp_path / "kill", monkeypatch, cli)
    assert before == ("AutoEncoder" if point == "model exchange" else "VAE"), seen


@pytest.mark.slow  # one training per file operation (~15 of them)
def test_overwrite_killed_at_every_file_operation(ae_run, tmp_path, monkeypatch, cli):
    renames = count_renames(ae_run, tmp_path, monkeypatch)
    for k in range(1, len(renames) + 1):
        overwrite_killed_at(k, ae_run, tmp_path / f"k{k}", monkeypatch, cli)


def test_fresh_train_refuses_an_unfinished_run(ae_run, tmp_path, monkeypatch, cli):
    run = copy_run(ae_run, tmp_path)
    kill_at(monkeypatch, 4)  # inside the new run's second checkpoint (step 2 of epoch 1)
    with pytest.raises(Killed):
        main(["train", "vae", *TRAIN, "--overwrite", "--checkpoint-every", "1", "--out", str(run)])
    monkeypatch.undo()
    code, _, err = cli("train", "ae", *TRAIN, "--out", run)
    assert code == 2 and "holds an unfinished run (at epoch 0 of 2)" in err and f"--resume {run}" in err, err
    assert type(load(run)).__name__ == "AutoEncoder"


@pytest.mark.slow  # real SIGKILLs of a CLI process at random instants
def test_sigkill_at_random_points_leaves_old_or_new_and_resume_finishes(ae_run, tmp_path):
    rng = np.random.default_rng(int(time.time()))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for trial in range(3):
        run = copy_run(ae_run, tmp_path / f"t{trial}")
        proc = subprocess.Popen([sys.executable, "-m", "latentspace", "train", "vae", *TRAIN, "--overwrite",
                                 "--checkpoint-every", "5", "--out", str(run)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        while not runs.pending_config_path(run).exists() and proc.poll() is None:  # the new run has started
            time.sleep(0.002)
        time.sleep(float(rng.uniform(0, 3.0)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert_old_or_new(run)
        if not runs.is_finished(run):
            resumed = subprocess.run([sys.executable, "-m", "latentspace", "train", "--resume", str(run), "--quiet"],
                                     capture_output=True, text=True, env=env, timeout=600, check=False)
            assert resumed.returncode == 0, resumed.stderr
        assert runs.is_finished(run) and type(load(run)).__name__ == "VAE"


# ---- atomic outputs -------------------------------------------------------------------------------
def test_full_disk_keeps_the_old_output_and_names_it(ae_run, tmp_path, monkeypatch, cli):
    np.save(tmp_path / "x.npy", np.zeros((3, 64), np.float32))
    out = tmp_path / "z.npy"
    out.write_bytes(b"the old result")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = cli("encode", ae_run, tmp_path / "x.npy", "--out", out)
    assert code == 2 and f"cannot write {out}: No space left on device" in err, err
    assert out.read_bytes() == b"the old result"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".z.npy")] == []


# ---- hangs ----------------------------------------------------------------------------------------
def test_fifos_never_hang(ae_run, tmp_path, cli):
    run = copy_run(ae_run, tmp_path)
    np.save(tmp_path / "x.npy", np.zeros((3, 64), np.float32))
    os.mkfifo(tmp_path / "fifo.npy")
    with time_limit(60):
        code, _, err = cli("train", "--data", tmp_path / "fifo.npy", "--out", tmp_path / "r")
        assert code == 2 and "not a regular file" in err
        code, _, err = cli("encode", run, tmp_path / "x.npy", "--out", tmp_path / "fifo.npy")
        assert code == 0 and np.load(tmp_path / "fifo.npy").shape == (3, 2)  # replaced, not written into
        (run / "config.json").unlink()
        os.mkfifo(run / "config.json")
        code, _, err = cli("train", "--resume", run)
        assert code == 2 and "not a regular file" in err, err


def test_huge_iw_samples_are_refused(ae_run, cli):
    code, _, err = cli("evaluate", ae_run, "--iw-samples", "1000000000")
    assert code == 2 and "--iw-samples must be <= 100,000" in err

# ---- the resume fingerprint -----------------------------------------------------------------------
def test_swapped_columns_are_other_data(tmp_path, digits):
    X = digits.X_train
    AutoEncoder(n_components=2, hidden=(16,), epochs=1, random_state=0).fit(X, checkpoint_dir=tmp_path / "ck")
    swapped = X.copy()
    swapped[:, [10, 20]] = swapped[:, [20, 10]]
    assert swapped.sum() == X.sum()
    with pytest.raises(CheckpointError, match="other data"):
        AutoEncoder(n_components=2, hidden=(16,), epochs=1, random_state=0).fit(
            swapped, checkpoint_dir=tmp_path / "ck", resume=True)


def test_large_arrays_are_fingerprinted_by_sampled_blocks(tmp_path, monkeypatch):
    from latentspace.data import validate

    X = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float32, shape=(20000, 100))
    X[:] = np.random.default_rng(0).random(X.shape, dtype=np.float32)
    monkeypatch.setattr(validate, "DIGEST_FULL_BYTES", 1 << 20)
    monkeypatch.setattr(validate, "DIGEST_BLOCK_BYTES", 4096)
    before = array_digest(X)
    assert before["sampled"] and before["shape"] == [20000, 100]
    X[[0, 1]] = X[[1, 0]]
    assert array_digest(X)["sha256"] != before["sha256"]
    assert array_digest(X.astype(np.float64))["dtype"] == "<f8"
