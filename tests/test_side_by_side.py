"""Independent computations side by side in worker processes (training/side_by_side.py), and the sweep
that uses them: the same results as in one process, errors and warnings carried back, no worker left."""

from __future__ import annotations

import multiprocessing
import os
import warnings

import pytest

from latentspace.analysis.sweep import latent_sweep
from latentspace.errors import LatentspaceError
from latentspace.estimators import VAE, AutoEncoder, LinearAutoEncoder
from latentspace.nn.backend import LIGHT_STEP_FLOPS
from latentspace.training import threads
from latentspace.training.side_by_side import side_by_side


def power_and_pid(state: dict, item: int) -> tuple[int, int, int]:
    """A task: ``item ** state["power"]``, the worker's pid and its torch threads."""
    import torch

    if item < 0:
        raise LatentspaceError(f"no negative items, got {item}")
    if item == 7:
        warnings.warn(f"seven is {state['power']}-powered", UserWarning)
    return item ** state["power"], os.getpid(), torch.get_num_threads()


def test_results_and_warnings_come_back_in_order_from_single_threaded_workers():
    before, own_before = threads._cpu_seconds(), os.times()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = list(side_by_side(power_and_pid, {"power": 2}, range(9), workers=2))
    own_after = os.times()
    assert [r[0] for r in results] == [0, 1, 4, 9, 16, 25, 36, 49, 64]
    pids = {r[1] for r in results}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert {r[2] for r in results} == {1}
    assert [str(w.message) for w in caught] == ["seven is 2-powered"] and caught[0].category is UserWarning
    assert multiprocessing.active_children() == []  # the pool is gone
    # and their CPU time counts as this process's own use: the load it left is not read as another job's
    children = (threads._cpu_seconds() - before) - (own_after.user + own_after.system - own_before.user - own_before.system)
    assert children > 0.5  # two spawned interpreters importing torch: seconds of CPU


def test_one_worker_or_one_item_stays_in_this_process():
    assert [r[1] for r in side_by_side(power_and_pid, {"power": 3}, [2, 3], workers=1)] == [os.getpid()] * 2
    assert [r[:2] for r in side_by_side(power_and_pid, {"power": 3}, [2], workers=2)] == [(8, os.getpid())]


def test_a_workers_error_arrives_as_itself_and_stops_the_pool():
    with pytest.raises(LatentspaceError, match="no negative items, got -1"):
        list(side_by_side(power_and_pid, {"power": 2}, [1, -1, 2, 3], workers=2))
    assert multiprocessing.active_children() == []


def test_stopping_early_terminates_the_workers():
    results = side_by_side(power_and_pid, {"power": 2}, range(20), workers=2)
    assert next(results)[0] == 0
    results.close()
    assert multiprocessing.active_children() == []


def test_training_step_flops_tells_light_networks_from_heavy_ones():
    assert VAE(16).training_step_flops(64) < LIGHT_STEP_FLOPS  # digits
    assert AutoEncoder(2).training_step_flops(64) < LIGHT_STEP_FLOPS
    assert VAE(16, hidden=(512, 256)).training_step_flops(784) > LIGHT_STEP_FLOPS  # Fashion-MNIST's reference
    # 6 x batch x the products' sizes: encoder 64-256-64-32 (mean and log-variance), decoder 16-64-256-64
    assert VAE(16).training_step_flops(64) == 6 * 128 * (64 * 256 + 256 * 64 + 64 * 32 + 16 * 64 + 64 * 256 + 256 * 64)
    assert LinearAutoEncoder("mle").training_step_flops(64) is None  # only the data decide its size
    assert VAE(2, architecture="conv", image_shape=(8, 8)).training_step_flops(64) is None


@pytest.mark.slow
def test_a_sweep_side_by_side_gives_the_rows_of_one_process(digits):
    kw = {"ks": (1, 4), "models": ("pca", "linear", "ae", "vae"), "epochs": 15, "linear_epochs": 15, "n_samples": 200,
          "random_state": 0}
    alone, together = latent_sweep(digits, workers=1, **kw), latent_sweep(digits, workers=2, **kw)
    assert [(r["model"], r["k"], r["epochs"]) for r in alone] == [(r["model"], r["k"], r["epochs"]) for r in together]
    for a, b in zip(alone, together):
        assert a["heldout_mse_per_feature"] == b["heldout_mse_per_feature"]  # the same fits
        for column, value in a.items():
            if isinstance(value, float) and column != "fit_seconds":  # numpy's BLAS rounds by its threads
                assert b[column] == pytest.approx(value, rel=1e-6), column


def test_workers_must_be_a_positive_count_or_auto(digits):
    with pytest.raises(LatentspaceError, match="workers must be a positive integer or 'auto'"):
        latent_sweep(digits, ks=(1,), models=("pca",), workers=0)


def test_a_sweep_goes_side_by_side_only_when_its_light_steps_repay_the_workers(digits, monkeypatch):
    from latentspace.analysis import sweep

    monkeypatch.setattr(sweep, "resolve_threads", lambda threads: 2)  # two idle CPUs, whatever the host's load
    job = sweep._SweepJob(digits, None, {"ae": 250, "vae": 167}, 300, 100, 0)  # the full demo's budget
    tasks = [(name, k) for k in (1, 2, 4, 8, 16) for name in ("pca", "linear", "ae", "vae")]
    assert sweep.sweep_workers(job, tasks) == 2
    assert sweep.sweep_workers(sweep._SweepJob(digits, None, 40, 40, 100, 0), tasks[:12]) == 1  # too little work
    monkeypatch.setattr(sweep.backend, "LIGHT_STEP_FLOPS", 1e6)  # as if the networks were Fashion-MNIST's
    assert sweep.sweep_workers(job, tasks) == 1
    assert AutoEncoder(2, epochs=7).training_steps(1000) == 7 * 8 and VAE(2).training_steps(1000) == 2000
