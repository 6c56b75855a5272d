"""A run's model: the pooling (GLOT or a baseline) and the task head as one module, and the rows and batches
they train and evaluate on."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import nn

from sentence_transformers_glot.data import TaskData
from sentence_transformers_glot.options import natural_head, resolve_auto_options
from sentence_transformers_glot.pooling import GlotPooling
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.heads import PAIR_HEADS, TaskHead


def build_pooling(config: TrainConfig, dim: int, decoder: bool | None = None) -> GlotPooling:
    """The run's pooling; the ``"auto"`` options (``attention_sink``, ``input_norm``) are made concrete from
    ``decoder`` (whether the backbone is decoder-only), so that the exported model pools exactly as it trained."""
    options = dataclasses.asdict(config.glot)  # a baseline's options hold what makes it that baseline
    if decoder is not None:
        options.update(resolve_auto_options(options, decoder))
    return GlotPooling(dim, **options)


def head_kind(config: TrainConfig, task: TaskData) -> str:
    """The head ``config`` asks for, or the task's own (a self-supervised task's ``contrastive``) or natural one;
    refuses a head that does not fit the task."""
    kind = config.head or task.extra.get("head") or natural_head(task.objective, task.is_pair)
    if task.extra.get("head") == "contrastive" and kind != "contrastive":  # positives only: nothing else to learn
        raise ValueError(f"{task.name} holds positive pairs only and trains the contrastive head; drop "
                         f"head={kind!r}.")
    if (kind in PAIR_HEADS) != task.is_pair:
        needs, has = ("text pairs", "single texts") if kind in PAIR_HEADS else ("single texts", "text pairs")
        raise ValueError(f"head {kind!r} needs a task of {needs}; {task.name} has {has}.")
    return kind


#: How a score head reads the training scores: (shift, scale) that map them to the head's target range.
SCORE_TARGETS = {
    "regression": lambda y: (float(y.mean()), float(y.std() or 1.0)),
    "similarity": lambda y: (float(y.min()), float(np.ptp(y) or 1.0)),
}


def build_head(config: TrainConfig, task: TaskData, dim: int) -> TaskHead:
    """The run's task head on ``dim``-wide pooled vectors: a score head (:data:`SCORE_TARGETS`) fitted to the
    training scores' range, a class head with the task's label names, or a contrastive head."""
    kind = head_kind(config, task)
    width = {"head_dim": config.head_dim, "normalize": config.head_norm_for(kind)}
    if kind in SCORE_TARGETS:
        shift, scale = SCORE_TARGETS[kind](task.splits["train"].labels.astype(np.float64))
        return TaskHead(kind, dim, target_shift=shift, target_scale=scale, **width)
    names = task.label_names if kind in ("classification", "pair-classification") else None
    return TaskHead(kind, dim, num_labels=task.num_labels, label_names=names, **width)


class PoolingWithHead(nn.Module):
    """Pooling and head as one module (what the optimiser and checkpoints see)."""

    def __init__(self, pooling: GlotPooling, head: TaskHead) -> None:
        super().__init__()
        self.pooling, self.head = pooling, head

    def forward(self, a: tuple[torch.Tensor, torch.Tensor], b: tuple[torch.Tensor, torch.Tensor] | None = None):
        u = self.pooling.pool_packed(*a)
        v = self.pooling.pool_packed(*b) if b is not None else None
        return self.head(u, v)


def example_rows(task: TaskData, split: str, head: TaskHead) -> np.ndarray:
    """Indices of the examples a head trains or evaluates on (contrastive: the positive pairs)."""
    labels = task.splits[split].labels
    if head.kind != "contrastive":
        return np.arange(len(labels))
    positive = labels == 1 if task.objective == "classification" else labels >= np.median(task.splits["train"].labels)
    return np.flatnonzero(positive)


def batch_states(states, indices):
    """The pooled inputs of the examples ``indices``: ``(a, b)`` packed token states and their masks (``b`` for
    pairs, else None), as :meth:`GlotPooling.pool_packed` reads them."""
    a, b = states
    return a.packed(indices), (b.packed(indices) if b is not None else None)


def backbone_dim(path: str) -> int:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(path)
    config = getattr(config, "text_config", None) or config
    return int(config.hidden_size)
