"""Independent computations side by side in worker processes (training/side_by_side.py), and the sweep
that uses them: the same results as in one process, errors and warnings carried back, no worker left."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
import warnings

import pytest

from latentspace.analysis.sweep import latent_sweep
from latentspace.errors import LatentspaceError
from latentspace.estimators import VAE, AutoEncoder, LinearAutoEncoder
from latentspace.nn.backend import LIGHT_STEP_FLOPS
from latentspace.training import side_by_side as sbs
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
        results = list(side_by_side(power_and_pid, {"power": 2}, range(9), workers=2, costs=[1, 9, 0, 5, 5, 2, 0, 8, 3]))
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


def test_the_costliest_items_go_to_the_workers_first_and_come_back_in_order(monkeypatch):
    """Longest first: the pool's workers take items in the order they are handed over: all at once where
    the computation may use every worker of the pool, else at most ``workers`` at a time; what they hand
    back, in whatever order they finish, ``side_by_side`` puts back in the order of the items."""
    handed: list[int] = []
    in_flight: list[int] = []

    class Pool:  # runs what it is handed here, the newest item first, when the parent waits for one
        def __init__(self, processes, initializer):
            self.waiting: list = []

        def apply_async(self, run, args, callback, error_callback):
            handed.append(args[0][0])
            self.waiting.append((run, args, callback))
            in_flight.append(len(self.waiting))

        def close(self) -> None:
            pass

        join = terminate = close

    pools: list[Pool] = []

    class Context:
        def Pool(self, processes, initializer):
            pools.append(Pool(processes, initializer))
            return pools[-1]

    class Queue(sbs.queue.SimpleQueue):
        def get(self, block=True, timeout=None):
            if self.empty():
                run, args, callback = pools[-1].waiting.pop()
                callback(run(*args))
            return super().get()

    monkeypatch.setattr(sbs, "_unguarded_main", lambda: None)
    monkeypatch.setattr(sbs, "_job", None)  # what this process reads, as a worker would, goes again after
    monkeypatch.setattr(sbs.multiprocessing, "get_context", lambda method: Context())
    monkeypatch.setattr(sbs.queue, "SimpleQueue", Queue)
    costs = [1.0, 5.0, 0.0, 5.0, 3.0]
    finished = list(sbs.as_finished(power_and_pid, {"power": 2}, range(5), workers=2, costs=costs))
    assert handed == [1, 3, 4, 0, 2]  # costliest first, ties in their own order
    assert max(in_flight) == 5  # a pool of two for a computation on two: everything handed over at once
    assert [index for index, _ in finished] == [2, 0, 4, 3, 1]  # as they finished: the newest first here
    assert all(result[0] == index**2 for index, result in finished)
    handed.clear()
    assert [r[0] for r in side_by_side(power_and_pid, {"power": 2}, range(5), workers=2, costs=costs)] == [0, 1, 4, 9, 16]
    handed.clear()
    list(sbs.as_finished(power_and_pid, {"power": 2}, range(5), workers=2))
    assert handed == [0, 1, 2, 3, 4]  # no costs: in their order
    with pytest.raises(ValueError, match="2 costs for 5 items"):
        list(sbs.as_finished(power_and_pid, {"power": 2}, range(5), workers=2, costs=[1.0, 2.0]))
    # a kept pool of three lent to a computation on two: never more than two workers' worth at a time
    handed.clear()
    in_flight.clear()
    pool = sbs.WorkerPool(3)
    path = pool.hand_over(power_and_pid, {"power": 2})
    finished = list(pool.start(path, range(5), [1, 3, 4, 0, 2], workers=2))
    pool.close()
    assert handed == [1, 3, 4, 0, 2] and max(in_flight) == 2
    assert sorted(index for index, _ in finished) == [0, 1, 2, 3, 4]


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


def test_a_kept_pool_serves_every_computation_of_its_block_and_its_cpu_counts_as_this_processs():
    with sbs.shared_workers():
        first = list(side_by_side(power_and_pid, {"power": 2}, range(6), workers=2))
        own = os.times()
        cpu = threads._cpu_seconds()
        second = list(side_by_side(power_and_pid, {"power": 3}, range(6), workers=2))
        pool_pids = {p.pid for p in multiprocessing.active_children()}
        assert len(pool_pids) >= 2  # still running between computations
    assert [r[0] for r in first] == [i**2 for i in range(6)] and [r[0] for r in second] == [i**3 for i in range(6)]
    assert {r[1] for r in first} | {r[1] for r in second} <= pool_pids  # one pool for both
    # running, its workers' CPU (two interpreters importing torch: seconds) counted as this process's own use
    assert cpu - (own.user + own.system + own.children_user + own.children_system) > 0.5
    assert multiprocessing.active_children() == [] and int(threads.busy_workers) == 0


def test_after_an_error_the_next_computation_of_the_block_still_gets_its_results():
    with sbs.shared_workers():
        with pytest.raises(LatentspaceError, match="no negative items"):
            list(side_by_side(power_and_pid, {"power": 2}, [1, -1, 2], workers=2))
        assert int(threads.busy_workers) == 0
        assert [r[0] for r in side_by_side(power_and_pid, {"power": 2}, [1, 2, 3], workers=2)] == [1, 4, 9]
    assert multiprocessing.active_children() == []


def test_a_caller_that_lets_go_after_the_last_result_keeps_the_pool():
    """zip(names, fitted) never asks ``fitted`` again after its last name: the generator is closed with
    nothing in flight, which must not end the pool the next stage uses (the demo's fit stage did)."""
    with sbs.shared_workers():
        for _ in zip("ab", side_by_side(power_and_pid, {"power": 2}, [1, 2], workers=2)):
            pass
        pids = {p.pid for p in multiprocessing.active_children()}
        assert len(pids) >= 2 and sbs._warm_pool() is not None
        again = list(side_by_side(power_and_pid, {"power": 2}, [3, 4], workers=2))
        assert [r[0] for r in again] == [9, 16] and {r[1] for r in again} <= pids


def marked(folder: str, item: int) -> int:
    """A task: leaves a file named ``item`` in ``folder`` (that it ran), then sleeps ``item`` / 10 s."""
    import pathlib
    import time

    pathlib.Path(folder, str(item)).write_text("done")
    time.sleep(item / 10)
    return item


def test_work_handed_to_a_kept_pool_is_computed_before_anyone_reads_it(tmp_path, monkeypatch):
    """The demo begins its later stages' fits before its first stage: side by side, the work starts when
    asked for, not when read; and the block's end stops what nobody read, rather than wait for it."""
    monkeypatch.setattr(sbs, "resolve_workers", lambda: 2)
    with sbs.shared_workers(start=True):
        begun = side_by_side(marked, str(tmp_path), [1, 2, 3], workers=2)
        for _ in range(600):  # the workers import torch first: seconds
            if len(list(tmp_path.iterdir())) == 3:
                break
            time.sleep(0.2)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["1", "2", "3"]  # all three ran, none read
        assert list(begun) == [1, 2, 3]
        assert int(threads.busy_workers) == 0
        unread = side_by_side(marked, str(tmp_path), [600, 600], workers=2)  # ten minutes each
        started = time.monotonic()
    assert time.monotonic() - started < 60 and multiprocessing.active_children() == []
    with pytest.raises(sbs.WorkersStopped):
        list(unread)
    assert int(threads.busy_workers) == 0


def test_two_computations_run_at_once_and_one_abandoned_stops_the_other(tmp_path, monkeypatch):
    monkeypatch.setattr(sbs, "resolve_workers", lambda: 2)
    squares = {"power": 2}
    with sbs.shared_workers(start=True):
        pool = sbs._warm_pool()
        first = side_by_side(power_and_pid, squares, range(4), workers=2)
        second = side_by_side(power_and_pid, squares, range(4), workers=2)
        assert len(pool._files) == 1  # the same task and state: one file for both
        assert [r[0] for r in first] == [0, 1, 4, 9]
        assert [r[0] for r in second] == [0, 1, 4, 9]
        assert pool._files == {} and list(pool._folder.iterdir()) == []  # the last one removed it
        failing = side_by_side(marked, str(tmp_path), [-1, 300], workers=2)  # an error, and 30 s of sleep
        other = side_by_side(marked, str(tmp_path), [300, 300], workers=2)
        with pytest.raises(ValueError, match="non-negative"):
            list(failing)  # given up while its second item is in flight: the pool ends
        with pytest.raises(sbs.WorkersStopped):
            list(other)
        assert int(threads.busy_workers) == 0
        assert [r[0] for r in side_by_side(power_and_pid, {"power": 2}, [5, 6], workers=2)] == [25, 36]  # a new pool
    assert multiprocessing.active_children() == []


def test_this_process_keeps_one_native_thread_while_its_pool_holds_the_other_cpus(monkeypatch):
    from threadpoolctl import threadpool_info

    monkeypatch.setattr(sbs, "resolve_workers", lambda: 2)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    torch_threads = __import__("torch").get_num_threads()
    with sbs.shared_workers(start=True):
        assert __import__("torch").get_num_threads() == 1 and os.environ["OMP_NUM_THREADS"] == "1"
        assert {p["num_threads"] for p in threadpool_info()} == {1}
    assert __import__("torch").get_num_threads() == torch_threads and "OMP_NUM_THREADS" not in os.environ


def test_a_kept_pool_takes_less_work_than_a_new_one_repays(monkeypatch):
    monkeypatch.setattr(sbs, "resolve_workers", lambda: 2)
    costs = [sbs.WARM_MIN_STEPS / 2] * 3  # well below a new pool's SIDE_BY_SIDE_MIN_STEPS
    assert sbs.auto_workers(costs, 0) == 1
    with sbs.shared_workers():
        assert sbs.auto_workers(costs, 0) == 1  # no pool started yet: one would have to start
    with sbs.shared_workers(start=True):
        assert len(multiprocessing.active_children()) == 2  # started with the block
        assert sbs.auto_workers(costs, 0) == 2
        assert sbs.auto_workers(costs[:1], 0) == 1  # under WARM_MIN_STEPS
        monkeypatch.setattr(sbs, "resolve_workers", lambda: 4)
        assert sbs.auto_workers(costs, 0) == 2  # no more than the kept pool has
    assert multiprocessing.active_children() == []


def test_data_that_cannot_be_written_for_the_workers_is_computed_here_with_a_warning(monkeypatch):
    def full_disk(self, task, state):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sbs.WorkerPool, "hand_over", full_disk)
    with pytest.warns(sbs.OneProcessWarning, match="No space left on device.*TMPDIR"):
        results = list(side_by_side(power_and_pid, {"power": 2}, [1, 2, 3], workers=2))
    assert results == [(1, os.getpid(), results[0][2]), (4, os.getpid(), results[0][2]), (9, os.getpid(), results[0][2])]
    assert multiprocessing.active_children() == []


