"""Files written whole or not at all, and the readers that check them: the bottom layer for every module
that touches disk.

- ``atomic_write_bytes`` / ``atomic_write_json``: a temporary file in the same folder, fsync, rename.
- ``read_json_document``: a JSON object of a named format and version.
- ``write_safetensors`` / ``read_checksummed_safetensors``: tensors with their SHA-256, never pickled.
- ``replace_folder``: a folder written whole under a temporary name, then swapped in (old or new, never a mix).
- ``memory_budget`` / ``check_allocation``: how many bytes one read may allocate, checked before allocating.
- ``check_regular_file`` / ``read_regular_bytes``: a path that must be a plain file (not a FIFO, not /proc).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import io
import json
import math
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import CheckpointError, LatentspaceError, first_line

if TYPE_CHECKING:  # torch and safetensors are imported by the two tensor readers: reading data needs neither
    import torch

#: Environment variable overriding the memory budget, in bytes or with a suffix (``"2G"``, ``"512M"``).
MEMORY_BUDGET_ENV = "LATENTSPACE_MEMORY_BUDGET"
#: Without the variable, one read may allocate this fraction of the memory available when it starts
#: (``MemAvailable``, and no more than the address-space limit ``ulimit -v`` leaves).
MEMORY_BUDGET_FRACTION = 0.5
_SUFFIXES = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def memory_budget() -> int:
    """Bytes one reader may allocate for one array: ``$LATENTSPACE_MEMORY_BUDGET`` if set, else half of
    the memory available now (capped by ``RLIMIT_AS``). Files are checked against it before anything
    of their declared size is allocated, so a decompression bomb fails with one line, not a swap storm."""
    text = os.environ.get(MEMORY_BUDGET_ENV, "").strip().upper().removesuffix("B").removesuffix("I")
    if text:
        try:
            return int(float(text[:-1] if text[-1:] in _SUFFIXES else text) * _SUFFIXES.get(text[-1:], 1))
        except ValueError:
            raise LatentspaceError(f"{MEMORY_BUDGET_ENV}={os.environ[MEMORY_BUDGET_ENV]!r}: expected bytes, e.g. 2G") from None
    return int(MEMORY_BUDGET_FRACTION * _available_memory())


def _available_memory() -> int:
    available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit != resource.RLIM_INFINITY:
            available = min(available, limit)
    except (ImportError, OSError, ValueError):
        pass
    return available


def human_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def check_allocation(n_bytes: int, what: str, error: type[LatentspaceError] = LatentspaceError,
                     budget: int | None = None) -> None:
    """Raise ``error`` (one line) when ``n_bytes`` exceed the memory budget; call before allocating.

    ``budget``: ``memory_budget()`` read once by a caller that checks many sizes (it reads /proc).
    """
    budget = memory_budget() if budget is None else budget
    if n_bytes > budget:
        whence = (f"{MEMORY_BUDGET_ENV}" if os.environ.get(MEMORY_BUDGET_ENV, "").strip()
                  else f"half the available memory; set {MEMORY_BUDGET_ENV} to change it")
        raise error(f"{what} needs {human_bytes(n_bytes)}, more than the memory budget of {human_bytes(budget)} ({whence})")


def check_regular_file(path: Path, error: type[LatentspaceError] = LatentspaceError, what: str = "file") -> os.stat_result:
    """The ``stat`` of ``path``, which must be a regular file: a FIFO would hang a read, a device or
    ``/proc`` file has no honest size."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe, socket or device)"
        raise error(f"{path}: {kind}; expected a {what}")
    if str(path.resolve()).startswith("/proc/"):
        raise error(f"{path}: a /proc file, not a {what}")
    return info


def read_regular_bytes(path: Path, error: type[LatentspaceError] = LatentspaceError, what: str = "file") -> bytes:
    """The bytes of a regular file no larger than the memory budget; ``error`` names the path otherwise."""
    info = check_regular_file(path, error, what)
    check_allocation(info.st_size, f"{path}: reading this {human_bytes(info.st_size)} {what}", error)
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror})") from None


