"""``latentspace compare``: families on one budget, the leaderboard's verdicts, the report and its explorer."""

from __future__ import annotations

import json
import re

import pytest

from latentspace.analysis.families import verdicts


def leaderboard_rows():
    rows = [
        {"model": "vae", "heldout_mse": 0.03, "iw_nll": 24.0, "iw_nll_stderr": 0.1, "likelihood": "bernoulli"},
        {"model": "vamp", "heldout_mse": 0.02, "iw_nll": 23.0, "iw_nll_stderr": 0.1, "likelihood": "bernoulli"},
        {"model": "two-stage", "heldout_mse": 0.01, "iw_nll": -30.0, "iw_nll_stderr": 1.0, "likelihood": "gaussian"},
        {"model": "rae", "heldout_mse": 0.005},
    ]
    samples = [
        {"model": "vae", "sampler": "prior", "frechet": 4.0, "precision": 0.9, "recall": 0.1},
        {"model": "vae", "sampler": "gmm", "frechet": 3.0, "precision": 0.9, "recall": 0.2},
        {"model": "vamp", "sampler": "prior", "frechet": 3.0, "precision": 0.9, "recall": 0.1},
        {"model": "vamp", "sampler": "gmm", "frechet": 3.5, "precision": 0.9, "recall": 0.1},
        {"model": "rae", "sampler": "gmm", "frechet": 1.0, "precision": 0.6, "recall": 0.8},
    ]
    return rows, samples


def test_the_verdicts_name_each_winner_and_compare_nlls_within_one_likelihood():
    lines = verdicts(*leaderboard_rows())
    assert lines[0].startswith("reconstruction: rae")
    nll = [line for line in lines if line.startswith("likelihood")]
    # the Gaussian model's -30 nats is not compared with the Bernoulli models' (it is alone in its likelihood)
    assert nll == ["likelihood (bernoulli): vamp has the lowest IW-NLL, 23.00 nats, 1.00 below vae "
                   "(beyond twice the standard error 0.14)"]
    assert any(line.startswith("samples: rae with the gmm sampler") for line in lines)
    mixture = next(line for line in lines if line.startswith("pythae's finding"))
    assert "holds in part here (1 of 2 models with a prior" in mixture  # vae 4 -> 3, vamp 3 -> 3.5
    assert not any(line.startswith("Dai & Wipf") for line in lines)  # no two-stage rows: no verdict


@pytest.mark.slow
def test_compare_writes_the_leaderboard_and_a_report_whose_explorer_holds_every_model(tmp_path, cli):
    out = tmp_path / "cmp"
    code, stdout, err = quick_compare(cli, "vae,rae,wae", out)
    assert code == 0, err
    stored = json.loads((out / "leaderboard.json").read_text())
    assert [r["model"] for r in stored["leaderboard"]] == ["vae", "rae", "wae"]
    assert "iw_nll" in stored["leaderboard"][0] and "iw_nll" not in stored["leaderboard"][1]  # a likelihood only
    samplers = {(r["model"], r["sampler"]) for r in stored["samples"]}
    assert samplers == {("vae", "prior"), ("vae", "gmm"), ("vae", "two-stage"), ("rae", "gmm"), ("rae", "two-stage"),
                        ("wae", "prior"), ("wae", "gmm"), ("wae", "two-stage")}
    assert stored["verdicts"] and all(line in stdout for line in stored["verdicts"])
    assert [m["name"] for m in explorer_payload(out)["models"]] == ["vae", "rae", "wae"]
    assert (out / "models" / "rae" / "weights.safetensors").is_file()
    code, _, err = cli("compare", "--models", "vae,nope", "--out", out)
    assert code == 2 and "unknown model nope" in err


def test_compare_refuses_a_conditional_model_on_unlabelled_data_before_fitting_any(tmp_path, cli):
    import numpy as np

    np.save(tmp_path / "rows.npy", np.random.default_rng(0).random((60, 5)))
    code, _, err = cli("compare", "--models", "vae,cvae", "--data", tmp_path / "rows.npy", "--out", tmp_path / "cmp")
    assert code == 2 and "has no labels, and a ConditionalVAE learns p(x | z, y)" in err, err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "cmp" / "models").exists()


@pytest.mark.slow
def test_compare_fits_a_conditional_vae_on_the_data_sets_labels(tmp_path, cli):
    out = tmp_path / "cmp"
    code, _, err = quick_compare(cli, "vae,cvae", out)
    assert code == 0, err
    rows = {r["model"]: r for r in json.loads((out / "leaderboard.json").read_text())["leaderboard"]}
    assert rows["cvae"]["likelihood"] == rows["vae"]["likelihood"] and rows["cvae"]["iw_nll"] > 0  # of log p(x)
    payload = explorer_payload(out)
    assert [m.get("classes") for m in payload["models"]] == [None, [str(c) for c in range(10)]]  # digits' names


def quick_compare(cli, models: str, out):
    """``latentspace compare`` on digits at a budget that only checks what it writes."""
    return cli("compare", "--models", models, "--steps", "60", "--samples", "40", "--iw-samples", "5",
               "--iw-rows", "50", "--out", out)


def explorer_payload(out) -> dict:
    """The JSON of the explorer in ``out/report.html``."""
    page = (out / "report.html").read_text()
    return json.loads(re.search(r'class="ls-explorer-data">(.*?)</script>', page, re.DOTALL).group(1))