def test_this_processs_threads_leave_the_cpus_its_busy_workers_hold(monkeypatch):
    monkeypatch.setattr(threads, "idle_cpus", lambda: 2.0)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    assert threads.default_threads(1e12) == 2
    monkeypatch.setattr(threads, "busy_workers", 1)
    assert threads.default_threads(1e12) == 1


def thread_settings(state: None, item: str) -> tuple[str | None, int]:
    """A task: the worker's setting of an environment variable, and the threads of scikit-learn's OpenMP
    pool (imported here, after the worker started: as a sweep row's mixture fit imports it)."""
    import sklearn.cluster  # noqa: F401 (loads scikit-learn's OpenMP runtime)
    from threadpoolctl import threadpool_info

    return os.environ.get(item), max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp")


def test_workers_start_with_one_thread_for_every_pool_they_load_later(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    results = list(side_by_side(thread_settings, None, ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"], workers=2))
    assert results == [("1", 1), ("1", 1)]
    assert "OMP_NUM_THREADS" not in os.environ  # the parent's own environment is given back


def test_a_task_the_workers_cannot_import_comes_back_as_an_error_not_a_hang(tmp_path):
    """A task defined in a script's ``__main__`` run as ``python -m``: spawned workers cannot find it. In the
    pool's own unpickling that error ended the worker and the parent waited for ever."""
    package = tmp_path / "unimportable"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        "from latentspace.training.side_by_side import side_by_side\n"
        "def square(state, item):\n    return item * item\n"
        "try:\n    print(list(side_by_side(square, None, [1, 2, 3], workers=2)))\n"
        "except AttributeError as error:\n    print('error:', error)\n")
    done = subprocess.run([sys.executable, "-m", "unimportable"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert "error: Can't get attribute 'square'" in done.stdout, done.stderr


def test_a_worker_killed_mid_task_is_an_error_not_a_hang(tmp_path):
    """The out-of-memory killer ends a worker with SIGKILL: multiprocessing.Pool starts another and the task
    it was computing is lost, so the parent waited for ever. Now the computation ends with one clear error
    naming the signal and what to do (in a subprocess, so that a hang fails the test instead of the run)."""
    script = tmp_path / "killed.py"
    script.write_text(
        "import os, signal, time\n"
        "from latentspace.training.side_by_side import side_by_side, WorkerDied\n"
        "def task(state, item):\n"
        "    if item == 'die':\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    time.sleep(item)\n"
        "    return item\n"
        "if __name__ == '__main__':\n"
        "    started = time.monotonic()\n"
        "    try:\n"
        "        print(list(side_by_side(task, None, [1, 'die', 2, 3], workers=2)))\n"
        "    except WorkerDied as error:\n"
        "        print('error:', error)\n"
        "    print('children:', len(__import__('multiprocessing').active_children()))\n")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=180,
                          check=False)
    assert "error: a worker process killed by signal 9 (SIGKILL: out of memory?" in done.stdout, done.stderr
    assert "--threads 1" in done.stdout and "children: 0" in done.stdout


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


def test_a_sweep_goes_side_by_side_when_its_training_repays_the_workers(digits, monkeypatch):
    from latentspace.analysis import sweep
    monkeypatch.setattr(sbs, "resolve_workers", lambda: 2)  # two idle CPUs, whatever the host's load
    monkeypatch.setattr(sbs, "available_memory", lambda: 8 * 2**30)
    job = sweep._SweepJob(digits, None, {"ae": 250, "vae": 167}, 300, 100, 0)  # the full demo's budget
    tasks = [(name, k) for k in (1, 2, 4, 8, 16) for name in ("pca", "linear", "ae", "vae")]
    assert sweep.sweep_workers(job, tasks) == 2
    small = sweep._SweepJob(digits, None, 40, 40, 100, 0)
    assert sweep.sweep_workers(small, tasks[:12]) == 1  # too little work: 3 x 3 x 480 light steps
    monkeypatch.setattr(sbs, "LIGHT_STEP_FLOPS", 1e6)  # as if the networks were Fashion-MNIST's
    assert sbs.light_steps(VAE(2, epochs=40), 1000, 64) > 40 * 8 * 5  # a heavy step weighs its products
    assert sweep.sweep_workers(small, tasks[:12]) == 2  # the same steps, heavy: enough work
    monkeypatch.setattr(sbs, "available_memory", lambda: 2 * 2**30)  # room for one worker in half of it
    assert sweep.sweep_workers(small, tasks[:12]) == 1
    assert AutoEncoder(2, epochs=7).training_steps(1000) == 7 * 8 and VAE(2).training_steps(1000) == 2000


def test_workers_are_as_many_as_half_the_available_memory_holds(monkeypatch):
    monkeypatch.setattr(sbs, "available_memory", lambda: 10 * (2**30 + sbs.WORKER_BYTES))
    assert sbs.affordable_workers(16, 2**30) == 5 and sbs.affordable_workers(3, 2**30) == 3
    assert sbs.affordable_workers(16, 100 * 2**30) == 1  # one process, whatever the memory
    monkeypatch.setattr(sbs, "available_memory", lambda: None)  # not Linux: the CPUs decide
    assert sbs.affordable_workers(4, 100 * 2**30) == 4
    monkeypatch.undo()
    assert sbs.available_memory() is None or sbs.available_memory() > sbs.WORKER_BYTES  # this host's, read


def test_models_fitted_side_by_side_are_the_ones_fitted_in_one_process(digits):
    from sklearn.base import clone

    from latentspace.estimators import ConditionalVAE
    from latentspace.training.side_by_side import fit_side_by_side

    models = [AutoEncoder(2, epochs=10, random_state=0), ConditionalVAE(2, epochs=10, random_state=1),
              LinearAutoEncoder(3, epochs=10, random_state=2)]
    labels = [None, digits.y_train, None]
    here = list(fit_side_by_side(models, digits.X_train, labels, workers=1))
    there = list(fit_side_by_side([clone(m) for m in models], digits.X_train, labels, workers=2))
    assert [m for m, _ in here] == models  # one process: the models passed in, fitted
    for (a, _), (b, seconds) in zip(here, there):
        assert type(b) is type(a) and b is not a and seconds > 0
        assert b.n_iter_ == a.n_iter_
        assert b.inverse_transform(b.transform(digits.X_test)) == pytest.approx(
            a.inverse_transform(a.transform(digits.X_test)), abs=1e-6)


def test_fits_stay_in_one_process_when_auto_cannot_size_the_data(digits, monkeypatch):
    monkeypatch.setattr(sbs, "resolve_workers", lambda: 2)
    monkeypatch.setattr(sbs, "side_by_side", lambda task, state, items, workers, costs: iter([workers]))
    networks = [VAE(2, epochs=400) for _ in range(4)]  # 4 x 400 x 12 light steps: enough work
    assert list(sbs.fit_side_by_side(networks, digits.X_train)) == [2]
    assert list(sbs.fit_side_by_side(networks, list(digits.X_train))) == [1]  # a list: no size known
    assert list(sbs.fit_side_by_side(networks[:1], digits.X_train)) == [1]  # 4,800 light steps: too little


@pytest.mark.parametrize("source, quiet", [
    ('"""doc"""\nimport numpy as np\nfrom os import path\nN: int = 3\nX = [1, 2]\n', True),
    ("def main():\n    fit()\n\nclass A:\n    pass\n\nif __name__ == '__main__':\n    main()\n", True),
    ("try:\n    import torch\nexcept ImportError:\n    torch = None\nif True:\n    K = 2\n", True),
    ("import sys\nsys.path.insert(0, 'here')\nfrom helpers import fit\n", True),
    ("import os\nos.makedirs('out')\n", False),
    ("import latentspace\nlatentspace.run_demo()\n", False),
    ("model = VAE(2).fit(X)\n", False),  # an assignment that calls
    ("if __name__ != '__main__':\n    go()\n", False),
    ("for k in range(3):\n    pass\n", False),
])
def test_a_script_is_guarded_when_its_top_level_only_defines(source, quiet):
    import ast

    from latentspace.training.side_by_side import _is_quiet

    assert all(_is_quiet(s) for s in ast.parse(source).body) is quiet


def test_an_unguarded_script_fits_one_at_a_time_and_says_why(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text(
        "import numpy as np\n"
        "from latentspace import AutoEncoder\n"
        "from latentspace.training.side_by_side import fit_side_by_side\n"
        "X = np.random.default_rng(0).random((64, 8), dtype=np.float32)\n"
        "fitted = list(fit_side_by_side([AutoEncoder(2, epochs=1), AutoEncoder(3, epochs=1)], X, workers=2))\n"
        "print('fitted', len(fitted))\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "fitted 2"
    assert "OneProcessWarning: fitting one at a time" in done.stderr
    assert "guard it to fit independent models side by side" in done.stderr