def _named_os_error(e: OSError, path: Path, doing: str) -> OSError:
    """The same OSError, its message naming ``path`` (``No space left on device`` alone names nothing)."""
    return OSError(e.errno, f"cannot {doing} {path}: {e.strerror or e}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename.

    On any failure (a full disk, say) ``path`` keeps its old contents and the OSError names ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise _named_os_error(e, path, "write") from None
    try:
        # mkstemp creates 0600 files; give the result the mode a plain open() would (0666 & ~umask).
        os.fchmod(fd, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise _named_os_error(e, path, "write") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_npy(path: Path, array: np.ndarray) -> None:
    """One array as a ``.npy`` file, written atomically (never pickled)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    atomic_write_bytes(path, buffer.getvalue())


def atomic_write_npz(path: Path, **arrays: np.ndarray) -> None:
    """Named arrays as a ``.npz`` archive, written atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def temporary_folder_for(path: Path) -> Path:
    """A new empty folder next to ``path`` (same file system, so it can be renamed onto ``path``)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
        folder.chmod(0o777 & ~_current_umask())  # mkdtemp's 0700 is for secrets; this is a model
        return folder
    except OSError as e:
        raise _named_os_error(e, path, "write") from None


def replace_folder(new: Path, path: Path) -> None:
    """Put the complete folder ``new`` at ``path`` in one step; a previous ``path`` is deleted after.

    On Linux the two folders are exchanged atomically (``renameat2(RENAME_EXCHANGE)``), so at every
    instant ``path`` is the whole old folder or the whole new one. Elsewhere the old folder is renamed
    aside first; a crash in between leaves no ``path`` and the old folder as ``.NAME.old`` (see
    ``recover_folder``).
    """
    new, path = Path(new), Path(path)
    try:
        if not path.exists():
            os.rename(new, path)
            return
        if _exchange(new, path):
            shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the old folder
            return
        aside = path.with_name(f".{path.name}.old")
        shutil.rmtree(aside, ignore_errors=True)
        os.rename(path, aside)
        os.rename(new, path)
        shutil.rmtree(aside, ignore_errors=True)
    except OSError as e:
        raise _named_os_error(e, path, "replace") from None


@contextlib.contextmanager
def output_folder(path: str | Path) -> Iterator[Path]:
    """``path`` made (with its missing parents) for the block. If the block fails, the folders it made
    are removed again while they are empty, so a refused command leaves the file system as it found
    it; a folder that received a file stays, with what was written."""
    path = Path(path)
    made, folder = [], path
    while not folder.exists():
        made.append(folder)
        folder = folder.parent
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _named_os_error(e, path, "create") from None
    try:
        yield path
    except BaseException:
        for folder in made:  # the deepest first
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def remove_debris(folder: Path) -> None:
    """Remove what an atomic write or folder swap killed midway left in ``folder``: its ``.NAME.*.tmp``
    files and folders. Only for a folder this process owns (under its run lock): no writer is active."""
    for debris in Path(folder).glob(".*.tmp"):
        if debris.is_dir() and not debris.is_symlink():
            shutil.rmtree(debris, ignore_errors=True)
        else:
            debris.unlink(missing_ok=True)


def recover_folder(path: Path) -> None:
    """Undo a ``replace_folder`` that stopped between its two renames (only where it could not exchange)."""
    path = Path(path)
    aside = path.with_name(f".{path.name}.old")
    if not path.exists() and aside.is_dir():
        os.rename(aside, path)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2; False where the call is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code))


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_json(path: Path, obj: Any) -> None:
    """``obj`` as standard JSON: NaN and infinities (which JSON cannot hold) are written as null."""
    text = json.dumps(finite_json(obj), indent=2, default=json_default, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode())


def finite_json(value: Any) -> Any:
    """``value`` with every non-finite float (numpy's too) replaced by None, recursively."""
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite_json(value.tolist())
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def json_default(value: Any) -> Any:
    """JSON for numpy scalars, tuples and arrays; None for what JSON cannot hold (e.g. a RandomState)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, np.ndarray)):
        return finite_json(list(value))
    return None  # e.g. a RandomState passed as random_state: not reproducible from JSON


def read_json_document(path: Path, fmt: str, version: int, what: str) -> dict:
    """The JSON object at ``path`` whose ``format`` is ``fmt`` and ``format_version`` at most ``version``."""
    document = read_json(path, CheckpointError, what)
    if not isinstance(document, dict) or document.get("format") != fmt:
        raise CheckpointError(f"{path}: not a {what}")
    found = document.get("format_version", 0)
    if not isinstance(found, int) or isinstance(found, bool) or found < 0:
        raise CheckpointError(f"{path}: format_version must be a whole number, got {found!r}")
    if found > version:
        raise CheckpointError(f"{path}: format version {document['format_version']} is newer than this library's")
    return document


#: JSON documents written by this library are small: a larger one is not ours.
MAX_JSON_BYTES = 256 << 20


def read_json(path: Path, error: type[LatentspaceError] = CheckpointError, what: str = "JSON file") -> Any:
    """The standard JSON in a regular file at ``path``; ``error`` (one line naming the path) otherwise.

    NaN and Infinity are refused (not JSON, and a NaN epoch or size breaks every later check), and so
    is nesting too deep to parse.
    """
    info = check_regular_file(path, error, what)
    if info.st_size > MAX_JSON_BYTES:
        raise error(f"{path}: {human_bytes(info.st_size)} is too large for a {what}")

    def refuse(constant: str):
        raise ValueError(f"{constant} is not valid JSON")

    try:
        return json.loads(Path(path).read_bytes(), parse_constant=refuse)
    except RecursionError:
        raise error(f"{path}: corrupt JSON (nested too deeply)") from None
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        raise error(f"{path}: corrupt JSON ({first_line(e)})") from None
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror})") from None


def safetensors_bytes(tensors: dict[str, torch.Tensor]) -> tuple[bytes, str]:
    """``(file contents, SHA-256 hex digest)`` of ``tensors`` in the safetensors format."""
    from safetensors.torch import save as st_save

    data = st_save(tensors)
    return data, hashlib.sha256(data).hexdigest()


def read_checksummed_safetensors(path: Path, expected_sha256: str | None) -> dict[str, torch.Tensor]:
    """The tensors in ``path``; CheckpointError when it is missing, fails its checksum or is unreadable."""
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path.parent}: tensors file {path.name} is missing")
    data = read_regular_bytes(path, CheckpointError, "tensors file")
    if expected_sha256 is not None and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise CheckpointError(f"{path}: checksum mismatch (file truncated or modified)")
    try:
        return st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: unreadable safetensors file ({e})") from None
