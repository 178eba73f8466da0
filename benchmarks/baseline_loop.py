"""The baseline: a plain hand-written PyTorch VAE loop, in the style of pytorch/examples ``vae/main.py``.

Written from scratch in that example's shape (fc layers, ``F.relu``, ``binary_cross_entropy`` summed
over the batch, Adam, ``torch.randn_like``), with the reference network 784-512-256-16 and one change
that the issue measured as the faster plain variant: batches are sliced from one shuffled tensor
instead of drawn through a DataLoader. Nothing in it is tuned; it is what a user would write.

    PYTHONPATH=src python benchmarks/baseline_loop.py [--epochs 3] [--fused]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.nn import functional as F


class PlainVAE(nn.Module):
    def __init__(self, n_features: int = 784, hidden: tuple[int, int] = (512, 256), n_latent: int = 16):
        super().__init__()
        h1, h2 = hidden
        self.fc1 = nn.Linear(n_features, h1)
        self.fc2 = nn.Linear(h1, h2)
        self.fc31 = nn.Linear(h2, n_latent)
        self.fc32 = nn.Linear(h2, n_latent)
        self.fc4 = nn.Linear(n_latent, h2)
        self.fc5 = nn.Linear(h2, h1)
        self.fc6 = nn.Linear(h1, n_features)

    def encode(self, x):
        h = F.relu(self.fc2(F.relu(self.fc1(x))))
        return self.fc31(h), self.fc32(h)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode_logits(self, z):
        return self.fc6(F.relu(self.fc5(F.relu(self.fc4(z)))))

    def forward(self, x):
        mu, logvar = self.encode(x)
        return torch.sigmoid(self.decode_logits(self.reparameterize(mu, logvar))), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


class PlainLoop:
    """The loop of ``vae/main.py``'s ``train(epoch)``, one call of :meth:`run_epoch` per epoch."""

    def __init__(self, X: torch.Tensor, hidden=(512, 256), n_latent=16, batch_size=128, lr=1e-3,
                 fused: bool = False, seed: int = 0, binarize: bool = False):
        torch.manual_seed(seed)
        self.X, self.batch_size, self.binarize = X, batch_size, binarize
        self.model = PlainVAE(X.shape[1], hidden, n_latent)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr, fused=fused or None)

    def run_epoch(self) -> float:
        """One epoch; returns the mean training loss per example."""
        return self.run_rows(torch.randperm(self.X.shape[0], device=self.X.device)) / self.X.shape[0]

    def run_rows(self, order: torch.Tensor) -> float:
        """Train on the rows ``order`` in batches, in that order; returns the summed training loss."""
        self.model.train()
        train_loss = 0.0
        for start in range(0, order.shape[0], self.batch_size):
            data = self.X[order[start : start + self.batch_size]]
            if self.binarize:  # dynamic binarisation: each use of an image draws Bernoulli(pixel) anew
                data = torch.bernoulli(data)
            self.optimizer.zero_grad()
            recon_batch, mu, logvar = self.model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            self.optimizer.step()
        return train_loss

    def posterior(self, x):
        return self.model.encode(x)

    def decoder_logits(self, z):
        return self.model.decode_logits(z)


def main() -> None:
    from latentspace.data import load_fashion_mnist

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fused", action="store_true", help="Adam(fused=True)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X = torch.from_numpy(load_fashion_mnist().X_train)
    loop = PlainLoop(X, fused=args.fused)
    print(f"{'epoch':>5} {'seconds':>8} {'train_loss':>11}")
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        loss = loop.run_epoch()
        print(f"{epoch:>5} {time.perf_counter() - started:>8.2f} {loss:>11.3f}")


if __name__ == "__main__":
    main()
