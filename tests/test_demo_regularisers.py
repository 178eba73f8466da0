"""The demo's stage "which regulariser fills the holes" on real data: what it measured, the verdict it
wrote from those numbers, its report section and metrics; skipped with a line under the quick budget;
and (slow) on tables and on the degenerate data the demo handles."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest
from conftest import parse_report_html

from latentspace.data import Dataset, load_dataset
from latentspace.workflows.demo import STAGES, run_demo
from latentspace.workflows.demo_context import BUDGETS

VERDICT = re.compile(r"^(HOLDS|DOES NOT HOLD|HOLDS ONLY [A-Z]+ [^:]+): a regulariser fills the autoencoder's holes")
#: the full budget's protocol on a few hundred steps per model: the flow and its numbers, not good models
SMALL = dataclasses.replace(BUDGETS["full"], families=("rae",), family_steps=100, samples=50)


def stages(*names: str):
    return [s for s in STAGES if s.name in names]


def test_the_stage_measures_each_family_and_judges_the_holes_on_digits(digits, features, tmp_path):
    """Without the fit stage it trains the deep AE and the VAE too; every family samples with its own
    sampler, the plain AE also with a Gaussian; the verdict quotes the table's numbers."""
    printed: list[str] = []
    result = run_demo(digits, tmp_path, budget=SMALL, stages=stages("regularisers"), echo=printed.append,
                      show_progress=False)
    models = result.tables["regularisers"]
    assert [r["model"] for r in models] == ["deep AE", "VAE", "RAE"]
    assert models[0]["regulariser"] == "none" and all(r["k"] == 2 for r in models)
    assert all(math.isfinite(r["heldout_mse"]) and r["fit_seconds"] > 0 for r in models)
    samples = {(r["model"], r["sampler"]): r for r in result.tables["regulariser_samples"]}
    assert set(samples) == {("deep AE", "gaussian"), ("deep AE", "gmm"), ("VAE", "prior"), ("RAE", "gmm")}
    assert all(0 <= r["holes_outside_code_support"] <= 1 and math.isfinite(r["frechet"]) for r in samples.values())

    line = next(v for v in result.verdicts if "fills the autoencoder's holes" in v)
    assert VERDICT.match(line), line
    for (model, sampler), r in samples.items():
        assert f"{model} {sampler} {r['holes_outside_code_support']:.1%} ({r['frechet']:.3g})" in line
    fewer = [r["model"] for r in samples.values() if r["regulariser"] != "none"
             and r["holes_outside_code_support"] < samples["deep AE", "gaussian"]["holes_outside_code_support"]]
    assert line.startswith("DOES NOT HOLD") == (not fewer)

    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["regulariser_samples"] == result.tables["regulariser_samples"]
    assert any(v["claim"].startswith("a regulariser fills") for v in metrics["verdicts"])
    page = parse_report_html(result.report_path.read_text())
    assert page["sections"] == ["Verdicts", "Which regulariser fills the holes", "Configuration"]
    assert {"regularisers", "regulariser_samples"} <= set(page["tables"]) and "regulariser-samples" in page["figures"]
    assert "decode to blank or garbled tiles" in result.report_path.read_text()  # the data's words
    assert (tmp_path / "models" / "RAE" / "weights.safetensors").is_file()
    config = json.loads((tmp_path / "config.json").read_text())
    assert list(config["family_models"]) == ["deep AE", "VAE", "RAE"]  # no fit stage: all trained here
    rae = config["family_models"]["RAE"]
    assert rae["class"] == "RAE" and rae["params"]["n_components"] == 2
    assert any("holes_outside_code_support" in p for p in printed)


def test_the_quick_budget_skips_the_stage_with_a_line_that_says_so(digits, tmp_path):
    printed: list[str] = []
    result = run_demo(digits, tmp_path, budget="quick", stages=stages("regularisers"), echo=printed.append,
                      show_progress=False)
    assert any(p.startswith("which regulariser fills the holes: not measured under the 'quick' budget")
               and "VampPrior VAE, RAE, WAE-MMD" in p for p in printed), printed
    assert result.verdicts == [] and "regularisers" not in result.tables
    assert "Not measured under the &#x27;quick&#x27; budget" in result.report_path.read_text()


def tiny(name: str, n_features: int, seed: int = 0) -> Dataset:
    """Unlabelled rows of ``n_features`` correlated real values (the demo's one-feature and narrow cells)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, n_features)) @ rng.normal(size=(n_features, n_features)) + 3.0
    return Dataset(name, X[:240].astype(np.float32), X[240:].astype(np.float32))


@pytest.mark.slow
@pytest.mark.parametrize(("data", "k"), [(tiny("one feature", 1), 1), (tiny("three features", 3), 3),
                                         (load_dataset("wine"), 2)], ids=["single", "narrow", "wine"])
def test_the_stage_on_tables_and_degenerate_data(data, k, tmp_path):
    """After the demo's own fit and regularity stages, with the full budget's three families: finite
    numbers, a verdict, and the table's words in the figure's caption."""
    budget = dataclasses.replace(BUDGETS["full"], steps=200, family_steps=200, samples=60)
    result = run_demo(data, tmp_path, budget=budget, k=k, stages=stages("fit", "regularity", "regularisers"),
                      echo=lambda _: None, show_progress=False)
    assert result.interrupted_in is None
    assert [r["model"] for r in result.tables["regularisers"]] == ["deep AE", "VAE", "VampPrior VAE", "RAE", "WAE-MMD"]
    assert all(math.isfinite(r["frechet"]) for r in result.tables["regulariser_samples"])
    line = next(v for v in result.verdicts if "fills the autoencoder's holes" in v)
    assert VERDICT.match(line), line
    assert "decode to rows whose lines leave their features" in result.report_path.read_text()  # the data's words
