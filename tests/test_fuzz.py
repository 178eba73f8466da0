"""Fuzzing the loaders and the command line: a tampered or cut checkpoint, run config or training state,
and any command line, end in a value or one LatentspaceError line, within the memory budget, never a
traceback. (The file readers: test_data_fuzz.py.)"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from fuzzing import JSON_VALUES, fuzz_pair, json_edits, mutated, value_or_error
from hypothesis import strategies as st

from latentspace import load
from latentspace.cli import build_parser, long_flags, main
from latentspace.errors import MAX_LINE, CheckpointError, LatentspaceError
from latentspace.training import state
from latentspace.workflows import runs

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def build_run() -> Path:
    """A finished run that kept its training checkpoint: every file the loaders read."""
    folder = Path(tempfile.mkdtemp(prefix="latentspace-fuzz-")) / "run"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "ae", "--n-components", "2", "--epochs", "1", "--hidden", "8", "--out", str(folder),
                     "--quiet", "--keep-checkpoint"]) == 0
    return folder


RUN = build_run()
MODEL_CONFIG = json.loads((RUN / "model" / "config.json").read_text())
RUN_CONFIG = json.loads((RUN / "config.json").read_text())
STATE = json.loads((RUN / "checkpoint" / state.STATE_FILE).read_text())
WEIGHTS = next((RUN / "model").glob("*.safetensors")).name


@contextlib.contextmanager
def copy_of_run():
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "run"
        shutil.copytree(RUN, run)
        yield run


def written(document) -> bytes:
    return json.dumps(document).encode()


def file_contents(document: dict):
    """A JSON document edited, or its bytes cut, overwritten or extended, or something else entirely."""
    raw = written(document)
    return st.one_of(json_edits(document).map(written), mutated(raw), JSON_VALUES.map(written), st.binary(max_size=64))


@fuzz_pair(file_contents(MODEL_CONFIG), st.one_of(st.none(), mutated((RUN / "model" / WEIGHTS).read_bytes())))
def test_checkpoint_loader(config: bytes, weights: bytes | None):
    """``load`` on a model folder whose config.json (and maybe weights) were tampered with."""
    with copy_of_run() as run:
        (run / "model" / "config.json").write_bytes(config)
        if weights is not None:
            (run / "model" / WEIGHTS).write_bytes(weights)
        value_or_error(load, run / "model", error=CheckpointError)


test_checkpoint_loader, test_checkpoint_loader_long = test_checkpoint_loader


@fuzz_pair(file_contents(RUN_CONFIG))
def test_run_config_loaders(config: bytes):
    """A run folder's config.json: read, its data source named, the model loaded through it."""
    with copy_of_run() as run:
        (run / "config.json").write_bytes(config)
        for read in (runs.read_run_config, runs.DataSource.of_run, runs.is_finished, runs.load_run_model):
            value_or_error(read, run)


test_run_config_loaders, test_run_config_loaders_long = test_run_config_loaders


@fuzz_pair(file_contents(STATE), st.booleans())
def test_training_state_loader(meta: bytes, cut_tensors: bool):
    """The resumable training state (checkpoint/state.json and its tensors)."""
    with copy_of_run() as run:
        (run / "checkpoint" / state.STATE_FILE).write_bytes(meta)
        if cut_tensors:
            tensors = run / "checkpoint" / STATE["tensors_file"]
            tensors.write_bytes(tensors.read_bytes()[:100])
        value_or_error(state.read, run / "checkpoint", error=CheckpointError)


test_training_state_loader, test_training_state_loader_long = test_training_state_loader


TRAIN_FLAGS = sorted(set(long_flags(build_parser(["train"]))))
VALUES = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", "1e9", "nan", "inf", "auto", "none", "", "1,2", "0,0", "3x3", "1,1,1,1",
                     "digits", "ae", "vae", "cuda:9", "-", "--", "x\ny", "\x1b[31m", "\udcff", "1" * 400]),
    st.text(max_size=12),
)
TOKENS = st.one_of(st.sampled_from(TRAIN_FLAGS), VALUES, st.sampled_from(["ae", "vae", "linear", "-h", "--resume"]))


def fake_train_run(estimator, source, *args, **kwargs):
    """What train_run checks before it touches a file: the estimator's parameters and the data source."""
    estimator._validate_params()
    return SimpleNamespace(metrics={}, run_dir=None)


def fake_resume_run(path, epochs, **kwargs):
    raise LatentspaceError(f"{path}: not a run folder (no config.json)")


@fuzz_pair(st.lists(TOKENS, max_size=8))
def test_command_line_flags(tokens: list[str]):
    """Any train command line: parsed and its estimator's parameters validated (no data read, nothing
    trained): status 0, or 2 with one line of at most MAX_LINE characters and no traceback."""
    err = io.StringIO()
    with mock.patch("latentspace.cli.train.train_run", fake_train_run), \
            mock.patch("latentspace.cli.train.resume_run", fake_resume_run), \
            contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(["train", *tokens])
        except SystemExit as e:
            code = e.code
    lines = err.getvalue().splitlines()
    assert code in (0, 2), (code, err.getvalue())
    if code == 2:
        assert len(lines) == 1 and len(lines[0]) <= MAX_LINE + 60, err.getvalue()
    assert "Traceback" not in err.getvalue()


test_command_line_flags, test_command_line_flags_long = test_command_line_flags
