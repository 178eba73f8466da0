"""Time to a good model: wall time until the held-out -ELBO first reaches a target, side by side.

The reference workload: MLP VAE 784-512-256-16, Bernoulli likelihood, Fashion-MNIST's 60,000 training
images dynamically binarised (each use of an image draws Bernoulli(pixel) anew); the held-out set is
the 10,000 test images binarised once. The target T is the held-out -ELBO that the plain loop (the
pytorch/examples recipe, ``baseline_loop.py``: batch 128, Adam 1e-3) reaches after 20 epochs.

Contenders, each from the same seed:

* ``plain``: that loop, 20 epochs;
* ``pythae``: pythae 0.1.2's VAE with the same networks and ``reconstruction_loss="bce"`` (the
  workload's likelihood), trained by its ``BaseTrainer`` with the trainer's defaults (Adam, batch 64,
  lr 1e-4, no schedule) for 20 epochs (its default is 100); skipped with a message where pythae does
  not import (see ``requirements-pythae.txt``);
* ``latentspace``: ``VAE(16, hidden=(512, 256), binarize="dynamic").fit(X)`` with the library's
  defaults otherwise (its own budget, validation split and early stopping).

Every half epoch of each contender's own epochs the clock stops and the held-out -ELBO is measured
(one estimator for all, ``_common.test_nelbo``, the same noise every time); the table gives the wall
time, evaluation excluded, at which it first was at most T, the -ELBO at the end, the final held-out
IW-NLL (k = 1,000, on ``--iw-images`` images) and the ratios. Two thread settings: 2 threads, and 1
thread with the other core kept busy by a busy-loop process started here. The contenders alternate:
their order rotates from one setting (and round) to the next.

    PYTHONPATH=src python benchmarks/time_to_quality.py                # full: 60,000 images (an hour+)
    PYTHONPATH=src python benchmarks/time_to_quality.py --quick        # 12,000 images, 2,000 held out
    /tmp/venv-pythae/bin/python benchmarks/time_to_quality.py --quick  # with pythae (its own venv)

``--latentspace '{"batch_size": 128}'`` passes estimator parameters (for measuring other settings);
``--variant bf16='{"precision": "bf16"}'`` adds a contender ``latentspace[bf16]`` with more of them, in
the same alternation; ``--only plain,latentspace`` runs a subset.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field

import torch
from _common import HIDDEN, N_LATENT, fmt, load_reference_data, machine, print_table, test_nelbo
from baseline_loop import PlainLoop
from busy_threads import burn

#: epochs of the plain loop that define the target (and of pythae, which its default of 100 would not fit)
TARGET_EPOCHS = 20
SEED = 0


class EvalBreak(Exception):
    """Raised from a callback to end a contender's run early (never in the default settings)."""


@dataclass
class Clock:
    """Training wall time with the held-out checks taken out."""

    start: float = field(default_factory=time.perf_counter)
    paused: float = 0.0

    def now(self) -> float:
        return time.perf_counter() - self.start - self.paused

    def check(self, fn):
        """Run ``fn`` (an evaluation) off the clock; return its value."""
        t = time.perf_counter()
        try:
            return fn()
        finally:
            self.paused += time.perf_counter() - t


@dataclass
class Run:
    """One contender's run: the held-out -ELBO at each check, against training seconds and epochs."""

    name: str
    setting: str
    checks: list[tuple[float, float, float]] = field(default_factory=list)  # (seconds, epochs, -ELBO)
    seconds: float = math.nan
    epochs: float = math.nan
    iw_nll: float = math.nan
    note: str = ""

    def time_to(self, target: float) -> tuple[float, float]:
        """(seconds, epochs) at the first check at or below ``target``; NaNs if never."""
        return next(((s, e) for s, e, v in self.checks if v <= target), (math.nan, math.nan))

    def final(self) -> float:
        return self.checks[-1][2] if self.checks else math.nan


