"""Running one training run: :func:`train` sets it up (lock, configuration, inputs, model, optimiser, resume),
lets :class:`~sentence_transformers_glot.training.loop.Loop` optimise, and reports it (test score of the best
validation epoch, the collapse guard, export, ``metrics.json``).

:func:`train` does the whole job: it caches the backbone's token states for every split
(:mod:`sentence_transformers_glot.training.cache`), trains the pooling (GLOT or a baseline) and the head with AdamW,
selects the epoch with the best validation metric, reports that epoch's test metric, and exports a normal
sentence-transformers model folder (backbone + pooling) with the head beside it (``model/task_head``).

Data-parallel training: launched with ``torchrun`` (or any set-up that initialises ``torch.distributed``
before calling :func:`train`), each process takes an equal slice of every batch, DDP averages the
gradients, and only rank 0 writes checkpoints, metrics and the model.

The run is deterministic for a seed: initialisation comes from the seed, each epoch's order from a
generator seeded with (seed, epoch), and a checkpoint (written atomically, every ``checkpoint_every``
steps and at each epoch's end) holds the model, optimiser and RNG state. A run that is interrupted and
started again with the same ``run_dir`` resumes from its last checkpoint and ends with the same metrics and
weights as an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from sentence_transformers_glot.backbones.record import BackboneRecord
from sentence_transformers_glot.data import TaskData
from sentence_transformers_glot.distributed import rank_and_world
from sentence_transformers_glot.io import atomic_write_text, read_json
from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.checkpoint import load_checkpoint, save_checkpoint
from sentence_transformers_glot.training.config import METRICS_NAME, RunResult, TrainConfig, finished_result
from sentence_transformers_glot.training.evaluate import divergence, evaluate, run_metric
from sentence_transformers_glot.training.export import export_model
from sentence_transformers_glot.training.heads import TaskHead
from sentence_transformers_glot.training.inputs import cache_task_states, resolve_task
from sentence_transformers_glot.training.loop import Loop, Progress
from sentence_transformers_glot.training.model import (
    PoolingWithHead,
    backbone_dim,
    build_head,
    build_pooling,
    head_kind,
)
from sentence_transformers_glot.training.run_identity import config_dict
from sentence_transformers_glot.training.transfer import init_pooling, pooling_folder

logger = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"


def train(
    config: TrainConfig,
    run_dir: str | os.PathLike,
    task: TaskData | None = None,
    cache: StateCache | None = None,
    export: bool = True,
    stop_after_steps: int | None = None,
    backbone: BackboneRecord | None = None,
) -> RunResult:
    """Train ``config.pooling`` + a head on ``config.task``; resume if ``run_dir`` holds a checkpoint.

    Args:
        config: the run's settings.
        run_dir: the run folder (checkpoint, metrics, exported model).
        task: task data (default: loaded by name from ``config.task``).
        cache: the hidden-state cache (default: ``StateCache(dtype=config.cache_dtype)``).
        export: save the trained model as a sentence-transformers folder under ``run_dir/model``.
        stop_after_steps: stop (as if interrupted) after this many optimiser steps in this call; for tests.
        backbone: the command's record of ``config.backbone`` (:meth:`BackboneRecord.of`, made once per command and
            shared by its runs); made here when not given.
    """
    run_dir = Path(run_dir)
    torch.set_num_threads(config.threads)
    if backbone is not None and backbone.name != config.backbone:
        raise ValueError(f"train: the backbone record is {backbone.name!r}, but config.backbone is "
                         f"{config.backbone!r}.")
    backbone = backbone or BackboneRecord.of(config.backbone)
    if config.also_tasks:  # one shared pooling, a head per task (training/multitask.py), in one process
        from sentence_transformers_glot.training.multitask import train_multitask

        if task is not None or rank_and_world()[1] > 1:
            raise ValueError("train: multi-task runs (also_tasks) load their tasks by name, in one process.")
        with _run_lock(run_dir):
            return train_multitask(config, run_dir, cache, export, stop_after_steps, backbone)
    if rank_and_world()[1] == 1:  # one process per run: a second `glot train` of it waits, then reads it back
        with _run_lock(run_dir):
            return _train(config, run_dir, task, cache, export, stop_after_steps, backbone)
    return _train(config, run_dir, task, cache, export, stop_after_steps, backbone)


@contextlib.contextmanager
def _run_lock(run_dir: Path):
    """Hold a lock on ``run_dir`` (a file in the system's temporary folder, keyed by the run folder's path, so that
    a run that fails early leaves nothing beside it or in the cache); says so when another process holds it, and
    waits."""
    import hashlib
    import tempfile

    from filelock import FileLock, Timeout

    folder = Path(tempfile.gettempdir()) / "sentence-transformers-glot-run-locks"
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / f"{hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:24]}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        logger.warning("%s is being trained by another process; waiting for it", run_dir)
        tqdm.write(f"glot: {run_dir} is being trained by another process; waiting for it to finish")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _train(config: TrainConfig, run_dir: Path, task: TaskData | None, cache: StateCache | None, export: bool,
           stop_after_steps: int | None, backbone: BackboneRecord | None = None) -> RunResult:
    rank, world = rank_and_world()
    backbone = backbone or BackboneRecord.of(config.backbone)
    finished = _finished(config, run_dir, task, export and rank == 0, backbone)
    if finished is not None:  # a finished run with this configuration: report it again
        return finished
    # Everything that can be checked without the backbone fails here, before the (long) cache build; the
    # run folder is made only once the backbone has encoded every split (the cache resumes by itself), so
    # that a bad option, task or backbone leaves nothing behind.
    from sentence_transformers_glot.backbones.registry import check_max_length

    check_max_length(backbone, config.max_length)
    if config.init_from is not None:  # the source checked before the (long) cache build: a misfit fails here
        pooling_folder(config.init_from)
        if backbone.hidden_size:
            init_pooling(build_pooling(config, backbone.hidden_size, decoder=backbone.decoder), config.init_from,
                         backbone.folder())
    task = resolve_task(config, task)
    head_kind(config, task)
    started = time.perf_counter()
    if config.cache:
        states = cache_task_states(config, task, cache, backbone)
    else:  # the backbone runs on every batch (training/live.py)
        from sentence_transformers_glot.training.live import live_task_states

        states = live_task_states(config, task, backbone.folder())
    cache_seconds = time.perf_counter() - started
    run_dir.mkdir(parents=True, exist_ok=True)
    if rank == 0:
        atomic_write_text(run_dir / "run_config.json", json.dumps(config_dict(config, backbone), indent=2))

    torch.manual_seed(config.seed)
    pooling = build_pooling(config, states["train"][0].dim, decoder=backbone.decoder)
    if config.init_from is not None:  # trained weights, checked against this run's options and backbone
        init_pooling(pooling, config.init_from, backbone.folder())
    pooling.requires_grad_(not config.freeze_pooling)
    model = PoolingWithHead(pooling, build_head(config, task, pooling.get_embedding_dimension()))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
    progress = _resume(run_dir / CHECKPOINT, model, optimizer)

    def checkpoint() -> None:
        if rank == 0:
            save_checkpoint(run_dir / CHECKPOINT, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                                   "rng": torch.get_rng_state(), "progress": progress.to_dict()})

    step_model = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    Loop(model, step_model, optimizer, config, task, states, checkpoint, rank, world).run(progress, stop_after_steps)
    return _report(config, run_dir, model, task, states, progress, cache_seconds, export and rank == 0, rank,
                   backbone)


def _finished(config: TrainConfig, run_dir: Path, task: TaskData | None, export: bool,
              backbone: BackboneRecord) -> RunResult | None:
    """The result of a finished run with this configuration in ``run_dir`` (its export made again if it is gone
    or damaged), ``None`` for a run to train; a folder holding another configuration raises ``ValueError``."""
    config_path = run_dir / "run_config.json"
    if config_path.exists() and read_json(config_path) != config_dict(config, backbone):
        raise ValueError(f"{run_dir} holds a run with a different configuration ({config_path}); use a new run folder.")
    finished = finished_result(run_dir)
    if finished is not None and export and finished.model_dir is not None:
        _export_again_if_damaged(config, run_dir, task, finished, backbone)
    return finished


def _resume(path: Path, model: PoolingWithHead, optimizer: torch.optim.Optimizer) -> Progress:
    """The progress of the run's last checkpoint, its model, optimiser and random state restored; a fresh
    :class:`Progress` when there is none."""
    saved = load_checkpoint(path)
    if saved is None:
        return Progress()
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    torch.set_rng_state(saved["rng"])
    progress = Progress.from_dict(saved["progress"])
    logger.info("resuming %s at epoch %d, step %d", path.parent, progress.epoch, progress.step)
    return progress


def collapse_reason(progress: Progress, head: TaskHead, task: TaskData) -> str | None:
    """Why the run learned nothing, or ``None``: a non-finite loss, a selected epoch that gave one constant answer,
    or (:func:`~sentence_transformers_glot.training.evaluate.divergence`) a diverged loss or a validation score
    at the constant answer's level."""
    if progress.collapse is not None:
        return progress.collapse
    if progress.history and progress.history[progress.best_epoch - 1].get("constant"):
        return progress.history[progress.best_epoch - 1]["constant"]
    labels = None if head.kind == "contrastive" else task.splits["validation"].labels
    return divergence(progress.history, progress.first_loss, progress.best, run_metric(head, task), labels)


