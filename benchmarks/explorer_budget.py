"""The latent explorer's budgets (issue 16): page size and in-page decode time, in headless Chromium.

    PYTHONPATH=src python benchmarks/explorer_budget.py            # reference VAE on Fashion-MNIST + demo
    PYTHONPATH=src python benchmarks/explorer_budget.py --quick    # fewer training images, no demo

Rows: the reference MLP VAE 784-512-256-16 (Bernoulli) on Fashion-MNIST, a conv VAE on it, with
float16 and float32 weights: the explorer page's size (budget: 3 MB for the float16 reference) and the
milliseconds per decode measured in the page with performance.now() over 200 decodes of random codes
after 20 warm-up decodes (budget: 5 ms), median and best of 5 such rounds, and the largest difference
between the page's decodes of 50 prior draws and torch's. With the demo (not --quick): the size of `latentspace demo
--quick`'s digits report with all four models in its explorer (budget: 4 MB). Training is short (the
sizes and times do not depend on how well the weights are trained).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the DevTools-over-pipe client the browser tests use

from _common import HIDDEN, N_LATENT, machine
from cdp import CHROMIUM, Chromium

from latentspace import VAE
from latentspace.data import fashion_mnist_available, load_dataset, load_digits
from latentspace.report.explorer import EXPLORER_INTRO, add_explorer
from latentspace.report.html import Report, text_table

MB = 1e6


def page_for(model_name: str, model, data, precision: str, path: Path) -> Path:
    report = Report(f"explorer budget: {model_name}")
    add_explorer(report.section("Latent explorer", EXPLORER_INTRO), {model_name: model}, data, precision)
    return report.write(path)


def decode_ms(browser: Chromium, path: Path, n: int = 200, rounds: int = 5) -> tuple[float, float]:
    """(median, best) over ``rounds`` of the page's mean ms per decode over ``n`` decodes.

    The best round is the one least disturbed by other processes on a shared machine.
    """
    browser.open(path.as_uri())
    browser.evaluate("window.latentExplorers[0].benchmark(0, 20)")  # warm-up: let the JIT compile the loops
    times = sorted(float(browser.evaluate(f"window.latentExplorers[0].benchmark(0, {n})")["ms_per_decode"])
                   for _ in range(rounds))
    return times[len(times) // 2], times[0]


def max_error(browser: Chromium, model, n: int = 50) -> float:
    """Max abs difference between the open page's decodes and torch's, over ``n`` prior draws."""
    Z = np.random.default_rng(0).standard_normal((n, model.n_components)).astype(np.float32)
    page = np.array(browser.evaluate(f"window.latentExplorers[0].decodeCodes(0, {json.dumps(Z.tolist())})"))
    return float(np.abs(page - np.asarray(model.inverse_transform(Z)).reshape(n, -1)).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6,000 training images, one epoch; no demo")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not fashion_mnist_available() or not CHROMIUM.exists():
        sys.exit("needs Fashion-MNIST (apt-get install dataset-fashion-mnist) and /usr/bin/chromium")
    data = load_dataset("fashion-mnist")
    X = data.X_train[:6000] if args.quick else data.X_train
    models = {
        f"MLP VAE 784-{'-'.join(map(str, HIDDEN))}-{N_LATENT}": VAE(N_LATENT, hidden=HIDDEN, epochs=1, random_state=0),
        "conv VAE 32-64, 16": VAE(N_LATENT, architecture="conv", image_shape=(28, 28), channels=(32, 64), hidden=(),
                                  epochs=1, random_state=0),
    }
    rows = []
    out = Path(tempfile.mkdtemp(prefix="explorer-budget-"))
    with Chromium(out / "profile") as browser:
        for name, model in models.items():
            started = time.perf_counter()
            model.fit(X)
            fit_s = time.perf_counter() - started
            for precision in ("float16", "float32"):
                path = page_for(name, model, data, precision, out / f"{name.split()[0]}-{precision}.html")
                median, best = decode_ms(browser, path)
                rows.append({"page": name, "weights": precision, "MB": path.stat().st_size / MB,
                             "ms_per_decode_median": median, "ms_per_decode_best": best,
                             "max_abs_err_vs_torch": max_error(browser, model), "fit_s": fit_s})
        assert browser.errors == [], browser.errors
    print(text_table(rows, f"explorer pages on Fashion-MNIST (1,000 stored training images, 2,000 map points); {machine()}"))
    if not args.quick:
        from latentspace.workflows.demo import run_demo

        result = run_demo(load_digits(seed=0), out / "demo", quick=True, echo=lambda _: None, show_progress=False)
        print(f"\nlatentspace demo --quick (digits, four models): report.html {result.report_path.stat().st_size / MB:.2f} MB")
    print(f"\npages kept in {out}")


if __name__ == "__main__":
    main()
