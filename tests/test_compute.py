"""Threads, precision and the measured kernel choice: honoured, refused in one line, recorded."""

import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from latentspace import VAE, AutoEncoder, LatentspaceError, load
from latentspace.nn import backend
from latentspace.training import threads as threads_mod

NATIVE_BF16 = backend.bf16_problem("cpu") is None


@pytest.fixture
def emulated_bf16(monkeypatch):
    """bf16 runs on any CPU (slowly where emulated): the numerics are what these tests check."""
    monkeypatch.setenv(backend.EMULATED_BF16_ENV, "1")


@pytest.mark.parametrize("kernel", ["onednn", "aten"])
def test_bf16_linear_keeps_float32_outputs_and_gradients_close_to_float32(kernel, emulated_bf16):
    torch.manual_seed(0)
    layer = backend.Linear(784, 96)
    x = torch.rand(128, 784)

    def run(kernels):
        with backend.using(kernels):
            xi = x.clone().requires_grad_(True)
            layer.zero_grad(set_to_none=True)
            y = layer(xi)
            y.square().sum().backward()
        return y.detach(), xi.grad, layer.weight.grad, layer.bias.grad

    low = run(backend.Kernels(kernel, "bf16"))
    full = run(backend.Kernels("aten", "32"))
    for a, b in zip(low, full):
        assert a.dtype == torch.float32
        # bf16 keeps 8 bits of mantissa: relative error of a 784-term product is ~1e-2
        assert float((a - b).norm() / b.norm()) < 2e-2
    assert layer.weight.dtype == torch.float32


def test_bf16_fit_trains_and_saves_float32(small_digits, tmp_path, emulated_bf16):
    X_train, X_test = small_digits
    fits = {p: VAE(n_components=4, hidden=(64, 32), epochs=8, validation_fraction=0.0, random_state=0,
                   threads=1, precision=p).fit(X_train) for p in ("32", "bf16")}
    low = fits["bf16"]
    assert low.compute_["precision"] == "bf16"
    losses = [r["train_loss"] for r in low.history_]
    assert losses[-1] < 0.8 * losses[0]
    scores = {p: float(np.mean(f.score_samples(X_test))) for p, f in fits.items()}
    assert abs(scores["bf16"] - scores["32"]) < 0.03 * abs(scores["32"])
    low.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    assert all(t.dtype == torch.float32 for t in loaded.model_.state_dict().values())
    assert all(p.dtype == torch.float32 for p in low.model_.parameters())
    np.testing.assert_allclose(loaded.transform(X_test), low.transform(X_test), rtol=1e-6, atol=1e-6)


def test_auto_precision_is_bf16_only_for_heavy_steps_on_native_bf16_cpus(small_digits, monkeypatch):
    heavy, light = 2 * backend.LIGHT_STEP_FLOPS, 0.5 * backend.LIGHT_STEP_FLOPS
    # where the hardware decides, what this host has: a heavy network's fit reports what ran
    native = backend.cpu_has_native_bf16() and backend.onednn_bf16_available()
    big = VAE(4, hidden=(512, 256), epochs=1, random_state=0).fit(small_digits[0])  # ~260 MFLOP a step
    assert big.compute_["precision"] == ("bf16" if native else "32")
    small = VAE(4, hidden=(32,), epochs=1, random_state=0).fit(small_digits[0])
    assert small.compute_["precision"] == "32"
    monkeypatch.setattr(backend, "cpu_has_native_bf16", lambda: True)
    monkeypatch.setattr(backend, "onednn_bf16_available", lambda: True)
    assert backend.resolve_precision("auto", heavy, "cpu") == "bf16"
    assert backend.resolve_precision("auto", light, "cpu") == "32"  # per-call overhead: conversions add to it
    assert backend.resolve_precision("auto", None, "cpu") == "32"  # convolutions: not measured
    assert backend.resolve_precision("auto", heavy, "cuda") == "32"  # not measured on a GPU
    assert backend.resolve_precision("32", heavy, "cpu") == "32" and backend.resolve_precision("bf16", light, "cpu") == "bf16"
    monkeypatch.setattr(backend, "cpu_has_native_bf16", lambda: False)
    assert backend.resolve_precision("auto", heavy, "cpu") == "32"


