"""One constraint table per estimator class drives validation (always a LatentspaceError) and the CLI."""

import inspect
import json

import numpy as np
import pytest

from latentspace import VAE, AutoEncoder, CheckpointError, LatentspaceError, LinearAutoEncoder, load
from latentspace.cli import build_parser
from latentspace.cli._common import NOT_FLAGS
from latentspace.estimators import BaseAutoEncoder

CLASSES = [AutoEncoder, LinearAutoEncoder, VAE]

BAD_VALUES = [
    ("n_components", 0), ("n_components", None), ("n_components", 2.5), ("n_components", 10**9),
    ("hidden", (-5, 64)), ("hidden", (100_000, 100_000)), ("hidden", "64"), ("hidden", tuple([8] * 40)),
    ("epochs", 0), ("batch_size", -1), ("lr", 0.0), ("lr", float("inf")), ("lr", float("nan")),
    ("weight_decay", -0.1), ("validation_fraction", 1.0), ("patience", -1), ("patience", 0),
    ("grad_clip", -1.0), ("lr_schedule", "linear"), ("scaling", "log"), ("device", "foo"),
    ("device", "cuda:99"), ("verbose", "yes"), ("random_state", "seven"), ("random_state", -1),
    ("activation", "swish"), ("architecture", "transformer"), ("image_shape", (0, 8)),
    ("image_shape", (-1, -1)), ("channels", (0,)), ("norm", "nope"), ("loss", "l1"),
    ("likelihood", "poisson"), ("sigma", 0.0), ("beta", -1.0), ("warmup_epochs", -2), ("binarize", "static"),
]


def test_every_parameter_has_exactly_one_constraint():
    for cls in CLASSES:
        params = set(cls().get_params(deep=False))
        assert set(cls._parameter_constraints) == params, cls.__name__


def test_linear_autoencoder_derives_from_the_base_and_has_no_hidden_parameters():
    assert LinearAutoEncoder.__mro__[1] is BaseAutoEncoder
    assert "hidden" not in LinearAutoEncoder().get_params() and "activation" not in LinearAutoEncoder().get_params()
    assert not hasattr(LinearAutoEncoder, "hidden")


@pytest.mark.parametrize("name,value", BAD_VALUES, ids=lambda v: repr(v)[:30])
def test_every_bad_value_is_one_line_naming_the_parameter(name, value):
    X = np.random.default_rng(0).random((30, 8))
    tried = 0
    for cls in CLASSES:
        if name not in cls._parameter_constraints:
            continue
        tried += 1
        with pytest.raises(LatentspaceError) as info:
            cls(**{"epochs": 1, name: value}).fit(X)
        message = str(info.value)
        assert message.startswith(f"{name} must be ") and "\n" not in message, message
    assert tried


def test_the_defaults_pass_their_own_constraints():
    for cls in CLASSES:
        cls()._validate_params()


def test_cli_flags_take_types_choices_and_help_from_the_table(capsys):
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    flags = {a.dest: a for a in train._actions}
    assert flags["param_likelihood"].choices == VAE._parameter_constraints["likelihood"].choices
    assert VAE._parameter_constraints["beta"].help in flags["param_beta"].help
    for name in inspect.signature(VAE.__init__).parameters:
        if name != "self" and name not in NOT_FLAGS:  # modules and callbacks have no command-line form
            assert flags[f"param_{name}"].help, name
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["train", "vae", "--likelihood", "poisson"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'poisson'" in capsys.readouterr().err


def test_a_checkpoint_with_tampered_parameters_is_refused_in_one_line(tmp_path, small_digits):
    X_train, _ = small_digits
    AutoEncoder(epochs=1, hidden=(16,), random_state=0).fit(X_train).save(tmp_path / "m")
    config_path = tmp_path / "m" / "config.json"
    config = json.loads(config_path.read_text())
    for name, value in [("hidden", [-5, 64]), ("n_components", 1e300), ("activation", "nope")]:
        config_path.write_text(json.dumps({**config, "params": {**config["params"], name: value}}))
        with pytest.raises(CheckpointError, match=f"{name} must be"):
            load(tmp_path / "m")


def test_ints_too_large_for_a_float_are_refused_in_one_line():
    huge = int("1" * 400)
    for name, value in [("batch_size", huge), ("hidden", (huge,)), ("lr", huge), ("epochs", -huge)]:
        with pytest.raises(LatentspaceError, match=f"^{name} must be [^\n]*, got [(-]?1111") as caught:
            VAE(2, **{name: value})._validate_params()
        assert "\n" not in str(caught.value)
