"""Checkpoints that detect their own damage and fall back to the one before."""

from __future__ import annotations

import torch

from sentence_transformers_glot.training.checkpoint import load_checkpoint, save_checkpoint


def test_a_damaged_checkpoint_falls_back_to_the_previous_one(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"step": 1, "w": torch.ones(3)})
    save_checkpoint(path, {"step": 2, "w": torch.zeros(3)})
    assert load_checkpoint(path)["step"] == 2
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    assert load_checkpoint(path)["step"] == 1  # the .prev one
    assert load_checkpoint(tmp_path / "none.pt") is None