def _report(config: TrainConfig, run_dir: Path, model: PoolingWithHead, task: TaskData, states: dict,
            progress: Progress, cache_seconds: float, export: bool, rank: int, backbone: BackboneRecord) -> RunResult:
    """The best epoch's test score, the collapse guard's verdict, the export and ``metrics.json``."""
    model.load_state_dict(progress.best_state)
    test = evaluate(model, task, "test", states["test"], config.batch_size)
    collapse = collapse_reason(progress, model.head, task)
    if collapse is not None:
        logger.warning("%s collapsed: %s", run_dir, collapse)
        if rank == 0:
            tqdm.write(f"{config.pooling}: COLLAPSED ({collapse}); metrics.json says \"collapsed\": true")
    model_dir = None
    if export and config.layer != -1:
        logger.warning("layer=%d cannot be exported as a SentenceTransformer (it computes the last layer)",
                       config.layer)
    elif export:
        training = _card_training(config, task, model.head, test, progress.best, progress.best_epoch)
        model_dir = str(export_model(config, model.pooling, model.head, run_dir / "model", training,
                                     backbone_folder=backbone.folder()))
    result = RunResult(
        pooling=config.pooling, metric=run_metric(model.head, task), validation=progress.best, test=test,
        best_epoch=progress.best_epoch, history=progress.history,
        trainable_parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
        cache_seconds=cache_seconds, train_seconds=progress.train_seconds, model_dir=model_dir,
        collapsed=collapse is not None, collapse=collapse,
    )
    if rank == 0:
        atomic_write_text(run_dir / METRICS_NAME, json.dumps(dataclasses.asdict(result), indent=2))
    return result


