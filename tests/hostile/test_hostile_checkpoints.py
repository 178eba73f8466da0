"""Tampered model checkpoints and training states: each one CheckpointError, one line.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from conftest import copy_run
from hostile_helpers import edit_json, one_line, time_limit
from safetensors.torch import load as st_load

from latentspace import AutoEncoder, load
from latentspace._files import safetensors_bytes
from latentspace.errors import CheckpointError


# ---- tampered checkpoints and training states ---------------------------------------------------
def short_offset(model: Path) -> None:
    """An offset_ of the wrong length, with a checksum that matches (a careful forger)."""
    tensors = st_load((model / "weights.safetensors").read_bytes())
    tensors["fitted.offset_"] = tensors["fitted.offset_"][:10].clone()
    data, sha = safetensors_bytes(tensors)
    (model / "weights.safetensors").write_bytes(data)
    edit_json(model / "config.json", lambda c: c.update(weights_sha256=sha))


MODEL_TAMPERS = {
    "format_version string": (lambda m: edit_json(m / "config.json", lambda c: c.update(format_version="1")), "format_version"),
    "params a list": (lambda m: edit_json(m / "config.json", lambda c: c.update(params=[1, 2])), "params must be"),
    "n_components Infinity": (lambda m: (m / "config.json").write_text(
        (m / "config.json").read_text().replace('"n_components": 2', '"n_components": Infinity')), "Infinity is not valid JSON"),
    "nested 200k": (lambda m: (m / "config.json").write_text("[" * 200_000), "nested too deeply"),
    "hidden negative": (lambda m: edit_json(m / "config.json", lambda c: c["params"].update(hidden=[-5, 64])), "invalid parameters"),
    "hidden 30000x2": (lambda m: edit_json(m / "config.json", lambda c: c["params"].update(hidden=[30000, 30000])),
                       "holds .* bytes|memory budget"),
    "n_features_in_ 1e11": (lambda m: edit_json(m / "config.json", lambda c: c["fitted"].update(n_features_in_=10**11)),
                            "n_features_in_ must be"),
    "history of text": (lambda m: edit_json(m / "config.json", lambda c: c.update(history="many")), "history must be"),
    "offset_ wrong length": (short_offset, r"offset_ has shape \(10,\)"),
    "weights truncated": (lambda m: (m / "weights.safetensors").write_bytes(b"\0" * 100), "holds 100 bytes|checksum"),
    "config is a FIFO": (lambda m: ((m / "config.json").unlink(), os.mkfifo(m / "config.json")), "not a regular file"),
}


@pytest.mark.parametrize("case", sorted(MODEL_TAMPERS))
def test_tampered_model_is_one_checkpoint_error(case, ae_run, tmp_path):
    tamper, message = MODEL_TAMPERS[case]
    run = copy_run(ae_run, tmp_path)
    tamper(run / "model")
    with time_limit(60), pytest.raises(CheckpointError, match=message) as caught:
        load(run)
    one_line(caught.value)


@pytest.mark.parametrize("device", ["foo", "cuda"])
def test_a_model_saved_for_a_device_this_machine_lacks_loads_on_the_cpu(device, ae_run, tmp_path):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    run = copy_run(ae_run, tmp_path)
    edit_json(run / "model" / "config.json", lambda c: c["params"].update(device=device))
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        model = load(run)
    assert str(model.device_) == "cpu" and model.get_params()["device"] == "cpu"


def rewrite_rows(folder: Path) -> None:
    """An epoch.rows tensor of the wrong shape, checksum updated."""
    state = json.loads((folder / "state.json").read_text())
    tensors = st_load((folder / state["tensors_file"]).read_bytes())
    tensors["epoch.rows"] = torch.zeros(7, 5)
    data, sha = safetensors_bytes(tensors)
    (folder / state["tensors_file"]).write_bytes(data)
    state.update(tensors_sha256=sha, step=7)
    (folder / "state.json").write_text(json.dumps(state))


STATE_TAMPERS = {
    "step a string": (lambda s: edit_json(s / "state.json", lambda d: d.update(step="three")), "step must be a whole number"),
    "epoch NaN": (lambda s: (s / "state.json").write_text((s / "state.json").read_text().replace('"epoch": 1,', '"epoch": NaN,', 1)),
                  "NaN is not valid JSON"),
    "epoch beyond records": (lambda s: edit_json(s / "state.json", lambda d: d.update(epoch=11)), "one record per finished epoch"),
    "tensors file outside": (lambda s: edit_json(s / "state.json", lambda d: d.update(tensors_file="../../etc/passwd")), "tensors_file"),
    "finished a string": (lambda s: edit_json(s / "state.json", lambda d: d.update(finished="yes")), "finished must be"),
    "optimizer a list": (lambda s: edit_json(s / "state.json", lambda d: d.update(optimizer=[])), "optimizer must be"),
    "rows the wrong shape": (rewrite_rows, r"epoch.rows has shape \(7, 5\)"),
    "state is a FIFO": (lambda s: ((s / "state.json").unlink(), os.mkfifo(s / "state.json")), "not a regular file"),
}


@pytest.fixture(scope="module")
def unfinished_checkpoint(tmp_path_factory, digits):
    """A checkpoint after epoch 1 of 3 (the estimator stopped there by SIGINT's own path)."""
    folder = tmp_path_factory.mktemp("ck") / "checkpoint"
    AutoEncoder(n_components=2, hidden=(16,), epochs=1, random_state=0).fit(digits.X_train, checkpoint_dir=folder)
    edit_json(folder / "state.json", lambda d: d.update(finished=False))
    return folder


@pytest.mark.parametrize("case", sorted(STATE_TAMPERS))
def test_tampered_training_state_is_one_checkpoint_error(case, unfinished_checkpoint, tmp_path, digits):
    folder = tmp_path / "checkpoint"
    shutil.copytree(unfinished_checkpoint, folder)
    tamper, message = STATE_TAMPERS[case]
    tamper(folder)
    with time_limit(60), pytest.raises(CheckpointError, match=message) as caught:
        AutoEncoder(n_components=2, hidden=(16,), epochs=1, random_state=0).fit(
            digits.X_train, checkpoint_dir=folder, resume=True)
    one_line(caught.value)


def test_untampered_state_resumes(unfinished_checkpoint, tmp_path, digits):
    folder = tmp_path / "checkpoint"
    shutil.copytree(unfinished_checkpoint, folder)
    model = AutoEncoder(n_components=2, hidden=(16,), epochs=1, random_state=0).fit(
        digits.X_train, checkpoint_dir=folder, resume=True)
    assert model.n_iter_ == 1
