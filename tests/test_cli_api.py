"""The CLI talks: a fast --version, did-you-mean, flag help with choices, every reader for encode & co,
the files each command wrote, checkpoint/ cleaned up after a finished run."""

import subprocess
import sys

import numpy as np
import pytest

from latentspace import VAE, load
from latentspace.cli import main
from latentspace.cli.commands import COMMANDS


def test_version_imports_no_torch():
    code = "import sys; from latentspace.cli import main; main(['--version']); print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["latentspace", __import__("latentspace").__version__, "False"]


def test_help_a_typo_and_the_data_set_list_import_no_torch():
    """Only the invoked command's module is imported: --help lists every command from the table, a
    mistyped command gets its suggestion, and ``datasets`` lists the sets, all without torch,
    scikit-learn or matplotlib (8 s of imports on the 2-core machine, where these take 0.2 s)."""
    code = ("import sys, contextlib, io\nfrom latentspace.cli import main\n"
            "for argv in (['--help'], ['trian'], ['datasets']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()) as err:\n"
            "        try:\n            main(argv)\n        except SystemExit:\n            pass\n"
            "    print(repr(out.getvalue() + err.getvalue()))\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'matplotlib') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    help_text, typo, listing, heavy = proc.stdout.splitlines()
    assert all(command in help_text for command in ("demo", "train", "encode", "pca-check", "datasets"))
    assert "did you mean 'train'?" in typo and "fashion-mnist" in listing
    assert heavy == "[]"


def test_did_you_mean(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["trian"])
    assert caught.value.code == 2
    assert "invalid choice: 'trian'" in capsys.readouterr().err
    for argv, suggestion in ((["trian"], "did you mean 'train'?"),
                             (["train", "vae", "--likelihood", "bernouli"], "did you mean 'bernoulli'?"),
                             (["train", "vae", "--binarize", "dynamc"], "did you mean 'dynamic'?"),
                             (["demo", "--quik"], "unrecognized arguments: --quik; did you mean '--quick'?"),
                             (["train", "vae", "--n-componets=3"], "did you mean '--n-components'?")):
        with pytest.raises(SystemExit):
            main(argv)
        assert suggestion in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--bogus"])  # nothing close: no guess
    assert capsys.readouterr().err == "latentspace demo: error: unrecognized arguments: --bogus (see --help)\n"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_mistyped_flag_is_refused_by_the_command_it_was_given_to(command, capsys):
    """As argparse's own errors of a command do ("latentspace train: error: argument --epochs: ..."), an
    unknown flag or a stray word names the command, and the guess comes from that command's flags."""
    with pytest.raises(SystemExit) as caught:
        main([command, "--no-such-flag", "3"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.startswith(f"latentspace {command}: error: unrecognized arguments: --no-such-flag")
    with pytest.raises(SystemExit):
        main(["train", "--epoch", "3"])
    assert capsys.readouterr().err == ("latentspace train: error: unrecognized arguments: --epoch; did you mean "
                                       "'--epochs'? (see --help)\n")
    with pytest.raises(SystemExit):
        main(["demo", "--quick", "stray"])  # a word argparse leaves over: the command's error too
    assert capsys.readouterr().err.startswith("latentspace demo: error: unrecognized arguments: stray")


def test_model_flags_have_meaning_and_choices(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--likelihood {" + ",".join(VAE._parameter_constraints["likelihood"].choices) + "}" in text
    assert "--scaling {none,center,standard,minmax}" in text
    assert "weight of the KL term (1: the ELBO; beta-VAE otherwise) (default 1.0; vae, vamp, two-stage, tcvae, cvae only)" in text
    assert "--log {tensorboard,mlflow}" in text and "--keep-checkpoint" in text


def test_finished_run_has_no_training_checkpoint(ae_run):
    assert (ae_run / "model").is_dir() and not (ae_run / "checkpoint").exists()


def test_encode_reads_csv_npz_and_npy(ae_run, digits, tmp_path, cli):
    ae = load(ae_run)
    X = digits.X_test[:20]
    expected = ae.transform(X)
    np.savez(tmp_path / "x.npz", X=X, y=digits.y_test[:20])
    header = ",".join([f"px{i}" for i in range(64)] + ["label"])
    rows = [",".join(f"{v:.6g}" for v in row) + f",{label}" for row, label in zip(X, digits.y_test[:20])]
    (tmp_path / "x.csv").write_text("\n".join([header, *rows]) + "\n")
    for name, extra in (("x.npz", []), ("x.csv", ["--label-column", "label"])):
        out = tmp_path / f"{name}.npy"
        code, stdout, err = cli("encode", ae_run, tmp_path / name, "--out", out, *extra)
        assert code == 0, err
        assert stdout.strip() == f"wrote {out}"
        np.testing.assert_allclose(np.load(out), expected, atol=1e-5)
    code, _, err = cli("encode", ae_run, tmp_path / "x.csv", "--out", tmp_path / "bad.npy")
    assert code == 2 and "65 features" in err, err  # the label column left in


def test_stage_lines_go_to_a_terminal_only(capsys):
    from latentspace.cli._common import Stages

    Stages("evaluate", quiet=False)("measuring")
    Stages("evaluate")("measuring")  # stderr captured: not a terminal, so errors stay one line
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("evaluate [") and err[0].endswith("s] measuring")
