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


@pytest.mark.parametrize("make, kernel, how", [
    # a big step (252 MFLOP): threads follow the load, the kernel is the build's default
    (lambda: AutoEncoder(2, hidden=(512, 256), epochs=2, random_state=0), "onednn", backend.FIXED),
    # a small step: one thread, and PyTorch's kernel (a light step's time is per-call overhead)
    (lambda: VAE(3, hidden=(64,), epochs=2, random_state=0), "aten", backend.LIGHT),
], ids=["AE", "VAE"])
def test_a_fixed_random_state_fits_the_same_under_different_loads(make, kernel, how, digits, load_and_timing):
    first, second = fit_twice(make, digits.X_train[:600], load_and_timing)
    np.testing.assert_array_equal(first.transform(digits.X_test), second.transform(digits.X_test))
    assert first.compute_["kernel"] == second.compute_["kernel"] == kernel
    assert first.compute_["how"] == how and "threads" in first.compute_


def test_without_a_random_state_the_faster_kernel_is_measured(digits, load_and_timing):
    load_and_timing(0.0, "aten")
    fitted = AutoEncoder(2, hidden=(512, 256), epochs=1).fit(digits.X_train[:200])
    assert fitted.compute_["kernel"] == "aten" and fitted.compute_["how"] == "measured"
    load_and_timing(0.0, "onednn")
    fitted = AutoEncoder(2, hidden=(512, 256), epochs=1).fit(digits.X_train[:200])
    assert fitted.compute_["kernel"] == "onednn" and fitted.compute_["how"] == "measured"


def test_a_light_step_takes_pytorchs_kernel_whatever_the_timing(digits, load_and_timing):
    """Below LIGHT_STEP_FLOPS no timing is taken (its products are not what a light step's time is made of),
    with or without a random_state; a step just above it is measured."""
    load_and_timing(0.0, "onednn")
    light = AutoEncoder(2, hidden=(16,), epochs=1).fit(digits.X_train[:200])
    assert light.compute_["kernel"] == "aten" and light.compute_["how"] == backend.LIGHT
    width = 1 + int(backend.LIGHT_STEP_FLOPS / (6 * 128 * 2 * digits.X_train.shape[1]))  # 64 -> width -> 64
    heavy = AutoEncoder(2, hidden=(width,), epochs=1).fit(digits.X_train[:200])
    assert backend.matmul_flops(heavy.model_, 128) >= backend.LIGHT_STEP_FLOPS
    assert heavy.compute_["kernel"] == "onednn" and heavy.compute_["how"] == "measured"


def test_a_log_likelihood_estimate_does_not_follow_the_timing(digits, load_and_timing):
    vae = VAE(2, hidden=(32,), epochs=1, random_state=0).fit(digits.X_train[:300])
    load_and_timing(0.0, "onednn")
    first = vae.log_likelihood(digits.X_test[:50], k=20)
    load_and_timing(0.0, "aten")
    np.testing.assert_array_equal(first, vae.log_likelihood(digits.X_test[:50], k=20))
