"""Helpers that several benchmark scripts share: synthetic token states and one-call wall times."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def synthetic_states(dim: int, seed: int, batch_size: int = 32, length: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """Token states with a shared direction per sentence (so that cosine graphs at tau 0.8 are not empty) and
    right-padded real lengths uniform in ``[length // 4, length]``, the first sentence full; seeded. The padded
    positions hold random values too (the mask says which are real)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, 1, dim, generator=gen) + 0.6 * torch.randn(batch_size, length, dim, generator=gen)
    lengths = torch.randint(length // 4, length + 1, (batch_size,), generator=gen)
    lengths[0] = length
    return x, torch.arange(length)[None, :] < lengths[:, None]


def synthetic_batch(dim: int, seed: int, batch_size: int = 32, length: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`synthetic_states` with the padded positions zeroed, as a padded batch from a backbone would be."""
    x, mask = synthetic_states(dim, seed, batch_size, length)
    return x * mask[..., None], mask


def milliseconds(fn: Callable[[], object]) -> float:
    """Wall time of one call of ``fn`` in milliseconds."""
    start = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - start)
