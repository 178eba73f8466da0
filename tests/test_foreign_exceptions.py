"""Every failure the user causes is a LatentspaceError naming the culprit, never another library's
AttributeError, TypeError or pickling error."""

from __future__ import annotations

import json
import sys
import threading

import pandas as pd
import pytest
from torch import nn

from latentspace import AutoEncoder, CheckpointError, LatentspaceError, load
from latentspace.errors import DataError


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(64, 2)

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(2, 64)

    def forward(self, z):
        return self.net(z)


class LockedEncoder(Encoder):
    """Holds a lock: it cannot be deep-copied."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()


class FailingDecoder(Decoder):
    def __init__(self):
        raise RuntimeError("needs a GPU")


@pytest.fixture(scope="module")
def custom_checkpoint(digits, tmp_path_factory):
    path = tmp_path_factory.mktemp("custom") / "m"
    AutoEncoder(2, encoder=Encoder(), decoder=Decoder(), epochs=1, random_state=0).fit(digits.X_train[:100]).save(path)
    return path


def tampered(checkpoint, tmp_path, **parts):
    config = json.loads((checkpoint / "config.json").read_text())
    config["params"].update(parts)
    folder = tmp_path / "m"
    folder.mkdir(parents=True)
    for f in checkpoint.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("module", [5, "", ["a:B"], {"x": 1}, "os", "..relative:A", "pkg.mod:A; import os",
                                    "builtins:__class__", "pkg:A.<locals>.B", "a b:C", "pkg:A:B"])
def test_a_tampered_class_path_is_refused_before_any_import(custom_checkpoint, tmp_path, module):
    folder = tampered(custom_checkpoint, tmp_path, encoder={"module": module})
    with pytest.raises(CheckpointError, match="encoder's class path .* is not 'package.module:ClassName'"):
        load(folder, allow_import=True)


def test_no_module_is_imported_when_another_part_is_tampered(custom_checkpoint, tmp_path, monkeypatch):
    (tmp_path / "marker_nets.py").write_text("import builtins\nbuiltins.MARKER_IMPORTED = True\n"
                                             "from torch import nn\nclass Encoder(nn.Linear):\n"
                                             "    def __init__(self): super().__init__(64, 2)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    folder = tampered(custom_checkpoint, tmp_path, encoder={"module": "marker_nets:Encoder"}, decoder={"module": 5})
    with pytest.raises(CheckpointError, match="decoder's class path 5 is not"):
        load(folder, allow_import=True)
    assert "marker_nets" not in sys.modules


def test_a_class_path_that_is_not_a_module_class_or_fails(custom_checkpoint, tmp_path):
    folder = tampered(custom_checkpoint, tmp_path / "a", encoder={"module": "os:getcwd"})
    with pytest.raises(CheckpointError, match="os:getcwd is not a torch.nn.Module class"):
        load(folder, allow_import=True)
    folder = tampered(custom_checkpoint, tmp_path / "b", decoder={"module": f"{__name__}:FailingDecoder"})
    with pytest.raises(CheckpointError, match=r"FailingDecoder\(\) failed \(needs a GPU\)"):
        load(folder, allow_import=True)


def test_an_encoder_that_cannot_be_copied_is_named(digits):
    with pytest.raises(LatentspaceError, match=r"encoder \(.*:LockedEncoder\) cannot be copied: cannot pickle "
                                               r"'_thread.lock' object; the estimator trains a deep copy"):
        AutoEncoder(2, encoder=LockedEncoder(), epochs=1).fit(digits.X_train[:50])


def test_dataframe_columns_of_mixed_name_types(digits):
    frame = pd.DataFrame(digits.X_train[:50], columns=[*(f"p{i}" for i in range(63)), 63])
    with pytest.raises(DataError, match=r"X: column names of mixed types \(int, str\); name every column"):
        AutoEncoder(2, epochs=1).fit(frame)
    fitted = AutoEncoder(2, epochs=1, random_state=0).fit(frame.set_axis([f"p{i}" for i in range(64)], axis=1))
    with pytest.raises(DataError, match="column names of mixed types"):
        fitted.transform(frame)
