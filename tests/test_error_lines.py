"""Error lines stay lines: every CLI error is one line of at most ~300 characters, file names with their
control characters escaped, in the package's words (never a printed array or advice about other
estimators)."""

from __future__ import annotations

import numpy as np
import pytest

from latentspace import AutoEncoder
from latentspace.errors import MAX_LINE, DataError, error_line

PREFIX = len("latentspace encode: error: ")


def assert_line(result: tuple[int, str, str], *parts: str) -> str:
    code, _, err = result
    assert code == 2, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert len(err) <= PREFIX + MAX_LINE + 1, len(err)
    for part in parts:
        assert part in err, err
    return err


@pytest.fixture
def arrays(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((300, 64))
    np.save(tmp_path / "complex.npy", X + 1j)
    X[3, 2] = np.nan
    np.save(tmp_path / "nan.npy", X)
    return tmp_path


def test_complex_data_is_one_short_line(cli, ae_run, arrays, tmp_path):
    for command in (["encode", ae_run, arrays / "complex.npy", "--out", tmp_path / "z.npy"],
                    ["train", "ae", "--data", arrays / "complex.npy", "--out", tmp_path / "r", "--epochs", 1]):
        assert_line(cli(*command), "complex.npy: data must be real numbers", "X.real")
    with pytest.raises(DataError, match="Complex data not supported") as e:
        AutoEncoder(2, epochs=1).fit(np.load(arrays / "complex.npy"))
    assert "\n" not in str(e.value) and len(str(e.value)) < MAX_LINE and "+1.j" not in str(e.value)


def test_nan_says_what_latentspace_accepts(cli, ae_run, arrays, tmp_path, digits):
    err = assert_line(cli("encode", ae_run, arrays / "nan.npy", "--out", tmp_path / "z.npy"),
                      "nan.npy: 1 NaN or infinite values, the first at index (3, 2)", "SimpleImputer")
    assert "HistGradientBoosting" not in err
    X = digits.X_test.copy()
    X[5, 1] = np.inf
    fitted = AutoEncoder(2, epochs=1, random_state=0).fit(digits.X_train[:100])
    with pytest.raises(DataError, match=r"the first at index \(5, 1\); latentspace needs finite numbers") as e:
        fitted.transform(X)
    assert "HistGradientBoosting" not in str(e.value)


@pytest.mark.parametrize("name, shown", [("bad\nname.npy", "bad\\nname.npy"), ("red\x1b[31m.npy", "red\\x1b[31m.npy"),
                                         ("sep\u2028.npy", "sep\\u2028.npy")])
def test_file_names_are_escaped_never_cut(cli, ae_run, tmp_path, name, shown):
    (tmp_path / name).write_bytes(b"garbage")
    assert_line(cli("encode", ae_run, tmp_path / name, "--out", tmp_path / "z.npy"), shown, "not a .npy file")
    assert_line(cli("train", "ae", "--data", tmp_path / name, "--out", tmp_path / "r"), shown)


def test_a_long_path_keeps_its_start_and_the_reason(cli, ae_run, tmp_path):
    folder = tmp_path
    for i in range(8):
        folder = folder / (f"level{i}-" + "x" * 90)
    folder.mkdir(parents=True)
    (folder / "data.npy").write_bytes(b"garbage")
    err = assert_line(cli("encode", ae_run, folder / "data.npy", "--out", tmp_path / "z.npy"), str(tmp_path)[:40])
    assert err.rstrip().endswith("expected 8 bytes got 7)") and " ... " in err


def test_argparse_errors_are_lines(cli):
    assert_line(cli("train", "ae", "--epochs", "1\n2"), "'1\\n2'")
    assert_line(cli("train", "ae", "--bogus\nflag"), "--bogus\\nflag")


def test_error_line_keeps_a_foreign_first_line_and_escapes_our_own():
    assert error_line(ValueError("Complex data not supported\n[[1+1j]]")) == "Complex data not supported"
    assert error_line(DataError("a\nb.npy: corrupt")) == "a\\nb.npy: corrupt"
    long = error_line(DataError("/" + "p" * 1000 + ": the reason"))
    assert len(long) <= MAX_LINE and long.startswith("/ppp") and long.endswith(": the reason")


def test_advice_speaks_python_in_python_and_flags_on_the_command_line(cli, tmp_path):
    """One sentence for a [0, 1] likelihood on data outside [0, 1], made once: ``scaling='minmax'`` for
    the library's users, ``--scaling minmax`` for the command line's."""
    from latentspace import VAE
    from latentspace.data import load_dataset

    wine = load_dataset("wine").X_train
    with pytest.raises(ValueError, match=r"\[0, 1\] .*; use scaling='minmax' or a gaussian/mse likelihood"):
        VAE(epochs=1, likelihood="bernoulli").fit(wine)
    err = assert_line(cli("train", "vae", "--data", "wine", "--likelihood", "bernoulli", "--epochs", 1,
                          "--out", tmp_path / "r"), "use --scaling minmax or a gaussian/mse likelihood")
    assert "scaling=" not in err
    err = assert_line(cli("train", "vae", "--data", "wine", "--binarize", "dynamic", "--epochs", 1,
                          "--out", tmp_path / "r"), "--binarize dynamic reads the (scaled) data", "use --scaling minmax")
    assert "binarize=" not in err and "scaling=" not in err


def test_advice_names_only_the_flags_its_command_has():
    """``sweep`` has --epochs but no --scaling: its advice reads the one as a flag and the other in
    Python's words, never a flag the command would refuse."""
    from latentspace.cli import build_parser, command_flags
    from latentspace.errors import Advice, PosteriorCollapseWarning, Setting

    sweep = command_flags(build_parser(["sweep"]), "sweep")
    assert "--epochs" in sweep and "--ks" in sweep and "--scaling" not in sweep
    assert "--scaling" in command_flags(build_parser(["train"]), "train")
    advice = PosteriorCollapseWarning(Advice("try ", Setting("scaling", "standard"), " or more ", Setting("epochs")))
    assert error_line(advice, sweep) == "try scaling='standard' or more --epochs"
    assert error_line(advice) == "try --scaling standard or more --epochs"
