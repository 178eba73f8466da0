"""Threads on a busy machine: the default against one thread forced and against every CPU forced.

The issue's workload: ``AutoEncoder(2, epochs=20).fit(digits)``, while ``--burners`` other CPU-bound
processes run (busy loops started here; 0 leaves the machine as it is, which on a shared machine may
already be busy: the load average is printed with every row). The three settings alternate within
each round, so a change in the machine's load hits them alike; the table gives medians and ratios.

    PYTHONPATH=src python benchmarks/busy_threads.py                 # 2 burners, 3 rounds
    PYTHONPATH=src python benchmarks/busy_threads.py --burners 0 --rounds 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

import torch
from _common import machine, median, print_table


def burn() -> None:  # pragma: no cover - a busy loop in a child process
    while True:
        pass


def fit_seconds(X, threads: int | None) -> tuple[float, int]:
    from latentspace import AutoEncoder

    start = time.perf_counter()
    ae = AutoEncoder(2, epochs=20, random_state=0, threads=threads).fit(X)
    return time.perf_counter() - start, ae.compute_["threads"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burners", type=int, default=2, help="CPU-bound processes to run meanwhile")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from latentspace.data import load_digits
    from latentspace.training.threads import usable_cpus

    X = load_digits(seed=0).X_train
    settings = {"default (threads=None)": None, "1 thread forced": 1, f"{usable_cpus()} threads forced": usable_cpus()}
    burners = [multiprocessing.Process(target=burn, daemon=True) for _ in range(args.burners)]
    for b in burners:
        b.start()
    seconds: dict[str, list[float]] = {k: [] for k in settings}
    used: dict[str, set[int]] = {k: set() for k in settings}
    loads = []
    try:
        time.sleep(2 if burners else 0)
        fit_seconds(X[:100], 1)  # first-use imports out of the timings
        for r in range(args.rounds):
            for name, threads in settings.items():
                s, n = fit_seconds(X, threads)
                seconds[name].append(s)
                used[name].add(n)
                loads.append(os.getloadavg()[0])
                print(f"round {r + 1} {name:24s} {s:7.2f} s  threads {n}  load {loads[-1]:.1f}", flush=True)
    finally:
        for b in burners:
            b.terminate()
    one = median(seconds["1 thread forced"])
    rows = [[name, ",".join(map(str, sorted(used[name]))), median(v), median(v) / one] for name, v in seconds.items()]
    print_table(
        f"AutoEncoder(2, epochs=20).fit(digits) with {args.burners} busy-loop processes started here; "
        f"medians of {args.rounds} alternating rounds; load average {min(loads):.1f}-{max(loads):.1f} during "
        f"the runs. {machine()}",
        ["threads setting", "threads used", "fit s", "vs 1 thread"],
        rows,
    )


if __name__ == "__main__":
    torch.set_num_threads(torch.get_num_threads())
    main()
