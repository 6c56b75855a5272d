"""The optimisation loop's parts: the warm-up schedule, epoch order, and the progress record checkpoints hold
(a whole run's resume is tests/training/test_run.py's and tests/integration/test_kill.py's)."""

from __future__ import annotations

import numpy as np
import torch

from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.loop import Progress, epoch_batches, warmup_factor


def test_warmup_rises_linearly_then_stays():
    assert [warmup_factor(step, 4) for step in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert warmup_factor(0, 0) == 1.0


def test_epoch_order_is_a_function_of_seed_and_epoch():
    rows, config = np.arange(10), TrainConfig(batch_size=4, seed=3)
    first = epoch_batches(rows, config, 0, contrastive=False, world=1)
    assert [len(b) for b in first] == [4, 4, 2] and sorted(np.concatenate(first)) == list(range(10))
    assert all(np.array_equal(a, b) for a, b in zip(first, epoch_batches(rows, config, 0, False, 1)))
    assert not np.array_equal(np.concatenate(first), np.concatenate(epoch_batches(rows, config, 1, False, 1)))
    assert [len(b) for b in epoch_batches(np.arange(9), config, 0, contrastive=True, world=1)] == [4, 4]


def test_progress_round_trips_and_reads_checkpoints_of_older_versions():
    progress = Progress(epoch=1, step=3, best=71.5, best_epoch=1, best_state={"w": torch.ones(2)},
                        history=[{"epoch": 1, "validation": 71.5}], first_loss=0.69)
    assert Progress.from_dict(progress.to_dict()) == progress
    older = {"epoch": 2, "step": 0, "loss_sum": 0.0, "best": 50.0, "best_epoch": 2, "best_state": None,
             "history": [], "train_seconds": 1.5}  # written before grad_sum, collapse and first_loss existed
    read = Progress.from_dict(older)
    assert (read.epoch, read.best, read.grad_sum, read.collapse, read.first_loss) == (2, 50.0, 0.0, None, None)
