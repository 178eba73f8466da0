"""Denormal floats are flushed to zero on every thread of a CPU fit, and the mode is given back after."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from latentspace import RAE, AutoEncoder
from latentspace.nn import denormals
from latentspace.training.callbacks import Callback
from latentspace.training.threads import using_threads

TINY = torch.finfo(torch.float32).tiny
# enough elements that a two-thread product splits them between the threads (grain 32,768)
DENORMALS = torch.full((1 << 20,), 1e-39)


def flushed_on_every_thread() -> bool:
    """A product over a tensor of denormals, split across torch's threads, gives only zeros where
    each of them flushes; a thread that keeps denormals leaves its share non-zero."""
    return bool((DENORMALS * 1.0 == 0).all())


def denormal_weights(model: torch.nn.Module) -> int:
    return sum(int(((p != 0) & (p.abs() < TINY)).sum()) for p in model.parameters())


@pytest.fixture
def digits():
    return (load_digits().data / 16).astype(np.float32)


def test_denormals_are_kept_outside_a_fit():
    assert not denormals.flushed_here()
    assert (DENORMALS * 1.0 != 0).all()


@pytest.mark.skipif(not denormals.reaches_pool(), reason="PyTorch's OpenMP runtime is not reachable here")
def test_flushing_reaches_each_thread_of_the_pool_and_restores_them():
    with using_threads(2):
        DENORMALS * 1.0  # the pool exists, with its threads' own mode, before the block
        with denormals.flushing("cpu") as on:
            assert on and denormals.flushed_here()
            assert flushed_on_every_thread()
        assert not denormals.flushed_here()
        assert (DENORMALS * 1.0 != 0).all()  # no thread kept the mode


def test_a_caller_that_flushes_already_keeps_its_mode():
    torch.set_flush_denormal(True)
    try:
        with denormals.flushing("cpu") as on:
            assert on
        assert denormals.flushed_here()
    finally:
        torch.set_flush_denormal(False)


def test_other_devices_are_left_alone():
    with denormals.flushing("meta") as on:
        assert not on and not denormals.flushed_here()


class SeesFlushing(Callback):
    def __init__(self):
        self.seen = []

    def on_epoch_end(self, record):
        self.seen.append(flushed_on_every_thread() if denormals.reaches_pool() else denormals.flushed_here())


def test_a_fit_flushes_on_its_threads_records_it_and_gives_the_mode_back(digits):
    watch = SeesFlushing()
    model = AutoEncoder(2, hidden=(32,), epochs=2, threads=2, random_state=0, callbacks=[watch]).fit(digits)
    assert watch.seen == [True, True]
    assert model.compute_["denormals"] == "flushed"
    assert not denormals.flushed_here()
    assert (DENORMALS * 1.0 != 0).all()


@pytest.mark.slow
def test_dead_units_under_a_strong_decoder_penalty_leave_no_denormal_weight(digits):
    # Dead ReLU units' outgoing weights feel only the decoder's L2 pull, which shrinks them
    # geometrically: without flushing, this fit ends with about 4,500 denormal weights (and runs
    # 2-3x slower for it), from step ~1,500 on.
    model = RAE(2, hidden=(64, 32), lr=0.03, decoder_l2=1.0, epochs=150, patience=None, precision="32",
                threads=1, random_state=0).fit(digits)
    assert denormal_weights(model.model_) == 0
