"""PyTorch's own distributed engine, as the training loop uses it.

Under ``torchrun`` the environment holds ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous
address; :func:`setup` joins the process group from it (``gloo`` on CPU, ``nccl`` on CUDA). Outside
torchrun everything here is a no-op for a world of one, so the loop has no second code path.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes files and prints progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


SINGLE = World()


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def setup(device: torch.device | str) -> World:
    """Join (or reuse) the process group torchrun describes; a world of one when not under torchrun."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    if not launched_by_torchrun():
        return SINGLE
    device = torch.device(device)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        torch.cuda.set_device(local_rank if device.index is None else device.index)
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return World(dist.get_rank(), dist.get_world_size(), local_rank)


def sum_across(values: torch.Tensor, world: World) -> torch.Tensor:
    """Element-wise sum of ``values`` over every rank (identity for a world of one)."""
    if world.distributed:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def reduce_across(values: torch.Tensor, world: World, op: str) -> torch.Tensor:
    """Element-wise "sum", "min" or "max" of the CPU tensor ``values`` over every rank (a copy; itself
    for a world of one). Moved to this rank's GPU for nccl, which reduces only there."""
    if not world.distributed:
        return values
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    values = values.to(device, copy=True)
    dist.all_reduce(values, op={"sum": dist.ReduceOp.SUM, "min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX}[op])
    return values.cpu()


def any_across(flag: bool, world: World, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any rank: a collective decision."""
    if not world.distributed:
        return flag
    return bool(sum_across(torch.tensor([float(flag)], device=device), world).item() > 0)


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def teardown() -> None:
    """Leave the process group (end of a torchrun command)."""
    if dist.is_available() and dist.is_initialized():
        # Free any DistributedDataParallel wrapper (and its reducer) while the group still exists.
        gc.collect()
        dist.destroy_process_group()
