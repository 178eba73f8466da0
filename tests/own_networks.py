"""Networks of a user's own classes, importable by their recorded path (``own_networks:Class``) because
tests/ is on sys.path: what ``allow_import`` / ``--allow-import`` builds when a saved model is opened."""

import torch
from torch import nn


class TinyEncoder(nn.Module):
    """(batch, 64) -> (batch, 2): a conv net over the 8x8 digits, reshaping the rows itself."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten())
        self.head = nn.Linear(4 * 8 * 8, 2)

    def forward(self, x):
        return self.head(self.conv(x.view(-1, 1, 8, 8)))


class ResidualDecoder(nn.Module):
    """(batch, 2) -> (batch, 64) with a skip connection: Python the explorer's page cannot run."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(2, 16)
        self.out = nn.Linear(16, 64)
        self.skip = nn.Linear(2, 64)

    def forward(self, z):
        return self.out(torch.relu(self.inner(z))) + self.skip(z)