@torch.inference_mode()
def iw_nll(posterior, decoder_logits, X: torch.Tensor, k: int, seed: int = 321) -> float:
    """Importance-weighted NLL with ``k`` samples, nats per example (Bernoulli; the same for all)."""
    g = torch.Generator().manual_seed(seed)
    total, chunk = 0.0, 100
    for x in X.split(8):
        mu, logvar = posterior(x)
        std = torch.exp(0.5 * logvar)
        terms = []
        for start in range(0, k, chunk):
            eps = torch.randn((min(chunk, k - start), *mu.shape), generator=g)
            z = mu + std * eps
            log_px = -torch.nn.functional.binary_cross_entropy_with_logits(
                decoder_logits(z), x.expand(z.shape[0], *x.shape), reduction="none").sum(-1)
            terms.append(log_px + 0.5 * (eps.square() + logvar - z.square()).sum(-1))
        total -= float((torch.logsumexp(torch.cat(terms), 0) - math.log(k)).sum())
    return total / X.shape[0]


class HeldOut:
    """The held-out images (binarised once), the check and the final IW-NLL, for any contender."""

    def __init__(self, X_test: torch.Tensor, n_draws: int, iw_images: int, iw_k: int):
        self.X = torch.bernoulli(X_test, generator=torch.Generator().manual_seed(SEED))
        self.n_draws, self.iw_images, self.iw_k = n_draws, iw_images, iw_k

    def nelbo(self, posterior, decoder_logits) -> float:
        return test_nelbo(posterior, decoder_logits, self.X, n_draws=self.n_draws)

    def iw(self, posterior, decoder_logits) -> float:
        return iw_nll(posterior, decoder_logits, self.X[: self.iw_images], self.iw_k)


