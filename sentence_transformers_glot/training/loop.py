"""The optimisation loop alone: epochs of AdamW steps over the training rows, a linear warm-up and gradient
clipping, a validation score and a checkpoint at every epoch's end, the best epoch's weights kept.

Everything it needs comes in as arguments (the model, the optimiser, the states, a ``checkpoint`` callable);
where a run stands is a :class:`Progress`, saved in every checkpoint, so that a run interrupted anywhere and
started again continues with the same batches, learning rates and random state, and ends with the weights of
an uninterrupted one. :mod:`.run` sets a run up and reports it.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from sentence_transformers_glot.data import TaskData
from sentence_transformers_glot.metrics import compute_metric
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.evaluate import constant_prediction, evaluate, predict_split, run_metric
from sentence_transformers_glot.training.model import PoolingWithHead, batch_states, example_rows

logger = logging.getLogger(__name__)


@dataclass
class Progress:
    """Where a run stands: saved in every checkpoint (as :meth:`to_dict`), read back by :meth:`from_dict`.

    Attributes:
        epoch, step: the epoch under way (0-based; ``epochs`` once done) and the steps done in it.
        loss_sum, grad_sum: sums over this epoch's steps of the loss and the gradient norm (before clipping).
        best, best_epoch, best_state: the best validation score so far, its epoch (1-based) and its weights.
        history: one entry per finished epoch: validation, mean loss and gradient norm, constant answers.
        train_seconds: time spent training so far, over every call.
        collapse: why training stopped early (a non-finite loss), or None.
        first_loss: the loss of the run's first step (what the divergence check compares with).
    """

    epoch: int = 0
    step: int = 0
    loss_sum: float = 0.0
    best: float | None = None
    best_epoch: int = -1
    best_state: dict[str, torch.Tensor] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    train_seconds: float = 0.0
    grad_sum: float = 0.0
    collapse: str | None = None
    first_loss: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint's ``progress`` entry (the tensors are shared, not copied)."""
        return dict(vars(self))

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> Progress:
        """A checkpoint's ``progress``; one written before a field existed takes that field's default."""
        known = {spec.name for spec in dataclasses.fields(cls)}
        return cls(**{name: value for name, value in saved.items() if name in known})


def warmup_factor(step: int, warmup_steps: int) -> float:
    """The share of the learning rate at (0-based) optimiser step ``step`` of a linear warm-up over
    ``warmup_steps`` steps (1 after it, and throughout when there is none): a function of the step alone, so a
    resumed run gets the same rates."""
    return min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0


