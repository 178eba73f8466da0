"""A large .npy loaded memory-mapped stays out of the process's memory (slow: writes a 627 MB file)."""

import json
import subprocess
import sys

import numpy as np
import pytest

MEASURE = r"""
import json, re, sys
from latentspace.data import load_dataset
def hwm():
    return int(re.search(r'VmHWM:\s+(\d+)', open('/proc/self/status').read()).group(1)) * 1024
before = hwm()
data = load_dataset(sys.argv[1], mmap=True)
total = float(data.X_test[:, 0].sum())   # touch the data through the mapping
print(json.dumps({'before': before, 'after': hwm(), 'memmap': data.memory_mapped, 'n_test': len(data.X_test)}))
"""


@pytest.mark.slow
def test_loading_a_large_memmap_keeps_peak_memory_far_below_the_file(tmp_path):
    rows, features = 200_000, 784
    path = tmp_path / "big.npy"
    with path.open("wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (rows, features)})
        chunk = np.random.default_rng(0).random((10_000, features), dtype=np.float32).tobytes()
        for _ in range(rows // 10_000):
            f.write(chunk)
    size = path.stat().st_size
    result = json.loads(subprocess.run([sys.executable, "-c", MEASURE, str(path)], check=True,
                                       capture_output=True, text=True).stdout)
    assert result["memmap"] and result["n_test"] == 40_000
    # The full NaN check reads every row; the peak may grow by a chunk, never by the file.
    assert result["after"] - result["before"] < 0.25 * size, (result, size)
