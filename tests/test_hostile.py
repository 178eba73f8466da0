"""Hostile input loses nothing: one case (at least) per class of issue 15.

1 memory bombs (in a subprocess under an address-space limit: exit 2, one line)   2 divergence on the
last step   3 run folders owned (lock, unfinished runs, the model swapped in whole; crashes injected at
every file operation)   4 atomic outputs   5 tampered checkpoints and training states   6 sizes and
values   7 hangs   8 the resume fingerprint   9 messages.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load as st_load

from latentspace import VAE, AutoEncoder, load
from latentspace._files import atomic_write_json, read_json, safetensors_bytes
from latentspace.cli import main
from latentspace.data import load_dataset, read_csv, read_idx
from latentspace.data.validate import array_digest
from latentspace.errors import CheckpointError, DataError, LatentspaceError, TrainingDivergedError
from latentspace.workflows import runs

CHILD_AS_LIMIT = 1 << 30  # the memory bombs run under a 1 GiB address-space limit


def one_line(e: BaseException) -> str:
    text = str(e)
    assert "\n" not in text.strip(), text
    return text


@contextmanager
def time_limit(seconds: int):
    """Fail instead of hanging (a FIFO read would block forever)."""

    def expired(signum, frame):
        raise TimeoutError(f"hung for {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def cli(*args, capsys) -> tuple[int, str]:
    """``main(args)`` in this process: (exit status, stderr)."""
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


# ---- 1. memory bombs -------------------------------------------------------------------------------
def limited_cli(*args) -> tuple[int, str, float]:
    """``python -m latentspace ARGS`` under RLIMIT_AS = 1 GiB: (status, stderr, the child's peak RSS in MB)."""

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_AS_LIMIT, CHILD_AS_LIMIT))

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("LATENTSPACE_MEMORY_BUDGET", None)
    # A wrapper process runs the command and reports its peak alone: this process's RUSAGE_CHILDREN
    # would be the largest of every child it ever waited for (other tests' subprocesses included).
    proc = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, sys.executable, "-m", "latentspace", *map(str, args)],
                          capture_output=True, text=True, preexec_fn=limit, env=env, timeout=600, check=False)
    peak_mb = int(proc.stdout.strip().splitlines()[-1]) / 1024
    return proc.returncode, proc.stderr, peak_mb


#: Runs argv[1:], passes its stderr through, prints its peak RSS (KiB) last on stdout, exits with its status.
PEAK_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def gzip_zeros(path: Path, header: bytes, n_bytes: int) -> None:
    """A gzip file of ``header`` then ``n_bytes`` zero bytes, written a chunk at a time."""
    chunk = bytes(16 << 20)
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header)
        for start in range(0, n_bytes, len(chunk)):
            f.write(chunk[: min(len(chunk), n_bytes - start)])


def idx_header(shape: tuple[int, ...]) -> bytes:
    return bytes([0, 0, 0x08, len(shape)]) + b"".join(struct.pack(">I", s) for s in shape)


def npz_zeros(path: Path, shape: tuple[int, ...]) -> None:
    """A .npz whose one member is a float64 zero array of ``shape``, streamed into the archive."""
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive, \
            archive.open("x.npy", "w", force_zip64=True) as f:
        np.lib.format.write_array_header_1_0(f, header)
        chunk, total = bytes(16 << 20), int(np.prod(shape)) * 8
        for start in range(0, total, len(chunk)):
            f.write(chunk[: min(len(chunk), total - start)])


def png(path: Path, width: int, height: int) -> None:
    from PIL import Image

    Image.new("L", (width, height)).save(path)


BOMBS = {
    # A 1.2 GB IDX that says so: refused against the budget before decompressing.
    "gzip-idx-declared": lambda d: gzip_zeros(d / "bomb-idx3-ubyte.gz", idx_header((1_500_000, 28, 28)), 1_176_000_000),
    # A header declaring 10 images over 1.2 GB of data: decompression stops past the declared size.
    "gzip-idx-lying": lambda d: gzip_zeros(d / "bomb-idx3-ubyte.gz", idx_header((10, 28, 28)), 1_200_000_000),
    # An .npz member that expands to 1.2 GB.
    "npz-member": lambda d: npz_zeros(d / "bomb.npz", (150_000, 1000)),
}
BOMB_FILES = {"gzip-idx-declared": "bomb-idx3-ubyte.gz", "gzip-idx-lying": "bomb-idx3-ubyte.gz", "npz-member": "bomb.npz"}


