"""torch.distributed helpers for ``glot train`` under torchrun: the one place that asks for rank, world size
and this process's device."""

from __future__ import annotations

import os


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of an initialised torch.distributed group, else (0, 1)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_distributed() -> int:
    """Join the process group when started by torchrun (WORLD_SIZE > 1); returns this process's rank."""
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and dist.is_available() and not dist.is_initialized():
        dist.init_process_group("gloo")  # CPU training; the head is small, gradients are cheap to average
    return rank_and_world()[0]


def local_device() -> str:
    """This process's device for encoding: ``cuda:<LOCAL_RANK>`` (one rank per GPU under torchrun) when CUDA is
    available, else ``cpu``."""
    import torch

    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0')) % torch.cuda.device_count()}"
    return "cpu"
