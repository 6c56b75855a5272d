"""Rank and world size outside torchrun: one process, rank 0, on the CPU without CUDA."""

from __future__ import annotations

import torch

from sentence_transformers_glot.distributed import init_distributed, local_device, rank_and_world


def test_a_single_process_is_rank_0_of_1(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert rank_and_world() == (0, 1) and init_distributed() == 0
    assert local_device() == ("cpu" if not torch.cuda.is_available() else local_device())
