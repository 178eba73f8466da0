"""Training hooks, and the TensorBoard / MLflow loggers read back with each tool's own reader."""

import pytest
from conftest import run_cli

from latentspace import VAE, AutoEncoder
from latentspace.training import Callback, MLflowLogger, TensorBoardLogger
from latentspace.training.callbacks import step_hook


class Recorder(Callback):
    def __init__(self):
        self.begin, self.epochs, self.steps, self.end = None, [], [], None

    def on_train_begin(self, info):
        self.begin = info

    def on_step(self, record):
        self.steps.append({k: float(v) for k, v in record.items()})

    def on_epoch_end(self, record):
        self.epochs.append(record)

    def on_train_end(self, records):
        self.end = list(records)


def test_hooks_see_every_step_and_epoch(small_digits):
    X, _ = small_digits
    recorder = Recorder()
    vae = VAE(2, epochs=3, batch_size=100, callbacks=[recorder], random_state=0).fit(X)
    assert recorder.begin["epochs"] == 3 and recorder.begin["params"]["n_components"] == 2
    assert recorder.epochs == vae.history_ == recorder.end
    steps = recorder.begin["steps_per_epoch"]
    assert steps == 4  # 360 training rows (10% held out) in batches of 100
    assert [s["step"] for s in recorder.steps] == list(range(1, 3 * steps + 1))
    assert [s["epoch"] for s in recorder.steps] == [e for e in (1, 2, 3) for _ in range(steps)]
    assert set(recorder.steps[0]) == {"epoch", "step", "loss", "recon", "kl"}
    # the epoch's train_loss is the mean of its steps' losses (batches of 100, 100, 100, 60)
    sizes = [100, 100, 100, 60]
    first = sum(s["loss"] * n for s, n in zip(recorder.steps[:4], sizes)) / 360
    assert first == pytest.approx(vae.history_[0]["train_loss"], rel=1e-5)


def test_step_hook_is_none_when_no_callback_has_one():
    assert step_hook([]) is None
    assert step_hook([Callback(), TensorBoardLogger("x")]) is not None  # the loggers' optional step curve
    assert step_hook([Callback()]) is None


def test_tensorboard_values_read_back(small_digits, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    X, _ = small_digits
    ae = AutoEncoder(2, epochs=3, callbacks=[TensorBoardLogger(tmp_path / "tb", every_n_steps=2)], random_state=0).fit(X)
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    for name in ("train_loss", "val_loss", "train_recon"):
        logged = events.Scalars(name)
        assert [e.step for e in logged] == [1, 2, 3]
        assert [e.value for e in logged] == pytest.approx([r[name] for r in ae.history_], rel=1e-6)
    assert [e.step for e in events.Scalars("step/train_loss")][:2] == [2, 4]


def test_mlflow_values_read_back(small_digits, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)  # the default store: ./mlruns
    X, _ = small_digits
    logger = MLflowLogger(experiment="tests", run_name="digits")
    vae = VAE(2, epochs=3, callbacks=[logger], random_state=0).fit(X)
    assert (tmp_path / "mlruns").is_dir()
    client = MlflowClient((tmp_path / "mlruns").as_uri())
    run = client.get_run(logger.run_id_)
    assert run.info.status == "FINISHED" and run.info.run_name == "digits"
    assert run.data.params["n_components"] == "2" and run.data.params["likelihood"] == "auto"
    for name in ("train_loss", "val_loss", "train_kl"):
        logged = sorted(client.get_metric_history(logger.run_id_, name), key=lambda m: m.step)
        assert [m.step for m in logged] == [1, 2, 3]
        assert [m.value for m in logged] == pytest.approx([r[name] for r in vae.history_], rel=1e-6)


@pytest.mark.slow  # a CLI run importing torch, TensorBoard and MLflow
def test_cli_log_tensorboard_and_mlflow(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    store = (tmp_path / "store").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    code, _, err = run_cli("train", "ae", "--epochs", "2", "--out", tmp_path / "run", "--quiet",
                             "--log", "tensorboard", "--log", "mlflow")
    assert code == 0, err
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    assert [e.step for e in events.Scalars("train_loss")] == [1, 2]
    client = MlflowClient(store)
    runs = client.search_runs([client.get_experiment_by_name("latentspace").experiment_id])
    assert [r.info.run_name for r in runs] == ["run"]
    assert len(client.get_metric_history(runs[0].info.run_id, "val_loss")) == 2
