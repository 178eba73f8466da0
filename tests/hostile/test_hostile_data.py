"""Hostile data and parameters: memory bombs (in a subprocess under an address-space limit: exit 2,
one line), sizes and values refused before allocating, one-line messages for bad arrays and files.
"""

from __future__ import annotations

import gzip
import os
import resource
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import one_line

from latentspace import VAE, AutoEncoder
from latentspace.cli import main
from latentspace.data import load_dataset, read_csv, read_idx
from latentspace.errors import DataError, LatentspaceError

CHILD_AS_LIMIT = 1 << 30  # the memory bombs run under a 1 GiB address-space limit


# ---- memory bombs -------------------------------------------------------------------------------
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
    # 784,000 bytes and their float32 copy: 3.7 MB counted, not the 765.6 KB of the file's values alone
    with pytest.raises(DataError, match=r"needs 3\.7 MB, more than the memory budget of 100\.0 KB"):
        read_idx(declared)
    monkeypatch.setenv("LATENTSPACE_MEMORY_BUDGET", "4M")
    assert read_idx(declared).shape == (1000, 28, 28)


def test_npz_member_is_checked_against_the_budget(tmp_path, monkeypatch):
    npz_zeros(tmp_path / "z.npz", (1000, 100))
    monkeypatch.setenv("LATENTSPACE_MEMORY_BUDGET", "500K")
    with pytest.raises(DataError, match=r"z\.npz: loading float64 \(1000, 100\) .* needs 1\.1 MB"):
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
    """A 6 MB CSV of one row: the old reader peaked at 16x the file (a Python string per cell)."""
    values = np.random.default_rng(0).random(500_000)
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

# ---- sizes and values -----------------------------------------------------------------------------
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

# ---- messages -------------------------------------------------------------------------------------
@pytest.mark.parametrize("X, message", [
    (np.ones((5, 3)) * 1j, "Complex data not supported"),
    (None, "X is None"),
    (np.array([[1.0, np.nan], [2.0, 3.0]]), "X: 1 NaN or infinite values, the first at index \\(0, 1\\); latentspace needs finite"),
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


def test_memorize_on_three_rows_says_so(tmp_path, cli):
    np.save(tmp_path / "three.npy", np.random.default_rng(0).random((3, 4)))
    code, _, err = cli("memorize", "--data", tmp_path / "three.npy", "--out", tmp_path / "m")
    assert code == 2 and "2 training examples; memorisation needs at least 3" in err, err


def test_a_proc_file_is_not_a_data_file(cli, tmp_path):
    code, _, err = cli("train", "--data", "/proc/self/status", "--out", tmp_path / "r")
    assert code == 2 and "/proc/self/status: a /proc file" in err, err


def test_ctrl_c_during_start_up_is_one_line(monkeypatch, capsys):
    import latentspace.cli as cli_module

    def interrupted(argv=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "build_parser", interrupted)
    assert main(["train"]) == 130
    assert capsys.readouterr().err.strip() == "latentspace: interrupted"