def optimiser_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor, progress: Progress,
                   clip: float, lr: float) -> None:
    """One AdamW step on ``loss``: gradients clipped to ``clip`` (their norm before clipping added to
    ``progress.grad_sum``), the learning rate set to ``lr``; ``progress`` counts the step and its loss."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    progress.grad_sum += float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip))
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.step()
    progress.step += 1
    progress.loss_sum += loss.item()


def epoch_batches(rows: np.ndarray, config: TrainConfig, epoch: int, contrastive: bool, world: int) -> list[np.ndarray]:
    """Epoch ``epoch``'s batches of ``rows``, in an order seeded by (seed, epoch); a contrastive head needs two
    examples per batch, and data parallelism one per process."""
    order = rows[torch.randperm(len(rows), generator=torch.Generator().manual_seed(
        config.seed * 100_003 + epoch)).numpy()]
    batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
    if contrastive:
        batches = [b for b in batches if len(b) > 1]
    return [b for b in batches if len(b) >= world]


@dataclass
class Loop:
    """One run's optimisation: what :meth:`run` steps through, fixed when the run starts."""

    model: PoolingWithHead
    step_model: torch.nn.Module  # ``model``, or its DistributedDataParallel wrapper
    optimizer: torch.optim.Optimizer
    config: TrainConfig
    task: TaskData
    states: dict[str, Any]
    checkpoint: Callable[[], None]
    rank: int = 0
    world: int = 1
    clock: float = field(default=0.0, init=False)  # when the time not yet in progress.train_seconds began
    steps_left: int | None = field(default=None, init=False)  # stop_after_steps still to go

    def run(self, progress: Progress, stop_after_steps: int | None = None) -> None:
        """Train from ``progress`` to the last epoch (or to a non-finite loss), updating ``progress`` in place.
        With ``stop_after_steps``, stop as if interrupted (``KeyboardInterrupt``) after that many steps."""
        head = self.model.head
        rows = example_rows(self.task, "train", head)
        if len(rows) == 0:
            raise ValueError(f"{self.task.name}: no training examples for a {head.kind} head.")
        batches = functools.partial(epoch_batches, rows, self.config, contrastive=head.kind == "contrastive",
                                    world=self.world)
        warmup_steps = int(np.ceil(self.config.warmup_ratio * self.config.epochs * len(batches(0))))
        self.clock, self.steps_left = time.perf_counter(), stop_after_steps
        while progress.epoch < self.config.epochs:
            epoch_rows = batches(progress.epoch)
            if not self._epoch(progress, epoch_rows, warmup_steps):
                self._stop_early(progress)
                return
            self._end_epoch(progress, len(epoch_rows))

    def _epoch(self, progress: Progress, batches: list[np.ndarray], warmup_steps: int) -> bool:
        """The rest of the current epoch's steps; ``False`` when the loss became non-finite."""
        config, head, epoch = self.config, self.model.head, progress.epoch
        clip = config.max_grad_norm if config.max_grad_norm is not None else float("inf")
        self.model.train()
        bar = tqdm(batches[progress.step :], desc=f"{config.pooling} epoch {epoch + 1}/{config.epochs}", leave=False,
                   unit="batch")
        for index in bar:
            index = index[self.rank :: self.world]  # this process's slice of the batch
            a, b = batch_states(self.states["train"], index)
            labels = None if head.kind == "contrastive" else torch.from_numpy(self.task.splits["train"].labels[index])
            loss = head.loss(self.step_model(a, b), labels)
            if not bool(torch.isfinite(loss)):
                progress.collapse = (f"the training loss became {loss.item()} at epoch {epoch + 1}, step "
                                     f"{progress.step + 1}; training stopped there")
                return False
            if progress.first_loss is None:
                progress.first_loss = loss.item()
            optimiser_step(self.model, self.optimizer, loss, progress, clip,
                           config.lr * warmup_factor(epoch * len(batches) + progress.step, warmup_steps))
            bar.set_postfix(loss=f"{loss.item():.4f}")
            if config.checkpoint_every and progress.step % config.checkpoint_every == 0:
                self._add_time(progress)
                self.checkpoint()
            if self.steps_left is not None:
                self.steps_left -= 1
                if self.steps_left <= 0:
                    self.checkpoint()
                    raise KeyboardInterrupt("stopped after stop_after_steps steps")
        return True

    def _stop_early(self, progress: Progress) -> None:
        """A non-finite loss: keep the best epoch so far (this one's weights if there is none), train no more."""
        logger.warning("%s", progress.collapse)
        tqdm.write(f"{self.config.pooling}: COLLAPSED: {progress.collapse}")
        if progress.best is None:
            progress.best = evaluate(self.model, self.task, "validation", self.states["validation"],
                                     self.config.batch_size)
            progress.best_epoch = progress.epoch + 1
            progress.best_state = {k: v.clone() for k, v in self.model.state_dict().items()}
        progress.epoch = self.config.epochs
        self.checkpoint()

    def _add_time(self, progress: Progress) -> None:
        now = time.perf_counter()
        progress.train_seconds += now - self.clock
        self.clock = now

    def _end_epoch(self, progress: Progress, steps: int) -> None:
        """Score the epoch on validation, keep it if best, record it, checkpoint and say how it went."""
        config, task, head = self.config, self.task, self.model.head
        epoch = progress.epoch
        predictions, targets = predict_split(self.model, task, "validation", self.states["validation"],
                                             config.batch_size)
        validation = compute_metric(run_metric(head, task), predictions, targets)
        constant = constant_prediction(predictions, targets, head.kind)
        steps = max(1, steps)
        progress.history.append({"epoch": epoch + 1, "validation": validation, "loss": progress.loss_sum / steps,
                                 "grad_norm": progress.grad_sum / steps, "constant": constant})
        if progress.best is None or validation > progress.best:
            progress.best, progress.best_epoch = validation, epoch + 1
            progress.best_state = {k: v.clone() for k, v in self.model.state_dict().items()}
        progress.epoch, progress.step, progress.loss_sum, progress.grad_sum = epoch + 1, 0, 0.0, 0.0
        self._add_time(progress)
        self.checkpoint()
        if self.rank == 0:  # printed beside the progress bars, so a long run shows how it is going
            best = " (best so far)" if progress.best_epoch == epoch + 1 else ""
            tqdm.write(f"{config.pooling} epoch {epoch + 1}/{config.epochs}: validation {task.metric} "
                       f"{validation:.2f}{best}" + (f"; constant predictions: {constant}" if constant else ""))
