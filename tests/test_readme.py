"""The README's library examples run as written (each ```python block under the named sections)."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from latentspace.estimators import _samplers

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(section: str) -> list[str]:
    text = README.read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


def run_blocks(section: str, tmp_path, monkeypatch) -> dict:
    blocks = python_blocks(section)
    assert blocks, f"README section {section!r} has no python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme_example"}
    for block in blocks:
        exec(compile(block, f"README.md ({section})", "exec"), namespace)
    return namespace


def test_bring_your_own_networks(tmp_path, monkeypatch):
    space = run_blocks("Bring your own networks", tmp_path, monkeypatch)
    assert (tmp_path / "byo" / "model" / "weights.safetensors").is_file()
    assert type(space["same"].model_.encoder).__name__ == "Encoder"


def test_tracking(tmp_path, monkeypatch, capsys):
    pytest.importorskip("tensorboard")
    pytest.importorskip("mlflow")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    space = run_blocks("Tracking", tmp_path, monkeypatch)
    assert capsys.readouterr().out.count("epoch ") == 2  # epochs 2 and 4
    assert list((tmp_path / "tracking" / "tb").glob("events.out.tfevents.*"))
    assert (tmp_path / "mlruns").is_dir() and space["loggers"][2].run_id_


def test_export(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: pip install 'latentspace[onnx]'")
    space = run_blocks("Export", tmp_path, monkeypatch)
    assert space["x_hat"].shape == space["data"].X_test.shape


def test_the_commands_workflows_from_python(tmp_path, monkeypatch, cli):
    """The library path writes the run folder the command line reads: ``latentspace sample`` uses it."""
    space = run_blocks("Command line", tmp_path, monkeypatch)
    run = tmp_path / "runs" / "vae4"
    assert space["run"].run_dir == Path("runs/vae4") and (run / "model" / "weights.safetensors").is_file()
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert evaluation["neg_elbo"] >= evaluation["iw_nll"] > 0  # the bound holds on the IW estimate
    code, out, err = cli("sample", run, "-n", 5, "--out", tmp_path / "s.npy")
    assert code == 0, err
    assert np.load(tmp_path / "s.npy").shape == (5, 64)


def test_data_larger_than_memory(tmp_path, monkeypatch):
    space = run_blocks("Data larger than memory, streams", tmp_path, monkeypatch)
    assert space["Z"].shape == (len(space["data"].X_test), 2)
    assert space["ae"].n_iter_ == 3 + 2  # partial_fit continues the fitted model: one pass per chunk


def test_model_families(tmp_path, monkeypatch):
    # what the README's lines do, not how well: the two-stage sampler's second VAE gets 200 of its 4,000 steps
    monkeypatch.setattr(_samplers, "SECOND_STAGE_STEPS", 200)
    space = run_blocks("Model families", tmp_path, monkeypatch)
    vamp, rae = space["vamp"], space["rae"]
    assert vamp.prior_density().n_components == 50
    prior, mixture = vamp.sample(8, random_state=0), vamp.sample(8, sampler="gmm", random_state=0)
    assert prior.shape == mixture.shape == (8, 64) and not np.allclose(prior, mixture)
    assert rae.sample(8, sampler="two-stage", random_state=0).shape == (8, 64)
    assert space["cvae"].sample(8, y=3, random_state=0).shape == (8, 64)
    assert set(space["cvae"].predict(space["data"].X_test[:8])) <= set(range(10))