@pytest.mark.slow  # writes 1.2 GB through zlib and starts a CLI: ~20 s each
@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_decompression_bomb_is_one_line_under_a_1gb_limit(kind, tmp_path):
    BOMBS[kind](tmp_path)
    path = tmp_path / BOMB_FILES[kind]
    assert path.stat().st_size < 8 << 20
    code, err, peak_mb = limited_cli("datasets", "--data", path)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and str(path) in err, err
    assert peak_mb < 1024


def test_gzip_idx_is_streamed_into_its_declared_size(tmp_path, monkeypatch):
    """The same checks in-process, small: a lying header stops decompression; the budget refuses a
    declared size before anything of it is allocated."""
    lying = tmp_path / "lying-idx3-ubyte.gz"
    gzip_zeros(lying, idx_header((2, 4, 4)), 10_000_000)
    with pytest.raises(DataError, match="go on past the 32 bytes"):
        read_idx(lying)
    declared = tmp_path / "big-idx3-ubyte.gz"
    gzip_zeros(declared, idx_header((1000, 28, 28)), 784_000)
    monkeypatch.setenv("LATENTSPACE_MEMORY_BUDGET", "100K")
    with pytest.raises(DataError, match=r"needs 765\.6 KB, more than the memory budget of 100\.0 KB"):
        read_idx(declared)
    monkeypatch.setenv("LATENTSPACE_MEMORY_BUDGET", "1M")
    assert read_idx(declared).shape == (1000, 28, 28)


def test_npz_member_is_checked_against_the_budget(tmp_path, monkeypatch):
    npz_zeros(tmp_path / "z.npz", (1000, 100))
    monkeypatch.setenv("LATENTSPACE_MEMORY_BUDGET", "500K")
    with pytest.raises(DataError, match=r"z\.npz\[x\]: the array of shape \(1000, 100\) needs 781\.2 KB"):
        load_dataset(tmp_path / "z.npz")


@pytest.mark.parametrize("case", ["per-image", "in-total", "resize"])
def test_image_pixels_are_capped_before_decoding(case, tmp_path, monkeypatch):
    folder = tmp_path / "imgs"
    folder.mkdir()
    size = None
    if case == "per-image":  # 144 M pixels: PIL only warns, then decodes 576 MB per image
        png(folder / "a.png", 12000, 12000)
    else:
        for i in range(4):
            png(folder / f"{i}.png", 300, 300)
        monkeypatch.setenv("LATENTSPACE_MEMORY_BUDGET", "1M")
        if case == "resize":  # --image-size 30000x30000
            monkeypatch.setenv("LATENTSPACE_MEMORY_BUDGET", "2G")
            size = (30000, 30000)
    started = time.perf_counter()
    with pytest.raises(DataError) as caught:
        load_dataset(folder, image_size=size)
    message = one_line(caught.value)
    assert ("more than the 64,000,000 an image may have" in message) if case == "per-image" else ("memory budget" in message)
    assert time.perf_counter() - started < 20  # refused from the headers, not after decoding


def test_one_line_csv_peaks_at_a_small_multiple_of_its_size(tmp_path):
    """A 24 MB CSV of one row: the old reader peaked at 16x the file (a Python string per cell)."""
    values = np.random.default_rng(0).random(2_000_000)
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"{v:.9f}" for v in values) + "\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        X, _, _ = read_csv(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert X.shape == (1, values.size) and np.allclose(X[0], values, atol=1e-9)
    assert peak < 3 * size, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"


# ---- 2. divergence on the last step; JSON never holds NaN --------------------------------------------
def test_divergence_on_the_last_step_is_caught_in_the_weights(digits):
    with pytest.raises(TrainingDivergedError) as caught:
        AutoEncoder(epochs=1, batch_size=5000, lr=1e30, random_state=0).fit(digits.X_train)
    message = one_line(caught.value)
    assert "weights became NaN or infinite in epoch 1" in message or "of the weights after epoch 1 is nan" in message
    assert "train from the CLI" not in str(caught.value)


