"""A fixed random_state reproduces a fit exactly, whatever the machine's load: neither the thread
count (it follows the load) nor a timing (the two matrix kernels round differently and time within a
few per cent) may change the result; what a fit used is recorded."""

from __future__ import annotations

import numpy as np
import pytest

from latentspace import VAE, AutoEncoder
from latentspace.nn import backend
from latentspace.training import threads


@pytest.fixture
def load_and_timing(monkeypatch):
    """``set(load, faster)``: the next fit sees this 1-minute load average and times ``faster`` as the
    faster kernel (a coin toss in real life: 25.4 ms against 23.4 for a Fashion-MNIST VAE)."""
    if backend._candidates("32", backend.torch.device("cpu")) != ["onednn", "aten"]:
        pytest.skip("this torch build has one CPU kernel only")
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    monkeypatch.setattr(backend, "_backend", "auto")
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)

    def set_(load: float, faster: str) -> None:
        backend._chosen.clear()
        monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, load, load))
        monkeypatch.setattr(backend, "_time_products",
                            lambda shapes, rows, dtype, kernels, budget_s: {k: 1.0 if k == faster else 1.05 for k in kernels})

    return set_


def fit_twice(make, X, load_and_timing):
    """The same estimator fitted on an idle machine that times oneDNN faster, then on a busy one that
    times PyTorch's kernel faster."""
    load_and_timing(0.0, "onednn")
    first = make().fit(X)
    load_and_timing(1.8, "aten")
    second = make().fit(X)
    return first, second


@pytest.mark.parametrize("make", [
    lambda: AutoEncoder(2, hidden=(512, 256), epochs=2, random_state=0),  # a big step: threads follow the load
    lambda: VAE(3, hidden=(64,), epochs=2, random_state=0),               # a small step: one thread
], ids=["AE", "VAE"])
def test_a_fixed_random_state_fits_the_same_under_different_loads(make, digits, load_and_timing):
    first, second = fit_twice(make, digits.X_train[:600], load_and_timing)
    np.testing.assert_array_equal(first.transform(digits.X_test), second.transform(digits.X_test))
    assert first.compute_["kernel"] == second.compute_["kernel"] == "onednn"
    assert first.compute_["how"] == backend.FIXED and "threads" in first.compute_


def test_without_a_random_state_the_faster_kernel_is_measured(digits, load_and_timing):
    load_and_timing(0.0, "aten")
    fitted = AutoEncoder(2, hidden=(16,), epochs=1).fit(digits.X_train[:200])
    assert fitted.compute_["kernel"] == "aten" and fitted.compute_["how"] == "measured"


def test_a_log_likelihood_estimate_does_not_follow_the_timing(digits, load_and_timing):
    vae = VAE(2, hidden=(32,), epochs=1, random_state=0).fit(digits.X_train[:300])
    load_and_timing(0.0, "onednn")
    first = vae.log_likelihood(digits.X_test[:50], k=20)
    load_and_timing(0.0, "aten")
    np.testing.assert_array_equal(first, vae.log_likelihood(digits.X_test[:50], k=20))
