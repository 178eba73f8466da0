"""Surviving faults: SIGKILL and resume gives identical weights; SIGINT/SIGTERM save and say how to
resume; a diverging loss stops with a clear message and keeps the last good checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import Killed, kill_at, run_cli

from latentspace import VAE, AutoEncoder, load
from latentspace.errors import TrainingDivergedError
from latentspace.training import state as train_state

# A run long enough (~400 steps) to be killed at many points, small enough for a fast test.
CHILD = """
import sys, torch
torch.set_num_threads(1)
from latentspace.data import load_digits
from latentspace import VAE
X = load_digits(seed=0).X_train
est = VAE(**{params})
est.fit(X, checkpoint_dir=sys.argv[1], checkpoint_every=int(sys.argv[2]), resume=True)
est.save(sys.argv[3])
"""
PARAMS = dict(n_components=4, hidden=(128, 64), epochs=8, batch_size=32, lr_schedule="cosine",
              validation_fraction=0.1, patience=20, random_state=0)


def child_env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.fixture
def one_kernel(monkeypatch):
    """Every process of the test computes with PyTorch's default kernels. Each fresh fit measures oneDNN
    against them and keeps the faster; on a loaded machine two processes can choose differently, and
    the two kernels round differently (seen in CI: 16.226036869 vs 16.226036859 after one epoch). A
    resumed run keeps its checkpoint's kernel; runs started apart are compared here."""
    from latentspace.nn import backend

    monkeypatch.setenv("LATENTSPACE_LINEAR", "aten")  # the child processes
    monkeypatch.setattr(backend, "_backend", "aten")  # this one


