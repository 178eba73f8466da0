"""What a new user tripped over (issue 25, point 5): each test fails without its fix."""

import json
import re
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_one_line_error
from sklearn.model_selection import GridSearchCV
from torch import nn

from latentspace import VAE, AutoEncoder, CheckpointError, LatentspaceError, load
from latentspace.cli import build_parser
from latentspace.cli._common import build_estimator
from latentspace.errors import PosteriorCollapseWarning

ROOT = Path(__file__).resolve().parents[2]
#: what a tqdm bar writes: a carriage return, or its "steps/s" / "it/s" rate
BAR = re.compile(r"\r|\d+(\.\d+)?(step|ex|it)/s")


# ---- --random-state: the help says what the command does -----------------------------------------
def test_random_state_help_and_behaviour_agree(capsys):
    parser = build_parser(["train"])
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    said = re.search(r"--random-state N (.*?)\(default ([^)]*)\)", help_text)
    assert said and said.group(2) == "0", help_text
    for argv, expected in ((["train", "vae"], 0), (["train", "vae", "--random-state", "none"], None),
                           (["train", "vae", "--random-state", "7"], 7)):
        args = parser.parse_args(argv)
        assert build_estimator("vae", args, verbose=False).random_state == expected


# ---- progress bars: a terminal only, and --quiet ----------------------------------------------------
@pytest.fixture
def vae_run_with_bars(tmp_path, cli):
    """A VAE trained without --quiet (so its saved ``verbose`` is True): what evaluate's IW bar reads."""
    code, _, err = cli("train", "vae", "--epochs", 2, "--hidden", 16, "--n-components", 2, "--out", tmp_path / "v")
    assert code == 0, err
    return tmp_path / "v", err


def test_no_progress_bar_goes_into_a_pipe_or_a_file(vae_run_with_bars, tmp_path, cli):
    run, train_err = vae_run_with_bars
    assert not BAR.search(train_err), train_err
    code, _, err = cli("evaluate", run, "--iw-samples", 20, "--regularity-samples", 0)
    assert code == 0 and not BAR.search(err), err
    code, _, err = cli("pca-check", "--data", "digits", "--n-components", 2, "--epochs", 2, "--out", tmp_path / "p")
    assert code == 0 and not BAR.search(err), err
    assert len(err) < 200, err  # was ~40 KB of bar text through a pipe


def test_bars_on_a_terminal_and_quiet_silences_them(vae_run_with_bars, monkeypatch, cli):
    run, _ = vae_run_with_bars
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    code, _, err = cli("evaluate", run, "--iw-samples", 20, "--regularity-samples", 0)
    assert code == 0 and "IW-NLL" in err, err  # the bar, on a terminal
    code, _, err = cli("evaluate", run, "--iw-samples", 20, "--regularity-samples", 0, "--quiet")
    assert code == 0 and err == "", err


@pytest.mark.parametrize("command", ["train", "evaluate", "pca-check", "sweep", "memorize", "demo"])
def test_every_long_command_takes_quiet(command, capsys):
    with pytest.raises(SystemExit):
        build_parser([command]).parse_args([command, "--help"])
    assert "--quiet" in capsys.readouterr().out


# ---- the posterior-collapse warning: only when it is true ------------------------------------------
def test_no_collapse_warning_while_units_are_active(digits):
    # this fit has 1 of 4 units active and a KL to the prior of ~0.02 nats: it used to be called collapsed.
    # (Adam 1e-3, constant, a one-epoch KL warm-up: pinned, since the default schedule and warm-up give
    # other fits; this is the fit the test is about.)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PosteriorCollapseWarning)
        vae = VAE(4, epochs=10, lr=1e-3, lr_schedule="constant", warmup_epochs=1, random_state=0).fit(digits.X_train)
    mean, var = vae.posterior(digits.X_train)
    kl = float((0.5 * (mean**2 + var - 1.0 - np.log(var))).sum(1).mean())
    assert vae.active_units_ >= 1 and kl < 0.5, (vae.active_units_, kl)


