"""Degenerate data get an answer that is defined or one line saying what is wrong with them, and the
command line never prints a raw warning (Python's file-and-source-line form)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from conftest import copy_run

from latentspace import LinearAutoEncoder
from latentspace.analysis import compare_with_pca
from latentspace.cli import warning_printer
from latentspace.errors import LatentspaceError


def assert_no_raw_warning(err: str) -> None:
    assert "Warning:" not in err and ".py:" not in err and "site-packages" not in err, err


@pytest.fixture
def degenerate(tmp_path, digits):
    np.save(tmp_path / "three.npy", digits.X_train[:3])  # 2 training rows, 1 held out
    np.save(tmp_path / "constant.npy", np.ones((100, 10)))
    np.save(tmp_path / "line.npy", np.outer(np.random.default_rng(0).random(100), np.arange(1.0, 11.0)))
    return tmp_path


@pytest.mark.parametrize("name, k, message", [
    ("three.npy", 2, "the 2 training rows vary in only 1 direction(s) (their centred rank), so PCA's top-2 "
                     "subspace is not defined; use n_components <= 1"),
    ("constant.npy", 1, "the 80 training rows are all the same"),
    ("line.npy", 2, "vary in only 1 direction(s)"),
])
def test_pca_check_says_what_is_wrong_with_the_data(cli, degenerate, name, k, message):
    code, _, err = cli("pca-check", "--data", degenerate / name, "--n-components", k, "--epochs", 2,
                       "--out", degenerate / "out")
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert_no_raw_warning(err)


def test_pca_check_of_two_rows_at_the_defined_size(cli, degenerate):
    code, out, err = cli("pca-check", "--data", degenerate / "three.npy", "--n-components", 1, "--epochs", 2,
                         "--out", degenerate / "out")
    assert code == 0, err
    assert "principal angles" in out and "nan" not in out
    assert_no_raw_warning(err)


def test_the_library_refuses_a_subspace_that_is_not_defined():
    X = np.ones((50, 6))
    model = LinearAutoEncoder(1, epochs=1, random_state=0).fit(X)
    with pytest.raises(LatentspaceError, match="all the same"):
        compare_with_pca(model, X, X)


def test_a_cuda_saved_model_loads_on_the_cpu_with_one_warning_line(cli, ae_run, tmp_path, digits):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    run = copy_run(ae_run, tmp_path)
    config = json.loads((run / "model" / "config.json").read_text())
    config["params"]["device"] = "cuda"
    (run / "model" / "config.json").write_text(json.dumps(config))
    np.save(tmp_path / "x.npy", digits.X_test[:10])
    code, _, err = cli("encode", run, tmp_path / "x.npy", "--out", tmp_path / "z.npy")
    assert code == 0 and err.count("\n") == 1, err
    assert err.startswith("latentspace encode: warning: ") and "loaded on the CPU" in err
    assert_no_raw_warning(err)


def test_a_foreign_warning_is_one_line(capsys):
    show = warning_printer("report")
    show(RuntimeWarning("invalid value encountered\nin divide"), RuntimeWarning,
         "/venv/lib/python3.11/site-packages/sklearn/decomposition/_pca.py", 646, line="x = a / b")
    err = capsys.readouterr().err
    assert err == "latentspace report: warning: invalid value encountered (RuntimeWarning in sklearn)\n"
    with warnings.catch_warnings():
        warnings.showwarning = show
        warnings.warn("plain", UserWarning, stacklevel=1)
    assert capsys.readouterr().err.count("\n") == 1