def run_plain(X, held: HeldOut, run: Run) -> None:
    loop = PlainLoop(X, HIDDEN, N_LATENT, batch_size=128, lr=1e-3, seed=SEED, binarize=True)
    clock = Clock()
    half = (math.ceil(X.shape[0] / 128) // 2) * 128
    for epoch in range(TARGET_EPOCHS):
        order = torch.randperm(X.shape[0])
        for part, rows in ((0.5, order[:half]), (1.0, order[half:])):
            loop.run_rows(rows)
            value = clock.check(lambda: held.nelbo(loop.posterior, loop.decoder_logits))
            run.checks.append((clock.now(), epoch + part, value))
    run.seconds, run.epochs = clock.now(), float(TARGET_EPOCHS)
    run.iw_nll = held.iw(loop.posterior, loop.decoder_logits)


def run_pythae(X, held: HeldOut, run: Run) -> None:
    import contextlib
    import io
    import tempfile

    from pythae.data.datasets import BaseDataset, DatasetOutput
    from pythae.trainers import BaseTrainer, BaseTrainerConfig
    from pythae.trainers.training_callbacks import TrainingCallback
    from pythae_peer import PythaeRun, quiet_pythae_loggers

    clock = Clock()
    peer = PythaeRun(X, HIDDEN, N_LATENT, seed=SEED)
    config = BaseTrainerConfig(output_dir=tempfile.mkdtemp(prefix="ttq-pythae-"), num_epochs=TARGET_EPOCHS,
                               seed=SEED, no_cuda=True)  # the trainer's defaults: Adam, batch 64, lr 1e-4
    steps = math.ceil(X.shape[0] / config.per_device_train_batch_size)

    class Binarised(BaseDataset):
        """Dynamic binarisation as a pythae user writes it: a dataset that draws each image anew."""

        def __getitem__(self, index):
            return DatasetOutput(data=torch.bernoulli(self.data[index]), labels=self.labels[index])

    class HalfEpochCheck(TrainingCallback):
        step = 0

        def on_train_step_end(self, training_config, **kwargs):
            self.step += 1
            if self.step % steps in (steps // 2, 0):
                epochs = self.step // steps + (0.5 if self.step % steps else 0.0)
                value = clock.check(lambda: held.nelbo(peer.posterior, peer.decoder_logits))
                run.checks.append((clock.now(), epochs, value))

    threads = torch.get_num_threads()
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        quiet_pythae_loggers()
        trainer = BaseTrainer(peer.model, train_dataset=Binarised(X, torch.zeros(X.shape[0])),
                              training_config=config, callbacks=[HalfEpochCheck()])
        trainer.train()
    torch.set_num_threads(threads)
    run.seconds, run.epochs = run.checks[-1][0], run.checks[-1][1]
    run.note = f"batch {config.per_device_train_batch_size}, lr {config.learning_rate:g}"
    run.iw_nll = held.iw(peer.posterior, peer.decoder_logits)


def run_latentspace(X, held: HeldOut, run: Run, params: dict, threads: int) -> None:
    from latentspace import VAE

    clock = Clock()

    class HalfEpochCheck:
        step, steps = 0, 1

        def on_train_begin(self, info):
            self.steps = info["steps_per_epoch"]

        def on_step(self, record):
            self.step += 1
            if self.step % self.steps in (self.steps // 2, 0):
                model = vae.model_
                epochs = self.step // self.steps + (0.5 if self.step % self.steps else 0.0)
                value = clock.check(lambda: held.nelbo(model.posterior, model.decoder))
                run.checks.append((clock.now(), epochs, value))

    vae = VAE(N_LATENT, hidden=HIDDEN, binarize="dynamic", random_state=SEED, threads=threads,
              callbacks=[HalfEpochCheck()], **params)
    vae.fit(X.numpy())
    run.seconds, run.epochs = clock.now(), float(vae.n_iter_)
    chosen = {k: getattr(vae, f"{k}_") for k in ("batch_size", "lr", "epochs", "patience") if hasattr(vae, f"{k}_")}
    run.note = ", ".join(f"{k} {fmt(v) if isinstance(v, float) else v}" for k, v in chosen.items())
    run.note += f", best epoch {vae.best_epoch_}" if vae.best_epoch_ else ""
    run.iw_nll = held.iw(vae.model_.posterior, vae.model_.decoder)


def parse_args(argv=None) -> argparse.Namespace:
    global TARGET_EPOCHS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="12,000 training images, 2,000 held out, IW on 200")
    p.add_argument("--n-train", type=int, default=None)
    p.add_argument("--n-test", type=int, default=None)
    p.add_argument("--iw-images", type=int, default=None, help="held-out images of the IW-NLL (default 1,000)")
    p.add_argument("--settings", default="2,1busy", help="comma-separated: 2 (threads), 1busy, 1")
    p.add_argument("--only", default="plain,pythae,latentspace")
    p.add_argument("--latentspace", default="{}", help="JSON of VAE parameters besides the defaults")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=JSON",
                   help="one more latentspace contender, 'latentspace[NAME]', with these parameters besides "
                        "--latentspace's (repeatable), e.g. bf16='{\"precision\": \"bf16\"}'")
    p.add_argument("--target-epochs", type=int, default=TARGET_EPOCHS,
                   help=f"epochs of the plain loop (and pythae) that define T (default {TARGET_EPOCHS}; fewer: smoke runs)")
    p.add_argument("--json", default=None, help="also write every run's checks to this file")
    p.add_argument("--target", type=float, default=None,
                   help="T in nats where the plain loop is not run (--only without plain): an earlier run's value")
    args = p.parse_args(argv)
    TARGET_EPOCHS = args.target_epochs
    if args.quick:
        args.n_train, args.n_test = args.n_train or 12_000, args.n_test or 2_000
        args.iw_images = args.iw_images or 200
    args.iw_images = args.iw_images or 1000
    return args


def run_contender(name: str, X, held: HeldOut, setting: str, threads: int, params: dict) -> Run:
    run = Run(name, setting)
    torch.set_num_threads(threads)
    if name == "plain":
        run_plain(X, held, run)
    elif name == "pythae":
        run_pythae(X, held, run)
    else:
        run_latentspace(X, held, run, params, threads)
    print(f"  {setting:>26} {name:>12}: {run.seconds:7.1f} s, {run.epochs:g} epochs, final -ELBO "
          f"{run.final():.2f}, IW-NLL {run.iw_nll:.2f}, load {os.getloadavg()[0]:.1f}  {run.note}", flush=True)
    return run


def report(runs: list[Run], mode: str, loads: list[float], given_target: float | None = None) -> None:
    for setting in dict.fromkeys(r.setting for r in runs):
        group = [r for r in runs if r.setting == setting]
        plain = next((r for r in group if r.name == "plain"), None)
        if plain is None and given_target is None:
            print(f"\n{setting}: no plain run and no --target, so no target")
            continue
        target = plain.final() if plain is not None else given_target
        ours = next((r for r in group if r.name == "latentspace"), None)
        ours_t = ours.time_to(target)[0] if ours else math.nan
        rows = []
        for r in group:
            t, e = r.time_to(target)
            reached = "yes" if not math.isnan(t) else f"no (> {r.seconds:,.0f} s)"
            vs_plain = math.nan if plain is None else r.iw_nll - plain.iw_nll
            rows.append([r.name, reached, t, e, r.seconds, r.epochs, r.final(), r.iw_nll, vs_plain,
                         (t if not math.isnan(t) else r.seconds) / ours_t, r.note])
        print_table(
            f"Time to T = {target:.2f} nats ("
            + (f"the plain loop's held-out -ELBO after {TARGET_EPOCHS} epochs" if plain is not None else "--target")
            + f"), {setting}; "
            f"{mode}; load average {min(loads):.1f}-{max(loads):.1f}; {machine()}",
            ["contender", "reached T", "s to T", "epochs to T", "train s", "epochs", "final -ELBO",
             "IW-NLL", "vs plain", "time to T / latentspace's", "settings"], rows)
    print("s to T: training wall time (held-out checks excluded) at the first half-epoch check at or below T; "
          "a contender that never reached it is compared by its whole training time (a lower bound).")


def main(argv=None) -> int:
    args = parse_args(argv)
    X, X_test = load_reference_data(args.n_train, args.n_test)
    held = HeldOut(X_test, n_draws=4, iw_images=args.iw_images, iw_k=1000)
    names = [n for n in args.only.split(",") if n]
    if "pythae" in names:
        from pythae_peer import available

        why = available()
        if why is not None:
            print(f"pythae skipped: it does not import here ({why}); see benchmarks/requirements-pythae.txt")
            names.remove("pythae")
    params = json.loads(args.latentspace)
    variants = {"latentspace": params}
    for variant in args.variant:
        label, _, given = variant.partition("=")
        variants[f"latentspace[{label}]"] = {**params, **json.loads(given)}
        names.append(f"latentspace[{label}]")
    mode = (f"{'--quick' if args.quick else 'full'}: {len(X):,} training images, {len(held.X):,} held out "
            f"(-ELBO 4 draws), IW-NLL k=1,000 on {min(args.iw_images, len(held.X)):,}"
            + (f", latentspace {params}" if params else ""))
    print(mode, flush=True)
    runs, loads = [], []
    for i, setting in enumerate(args.settings.split(",")):
        threads, busy = int(setting[0]), setting.endswith("busy")
        label = f"{threads} thread{'s' if threads > 1 else ''}" + (", other core busy" if busy else "")
        burner = multiprocessing.Process(target=burn, daemon=True) if busy else None
        if burner:
            burner.start()
        try:
            order = names[i % len(names):] + names[: i % len(names)]  # alternate who goes first
            for name in order:
                loads.append(os.getloadavg()[0])
                runs.append(run_contender(name, X, held, label, threads, variants.get(name, params)))
                if args.json:  # after every run, so that a long benchmark cut short keeps what it measured
                    with open(args.json, "w") as f:
                        json.dump([r.__dict__ for r in runs], f, indent=1)
        finally:
            if burner:
                burner.terminate()
        report([r for r in runs if r.setting == label], mode, loads, args.target)  # each setting's table when it is done
    return 0


if __name__ == "__main__":
    sys.exit(main())
