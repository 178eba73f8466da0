"""Checkpoints load exactly, never unpickle, and reject damaged files with a clear error."""

import json
import pickle

import numpy as np
import pytest

from latentspace import AutoEncoder, CheckpointError, load


@pytest.fixture(scope="module")
def saved(tmp_path_factory, digits):
    path = tmp_path_factory.mktemp("ckpt") / "model"
    AutoEncoder(n_components=2, epochs=2, random_state=0).fit(digits.X_train[:300]).save(path)
    return path


def copy_of(saved, tmp_path):
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(saved, target)
    return target


def test_files_are_json_and_safetensors(saved):
    assert sorted(p.name for p in saved.iterdir()) == ["MODEL.md", "config.json", "weights.safetensors"]
    config = json.loads((saved / "config.json").read_text())
    assert config["estimator"] == "AutoEncoder" and config["params"]["n_components"] == 2
    header_len = int.from_bytes((saved / "weights.safetensors").read_bytes()[:8], "little")
    header = json.loads((saved / "weights.safetensors").read_bytes()[8 : 8 + header_len])
    assert "model.encoder.0.weight" in header


def test_truncated_weights(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    data = (path / "weights.safetensors").read_bytes()
    (path / "weights.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load(path)


def test_tampered_weights_with_fixed_checksum_still_rejected(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    (path / "weights.safetensors").write_bytes(b"\x00" * 64)
    config = json.loads((path / "config.json").read_text())
    config["weights_sha256"] = None
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="unreadable safetensors"):
        load(path)


def test_corrupt_config(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    (path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt JSON"):
        load(path)


def test_unknown_estimator_is_not_imported(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    config = json.loads((path / "config.json").read_text())
    config["estimator"] = "os.system"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="unknown estimator 'os.system'"):
        load(path)


def test_pickle_payload_is_never_loaded(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    (path / "weights.safetensors").write_bytes(pickle.dumps(np.zeros(3)))
    config = json.loads((path / "config.json").read_text())
    config["weights_sha256"] = None
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError):
        load(path)


def test_missing_folder_and_mismatched_shapes(saved, tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint folder"):
        load(tmp_path / "nope")
    path = copy_of(saved, tmp_path)
    config = json.loads((path / "config.json").read_text())
    config["params"]["n_components"] = 3
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="weights do not fit the model"):
        load(path)


def test_saving_again_replaces_atomically(saved, tmp_path, digits):
    path = copy_of(saved, tmp_path)
    AutoEncoder(n_components=2, epochs=1, random_state=1).fit(digits.X_train[:100]).save(path)
    assert sorted(p.name for p in path.iterdir()) == ["MODEL.md", "config.json", "weights.safetensors"]
    load(path)


def test_written_files_follow_the_umask(saved):
    import os
    import stat

    mask = os.umask(0)
    os.umask(mask)
    for name in ("config.json", "weights.safetensors"):
        assert stat.S_IMODE((saved / name).stat().st_mode) == 0o666 & ~mask