def checkpoint_step(folder: Path) -> int:
    try:
        return int(json.loads((folder / train_state.STATE_FILE).read_text())["global_step"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return -1


def assert_every_checkpoint_loads(folder: Path) -> None:
    """The state.json on disk, and the tensors it names, always read back and hold finite weights."""
    meta, tensors = train_state.read(folder)
    assert meta["tensors_file"] in os.listdir(folder)
    assert all(torch.isfinite(t.float()).all() for k, t in tensors.items() if k.startswith("model."))


def weights(estimator) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in estimator.model_.state_dict().items()}


@pytest.mark.slow  # five child processes, each importing torch: ~30 s
def test_sigkill_at_random_points_then_resume_gives_identical_weights(tmp_path, digits, one_kernel):
    script = tmp_path / "child.py"
    script.write_text(CHILD.replace("{params}", repr(PARAMS)))
    folder, out = tmp_path / "checkpoint", tmp_path / "model"
    every = 7  # not a divisor of the 41 steps per epoch: pauses land mid-epoch at varying steps
    rng = np.random.default_rng(11)
    kills = 0
    for target in sorted(rng.choice(np.arange(10, 300), size=4, replace=False)):
        if checkpoint_step(folder) >= target:
            continue
        child = subprocess.Popen([sys.executable, str(script), str(folder), str(every), str(out)], env=child_env(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while checkpoint_step(folder) < target and child.poll() is None:
            time.sleep(0.002)
        time.sleep(float(rng.uniform(0, 0.03)))  # land mid-step, mid-write, anywhere
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()[-2000:]
        kills += 1
        assert_every_checkpoint_loads(folder)
    assert kills >= 3 and not out.exists()
    subprocess.run([sys.executable, str(script), str(folder), str(every), str(out)], env=child_env(), check=True,
                   capture_output=True)
    resumed = load(out)
    uninterrupted = VAE(**PARAMS).fit(digits.X_train)
    got, want = weights(resumed), weights(uninterrupted)
    assert got.keys() == want.keys()
    for name in want:
        assert torch.equal(got[name], want[name]), f"{name} differs after {kills} kills and resumes"
    assert [r["train_loss"] for r in resumed.history_] == [r["train_loss"] for r in uninterrupted.history_]


def test_killed_at_checkpoint_writes_then_resumed_gives_identical_weights(tmp_path, digits, monkeypatch):
    """The in-process twin of the SIGKILL test (which runs with the slow tests): the fit dies at random
    file renames of its checkpoints, between a file's write and its rename, and resuming gives the
    weights and losses of a run never stopped."""
    params = {**PARAMS, "epochs": 4}
    folder = tmp_path / "checkpoint"
    rng = np.random.default_rng(5)
    for k in rng.integers(2, 12, size=3):  # the k-th rename of each attempt (2 per checkpoint)
        kill_at(monkeypatch, int(k))
        with pytest.raises(Killed):
            VAE(**params).fit(digits.X_train, checkpoint_dir=folder, checkpoint_every=7, resume=True)
        monkeypatch.undo()
        assert_every_checkpoint_loads(folder)
    resumed = VAE(**params).fit(digits.X_train, checkpoint_dir=folder, checkpoint_every=7, resume=True)
    uninterrupted = VAE(**params).fit(digits.X_train)
    got, want = weights(resumed), weights(uninterrupted)
    assert all(torch.equal(got[name], want[name]) for name in want)
    assert [r["train_loss"] for r in resumed.history_] == [r["train_loss"] for r in uninterrupted.history_]


def test_resuming_a_finished_checkpoint_returns_the_same_model(tmp_path, small_digits):
    """Resuming a finished checkpoint with more epochs continues the same run."""
    X, _ = small_digits
    params = dict(n_components=2, hidden=(32,), epochs=3, batch_size=50, random_state=1)
    short = AutoEncoder(**params).fit(X, checkpoint_dir=tmp_path / "ck", checkpoint_every=3)
    assert train_state.read(tmp_path / "ck")[0]["finished"]
    again = AutoEncoder(**params).fit(X, checkpoint_dir=tmp_path / "ck", resume=True)
    assert all(torch.equal(a, b) for a, b in zip(weights(short).values(), weights(again).values()))


def test_resume_refuses_other_data(tmp_path, small_digits):
    X, _ = small_digits
    AutoEncoder(epochs=1, random_state=0).fit(X, checkpoint_dir=tmp_path / "ck")
    with pytest.raises(ValueError, match="other data or parameters"):
        AutoEncoder(epochs=1, random_state=0).fit(X[:200], checkpoint_dir=tmp_path / "ck", resume=True)


def test_absurd_learning_rate_stops_with_message_and_keeps_last_good_checkpoint(tmp_path, small_digits):
    X, _ = small_digits
    folder = tmp_path / "ck"
    with pytest.raises(TrainingDivergedError) as caught:
        AutoEncoder(n_components=2, lr=1e9, epochs=5, batch_size=20, random_state=0).fit(
            X, checkpoint_dir=folder, checkpoint_every=1
        )
    message = str(caught.value)
    assert "\n" not in message
    for part in ("loss term 'recon'", "at step", "lower lr (now 1e+09)", "grad_clip", "likelihood", str(folder)):
        assert part in message, message
    step = int(message.split("at step ")[1].split()[0])
    meta, tensors = train_state.read(folder)
    assert meta["global_step"] == step - 1  # the checkpoint just before the bad step
    assert all(torch.isfinite(t).all() for k, t in tensors.items() if k.startswith("model."))


def test_cli_divergence_is_one_line_and_status_2(tmp_path, cli):
    run = tmp_path / "run"
    code, _, err = cli("train", "ae", "--lr", "1e9", "--epochs", "3", "--batch-size", "20", "--checkpoint-every", "1",
                       "--quiet", "--out", run)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "training diverged" in lines[0], err
    # the advice in the command line's words (the library's says lr, grad_clip=1.0, likelihood)
    assert "try a lower --lr (now 1e+09), --grad-clip 1.0, or a --likelihood that matches" in lines[0], err
    assert_every_checkpoint_loads(run / "checkpoint")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_a_checkpoint_and_says_how_to_resume(tmp_path, sig, cli):
    """The signal reaches this process while ``latentspace train`` runs in it (a thread sends it once the
    first checkpoint is on disk); a harmless handler stands by in case it lands after training."""
    run = tmp_path / "run"
    training = threading.Event()

    def send_when_checkpointed():
        deadline = time.monotonic() + 90
        while checkpoint_step(run / "checkpoint") < 0 and time.monotonic() < deadline and not training.is_set():
            time.sleep(0.01)
        os.kill(os.getpid(), sig)

    previous = signal.signal(sig, lambda signum, frame: None)
    sender = threading.Thread(target=send_when_checkpointed)
    try:
        sender.start()
        code, _, err = cli("train", "ae", "--epochs", "2000", "--quiet", "--out", run)
    finally:
        training.set()
        sender.join()
        signal.signal(sig, previous)
    assert code == 130, err
    assert f"resume with: latentspace train --resume {run}" in err
    assert sig.name in err
    assert_every_checkpoint_loads(run / "checkpoint")
    meta, _ = train_state.read(run / "checkpoint")
    assert 0 < meta["epoch"] < 2000 and not meta["finished"]
    assert not (run / "model").exists()


@pytest.mark.slow  # three CLI start-ups: ~35 s on the shared machine
def test_cli_resume_finishes_a_killed_run(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "latentspace", "train", "ae", "--epochs", "20", "--checkpoint-every", "10", "--quiet",
         "--out", str(run)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env(),
    )
    while checkpoint_step(run / "checkpoint") < 0 and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and not (run / "model").exists()
    refused = subprocess.run([sys.executable, "-m", "latentspace", "train", "--resume", str(run), "--lr", "0.5"],
                             capture_output=True, text=True, env=child_env(), timeout=120)
    assert refused.returncode == 2 and "--resume continues a run with its own settings" in refused.stderr
    resumed = subprocess.run([sys.executable, "-m", "latentspace", "train", "--resume", str(run), "--quiet"],
                             capture_output=True, text=True, env=child_env(), timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert [r["epoch"] for r in load(run).history_] == list(range(1, 21))


@pytest.mark.slow  # five CLI runs: minutes on the shared machine
def test_cli_resume_with_epochs_extends_a_finished_run(tmp_path, one_kernel):
    """--resume RUN --epochs N trains a finished run on to N epochs: from its training checkpoint when kept
    (the same run as one of N epochs), else from the saved model; checkpoint/ goes unless kept."""
    kept, dropped, straight = tmp_path / "kept", tmp_path / "dropped", tmp_path / "straight"
    common = ["--hidden", "32", "--n-components", "2", "--quiet"]
    for run, epochs, extra in ((kept, 2, ["--keep-checkpoint"]), (dropped, 2, []), (straight, 4, [])):
        code, _, err = run_cli("train", "ae", "--epochs", epochs, "--out", run, *common, *extra)
        assert code == 0, err
    assert (kept / "checkpoint").is_dir() and not (dropped / "checkpoint").exists()
    code, _, err = run_cli("train", "--resume", dropped)
    assert code == 2 and "already finished (2 epochs); pass --epochs N" in err
    for run in (kept, dropped):
        code, out, err = run_cli("train", "--resume", run, "--epochs", 4, "--quiet")
        assert code == 0, err
        assert "epochs_run" in out  # --quiet hides the progress bar, not the result
    curves = {run: [r["train_loss"] for r in load(run).history_] for run in (kept, dropped, straight)}
    assert curves[kept] == curves[straight]  # the kept checkpoint continues the very same run
    assert curves[dropped][:2] == curves[straight][:2] and len(curves[dropped]) == 4
    assert curves[dropped][2] < curves[dropped][1] * 1.05  # from the saved weights, not from scratch
    assert json.loads((dropped / "config.json").read_text())["params"]["epochs"] == 4


def test_epoch_end_checkpoints_cost_at_most_a_twentieth_of_the_time(monkeypatch):
    """An epoch-end checkpoint waits until SAVE_INTERVAL_FACTOR times the last save's duration has
    passed (a small table's epochs take less than saving does); an interrupt, the run's end and the
    --checkpoint-every boundaries always save."""
    from types import SimpleNamespace

    from latentspace.training import loop as loop_module

    clock = SimpleNamespace(now=100.0)
    monkeypatch.setattr(loop_module.time, "perf_counter", lambda: clock.now)
    run = SimpleNamespace(last_save=(99.9, 0.02))  # saved 0.1 s ago, in 20 ms
    epoch_end = SimpleNamespace(finished=False, step=0)
    assert not loop_module.save_due(run, epoch_end, interrupted=False)
    assert loop_module.save_due(run, epoch_end, interrupted=True)
    assert loop_module.save_due(run, SimpleNamespace(finished=True, step=0), interrupted=False)
    assert loop_module.save_due(run, SimpleNamespace(finished=False, step=7), interrupted=False)
    clock.now = 99.9 + loop_module.SAVE_INTERVAL_FACTOR * 0.02
    assert loop_module.save_due(run, epoch_end, interrupted=False)
    assert loop_module.save_due(SimpleNamespace(last_save=(float("-inf"), 0.0)), epoch_end, interrupted=False)

