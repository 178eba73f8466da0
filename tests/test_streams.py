"""Data in batches: fit, partial_fit, transform and friends take a torch Dataset, a DataLoader or any
re-iterable of batches (with or without labels), streamed a few batches at a time."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset

from latentspace import VAE, AutoEncoder, LinearAutoEncoder, load
from latentspace.errors import DataError

ATOL = 1e-5  # float32 networks: per-batch inference rounds differently from one big chunk (~1e-6)


class RowsOnDemand(Dataset):
    """A user's own Dataset: each item (row, label) is computed when asked, nothing is held."""

    def __init__(self, X: np.ndarray, y: np.ndarray):
        self.X, self.y, self.fetched = X, y, 0

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        self.fetched += 1
        return torch.from_numpy(self.X[i]), int(self.y[i])


def batches_of(X, size=100, labels=None):
    return [(X[a : a + size], labels[a : a + size]) if labels is not None else X[a : a + size]
            for a in range(0, len(X), size)]


def test_a_dataset_trains_with_validation_split_and_early_stopping(digits):
    data = RowsOnDemand(digits.X_train, digits.y_train)
    model = AutoEncoder(2, hidden=(32,), epochs=30, patience=2, lr=0.02, random_state=0).fit(data)
    assert "val_loss" in model.history_[0]
    assert data.fetched >= len(data) * len(model.history_)  # one pass per epoch, item by item
    assert model.best_epoch_ is not None and len(model.history_) <= 30
    # the split is seeded: 10% of the items validate
    n_val = round(0.1 * len(data))
    assert model.training_data_["shape"] == [len(data) - n_val, 64]


def test_inference_on_a_dataset_equals_inference_on_the_array(digits):
    model = VAE(2, hidden=(32,), epochs=3, random_state=0).fit(digits.X_train)
    data = TensorDataset(torch.from_numpy(digits.X_test), torch.from_numpy(digits.y_test))
    np.testing.assert_allclose(model.transform(data), model.transform(digits.X_test), atol=ATOL)
    np.testing.assert_allclose(model.reconstruct(data), model.reconstruct(digits.X_test), atol=ATOL)
    mean, var = model.posterior(DataLoader(data, batch_size=50))
    np.testing.assert_allclose(mean, model.posterior(digits.X_test)[0], atol=ATOL)
    assert model.score_samples(batches_of(digits.X_test)).shape == (len(digits.X_test),)
    assert np.isfinite(model.score(data))
    codes = model.transform(iter(batches_of(digits.X_test)))  # a one-pass generator is fine for inference
    assert codes.shape == (len(digits.X_test), 2)


def test_a_dataloader_keeps_its_own_batches_and_takes_validation_data(digits):
    loader = DataLoader(TensorDataset(torch.from_numpy(digits.X_train)), batch_size=50, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    steps = []

    class Steps:
        def on_train_begin(self, info):
            steps.append(info["steps_per_epoch"])

    model = AutoEncoder(2, hidden=(32,), epochs=4, callbacks=[Steps()], random_state=0)
    model.fit(loader, validation_data=digits.X_test)
    assert steps == [len(loader)]  # the loader's batch size, not the estimator's 128
    assert "val_loss" in model.history_[-1]
    # validation_data is the held-out set itself: its loss is the model's score on it
    assert model.history_[-1]["val_loss"] == pytest.approx(-model.score(digits.X_test), rel=1e-5)


def test_images_and_labels_in_batches_train_a_conv_model(digits, tmp_path):
    images = digits.X_train.reshape(-1, 1, 8, 8)
    model = AutoEncoder(2, architecture="conv", channels=(4,), hidden=(16,), epochs=2, random_state=0)
    model.fit(batches_of(images, labels=digits.y_train))
    assert model.image_shape_ == (1, 8, 8) and model.example_shape_ == (1, 8, 8)
    assert model.inverse_transform(np.zeros((3, 2))).shape == (3, 1, 8, 8)
    model.save(tmp_path / "m")
    assert "| name | a list streamed to fit |" in (tmp_path / "m" / "MODEL.md").read_text()
    np.testing.assert_allclose(load(tmp_path / "m").transform(images[:10]), model.transform(images[:10]), atol=ATOL)


def test_an_iterable_dataset_is_batched_by_the_estimator(digits):
    class Rows(IterableDataset):
        def __iter__(self):
            return iter(torch.from_numpy(digits.X_train))

    model = LinearAutoEncoder(3, epochs=2, random_state=0).fit(Rows())
    assert model.n_features_in_ == 64 and model.components_.shape == (3, 64)


def test_partial_fit_takes_a_loader_chunk(digits):
    model = AutoEncoder(2, hidden=(16,), random_state=0)
    for start in (0, 700):
        chunk = TensorDataset(torch.from_numpy(digits.X_train[start : start + 700]))
        model.partial_fit(DataLoader(chunk, batch_size=100))
    assert model.n_iter_ == 2 and "val_loss" not in model.history_[-1]


@pytest.mark.parametrize("make, message", [
    (lambda X: (x for x in batches_of(X)), "gives one pass only"),
    (lambda X: TensorDataset(torch.zeros(0, 64)), "empty"),
    (lambda X: [X[:100], X[100:200, :10]], "batches differ in shape"),
    (lambda X: [X[:100], np.where(np.arange(64) == 5, np.nan, X[100:200])], "NaN or infinite values; the first at row 100, column 5"),
    (lambda X: DataLoader(TensorDataset(torch.zeros(50)), batch_size=10), "a batch must be rows"),
])
def test_bad_sources_are_one_clear_error(digits, make, message):
    with pytest.raises(DataError, match=message):
        AutoEncoder(2, hidden=(16,), epochs=1, random_state=0).fit(make(digits.X_train))


def test_a_source_that_changes_its_batch_count_is_refused(digits):
    class Shrinking:
        def __init__(self):
            self.passes = 0

        def __iter__(self):
            self.passes += 1
            n = 10 if self.passes == 1 else 5
            return iter(batches_of(digits.X_train[: n * 100]))

    with pytest.raises(DataError, match="gave 5 batches this pass but 10 in the first"):
        AutoEncoder(2, hidden=(16,), epochs=2, random_state=0).fit(Shrinking())