def test_cli_divergence_on_the_last_step_is_exit_2_and_writes_no_model(tmp_path, capsys):
    code, err = cli("train", "ae", "--epochs", "1", "--batch-size", "5000", "--lr", "1e30", "--quiet",
                    "--out", tmp_path / "R", capsys=capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "diverged before the first checkpoint" in err and "train from the CLI" not in err
    assert not (tmp_path / "R" / "model").exists() and not (tmp_path / "R" / "metrics.json").exists()


def test_json_files_never_hold_nan(tmp_path):
    atomic_write_json(tmp_path / "m.json", {"a": float("nan"), "b": [1.0, float("inf")], "c": np.float32("nan")})
    assert read_json(tmp_path / "m.json") == {"a": None, "b": [1.0, None], "c": None}


# ---- 3. run folders ----------------------------------------------------------------------------------
TRAIN = ("--epochs", "2", "--quiet", "--n-components", "2", "--hidden", "16")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """An AE run folder trained on digits (two epochs), made once for the module."""
    run = tmp_path_factory.mktemp("runs") / "ae"
    assert main(["train", "ae", *TRAIN, "--out", str(run)]) == 0
    return run


def copy_run(run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(run, target)
    return target


def test_a_second_train_refuses_naming_the_holder(finished_run, tmp_path, capsys):
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
        code, err = cli("train", "ae", *TRAIN, "--out", run, capsys=capsys)
        assert code == 2 and f"another process (pid {holder.pid}) is training in this run folder" in err, err
        assert not (run / "model").exists()
    finally:
        holder.kill()
        holder.wait()
    # released when its holder died: taken again here, and then held against a third party
    with runs.run_lock(run), open(run / runs.LOCK_FILE) as f, pytest.raises(BlockingIOError):
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the library catches it."""


def kill_at(monkeypatch, k: int) -> list[str]:
    """Make the ``k``-th rename (os.replace / os.rename / the folder exchange) of the run raise Killed."""
    import latentspace._files as files

    seen: list[str] = []

    def wrap(fn, name):
        def wrapped(*args, **kwargs):
            seen.append(f"{name} {Path(args[-1]).name}")
            if len(seen) == k:
                raise Killed(seen[-1])
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(files.os, "replace", wrap(os.replace, "replace"))
    monkeypatch.setattr(files.os, "rename", wrap(os.rename, "rename"))
    monkeypatch.setattr(files, "_exchange", wrap(files._exchange, "exchange"))
    return seen


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


def overwrite_killed_at(k: int, finished_run: Path, tmp_path: Path, monkeypatch, capsys) -> tuple[str, list[str]]:
    run = copy_run(finished_run, tmp_path)
    seen = kill_at(monkeypatch, k)
    with pytest.raises(Killed):
        main(["train", "vae", *TRAIN, "--overwrite", "--checkpoint-every", "20", "--out", str(run)])
    monkeypatch.undo()
    before = assert_old_or_new(run)
    code, err = cli("train", "--resume", run, "--quiet", capsys=capsys)
    if runs.pending_config_path(run).exists() or code == 0:
        assert code == 0, err
        assert assert_old_or_new(run) == "VAE" and runs.is_finished(run)
        assert [r["epoch"] for r in load(run).history_] == [1.0, 2.0]
    else:  # killed before the new run had started: the old run is untouched and finished
        assert before == "AutoEncoder" and runs.is_finished(run) and "already finished" in err
    return before, seen


def count_renames(finished_run: Path, tmp_path: Path, monkeypatch) -> list[str]:
    run = copy_run(finished_run, tmp_path / "count")
    seen = kill_at(monkeypatch, 10**9)
    assert main(["train", "vae", *TRAIN, "--overwrite", "--checkpoint-every", "20", "--out", str(run)]) == 0
    monkeypatch.undo()
    return list(seen)


@pytest.mark.parametrize("point", ["model exchange", "history", "metrics", "config"])
def test_overwrite_killed_inside_the_model_save(point, finished_run, tmp_path, monkeypatch, capsys):
    """Killed at the swap of the model folder and at each file written after it: old or new model,
    never a mix, and --resume finishes the new run."""
    renames = count_renames(finished_run, tmp_path, monkeypatch)
    save_at = next(i for i, r in enumerate(renames, 1) if r.startswith("exchange"))
    k = {"model exchange": save_at, "history": save_at + 1, "metrics": len(renames) - 1, "config": len(renames)}[point]
    before, seen = overwrite_killed_at(k, finished_run, tmp_path / "kill", monkeypatch, capsys)
    assert before == ("AutoEncoder" if point == "model exchange" else "VAE"), seen


@pytest.mark.slow  # one training per file operation (~15 of them)
def test_overwrite_killed_at_every_file_operation(finished_run, tmp_path, monkeypatch, capsys):
    renames = count_renames(finished_run, tmp_path, monkeypatch)
    for k in range(1, len(renames) + 1):
        overwrite_killed_at(k, finished_run, tmp_path / f"k{k}", monkeypatch, capsys)


def test_fresh_train_refuses_an_unfinished_run(finished_run, tmp_path, monkeypatch, capsys):
    run = copy_run(finished_run, tmp_path)
    kill_at(monkeypatch, 4)  # inside the new run's second checkpoint (step 2 of epoch 1)
    with pytest.raises(Killed):
        main(["train", "vae", *TRAIN, "--overwrite", "--checkpoint-every", "1", "--out", str(run)])
    monkeypatch.undo()
    code, err = cli("train", "ae", *TRAIN, "--out", run, capsys=capsys)
    assert code == 2 and "holds an unfinished run (at epoch 0 of 2)" in err and f"--resume {run}" in err, err
    assert type(load(run)).__name__ == "AutoEncoder"


@pytest.mark.slow  # real SIGKILLs of a CLI process at random instants
def test_sigkill_at_random_points_leaves_old_or_new_and_resume_finishes(finished_run, tmp_path):
    rng = np.random.default_rng(int(time.time()))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for trial in range(3):
        run = copy_run(finished_run, tmp_path / f"t{trial}")
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


# ---- 4. atomic outputs -------------------------------------------------------------------------------
def test_full_disk_keeps_the_old_output_and_names_it(finished_run, tmp_path, monkeypatch, capsys):
    np.save(tmp_path / "x.npy", np.zeros((3, 64), np.float32))
    out = tmp_path / "z.npy"
    out.write_bytes(b"the old result")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    code, err = cli("encode", finished_run, tmp_path / "x.npy", "--out", out, capsys=capsys)
    assert code == 2 and f"cannot write {out}: No space left on device" in err, err
    assert out.read_bytes() == b"the old result"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".z.npy")] == []


# ---- 5. tampered checkpoints and training states ---------------------------------------------------
def edit_json(path: Path, change) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def short_offset(model: Path) -> None:
    """An offset_ of the wrong length, with a checksum that matches (a careful forger)."""
    tensors = st_load((model / "weights.safetensors").read_bytes())
    tensors["fitted.offset_"] = tensors["fitted.offset_"][:10].clone()
    data, sha = safetensors_bytes(tensors)
    (model / "weights.safetensors").write_bytes(data)
    edit_json(model / "config.json", lambda c: c.update(weights_sha256=sha))


MODEL_TAMPERS = {
    "format_version string": (lambda m: edit_json(m / "config.json", lambda c: c.update(format_version="1")), "format_version"),
    "params a list": (lambda m: edit_json(m / "config.json", lambda c: c.update(params=[1, 2])), "params must be"),
    "n_components Infinity": (lambda m: (m / "config.json").write_text(
        (m / "config.json").read_text().replace('"n_components": 2', '"n_components": Infinity')), "Infinity is not valid JSON"),
    "nested 200k": (lambda m: (m / "config.json").write_text("[" * 200_000), "nested too deeply"),
    "hidden negative": (lambda m: edit_json(m / "config.json", lambda c: c["params"].update(hidden=[-5, 64])), "invalid parameters"),
    "hidden 30000x2": (lambda m: edit_json(m / "config.json", lambda c: c["params"].update(hidden=[30000, 30000])),
                       "holds .* bytes|memory budget"),
    "n_features_in_ 1e11": (lambda m: edit_json(m / "config.json", lambda c: c["fitted"].update(n_features_in_=10**11)),
                            "n_features_in_ must be"),
    "history of text": (lambda m: edit_json(m / "config.json", lambda c: c.update(history="many")), "history must be"),
    "offset_ wrong length": (short_offset, r"offset_ has shape \(10,\)"),
    "weights truncated": (lambda m: (m / "weights.safetensors").write_bytes(b"\0" * 100), "holds 100 bytes|checksum"),
    "config is a FIFO": (lambda m: ((m / "config.json").unlink(), os.mkfifo(m / "config.json")), "not a regular file"),
}


@pytest.mark.parametrize("case", sorted(MODEL_TAMPERS))
def test_tampered_model_is_one_checkpoint_error(case, finished_run, tmp_path):
    tamper, message = MODEL_TAMPERS[case]
    run = copy_run(finished_run, tmp_path)
    tamper(run / "model")
    with time_limit(60), pytest.raises(CheckpointError, match=message) as caught:
        load(run)
    one_line(caught.value)


@pytest.mark.parametrize("device", ["foo", "cuda"])
def test_a_model_saved_for_a_device_this_machine_lacks_loads_on_the_cpu(device, finished_run, tmp_path):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    run = copy_run(finished_run, tmp_path)
    edit_json(run / "model" / "config.json", lambda c: c["params"].update(device=device))
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        model = load(run)
    assert str(model.device_) == "cpu" and model.get_params()["device"] == "cpu"


def rewrite_rows(folder: Path) -> None:
    """An epoch.rows tensor of the wrong shape, checksum updated."""
    state = json.loads((folder / "state.json").read_text())
    tensors = st_load((folder / state["tensors_file"]).read_bytes())
    tensors["epoch.rows"] = torch.zeros(7, 5)
    data, sha = safetensors_bytes(tensors)
    (folder / state["tensors_file"]).write_bytes(data)
    state.update(tensors_sha256=sha, step=7)
    (folder / "state.json").write_text(json.dumps(state))


STATE_TAMPERS = {
    "step a string": (lambda s: edit_json(s / "state.json", lambda d: d.update(step="three")), "step must be a whole number"),
    "epoch NaN": (lambda s: (s / "state.json").write_text((s / "state.json").read_text().replace('"epoch": 1,', '"epoch": NaN,', 1)),
                  "NaN is not valid JSON"),
    "epoch beyond records": (lambda s: edit_json(s / "state.json", lambda d: d.update(epoch=11)), "one record per finished epoch"),
    "tensors file outside": (lambda s: edit_json(s / "state.json", lambda d: d.update(tensors_file="../../etc/passwd")), "tensors_file"),
    "finished a string": (lambda s: edit_json(s / "state.json", lambda d: d.update(finished="yes")), "finished must be"),
    "optimizer a list": (lambda s: edit_json(s / "state.json", lambda d: d.update(optimizer=[])), "optimizer must be"),
    "rows the wrong shape": (rewrite_rows, r"epoch.rows has shape \(7, 5\)"),
    "state is a FIFO": (lambda s: ((s / "state.json").unlink(), os.mkfifo(s / "state.json")), "not a regular file"),
}


@pytest.fixture(scope="module")
def unfinished_checkpoint(tmp_path_factory, digits):
    """A checkpoint after epoch 1 of 3 (the estimator stopped there by SIGINT's own path)."""
    folder = tmp_path_factory.mktemp("ck") / "checkpoint"
    AutoEncoder(n_components=2, hidden=(16,), epochs=1, random_state=0).fit(digits.X_train, checkpoint_dir=folder)
    edit_json(folder / "state.json", lambda d: d.update(finished=False))
    return folder


@pytest.mark.parametrize("case", sorted(STATE_TAMPERS))
def test_tampered_training_state_is_one_checkpoint_error(case, unfinished_checkpoint, tmp_path, digits):
    folder = tmp_path / "checkpoint"
    shutil.copytree(unfinished_checkpoint, folder)
    tamper, message = STATE_TAMPERS[case]
    tamper(folder)
    with time_limit(60), pytest.raises(CheckpointError, match=message) as caught:
        AutoEncoder(n_components=2, hidden=(16,), epochs=1, random_state=0).fit(
            digits.X_train, checkpoint_dir=folder, resume=True)
    one_line(caught.value)


def test_untampered_state_resumes(unfinished_checkpoint, tmp_path, digits):
    folder = tmp_path / "checkpoint"
    shutil.copytree(unfinished_checkpoint, folder)
    model = AutoEncoder(n_components=2, hidden=(16,), epochs=1, random_state=0).fit(
        digits.X_train, checkpoint_dir=folder, resume=True)
    assert model.n_iter_ == 1


# ---- 6. sizes and values -----------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    # widths within the table's range whose product is not: the parameter-count budget
    (lambda: AutoEncoder(hidden=(60000, 60000), epochs=1), "a model of 7,208,160,066 parameters .* memory budget"),
    (lambda: VAE(hidden=(65536, 65536, 65536), epochs=1), "a model of .* memory budget"),
    # the constraint table
    (lambda: AutoEncoder(hidden=(100000, 100000), epochs=1), r"hidden must be a tuple of ints each in \[1, 65536\]"),
    (lambda: AutoEncoder(n_components=1_000_000_000, epochs=1), "n_components must be an int in"),
    (lambda: AutoEncoder(device="foo", epochs=1), "device must be auto or a torch device"),
    (lambda: AutoEncoder(grad_clip=-1.0, epochs=1), "grad_clip must be a number > 0"),
    (lambda: AutoEncoder(patience=-1, epochs=1), "patience must be an int >= 1"),
    (lambda: AutoEncoder(norm="nope", epochs=1), "norm must be one of"),
    (lambda: AutoEncoder(n_components=None, epochs=1), "n_components must be an int"),
    (lambda: AutoEncoder(hidden=(-5,), epochs=1), "hidden must be a tuple of ints"),
])
def test_sizes_and_values_are_refused_before_allocating(make, message, digits):
    with pytest.raises(LatentspaceError, match=message) as caught:
        make().fit(digits.X_train[:50])
    one_line(caught.value)


def test_a_billion_samples_are_refused(digits):
    vae = VAE(n_components=2, hidden=(16,), epochs=1, random_state=0).fit(digits.X_train[:100])
    with pytest.raises(LatentspaceError, match="1,000,000,000 samples of 64 features needs"):
        vae.sample(1_000_000_000)


# ---- 7. hangs ----------------------------------------------------------------------------------------
def test_fifos_never_hang(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    np.save(tmp_path / "x.npy", np.zeros((3, 64), np.float32))
    os.mkfifo(tmp_path / "fifo.npy")
    with time_limit(60):
        code, err = cli("train", "--data", tmp_path / "fifo.npy", "--out", tmp_path / "r", capsys=capsys)
        assert code == 2 and "not a regular file" in err
        code, err = cli("encode", run, tmp_path / "x.npy", "--out", tmp_path / "fifo.npy", capsys=capsys)
        assert code == 0 and np.load(tmp_path / "fifo.npy").shape == (3, 2)  # replaced, not written into
        (run / "config.json").unlink()
        os.mkfifo(run / "config.json")
        code, err = cli("train", "--resume", run, capsys=capsys)
        assert code == 2 and "not a regular file" in err, err


def test_huge_iw_samples_are_refused(finished_run, capsys):
    code, err = cli("evaluate", finished_run, "--iw-samples", "1000000000", capsys=capsys)
    assert code == 2 and "--iw-samples must be <= 100,000" in err


# ---- 8. the resume fingerprint -----------------------------------------------------------------------
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


# ---- 9. messages -------------------------------------------------------------------------------------
@pytest.mark.parametrize("X, message", [
    (np.ones((5, 3)) * 1j, "Complex data not supported"),
    (None, "X is None"),
    (np.array([[1.0, np.nan], [2.0, 3.0]]), "Input X contains NaN"),
])
def test_bad_arrays_are_one_line(X, message):
    with pytest.raises(ValueError, match=message) as caught:
        AutoEncoder(epochs=1).fit(X)
    one_line(caught.value)


def test_idx_with_255_dimensions_names_the_file(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 255]) + b"\0\0\0\1" * 255 + b"\0")
    with pytest.raises(DataError, match=f"{path}: IDX header declares 255 dimensions"):
        read_idx(path)


def test_memorize_on_three_rows_says_so(tmp_path, capsys):
    np.save(tmp_path / "three.npy", np.random.default_rng(0).random((3, 4)))
    code, err = cli("memorize", "--data", tmp_path / "three.npy", "--out", tmp_path / "m", capsys=capsys)
    assert code == 2 and "2 training examples; memorisation needs at least 3" in err, err


def test_a_proc_file_is_not_a_data_file(capsys, tmp_path):
    code, err = cli("train", "--data", "/proc/self/status", "--out", tmp_path / "r", capsys=capsys)
    assert code == 2 and "/proc/self/status: a /proc file" in err, err


def test_ctrl_c_during_start_up_is_one_line(monkeypatch, capsys):
    import latentspace.cli as cli_module

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "build_parser", interrupted)
    assert main(["train"]) == 130
    assert capsys.readouterr().err.strip() == "latentspace: interrupted"
