"""Run by tests/test_distributed.py under torchrun (and alone): fit an AE on digits given as a torch
Dataset, or as a DataLoader whose DistributedSampler gives each process its shard; rank 0 saves it.

    python tests/ddp_stream_fit.py dataset|loader BATCH OUT
"""

import sys

import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from latentspace import AutoEncoder
from latentspace.data import load_digits
from latentspace.training import distributed

mode, batch, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
world = distributed.setup("cpu")
data = TensorDataset(torch.from_numpy(load_digits(seed=0).X_train[:1280]))  # 10 steps of 128
if mode == "loader":
    sampler = DistributedSampler(data, world.size, world.rank, shuffle=False) if world.distributed else None
    data = DataLoader(data, batch_size=batch, sampler=sampler)
model = AutoEncoder(4, hidden=(64,), epochs=4, batch_size=batch, validation_fraction=0.0, scaling="standard",
                    device="cpu", random_state=0).fit(data)
if world.is_main:
    model.save(out)
distributed.teardown()
