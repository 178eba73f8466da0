"""``latentspace datasets`` and the data flags every command shares, run as a user would."""

import json

import numpy as np
import pytest
from conftest import assert_one_line_error
from data_files import write_idx_folder, write_png

from latentspace.cli import main
from latentspace.data import fashion_mnist_available


def test_datasets_lists_named_sets_and_availability(capsys, monkeypatch):
    monkeypatch.delenv("LATENTSPACE_MNIST", raising=False)
    assert main(["datasets"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert set(lines) == {"digits", "fashion-mnist", "mnist", "digits-counts", "wine", "breast-cancer", "diabetes",
                          "iris"}
    assert lines["digits"].split()[1:5] == ["1438", "359", "8x8", "10"] and "yes" in lines["digits"]
    assert lines["breast-cancer"].split()[1:6] == ["455", "114", "30", "features", "2"] and "yes" in lines["wine"]
    assert "no: no folder given" in lines["mnist"]
    assert ("yes" in lines["fashion-mnist"]) == fashion_mnist_available()


def test_datasets_with_a_data_dir_finds_mnist(tmp_path, capsys):
    write_idx_folder(tmp_path / "mnist")
    assert main(["datasets", "--data-dir", str(tmp_path)]) == 0
    mnist = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("mnist"))
    assert f"yes ({tmp_path / 'mnist'})" in mnist
    assert main(["datasets", "--data", "mnist", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("mnist: 12 train + 5 test, 30 features, image 6x5")


def test_datasets_checks_a_csv_with_a_label_column(tmp_path, capsys, digits):
    rows = [",".join(map(str, list(x) + [f"c{y}"])) for x, y in zip(digits.X_test[:50], digits.y_test[:50])]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    assert main(["datasets", "--data", str(tmp_path / "d.csv"), "--no-header", "--label-column", "64",
                 "--test-fraction", "0.1"]) == 0
    classes = len(set(digits.y_test[:50]))
    assert capsys.readouterr().out.strip() == f"d: 45 train + 5 test, 64 features, table rows, labels {classes} classes"


def test_datasets_reads_an_image_folder_resized(tmp_path, capsys):
    for i in range(4):
        write_png(tmp_path / "imgs" / ("a" if i % 2 else "b") / f"{i}.png", np.full((10 + i, 10), 40 * i, np.uint8))
    assert main(["datasets", "--data", str(tmp_path / "imgs"), "--image-size", "6x5"]) == 0
    assert "3 train + 1 test, 30 features, image 6x5, labels 2 classes" in capsys.readouterr().out


def test_train_from_a_memory_mapped_npy(tmp_path, digits):
    np.save(tmp_path / "d.npy", digits.X_train[:300])
    out = tmp_path / "run"
    assert main(["train", "ae", "--data", str(tmp_path / "d.npy"), "--mmap", "--epochs", "1",
                 "--hidden", "8", "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "config.json").read_text())["data"] == str(tmp_path / "d.npy")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "nope"], "unknown data set 'nope'; named sets: digits, fashion-mnist, mnist"),
        (["--data", "{tmp}/missing.npy"], "{tmp}/missing.npy: file not found"),
        (["--data", "{tmp}/bad.csv"], "{tmp}/bad.csv: non-numeric cell 'x' at line 2, column 1"),
        (["--data", "{tmp}/bad.csv", "--label-column", "zz"], "no label column named 'zz'"),
        (["--data", "{tmp}/bad.csv", "--image-size", "big"], "--image-size: expected HxW, got 'big'"),
    ],
)
def test_bad_data_is_one_line_on_stderr_and_status_2(tmp_path, cli, args, message):
    (tmp_path / "bad.csv").write_text("1,2\nx,3\n")
    result = cli("datasets", *[a.format(tmp=tmp_path) for a in args])
    assert result[1] == ""
    assert_one_line_error(result, message.format(tmp=tmp_path))


def test_a_truncated_idx_file_is_named_in_the_one_line(tmp_path, cli):
    (tmp_path / "t-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03\x00")
    code, _, err = cli("datasets", "--data", tmp_path / "t-idx3-ubyte")
    assert code == 2
    assert err.strip() == f"latentspace datasets: error: {tmp_path / 't-idx3-ubyte'}: truncated IDX header: 5 bytes, the header needs 16"