def test_a_collapse_is_reported_once_per_grid_search(digits):
    collapsing = VAE(3, hidden=(32,), epochs=3, beta=50.0, lr=1.1e-3, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        GridSearchCV(collapsing, {"beta": [50.0]}, cv=3).fit(digits.X_train[:300])
    said = [str(w.message) for w in caught if issubclass(w.category, PosteriorCollapseWarning)]
    assert len(said) == 1 and said[0].startswith("posterior collapse: 0 of 3 latent units active"), said


# ---- verbose as scikit-learn has it ---------------------------------------------------------------
def test_verbose_takes_ints_as_in_scikit_learn(small_digits):
    X, _ = small_digits
    for verbose in (0, 1, 2, True, False):
        assert AutoEncoder(2, hidden=(8,), epochs=1, verbose=verbose, random_state=0).fit(X[:50]).n_iter_ == 1
    with pytest.raises(LatentspaceError, match=r"^verbose must be True, False or an int >= 0, got -1$"):
        AutoEncoder(2, epochs=1, verbose=-1).fit(X[:50])


# ---- abbreviated flags -------------------------------------------------------------------------------
@pytest.mark.parametrize("argv,flag,meant", [
    (["train", "--epoch", "3"], "--epoch", "--epochs"),
    (["train", "vae", "--n-comp", "3"], "--n-comp", "--n-components"),
    (["pca-check", "--n-comp", "3"], "--n-comp", "--n-components"),
    (["evaluate", "RUN", "--iw", "10"], "--iw", None),
])
def test_abbreviated_flags_are_refused(argv, flag, meant, cli):
    result = cli(*argv)
    assert_one_line_error(result, f"unrecognized arguments: {flag}")
    if meant:
        assert f"did you mean '{meant}'" in result[2]


# ---- messages that say what to do --------------------------------------------------------------------
def test_a_model_written_by_save_is_explored_with_data(tmp_path, small_digits, cli):
    X, _ = small_digits
    AutoEncoder(2, hidden=(8,), epochs=1, random_state=0).fit(X).save(tmp_path / "saved")
    for command in (["explore", tmp_path / "saved", "--out", tmp_path / "e.html"], ["evaluate", tmp_path / "saved"]):
        assert_one_line_error(cli(*command), "a model saved by save(), not a run folder")
        assert "pass --data" in cli(*command)[2]
    code, out, err = cli("explore", tmp_path / "saved", "--data", "digits", "--out", tmp_path / "e.html")
    assert code == 0 and (tmp_path / "e.html").is_file(), err
    # sample needs no data (the model keeps its training codes); --data fits the sampler to other data
    for data in ([], ["--data", "digits"]):
        code, out, err = cli("sample", tmp_path / "saved", *data, "-n", 3, "--out", tmp_path / "s.npy")
        assert code == 0 and np.load(tmp_path / "s.npy").shape == (3, 64), err


def test_a_missing_model_config_is_named(ae_run, tmp_path, cli):
    run = Path(shutil.copytree(ae_run, tmp_path / "run"))
    (run / "model" / "config.json").unlink()
    for command in (["explore", run, "--out", tmp_path / "e.html"], ["sample", run, "--out", tmp_path / "s.npy"],
                    ["encode", run, tmp_path / "missing.npy", "--out", tmp_path / "z.npy"]):
        assert_one_line_error(cli(*command), f"{run / 'model'}: not a latentspace checkpoint (no config.json)")


def test_the_readme_says_where_the_command_is():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Library", 1)[0]
    assert ".venv/bin/latentspace" in setup and "source .venv/bin/activate" in setup
    demo_target = (ROOT / "Makefile").read_text().split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "$(VENV)/bin/latentspace;" in demo_target


class Ghost(nn.Module):
    """Stands for a class defined in the script that saved the model (its __main__)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Linear(64, 2)

    def forward(self, x):
        return self.net(x)


Ghost.__module__ = "__main__"


def test_a_class_from_another_scripts_main_says_how_to_make_it_importable(tmp_path, small_digits):
    X, _ = small_digits
    AutoEncoder(2, encoder=Ghost(), epochs=1, random_state=0).fit(X).save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "config.json").read_text())["params"]["encoder"]["module"] == "__main__:Ghost"
    with pytest.raises(CheckpointError) as info:
        load(tmp_path / "m", allow_import=True)
    message = str(info.value)
    assert "cannot import the encoder class __main__:Ghost" in message and "\n" not in message
    assert "defined in the script that saved the model" in message and "move class Ghost into a module" in message
    assert "define Ghost in this script too and pass encoder=Ghost" in message
    # and that advice works: the class defined here, passed by name
    back = load(tmp_path / "m", encoder=Ghost)
    assert torch.is_tensor(next(back.model_.encoder.parameters()))


def test_the_collapse_warning_advises_only_what_the_fit_has_not_tried(digits):
    counts = digits.X_train * 16  # raw 0-16 counts: likelihood "auto" is already the calibrated Gaussian
    # the new user's 5-epoch fit of raw.npz (issue 25), with the one-epoch KL warm-up that collapsed it then
    # (the default warm-up, half the epochs, now keeps 2 units active in this fit)
    with pytest.warns(PosteriorCollapseWarning) as caught:
        vae = VAE(16, epochs=5, warmup_epochs=1, random_state=0).fit(counts)
    assert vae.likelihood_ == "gaussian_calibrated"
    said = [str(w.message) for w in caught if issubclass(w.category, PosteriorCollapseWarning)]
    assert len(said) == 1 and "a smaller beta" in said[0] and "gaussian_calibrated" not in said[0], said


def test_the_command_lines_collapse_warning_speaks_in_flags(tmp_path, cli):
    # a beta of 50 collapses every unit; the CLI's warning names --epochs auto, --beta, not Python's epochs='auto'
    code, _, err = cli("train", "vae", "--data", "digits", "--epochs", 3, "--beta", 50, "--hidden", 16,
                       "--n-components", 2, "--out", tmp_path / "v")
    assert code == 0, err
    line = next(l for l in err.splitlines() if "posterior collapse" in l)
    assert line.startswith("latentspace train: warning: posterior collapse: 0 of 2 latent units active"), line
    assert "(--epochs auto)" in line and "(--warmup-epochs)" in line and "a smaller --beta" in line, line
    assert "epochs='auto'" not in line and "warmup_epochs" not in line, line


def test_a_raw_tables_collapse_advises_z_scores_and_an_auto_budget_is_not_advised_again():
    # wine's proline is in the thousands: with one shared variance it drowns the other 12 columns and
    # every unit collapses; z-scored, 13 of 16 units are active (docs in warn_if_collapsed)
    from sklearn.datasets import load_wine

    X = load_wine().data.astype(np.float32)
    with pytest.warns(PosteriorCollapseWarning) as caught:
        vae = VAE(16, random_state=0).fit(X)
    said = [str(w.message) for w in caught if issubclass(w.category, PosteriorCollapseWarning)]
    assert len(said) == 1 and "z-scored features (scaling='standard')" in said[0], said
    assert f"more epochs (epochs, above the {vae.epochs_} it had)" in said[0] and "epochs='auto'" not in said[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", PosteriorCollapseWarning)
        assert VAE(16, scaling="standard", random_state=0).fit(X).active_units_ >= 8
