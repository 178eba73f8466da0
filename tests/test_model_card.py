"""MODEL.md: beside every saved model and in every run folder, naming the data, parameters, metrics so
far and versions, with load lines that work as written; evaluate adds its metrics."""

import hashlib
import re

import numpy as np
import torch
from conftest import copy_run

import latentspace
from latentspace import AutoEncoder
from latentspace.cli import main
from latentspace.data.validate import array_digest


def load_lines(card: str) -> str:
    return re.search(r"```python\n(.*?)```", card, re.S).group(1)


def test_save_writes_a_card_whose_load_lines_work(digits, tmp_path):
    X = digits.X_train
    model = AutoEncoder(2, hidden=(16,), epochs=2, random_state=0).fit(X)
    model.save(tmp_path / "m")
    card = (tmp_path / "m" / "MODEL.md").read_text()
    assert card.startswith("# AutoEncoder: model card")
    assert f"| shape | {X.shape[0]} x {X.shape[1]} |" in card
    assert array_digest(np.asarray(X))["sha256"] in card
    assert "| hidden | [16] |" in card and "| n_components | 2 |" in card
    assert f"latentspace {latentspace.__version__}" in card and f"torch {torch.__version__}" in card
    assert "last epoch's train_loss" in card
    space = {"X": digits.X_test}
    exec(load_lines(card), space)  # the three lines, as written
    np.testing.assert_array_equal(space["Z"], model.transform(digits.X_test))


def test_card_is_rewritten_when_the_model_is_saved_again(digits, tmp_path):
    model = AutoEncoder(2, hidden=(16,), epochs=1, random_state=0).fit(digits.X_train)
    model.save(tmp_path / "m")
    first = (tmp_path / "m" / "MODEL.md").read_bytes()
    model.fit(digits.X_train[:500]).save(tmp_path / "m")
    second = (tmp_path / "m" / "MODEL.md").read_text()
    assert hashlib.sha256(first).hexdigest() != hashlib.sha256(second.encode()).hexdigest()
    assert "| shape | 500 x 64 |" in second
    assert not list((tmp_path / "m").glob(".MODEL.md.*"))  # written atomically: no temporary left


def test_run_folder_card_names_the_data_and_gains_evaluate_metrics(ae_run, tmp_path):
    run = copy_run(ae_run, tmp_path)
    card = (run / "MODEL.md").read_text()
    assert "| name | digits |" in card and "From `metrics.json`" in card
    assert "From `evaluation.json`" not in card
    assert main(["evaluate", str(run), "--max-examples", "50", "--regularity-samples", "0"]) == 0
    card = (run / "MODEL.md").read_text()
    assert "From `evaluation.json`" in card and "heldout_mse_per_feature" in card
    assert f'load("{run}")' in card


def test_a_card_for_own_networks_says_how_to_import_them(tmp_path, digits):
    from torch import nn

    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Linear(64, 2))
    AutoEncoder(2, encoder=encoder, hidden=(8,), epochs=1, random_state=0).fit(digits.X_train).save(tmp_path / "m")
    card = (tmp_path / "m" / "MODEL.md").read_text()
    assert "allow_import=True" in card and "`torch.nn.modules.container:Sequential` (your module)" in card
