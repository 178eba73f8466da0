import os
import subprocess
import sys

import numpy as np
import pytest
import torch

# Feature nets cached by the analysis go to a per-session folder, not the user's ~/.cache.
if "LATENTSPACE_CACHE" not in os.environ:
    import tempfile

    os.environ["LATENTSPACE_CACHE"] = tempfile.mkdtemp(prefix="latentspace-test-cache-")

# Two pytest-xdist workers share two cores: one thread each avoids oversubscription (estimators with
# threads=None and the CLI in subprocesses read LATENTSPACE_THREADS).
torch.set_num_threads(int(os.environ.get("LATENTSPACE_TEST_THREADS", "1")))
os.environ.setdefault("LATENTSPACE_THREADS", os.environ.get("LATENTSPACE_TEST_THREADS", "1"))

from latentspace.data import fashion_mnist_available, load_digits  # noqa: E402


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits scaled to [0, 1], seeded 80/20 split."""
    return load_digits(seed=0)


@pytest.fixture(scope="session")
def small_digits(digits):
    """A 400-example slice for tests that only need real data of the right kind."""
    return digits.X_train[:400], digits.X_test[:100]


requires_fashion_mnist = pytest.mark.skipif(
    not fashion_mnist_available(),
    reason="Fashion-MNIST IDX files not found (apt-get install dataset-fashion-mnist)",
)


def run_cli(*args, cwd=None) -> tuple[int, str, str]:
    """Run ``python -m latentspace ARGS`` as a user would; (exit status, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "latentspace", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)
    return proc.returncode, proc.stdout, proc.stderr


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))


def parse_report_html(text: str) -> dict:
    """Sections, tables and decoded figures of a report written by latentspace.report.Report."""
    import base64
    import html
    import re

    figures = {
        html.unescape(name): base64.b64decode(data)
        for name, data in re.findall(r'data-figure="([^"]+)"><img [^>]*src="data:image/png;base64,([^"]*)"', text)
    }
    return {
        "sections": [html.unescape(s) for s in re.findall(r'<section id="[^"]*" data-section="([^"]+)"', text)],
        "tables": [html.unescape(t) for t in re.findall(r'<table data-table="([^"]+)"', text)],
        "figures": figures,
        "n_img": text.count("<img "),
    }


@pytest.fixture(scope="session")
def quick_demo(tmp_path_factory, digits):
    """``latentspace demo --quick`` on digits, run once per test session (in-process, no progress bars)."""
    from latentspace.workflows.demo import run_demo

    out = tmp_path_factory.mktemp("demo") / "quick"
    lines: list[str] = []
    result = run_demo(digits, out, quick=True, seed=0, echo=lines.append, show_progress=False)
    return result, "\n".join(lines)
