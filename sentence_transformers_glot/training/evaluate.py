"""Evaluating a run: predictions and the task metric on a split, and whether the run learned anything (the
collapse guard: constant answers, diverged losses, validation at the constant answer's level)."""

from __future__ import annotations

import numpy as np
import torch

from sentence_transformers_glot.data import TaskData
from sentence_transformers_glot.metrics import compute_metric, constant_level, noise_margin
from sentence_transformers_glot.training.heads import TaskHead
from sentence_transformers_glot.training.model import PoolingWithHead, batch_states, example_rows


@torch.no_grad()
def predict_split(model: PoolingWithHead, task: TaskData, split: str, states,
                  batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(predictions, targets)`` on ``split`` (contrastive: retrieved partner and true partner in the batch)."""
    model.eval()
    rows = example_rows(task, split, model.head)
    predictions, targets = [], []
    for start in range(0, len(rows), batch_size):
        index = rows[start : start + batch_size]
        predicted = model.head.predict(model(*batch_states(states, index))).numpy()
        predictions.append(predicted)
        targets.append(np.arange(len(index)) if model.head.kind == "contrastive" else task.splits[split].labels[index])
    return np.concatenate(predictions), np.concatenate(targets)


def evaluate(model: PoolingWithHead, task: TaskData, split: str, states, batch_size: int) -> float:
    """The task metric on ``split`` (contrastive: in-batch retrieval accuracy)."""
    return compute_metric(run_metric(model.head, task), *predict_split(model, task, split, states, batch_size))


def run_metric(head: TaskHead, task: TaskData) -> str:
    """The metric a run reports: the task's, or in-batch retrieval accuracy for a contrastive head."""
    return "accuracy" if head.kind == "contrastive" else task.metric


#: A model is collapsed when this share of its predictions (or more) is one class, or when its predicted scores
#: vary by less than COLLAPSE_SPREAD of the targets' standard deviation.
COLLAPSE_SHARE = 0.99
COLLAPSE_SPREAD = 1e-3


def constant_prediction(predictions: np.ndarray, targets: np.ndarray, kind: str) -> str | None:
    """Why ``predictions`` are (nearly) one constant answer, or ``None`` when they are not: the failure of a
    pooling that stops depending on its input, whose head then learns the majority class or the mean score."""
    if len(predictions) == 0 or kind == "contrastive":
        return None
    if kind in ("classification", "pair-classification"):
        values, counts = np.unique(predictions, return_counts=True)
        share = counts.max() / len(predictions)
        if share >= COLLAPSE_SHARE and (targets == values[counts.argmax()]).mean() < COLLAPSE_SHARE:
            return f"predicts class {values[counts.argmax()]} for {100 * share:.1f}% of the validation examples"
        return None
    spread, scale = float(np.std(predictions)), float(np.std(targets)) or 1.0
    if spread <= COLLAPSE_SPREAD * scale:
        return f"predicts one score for every validation example (spread {spread:.2g}, targets {scale:.2g})"
    return None


#: A run diverged when an epoch's mean training loss reaches this multiple of its first step's loss.
DIVERGENCE_GROWTH = 100.0


def divergence(history: list[dict], first_loss: float | None, best: float, metric: str, labels: np.ndarray | None,
               ) -> str | None:
    """Why a run that kept finite losses still learned nothing, or ``None``: its mean training loss grew to
    :data:`DIVERGENCE_GROWTH` times its first step's (steps too large for the loss surface), or its best
    validation score never rose above the constant answer's level by more than the noise of ``len(labels)``
    examples (:func:`~sentence_transformers_glot.metrics.noise_margin`). ``labels`` is ``None`` for a contrastive
    head, whose chance level is not a constant answer's."""
    losses = [entry["loss"] for entry in history if np.isfinite(entry.get("loss", np.nan))]
    if first_loss and first_loss > 0 and losses and max(losses) >= DIVERGENCE_GROWTH * first_loss:
        return (f"the training loss grew from {first_loss:.3g} at the first step to an epoch mean of "
                f"{max(losses):.3g} ({max(losses) / first_loss:.3g}x): training diverged (lower the lr)")
    if labels is None or len(labels) == 0:
        return None
    level = constant_level(metric, labels)
    margin = noise_margin(metric, level, len(labels))
    if best <= level + margin:
        return (f"validation {metric} never rose above the constant answer's level: best {best:.2f} against "
                f"{level:.2f} + {margin:.2f} (two standard errors on {len(labels)} examples)")
    return None
