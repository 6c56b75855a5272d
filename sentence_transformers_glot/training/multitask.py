"""Multi-task training: one shared pooling, a head per task, trained together in one run (``also_tasks``).

Every epoch is a seeded schedule of (task, batch) steps (:func:`schedule`): ``proportional`` takes every batch of
every task, so larger tasks get more steps; ``balanced`` gives each task the same number of batches, the mean
count (a smaller task's batches repeated, a larger one's cut), so every task weighs the same. Each step is the
task's loss on the shared pooling and that task's head. The epoch kept is the one with the best mean validation
score over the tasks; ``metrics.json`` reports those means (metric ``mean``) and ``tasks.json`` every task's own
validation and test scores. The export holds the pooling, the first task's head in ``task_head/`` and the other
tasks' heads in ``task_heads/<task>/``. Interrupted anywhere, a run resumes from its checkpoint as a single-task
run does.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from sentence_transformers_glot.backbones.record import BackboneRecord
from sentence_transformers_glot.io import atomic_write_text, read_json
from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.checkpoint import load_checkpoint, save_checkpoint
from sentence_transformers_glot.training.config import METRICS_NAME, RunResult, TrainConfig, finished_result
from sentence_transformers_glot.training.evaluate import evaluate
from sentence_transformers_glot.training.export import export_model
from sentence_transformers_glot.training.inputs import cache_task_states, resolve_task
from sentence_transformers_glot.training.loop import Progress, epoch_batches, optimiser_step, warmup_factor
from sentence_transformers_glot.training.model import (
    PoolingWithHead,
    batch_states,
    build_head,
    build_pooling,
    example_rows,
)
from sentence_transformers_glot.training.run_identity import config_dict
from sentence_transformers_glot.training.transfer import init_pooling

TASKS_NAME = "tasks.json"


def schedule(batches: dict[str, list[np.ndarray]], sampling: str, seed: int, epoch: int) -> list[tuple[str, Any]]:
    """An epoch's (task, batch) steps in a seeded order: every batch of every task (``proportional``), or the same
    number of each task's batches, the mean count, a smaller task's repeated and a larger one's cut (``balanced``)."""
    if sampling == "balanced":
        count = max(1, round(float(np.mean([len(b) for b in batches.values()]))))
        batches = {name: [b[i % len(b)] for i in range(count)] for name, b in batches.items() if b}
    steps = [(name, batch) for name, task_batches in batches.items() for batch in task_batches]
    order = torch.randperm(len(steps), generator=torch.Generator().manual_seed(seed * 100_003 + epoch + 7))
    return [steps[i] for i in order.tolist()]


@dataclasses.dataclass
class _Run:
    """A multi-task run, set up: its tasks (data, states), the shared pooling with each task's head, the optimiser,
    where it stands, and its checkpoint."""

    config: TrainConfig
    tasks: dict[str, Any]
    states: dict[str, Any]
    runs: dict[str, PoolingWithHead]
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    progress: Progress
    path: Path

    def checkpoint(self) -> None:
        save_checkpoint(self.path, {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                                    "rng": torch.get_rng_state(), "progress": self.progress.to_dict()})

    def epoch_plan(self, epoch: int) -> list[tuple[str, Any]]:
        batches = {n: epoch_batches(example_rows(self.tasks[n], "train", run.head), self.config, epoch,
                                    run.head.kind == "contrastive", 1) for n, run in self.runs.items()}
        return schedule(batches, self.config.sampling, self.config.seed, epoch)


def train_multitask(config: TrainConfig, run_dir: Path, cache: StateCache | None, export: bool,
                    stop_after_steps: int | None, backbone: BackboneRecord) -> RunResult:
    """:func:`~sentence_transformers_glot.training.run.train` for a config with ``also_tasks``."""
    config_path = run_dir / "run_config.json"
    if config_path.exists() and read_json(config_path) != config_dict(config, backbone):
        raise ValueError(f"{run_dir} holds a run with a different configuration ({config_path}); use a new run folder.")
    finished = finished_result(run_dir)
    if finished is not None:
        return finished
    started = time.perf_counter()
    run = _set_up(config, run_dir, cache, backbone)
    cache_seconds = time.perf_counter() - started
    atomic_write_text(config_path, json.dumps(config_dict(config, backbone), indent=2))
    warmup = int(np.ceil(config.warmup_ratio * config.epochs * len(run.epoch_plan(0))))
    steps_left = [stop_after_steps]
    while run.progress.epoch < config.epochs:
        clock = time.perf_counter()
        _epoch(run, warmup, steps_left)
        run.progress.train_seconds += time.perf_counter() - clock
        run.checkpoint()
    return _report(run, run_dir, cache_seconds, export, backbone)


