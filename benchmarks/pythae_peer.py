"""pythae 0.1.2's VAE with the reference networks, trained by its BaseTrainer (optional peer).

Install into a separate venv with ``benchmarks/requirements-pythae.txt``; :func:`available` says
whether it can be imported here.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import time

import torch
from torch import nn


def available() -> str | None:
    """None when pythae imports, else the reason it does not."""
    try:
        import pythae  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def quiet_pythae_loggers() -> None:
    """pythae gives each module an INFO logger on stdout; the benchmark's table is what should print."""
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("pythae"):
            logging.getLogger(name).setLevel(logging.WARNING)


class PythaeRun:
    """One seeded pythae VAE; :meth:`run_epochs` trains with BaseTrainer and returns seconds per epoch."""

    def __init__(self, X: torch.Tensor, hidden=(512, 256), n_latent=16, batch_size=128, lr=1e-3, seed=0):
        from pythae.models import VAE, VAEConfig
        from pythae.models.base.base_utils import ModelOutput
        from pythae.models.nn import BaseDecoder, BaseEncoder

        quiet_pythae_loggers()
        n_features = X.shape[1]
        h1, h2 = hidden

        class Encoder(BaseEncoder):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(nn.Linear(n_features, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU())
                self.mu, self.logvar = nn.Linear(h2, n_latent), nn.Linear(h2, n_latent)

            def forward(self, x):
                h = self.net(x.reshape(x.shape[0], -1))
                return ModelOutput(embedding=self.mu(h), log_covariance=self.logvar(h))

        class Decoder(BaseDecoder):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(nn.Linear(n_latent, h2), nn.ReLU(), nn.Linear(h2, h1), nn.ReLU(),
                                         nn.Linear(h1, n_features))

            def forward(self, z):
                return ModelOutput(reconstruction=torch.sigmoid(self.net(z)))

        torch.manual_seed(seed)
        config = VAEConfig(input_dim=(n_features,), latent_dim=n_latent, reconstruction_loss="bce")
        self.model = VAE(config, encoder=Encoder(), decoder=Decoder())
        self.X, self.batch_size, self.lr, self.seed = X, batch_size, lr, seed

    def run_epochs(self, epochs: int) -> list[float]:
        from pythae.data.datasets import BaseDataset
        from pythae.trainers import BaseTrainer, BaseTrainerConfig
        from pythae.trainers.training_callbacks import TrainingCallback

        seconds: list[float] = []

        class EpochClock(TrainingCallback):
            def on_epoch_begin(self, training_config, **kwargs):
                self.start = time.perf_counter()

            def on_epoch_end(self, training_config, **kwargs):
                seconds.append(time.perf_counter() - self.start)

        with tempfile.TemporaryDirectory() as out:
            config = BaseTrainerConfig(
                output_dir=out, num_epochs=epochs, learning_rate=self.lr,
                per_device_train_batch_size=self.batch_size, optimizer_cls="Adam",
                keep_best_on_train=True, seed=self.seed, no_cuda=True,
            )
            data = BaseDataset(self.X, torch.zeros(self.X.shape[0]))
            threads = torch.get_num_threads()
            with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                quiet_pythae_loggers()
                trainer = BaseTrainer(self.model, train_dataset=data, training_config=config, callbacks=[EpochClock()])
                trainer.train()  # its progress bars and console printer, silenced
            torch.set_num_threads(threads)  # keep the thread count the same for every contender
        return seconds

    def posterior(self, x):
        out = self.model.encoder(x)
        return out.embedding, out.log_covariance

    def decoder_logits(self, z):
        return self.model.decoder.net(z)