# ---------------------------------------------------------------------------------------------- export
def _export_again_if_damaged(config: TrainConfig, run_dir: Path, task: TaskData | None, result: RunResult,
                             backbone: BackboneRecord) -> None:
    """A finished run whose exported ``model/`` is gone or fails its checksums is exported again from the best
    weights its last checkpoint holds (an error naming the run when that is gone too)."""
    from sentence_transformers_glot.io import verify_checksums

    model_dir = run_dir / "model"
    try:
        if verify_checksums(model_dir):
            return
        if model_dir.is_dir():
            return  # exported before checksums were written: nothing to verify against
        reason = "is missing"
    except ValueError as err:
        reason = f"is damaged ({err})"
    if load_checkpoint(run_dir / CHECKPOINT) is None:
        raise ValueError(f"{model_dir} {reason}, and {run_dir / CHECKPOINT} that could export it again is gone; "
                         "delete the run folder and train again.")
    logger.warning("%s %s: exporting it again from the checkpoint", model_dir, reason)
    export_run(config, run_dir, model_dir, task, backbone)


def export_run(config: TrainConfig, run_dir: str | os.PathLike, folder: str | os.PathLike, task: TaskData | None = None,
               backbone: BackboneRecord | None = None, selection: dict | None = None) -> Path:
    """Export the finished run of ``config`` in ``run_dir`` to ``folder`` from the best weights its checkpoint holds
    (a run trained with ``export=False`` too): backbone and pooling as a sentence-transformers folder, the head in
    ``task_head/``, a card saying how it was trained (and, with ``selection``, how its pooling was chosen)."""
    run_dir = Path(run_dir)
    result = finished_result(run_dir)
    saved = load_checkpoint(run_dir / CHECKPOINT)
    if result is None or saved is None or saved["progress"].get("best_state") is None:
        raise ValueError(f"{run_dir} holds no finished run with its checkpoint to export; train it first (or delete "
                         "the folder and train again).")
    backbone = backbone or BackboneRecord.of(config.backbone)
    task = resolve_task(config, task)
    pooling = build_pooling(config, backbone.hidden_size or backbone_dim(backbone.folder()), decoder=backbone.decoder)
    head = build_head(config, task, pooling.get_embedding_dimension())
    PoolingWithHead(pooling, head).load_state_dict(saved["progress"]["best_state"])
    training = _card_training(config, task, head, result.test, result.validation, result.best_epoch)
    return export_model(config, pooling, head, Path(folder), training, backbone_folder=backbone.folder(),
                        selection=selection)


def _card_training(config: TrainConfig, task: TaskData, head: TaskHead, test: float, validation: float,
                   best_epoch: int) -> dict:
    """What the model card says about the training run."""
    card = {"task": task.name, "metric": run_metric(head, task), "test": round(test, 4),
            "validation": round(validation, 4), "best epoch": best_epoch,
            "training examples": len(task.splits["train"].texts), "head": head.kind, "epochs": config.epochs,
            "learning rate": config.lr, "batch size": config.batch_size, "seed": config.seed}
    if config.init_from is not None:
        card.update({"pooling initialised from": config.init_from, "pooling frozen": config.freeze_pooling})
    return card
