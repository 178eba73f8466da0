"""The papers' claims about model families, on one budget per row, repeated over seeds with their spread.

    PYTHONPATH=src python benchmarks/family_claims.py --data digits --seeds 0,1,2 --steps 3000
    PYTHONPATH=src python benchmarks/family_claims.py --data fashion-mnist --seeds 0,1,2 --steps 20000

Claims (each printed as holds / does not hold on this protocol, with mean +- sd over the seeds):

1. the VampPrior lowers the held-out IW-NLL below the standard prior's (Tomczak & Welling 2018);
2. IWAE (k = 5) lowers it below the VAE's (Burda et al. 2016);
3. RAE + ex-post mixture samples beat the VAE's prior samples in Fréchet distance (Ghosh et al. 2020);
4. the two-stage sampler beats one-stage prior sampling (Dai & Wipf 2019);
5. an ex-post mixture improves every family's samples (pythae's benchmark, Chadebec et al. 2022).

Every model is ``latentspace compare``'s: the family's defaults, ``--steps`` optimiser steps, no early
stopping; the measurements are the leaderboard's (analysis/families.py). IW-NLLs compare only under one
likelihood: claims 1 and 2 use the VAE, VampPrior VAE and IWAE, which share it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine

from latentspace.analysis.families import leaderboard
from latentspace.data import load_dataset
from latentspace.workflows.compare import fit_families

FAMILIES = ("vae", "vamp", "iwae", "rae", "wae", "two-stage")


def spread(values: list[float]) -> str:
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{mean:.3f} +- {sd:.3f}"


def verdict(differences: list[float]) -> str:
    """'holds' when every seed's difference (claimed better minus baseline) is below zero."""
    if all(d < 0 for d in differences):
        return "holds"
    return "does not hold" if all(d >= 0 for d in differences) else "mixed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--iw-samples", type=int, default=1000)
    parser.add_argument("--iw-rows", type=int, default=1000)
    args = parser.parse_args()
    data = load_dataset(args.data)
    per_seed = []
    for seed in (int(s) for s in args.seeds.split(",")):
        fitted = dict(fit_families(FAMILIES, data, n_components=args.k, steps=args.steps, seed=seed))
        rows, samples = leaderboard(fitted, data, n_samples=args.samples, iw_samples=args.iw_samples,
                                    iw_rows=args.iw_rows, seed=seed)
        nll = {r["model"]: r["iw_nll"] for r in rows if "iw_nll" in r}
        fid = {(r["model"], r["sampler"]): r["frechet"] for r in samples}
        per_seed.append((nll, fid))
        print(f"seed {seed}: IW-NLL {nll}; Fréchet {fid}", flush=True)
    claims = [
        ("VampPrior IW-NLL < VAE IW-NLL", [n["vamp"] - n["vae"] for n, _ in per_seed]),
        ("IWAE (k=5) IW-NLL < VAE IW-NLL", [n["iwae"] - n["vae"] for n, _ in per_seed]),
        ("RAE + gmm Fréchet < VAE prior Fréchet", [f["rae", "gmm"] - f["vae", "prior"] for _, f in per_seed]),
        ("two-stage Fréchet < prior Fréchet (VAE)", [f["vae", "two-stage"] - f["vae", "prior"] for _, f in per_seed]),
    ]
    for family in ("vae", "vamp", "iwae", "wae", "two-stage"):
        claims.append((f"gmm Fréchet < prior Fréchet ({family})",
                       [f[family, "gmm"] - f[family, "prior"] for _, f in per_seed]))
    print(f"\n{args.data}, k = {args.k}, {args.steps} steps per model, seeds {args.seeds}; {machine()}")
    print(f"{'claim':<44} {'difference (claimed - baseline)':>32}  verdict")
    for name, differences in claims:
        print(f"{name:<44} {spread(differences):>32}  {verdict(differences)}")


if __name__ == "__main__":
    main()
