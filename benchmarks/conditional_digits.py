"""The conditional VAE on a labelled set: are its samples of class c recognised as c, how well does it
classify, how much class is left in its codes, and what is knowing the class worth in nats.

    PYTHONPATH=src python benchmarks/conditional_digits.py --data digits --epochs 30,auto   # ~2 min
    PYTHONPATH=src python benchmarks/conditional_digits.py --quick

Per budget, one row: the share of 50 samples per class (prior, gmm and two-stage samplers) that a
logistic regression trained on the raw training rows names as the class asked for (chance: 1 / the
number of classes); ``predict``'s accuracy on the test part; the accuracy of a logistic regression on
the codes (train part -> test part) for the cvae and for a VAE of the same size and budget (how much
class the codes keep: the design in docs/families.md); the IW-NLL of log p(x), of log p(x | y) and
the VAE's log p(x). The numbers in docs/families.md are this script's output.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine
from sklearn.linear_model import LogisticRegression

from latentspace import VAE, ConditionalVAE
from latentspace.data import load_dataset
from latentspace.report.html import text_table

SAMPLERS = ("prior", "gmm", "two-stage")


def class_from(train_rows: np.ndarray, y_train: np.ndarray, test_rows: np.ndarray, y_test: np.ndarray) -> float:
    return float(LogisticRegression(max_iter=2000).fit(train_rows, y_train).score(test_rows, y_test))


def measure(data, epochs, k: int, iw_samples: int, judge: LogisticRegression) -> dict:
    started = time.perf_counter()
    cvae = ConditionalVAE(k, epochs=epochs, random_state=0).fit(data.X_train, data.y_train)
    row = {"epochs": cvae.n_iter_, "fit_s": round(time.perf_counter() - started, 1), "active": cvae.active_units_}
    wanted = np.repeat(cvae.classes_, 50)
    for sampler in SAMPLERS:
        samples = cvae.sample(len(wanted), y=wanted, sampler=sampler, random_state=1)
        row[f"named_{sampler}"] = float(np.mean(judge.predict(samples) == wanted))
    row["predict_acc"] = float(np.mean(cvae.predict(data.X_test) == data.y_test))
    vae = VAE(k, epochs=epochs, random_state=0).fit(data.X_train)
    row["class_from_cvae_codes"] = class_from(cvae.transform(data.X_train), data.y_train,
                                              cvae.transform(data.X_test), data.y_test)
    row["class_from_vae_codes"] = class_from(vae.transform(data.X_train), data.y_train,
                                             vae.transform(data.X_test), data.y_test)
    row["iw_nll_x"] = float(-cvae.log_likelihood(data.X_test, k=iw_samples).mean())
    row["iw_nll_x_given_y"] = float(-cvae.log_likelihood(data.X_test, k=iw_samples, y=data.y_test).mean())
    row["vae_iw_nll_x"] = float(-vae.log_likelihood(data.X_test, k=iw_samples).mean())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--epochs", default="30,auto", help="budgets, comma-separated (ints or auto)")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--iw-samples", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="30 epochs only, 50 importance samples")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.iw_samples = "30", 50
    data = load_dataset(args.data)
    judge = LogisticRegression(max_iter=2000).fit(data.X_train, data.y_train)
    rows = [measure(data, e if e == "auto" else int(e), args.k, args.iw_samples, judge) for e in args.epochs.split(",")]
    print(text_table(rows, f"cvae on {args.data} (k = {args.k}; the judge on raw rows: "
                           f"{judge.score(data.X_test, data.y_test):.3f} on the test part); {machine()}"))


if __name__ == "__main__":
    main()
