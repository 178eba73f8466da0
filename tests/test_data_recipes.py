"""docs/data.md's three recipes for data that arrive in batches run as written, on small files made
here under the names they use (photos/, table.h5, held_out.parquet)."""

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

h5py = pytest.importorskip("h5py", reason="h5py is not installed: pip install 'latentspace[hdf5]'")
pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install 'latentspace[parquet]'")
import pyarrow.parquet as pq  # noqa: E402

DOC = Path(__file__).resolve().parents[1] / "docs" / "data.md"


def recipes() -> list[str]:
    section = DOC.read_text().split("## Data that arrive in batches", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.fixture
def files(digits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for label in range(3):
        folder = tmp_path / "photos" / str(label)
        folder.mkdir(parents=True)
        for i, row in enumerate(digits.X_train[digits.y_train == label][:12]):
            Image.fromarray((row.reshape(8, 8) * 255).astype(np.uint8)).save(folder / f"{i}.png")
    with h5py.File("table.h5", "w") as f:
        f.create_dataset("X", data=digits.X_train.astype(np.float32))
        f.create_dataset("y", data=digits.y_train)
    pq.write_table(pa.table({f"px{i}": digits.X_test[:, i] for i in range(64)}), "held_out.parquet")
    return tmp_path


def test_there_are_three_recipes():
    assert len(recipes()) == 3


@pytest.mark.parametrize("index", [0, 1, 2])
def test_recipe_runs_as_written(files, index):
    space: dict = {"__name__": "recipe"}
    exec(compile(recipes()[index], f"docs/data.md recipe {index + 1}", "exec"), space)
    if index == 0:
        assert space["codes"].shape == (36, 8) and space["vae"].image_shape_ == (1, 28, 28)
    elif index == 1:
        assert "val_loss" in space["ae"].history_[-1]
    else:
        assert space["scores"].shape == (len(space["data"]),)
        assert "val_loss" in space["ae"].history_[-1]