def _set_up(config: TrainConfig, run_dir: Path, cache: StateCache | None, backbone: BackboneRecord) -> _Run:
    """Every task loaded (``task_options`` for ``task`` only) and cached, the shared pooling and the heads built,
    the optimiser made, and the checkpoint read back when there is one."""
    configs = {name: dataclasses.replace(config, task=name, also_tasks=None,
                                         task_options=config.task_options if name == config.task else {})
               for name in (config.task, *config.also_tasks)}
    tasks = {name: resolve_task(c, None) for name, c in configs.items()}
    states = {name: cache_task_states(configs[name], tasks[name], cache, backbone) for name in tasks}
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    pooling = build_pooling(config, states[config.task]["train"][0].dim, decoder=backbone.decoder)
    if config.init_from is not None:  # a trained pooling to start from (and, frozen, only the heads train)
        init_pooling(pooling, config.init_from, backbone.folder())
    pooling.requires_grad_(not config.freeze_pooling)
    heads = torch.nn.ModuleList(build_head(configs[n], tasks[n], pooling.get_embedding_dimension()) for n in tasks)
    model = torch.nn.ModuleDict({"pooling": pooling, "heads": heads})
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                                  weight_decay=config.weight_decay)
    saved = load_checkpoint(run_dir / "checkpoint.pt")
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["rng"])
    progress = Progress() if saved is None else Progress.from_dict(saved["progress"])
    runs = {name: PoolingWithHead(pooling, head) for name, head in zip(tasks, heads)}
    return _Run(config, tasks, states, runs, model, optimizer, progress, run_dir / "checkpoint.pt")


def _epoch(run: _Run, warmup: int, steps_left: list[int | None]) -> None:
    """The rest of the current epoch's steps, then every task's validation score and the best epoch kept."""
    config, progress, epoch = run.config, run.progress, run.progress.epoch
    plan = run.epoch_plan(epoch)
    clip = config.max_grad_norm if config.max_grad_norm is not None else float("inf")
    run.model.train()
    for name, index in tqdm(plan[progress.step:], desc=f"multi-task epoch {epoch + 1}/{config.epochs}",
                            leave=False, unit="batch"):
        a, b = batch_states(run.states[name]["train"], index)
        head = run.runs[name].head
        labels = None if head.kind == "contrastive" else torch.from_numpy(run.tasks[name].splits["train"].labels[index])
        loss = head.loss(run.runs[name](a, b), labels)
        optimiser_step(run.model, run.optimizer, loss, progress, clip,
                       config.lr * warmup_factor(epoch * len(plan) + progress.step, warmup))
        if steps_left[0] is not None:
            steps_left[0] -= 1
            if steps_left[0] <= 0:
                run.checkpoint()
                raise KeyboardInterrupt("stopped after stop_after_steps steps")
    scores = {n: evaluate(r, run.tasks[n], "validation", run.states[n]["validation"], config.batch_size)
              for n, r in run.runs.items()}
    validation = float(np.mean(list(scores.values())))
    progress.history.append({"epoch": epoch + 1, "validation": validation, "tasks": scores,
                             "loss": progress.loss_sum / max(1, len(plan))})
    if progress.best is None or validation > progress.best:
        progress.best, progress.best_epoch = validation, epoch + 1
        progress.best_state = {k: v.clone() for k, v in run.model.state_dict().items()}
    progress.epoch, progress.step, progress.loss_sum, progress.grad_sum = epoch + 1, 0, 0.0, 0.0


def _report(run: _Run, run_dir: Path, cache_seconds: float, export: bool, backbone: BackboneRecord) -> RunResult:
    """The best epoch's test scores per task, ``tasks.json``, the export (every head) and ``metrics.json``."""
    config, model, runs, tasks, states, progress = run.config, run.model, run.runs, run.tasks, run.states, run.progress
    model.load_state_dict(progress.best_state)
    per_task = {n: {"metric": tasks[n].metric if runs[n].head.kind != "contrastive" else "accuracy",
                    "validation": progress.history[progress.best_epoch - 1]["tasks"][n],
                    "test": evaluate(runs[n], tasks[n], "test", states[n]["test"], config.batch_size)}
                for n in tasks}
    atomic_write_text(run_dir / TASKS_NAME, json.dumps(per_task, indent=2))
    test = float(np.mean([t["test"] for t in per_task.values()]))
    model_dir = None
    if export and config.layer == -1:
        first, *others = list(tasks)
        training = {"tasks": ", ".join(tasks), "sampling": config.sampling, "mean test": round(test, 4),
                    "best epoch": progress.best_epoch, "epochs": config.epochs, "learning rate": config.lr,
                    "seed": config.seed}
        model_dir = str(export_model(config, runs[first].pooling, runs[first].head, run_dir / "model", training,
                                     backbone_folder=backbone.folder(),
                                     more_heads={n: runs[n].head for n in others}))
    result = RunResult(pooling=config.pooling, metric="mean", validation=progress.best, test=test,
                       best_epoch=progress.best_epoch, history=progress.history,
                       trainable_parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
                       cache_seconds=cache_seconds, train_seconds=progress.train_seconds, model_dir=model_dir)
    atomic_write_text(run_dir / METRICS_NAME, json.dumps(dataclasses.asdict(result), indent=2))
    return result
