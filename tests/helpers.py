"""Test helpers: random token batches with either padding side."""

from __future__ import annotations

import torch


def random_batch(
    batch: int, length: int, dim: int, *, seed: int = 0, padding_side: str = "right", min_length: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token states with a shared direction (so cosines spread over [-1, 1]) and random lengths."""
    gen = torch.Generator().manual_seed(seed)
    base = torch.randn(batch, 1, dim, generator=gen)
    x = base + 0.9 * torch.randn(batch, length, dim, generator=gen)
    lengths = torch.randint(min_length, length + 1, (batch,), generator=gen)
    lengths[0] = length  # at least one full row, so the padded length is `length`
    positions = torch.arange(length)
    if padding_side == "right":
        mask = positions[None, :] < lengths[:, None]
    else:
        mask = positions[None, :] >= (length - lengths)[:, None]
    return x, mask


def to_left_padding(x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Move each row's real tokens (right-padded input) to the end, keeping their order."""
    lengths = mask.sum(1)
    length = mask.shape[1]
    shift = (length - lengths)[:, None]
    index = (torch.arange(length)[None, :] - shift) % length
    x_left = torch.gather(x, 1, index[..., None].expand_as(x))
    mask_left = torch.arange(length)[None, :] >= shift
    return torch.where(mask_left[..., None], x_left, torch.full_like(x_left, 7.0)), mask_left