@pytest.mark.skipif(NATIVE_BF16, reason="this CPU has native bf16: nothing to refuse")
def test_bf16_without_native_support_is_refused_in_one_line(small_digits, tmp_path, cli):
    with pytest.raises(LatentspaceError, match="precision='bf16' refused: this CPU has no native bfloat16") as e:
        VAE(n_components=2, epochs=1, precision="bf16").fit(small_digits[0])
    assert "\n" not in str(e.value)
    code, out, err = cli("train", "vae", "--data", "digits", "--epochs", "1", "--precision", "bf16",
                         "--out", tmp_path / "run", "--quiet")
    assert code == 2 and err.count("\n") == 1 and "precision='bf16' refused" in err
    assert not (tmp_path / "run" / "model").exists()


def test_unknown_precision_and_bad_threads_are_one_line_errors(small_digits):
    with pytest.raises(LatentspaceError, match="precision must be one of 'auto', '32', 'bf16', got '16'"):
        AutoEncoder(2, epochs=1, precision="16").fit(small_digits[0])
    for bad in (0, -1, 1.5, True):
        with pytest.raises(LatentspaceError, match=r"threads must be an int in \[1, 4096\] or None"):
            AutoEncoder(2, epochs=1, threads=bad).fit(small_digits[0])


def test_threads_parameter_is_honoured_and_restored(small_digits):
    before = torch.get_num_threads()
    other = 2 if before == 1 else 1
    ae = AutoEncoder(2, hidden=(32,), epochs=2, threads=other, random_state=0).fit(small_digits[0])
    assert ae.compute_["threads"] == other  # what torch ran with during the fit
    assert torch.get_num_threads() == before
    seen = []
    ae.model_.encoder.register_forward_hook(lambda *a: seen.append(torch.get_num_threads()))
    ae.transform(small_digits[1])
    assert seen and set(seen) == {other} and torch.get_num_threads() == before


