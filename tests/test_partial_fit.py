"""partial_fit: one optimiser pass per call over the rows given, state carried across calls, the same
checks as fit; a loop over chunks of digits trains as well as fit with the same optimiser steps
(the Fashion-MNIST measurement is benchmarks/partial_fit.py)."""

import numpy as np
import pytest

from latentspace import VAE, AutoEncoder, LinearAutoEncoder
from latentspace.estimators import ESTIMATORS
from latentspace.errors import DataError, LatentspaceError

BATCH, CHUNKS, PASSES = 64, 10, 15


def same_steps(digits):
    """1,280 training rows in 10 chunks of 128 = 2 batches each: one pass over the chunks takes as many
    optimiser steps as one epoch of fit over the 1,280 rows."""
    X = digits.X_train[: CHUNKS * 2 * BATCH]
    return X, np.split(X, CHUNKS)


@pytest.mark.parametrize("cls, extra", [(AutoEncoder, {"hidden": (64,)}), (LinearAutoEncoder, {}),
                                        (VAE, {"hidden": (64,), "likelihood": "gaussian"})])
def test_a_loop_over_chunks_trains_like_fit_with_the_same_steps(digits, cls, extra):
    X, chunks = same_steps(digits)
    common = dict(batch_size=BATCH, lr_schedule="constant", random_state=0, **extra)
    whole = cls(4, epochs=PASSES, validation_fraction=0.0, patience=None, **common).fit(X)
    streamed = cls(4, **common)
    for _ in range(PASSES):
        for chunk in chunks:
            assert streamed.partial_fit(chunk) is streamed
    assert streamed.n_iter_ == len(streamed.history_) == PASSES * CHUNKS
    steps = streamed._optimizer_state["state"][0]["step"]  # Adam's count, carried across the calls
    assert int(steps) == PASSES * CHUNKS * 2
    fitted, partial = -whole.score(digits.X_test), -streamed.score(digits.X_test)
    assert partial <= 1.05 * fitted, (partial, fitted)


def test_first_call_builds_and_later_calls_continue(digits):
    model = AutoEncoder(2, hidden=(16,), random_state=0).partial_fit(digits.X_train[:300])
    weights = {k: v.clone() for k, v in model.model_.state_dict().items()}
    offset = model.offset_.copy()
    model.partial_fit(digits.X_train[300:600])
    assert model.n_iter_ == 2 and [r["epoch"] for r in model.history_] == [1, 2]
    assert any(not (v == weights[k]).all() for k, v in model.model_.state_dict().items())
    np.testing.assert_array_equal(model.offset_, offset)  # the scaling of the first call stays
    assert model.transform(digits.X_test).shape == (len(digits.X_test), 2)


def test_partial_fit_has_fits_checks(digits):
    model = AutoEncoder(2, hidden=(16,), random_state=0)
    with pytest.raises(LatentspaceError, match="n_components"):
        AutoEncoder(0).partial_fit(digits.X_train)
    bad = digits.X_train[:50].copy()
    bad[3, 5] = np.nan
    with pytest.raises(DataError, match="NaN"):
        model.partial_fit(bad)
    model.partial_fit(digits.X_train[:100])
    with pytest.raises(DataError, match="features"):
        model.partial_fit(digits.X_train[:100, :10])


def test_partial_fit_streams_a_memmap(digits, tmp_path):
    np.save(tmp_path / "X.npy", digits.X_train.astype(np.float32))
    X = np.load(tmp_path / "X.npy", mmap_mode="r")
    model = AutoEncoder(2, hidden=(16,), random_state=0).partial_fit(X).partial_fit(X)
    assert model.n_iter_ == 2 and "val_loss" not in model.history_[-1]


def test_fit_after_partial_fit_starts_anew(digits):
    model = AutoEncoder(2, hidden=(16,), epochs=2, random_state=0)
    model.partial_fit(digits.X_train).partial_fit(digits.X_train)
    model.fit(digits.X_train)
    assert model.n_iter_ <= 2


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_every_estimator_has_partial_fit_and_takes_a_dataset(name, digits):
    import torch
    from torch.utils.data import TensorDataset

    rows = TensorDataset(torch.from_numpy(digits.X_train[:512]))
    model = ESTIMATORS[name](2, batch_size=128, random_state=0)
    y = digits.y_train if model.needs_labels else np.zeros(len(digits.X_train))  # the others ignore y
    model.partial_fit(digits.X_train[:256], y[:256]).partial_fit(digits.X_train[256:512], y[256:512])
    assert model.n_iter_ == 2 and model.transform(rows).shape == (512, 2)
    if model.needs_labels:  # rows must travel with their labels: a stream is refused in one line
        with pytest.raises(LatentspaceError, match="held in memory with their labels"):
            ESTIMATORS[name](2, epochs=1).fit(rows, y[:512])
    elif name != "TwoStageVAE":  # whose fit also trains its second stage (~40 s); the Dataset path is the base's
        fitted = ESTIMATORS[name](2, epochs=1, batch_size=128, random_state=0).fit(rows)
        assert np.isfinite(fitted.score(rows))
