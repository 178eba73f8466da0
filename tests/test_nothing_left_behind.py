"""A refused command leaves the file system as it found it; a resume cleans the debris of the run it
resumes; an unfinished run is not resumed to fewer epochs than it has trained."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from latentspace.workflows import runs

TRAIN = ("--n-components", "2", "--hidden", "8", "--quiet")


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def files(tmp_path):
    np.save(tmp_path / "wide.npy", np.random.default_rng(0).normal(5, 3, (60, 8)))  # outside [0, 1]
    (tmp_path / "garbage.npy").write_bytes(b"not an array")
    return tmp_path


@pytest.mark.parametrize("args, message", [
    (("--data", "garbage.npy"), "not a .npy file"),                                  # refused loading the data
    (("--data", "wide.npy", "--model", "vae", "--likelihood", "bernoulli"), "needs data in [0, 1]"),  # by fit
    (("--data", "wide.npy", "--lr", "-1"), "lr"),                                      # by the parameters
])
def test_a_refused_train_leaves_no_folder(cli, files, args, message):
    out = files / "runs" / "new"
    code, _, err = cli("train", *[str(files / a) if a.endswith(".npy") else a for a in args], *TRAIN, "--epochs", 1,
                       "--out", out)
    assert code == 2 and message in err, err
    assert not (files / "runs").exists(), listing(files)


def test_a_refused_train_leaves_an_existing_run_as_it_was(cli, ae_run, tmp_path, files):
    run = tmp_path / "run"
    shutil.copytree(ae_run, run)
    before = listing(run)
    for args in (("--data", files / "garbage.npy"), ("--model", "vae", "--likelihood", "bernoulli",
                                                      "--data", files / "wide.npy", "--overwrite"), ()):
        code, _, err = cli("train", *args, *TRAIN, "--epochs", 1, "--out", run)
        assert code == 2, err
        assert listing(run) == before, (args, err)


def test_a_refused_sweep_leaves_no_folder(cli, tmp_path, digits):
    np.save(tmp_path / "three.npy", digits.X_train[:3])  # refused by the sample-quality measures, after the fits
    code, _, err = cli("sweep", "--data", tmp_path / "three.npy", "--ks", "1", "--epochs", 1, "--models", "ae",
                       "--out", tmp_path / "sweeps" / "s")
    assert code == 2 and "rows" in err, err
    assert not (tmp_path / "sweeps").exists()


def test_a_resume_cleans_the_debris_of_a_killed_save(cli, tmp_path):
    run = tmp_path / "run"
    assert cli("train", "ae", *TRAIN, "--epochs", 1, "--out", run, "--keep-checkpoint")[0] == 0
    # what a SIGKILL during the model save and the config write leaves (the names _files.py gives them)
    shutil.copytree(run / "model", run / ".model.k1ll3d.tmp")
    (run / ".config.json.k1ll3d.tmp").write_text("{")
    (run / "checkpoint" / ".state.json.k1ll3d.tmp").write_text("{")
    code, _, err = cli("train", "--resume", run, "--epochs", 2, "--quiet")
    assert code == 0, err
    assert not [p for p in listing(run) if p.endswith(".tmp") or ".tmp/" in p], listing(run)
    assert not (run / runs.LOCK_FILE).exists()


def unfinished(run: Path) -> Path:
    """A run folder as a process killed after its last checkpoint leaves it: the checkpoint and the
    in-progress config, no finished config.json."""
    (run / "config.json").rename(runs.pending_config_path(run))
    shutil.rmtree(run / "model")
    state = run / "checkpoint" / "state.json"
    state.write_text(json.dumps({**json.loads(state.read_text()), "finished": False}))
    return run


def test_resume_to_fewer_epochs_than_trained_is_refused(cli, tmp_path):
    run = tmp_path / "run"
    assert cli("train", "ae", *TRAIN, "--epochs", 3, "--patience", "none", "--out", run, "--keep-checkpoint")[0] == 0
    unfinished(run)
    for epochs in (2, 3):
        code, _, err = cli("train", "--resume", run, "--epochs", epochs, "--quiet")
        assert code == 2 and "has already trained 3 epochs; --epochs must be more than that" in err, err
    assert json.loads(runs.pending_config_path(run).read_text())["params"]["epochs"] == 3
    code, _, err = cli("train", "--resume", run, "--epochs", 4, "--quiet")
    assert code == 0, err
    assert json.loads((run / "config.json").read_text())["params"]["epochs"] == 4
    assert len((run / "history.csv").read_text().splitlines()) == 1 + 4