def test_threads_bound_numpys_blas_too_and_are_restored():
    """OpenBLAS runs a busy-waiting thread per core unless limited: ``threads`` limits it as well."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from latentspace.training.threads import using_threads

    def blas_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    if not blas_threads():
        pytest.skip("numpy has no BLAS thread pool here")
    with threadpool_limits(limits=2, user_api="blas"):  # whatever the test run set, start from 2
        with using_threads(1):
            assert blas_threads() == {1}
        assert blas_threads() == {2}


def test_a_cpu_takes_a_worker_when_more_than_a_quarter_of_it_is_idle(monkeypatch):
    monkeypatch.delenv(threads_mod.THREADS_ENV, raising=False)
    monkeypatch.setattr(threads_mod, "usable_cpus", lambda: 4)
    monkeypatch.setattr(threads_mod, "idle_cpus", lambda: 0.0)  # the load average: only where "now" can't tell
    for idle, workers in [(0.0, 1), (1.0, 1), (1.2, 1), (1.41, 2), (2.0, 2), (2.3, 3), (9.0, 4)]:
        monkeypatch.setattr(threads_mod, "idle_cpus_now", lambda idle=idle: idle)
        assert threads_mod.resolve_workers() == workers, idle
    monkeypatch.setattr(threads_mod, "idle_cpus_now", lambda: None)  # no /proc/stat: the load average
    monkeypatch.setattr(threads_mod, "idle_cpus", lambda: 2.0)
    assert threads_mod.resolve_workers() == 2
    with threads_mod.pinned_threads(1):  # a command's --threads 1: one process
        assert threads_mod.resolve_workers() == 1
    monkeypatch.setenv(threads_mod.THREADS_ENV, "3")
    assert threads_mod.resolve_workers() == 3


def test_idle_now_reads_what_others_use_now_not_this_process(monkeypatch):
    """/proc/stat's ticks over the window, less this process's own CPU: a job that ended leaves the CPUs
    idle now whatever the load average still holds; one that runs now on one CPU leaves one."""
    monkeypatch.setattr(threads_mod, "_usable_cpu_set", lambda: {0, 1})

    def reading(busy_ticks: int, own_seconds: float) -> float | None:
        ticks = iter([(1000, 5000), (1000 + busy_ticks, 5000 + 60)])  # 0.3 s of 2 CPUs at 100 ticks/s
        own = iter([10.0, 10.0 + own_seconds])
        clock = iter([0.0, 0.3])
        return threads_mod.idle_cpus_now(0.3, ticks=lambda cpus: next(ticks), cpu=lambda: next(own),
                                         clock=lambda: next(clock), sleep=lambda s: None)

    assert reading(0, 0.0) == pytest.approx(2.0)     # nothing runs: both idle
    assert reading(30, 0.0) == pytest.approx(1.0)    # another job on one CPU
    assert reading(30, 0.3) == pytest.approx(2.0)    # this process's own CPU is not another's load
    assert reading(60, 0.0) == pytest.approx(0.0)
    unreadable = threads_mod.idle_cpus_now(0.0, ticks=lambda cpus: None, sleep=lambda s: None)
    assert unreadable is None
    if threads_mod._cpu_ticks({0}) is not None:  # Linux: this host's real reading is a share of its CPUs
        monkeypatch.undo()
        now = threads_mod.idle_cpus_now(0.05)
        assert now is not None and 0.0 <= now <= threads_mod.usable_cpus()


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads Linux's /proc")
def test_a_running_childs_cpu_is_this_processs_own_use():
    """A pool kept for a demo's stages (side_by_side.shared_workers) is never reaped between them: its
    workers' CPU counts as this process's while they run, so the demo's next stage does not read its
    own workers (importing torch as the first stage asks) as another job's load."""
    busy_loop = "import time\nend = time.process_time() + 5\nwhile time.process_time() < end: pass"
    child = subprocess.Popen([sys.executable, "-c", busy_loop])
    try:
        before = threads_mod._running_children_cpu_seconds()
        time.sleep(0.6)
        running = threads_mod._running_children_cpu_seconds()
        assert running - before > 0.1  # it ran (on a shared machine: some)
        assert threads_mod._running_cpu_seconds() >= time.process_time() + running - 0.01
    finally:
        child.kill()
        child.wait()
    assert threads_mod._running_children_cpu_seconds() < running - 0.1  # reaped: os.times() has it now


def test_own_use_is_damped_as_the_load_average_damps_it():
    """A minute at 2 CPUs, then 5 s at 1: the 1-minute load average still holds ~1.9 of this process's
    work, and so must its own use, or the rest would be read as another job's load."""
    now = {"wall": 0.0, "cpu": 0.0}
    own = threads_mod._OwnUse(clock=lambda: now["wall"], cpu=lambda: now["cpu"])

    def run(seconds: float, cpus: float) -> float:
        for _ in range(int(seconds)):
            now["wall"] += 1.0
            now["cpu"] += cpus
            used = own.recent()
        return used

    load = 0.0  # the kernel's 1-minute load average of the same work, every 5 s
    for cpus in [2.0] * 12 + [1.0]:
        load = load * math.exp(-5 / 60) + cpus * (1 - math.exp(-5 / 60))
    for seconds, cpus in [(60, 2.0), (5, 1.0)]:
        used = run(seconds, cpus)
    assert used == pytest.approx(load, abs=0.05) and used > 1.1
    # Workers' CPU arrives when they are reaped: 30 s of it, read 0.1 s later, counts as 30 s would.
    now["wall"], now["cpu"] = now["wall"] + 0.1, now["cpu"] + 30.0
    assert own.recent() == pytest.approx(used * math.exp(-0.1 / 60) + 30.0 / 60, abs=1e-3)
    assert run(600, 0.0) < 0.01  # idle for ten minutes: nothing left of it


def test_default_threads_one_for_small_networks_and_pinned_by_a_command(small_digits, monkeypatch):
    monkeypatch.delenv(threads_mod.THREADS_ENV, raising=False)
    assert threads_mod.default_threads(step_flops=1e5) == 1
    # Larger steps get the idle usable CPUs, rounded, at least one and never more than the process may use.
    for idle, expected in [(0.2, 1), (1.6, min(2, threads_mod.usable_cpus())), (500.0, threads_mod.usable_cpus())]:
        monkeypatch.setattr(threads_mod, "idle_cpus", lambda idle=idle: idle)
        assert threads_mod.default_threads(step_flops=1e12) == expected
    monkeypatch.undo()
    monkeypatch.delenv(threads_mod.THREADS_ENV, raising=False)
    ae = AutoEncoder(2, hidden=(32,), epochs=1, random_state=0).fit(small_digits[0])
    assert ae.compute_["threads"] == 1  # 64-32-2: a tiny step
    before = torch.get_num_threads()
    with threads_mod.pinned_threads(2):
        assert torch.get_num_threads() == 2
        ae.fit(small_digits[0])
        assert ae.compute_["threads"] == 2
    assert torch.get_num_threads() == before
    monkeypatch.setenv(threads_mod.THREADS_ENV, "2")
    assert ae.fit(small_digits[0]).compute_["threads"] == 2
    monkeypatch.setenv(threads_mod.THREADS_ENV, "many")
    with pytest.raises(LatentspaceError, match="LATENTSPACE_THREADS must be a positive integer"):
        ae.fit(small_digits[0])


def test_kernel_choice_is_measured_and_recorded(small_digits, tmp_path, cli):
    # without a random_state nothing is to be reproduced: the faster kernel is measured (for a step above
    # LIGHT_STEP_FLOPS; a lighter one takes PyTorch's kernel untimed, tests/test_reproducible.py)
    ae = AutoEncoder(2, hidden=(512, 256), epochs=1, random_state=None, threads=1, precision="32").fit(small_digits[0])
    record = ae.compute_
    assert record["precision"] == "32" and record["kernel"] in ("onednn", "aten")
    if backend.onednn_available() and backend.get_linear_backend() == "auto":
        assert record["how"] == "measured" and set(record["ms"]) == {"onednn", "aten"}
        assert record["kernel"] == min(record["ms"], key=record["ms"].get)
    previous = backend.set_linear_backend("aten")
    try:
        forced = AutoEncoder(2, hidden=(64, 32), epochs=1, random_state=0, threads=1).fit(small_digits[0]).compute_
    finally:
        backend.set_linear_backend(previous)
    assert forced["kernel"] == "aten" and forced["how"] == "set"
    code, out, err = cli("train", "ae", "--data", "digits", "--epochs", "1", "--hidden", "32",
                         "--threads", "1", "--out", tmp_path / "run", "--quiet")
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["compute"]["threads"] == 1 and metrics["compute"]["kernel"] in ("onednn", "aten")
    # every command takes --threads: checked in one line, honoured for the models it runs
    np.save(tmp_path / "x.npy", small_digits[1])
    code, out, err = cli("encode", tmp_path / "run", tmp_path / "x.npy", "--out", tmp_path / "z.npy", "--threads", "1")
    assert code == 0, err
    assert np.load(tmp_path / "z.npy").shape == (len(small_digits[1]), 2)
    code, out, err = cli("encode", tmp_path / "run", tmp_path / "x.npy", "--out", tmp_path / "z.npy", "--threads", "0")
    assert code == 2 and err.count("\n") == 1 and "--threads must be >= 1" in err


def test_iw_log_likelihood_shows_progress_and_restores_threads(small_digits, capsys):
    vae = VAE(n_components=2, hidden=(16,), epochs=1, random_state=0, threads=1).fit(small_digits[0])
    before = torch.get_num_threads()
    ll = vae.log_likelihood(small_digits[1][:20], k=50, progress=True)
    assert ll.shape == (20,) and np.all(np.isfinite(ll))
    assert "IW-NLL k=50" in capsys.readouterr().err
    assert torch.get_num_threads() == before


def test_fit_does_not_copy_float32_unscaled_data(small_digits):
    X = np.ascontiguousarray(small_digits[0], dtype=np.float32)
    ae = AutoEncoder(2, hidden=(16,), epochs=1, random_state=0).fit(X)
    assert np.shares_memory(ae._scale(X), X)
    scaled = AutoEncoder(2, hidden=(16,), epochs=1, random_state=0, scaling="standard").fit(X)
    assert not np.shares_memory(scaled._scale(X), X)
