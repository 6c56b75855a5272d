"""Train a pooling module and a task head on a frozen backbone, from the hidden-state cache.

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

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from sentence_transformers_glot.backbones.states import load_backbone, transformer_encoder
from sentence_transformers_glot.data import SPLITS, TaskData, subsample
from sentence_transformers_glot.distributed import rank_and_world
from sentence_transformers_glot.io import atomic_write_text, read_json
from sentence_transformers_glot.metrics import compute_metric, constant_level, noise_margin
from sentence_transformers_glot.options import natural_head, resolve_auto_options
from sentence_transformers_glot.pooling import GlotPooling
from sentence_transformers_glot.training.cache import StateCache, TokenStates, backbone_fingerprint
from sentence_transformers_glot.training.checkpoint import load_checkpoint, save_checkpoint
from sentence_transformers_glot.training.config import (
    METRICS_NAME,
    RunResult,
    TrainConfig,
    config_dict,
    finished_result,
)
from sentence_transformers_glot.training.export import export_model
from sentence_transformers_glot.training.heads import PAIR_HEADS, TaskHead

logger = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"


# ---------------------------------------------------------------------------------------------- data
def resolve_task(config: TrainConfig, task: TaskData | None) -> TaskData:
    """``task`` (or the task named by ``config.task``), cut to ``config.max_train`` / ``config.max_eval``."""
    if task is None:
        from sentence_transformers_glot.data import load_task

        task = load_task(config.task, **config.task_options)
    return subsample(task, config.max_train, config.max_eval)


def cache_task_states(
    config: TrainConfig, task: TaskData, cache: StateCache | None = None
) -> dict[str, tuple[TokenStates, TokenStates | None]]:
    """Token states of every split (and both sides of pairs), built where missing.

    The backbone is loaded only if something has to be encoded.
    """
    from sentence_transformers_glot.backbones.registry import resolve_backbone

    cache = cache or StateCache(dtype=config.cache_dtype)
    path = resolve_backbone(config.backbone)
    fingerprint = backbone_fingerprint(path)
    model = None

    def encode(texts: list[str]) -> list[np.ndarray]:
        nonlocal model
        if model is None:
            model = load_backbone(path, config.max_length)
        return transformer_encoder(model, config.state_layers)(texts)

    states = {}
    for split in SPLITS:
        data = task.splits[split]
        sides = [data.texts] + ([data.texts_b] if data.texts_b is not None else [])
        built = [
            cache.get_or_build(texts, encode, fingerprint, config.max_length, config.state_layers,
                               description=f"{task.name}/{split}" + (f"/{side}" if len(sides) > 1 else ""))
            for side, texts in zip("ab", sides)
        ]
        states[split] = (built[0], built[1] if len(built) > 1 else None)
    return states


# ---------------------------------------------------------------------------------------------- model
def build_pooling(config: TrainConfig, dim: int, decoder: bool | None = None) -> GlotPooling:
    """The run's pooling; the ``"auto"`` options (``attention_sink``, ``input_norm``) are made concrete from
    ``decoder`` (whether the backbone is decoder-only), so that the exported model pools exactly as it trained."""
    options = dataclasses.asdict(config.glot)  # a baseline's options hold what makes it that baseline
    if decoder is not None:
        options.update(resolve_auto_options(options, decoder))
    return GlotPooling(dim, **options)


def head_kind(config: TrainConfig, task: TaskData) -> str:
    """The head ``config`` asks for, or the task's natural one; refuses a head that does not fit the task."""
    kind = config.head or natural_head(task.objective, task.is_pair)
    if (kind in PAIR_HEADS) != task.is_pair:
        needs, has = ("text pairs", "single texts") if kind in PAIR_HEADS else ("single texts", "text pairs")
        raise ValueError(f"head {kind!r} needs a task of {needs}; {task.name} has {has}.")
    return kind


def build_head(config: TrainConfig, task: TaskData, dim: int) -> TaskHead:
    kind = head_kind(config, task)
    labels = task.splits["train"].labels.astype(np.float64)
    width = {"head_dim": config.head_dim, "normalize": config.head_norm_for(kind)}
    if kind == "regression":
        return TaskHead(kind, dim, target_shift=float(labels.mean()), target_scale=float(labels.std() or 1.0), **width)
    if kind == "similarity":
        return TaskHead(kind, dim, target_shift=float(labels.min()), target_scale=float(np.ptp(labels) or 1.0),
                        **width)
    names = task.label_names if kind in ("classification", "pair-classification") else None
    return TaskHead(kind, dim, num_labels=task.num_labels, label_names=names, **width)


class PoolingWithHead(nn.Module):
    """Pooling and head as one module (what the optimiser and checkpoints see)."""

    def __init__(self, pooling: GlotPooling, head: TaskHead) -> None:
        super().__init__()
        self.pooling, self.head = pooling, head

    def forward(self, a: tuple[torch.Tensor, torch.Tensor], b: tuple[torch.Tensor, torch.Tensor] | None = None):
        u = self.pooling.pool(*a)
        v = self.pooling.pool(*b) if b is not None else None
        return self.head(u, v)


def _rows(task: TaskData, split: str, head: TaskHead) -> np.ndarray:
    """Indices of the examples a head trains or evaluates on (contrastive: the positive pairs)."""
    labels = task.splits[split].labels
    if head.kind != "contrastive":
        return np.arange(len(labels))
    positive = labels == 1 if task.objective == "classification" else labels >= np.median(task.splits["train"].labels)
    return np.flatnonzero(positive)


def _batch(states, indices):
    a, b = states
    return a.batch(indices), (b.batch(indices) if b is not None else None)


@torch.no_grad()
def predict_split(model: PoolingWithHead, task: TaskData, split: str, states,
                  batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(predictions, targets)`` on ``split`` (contrastive: retrieved partner and true partner in the batch)."""
    model.eval()
    rows = _rows(task, split, model.head)
    predictions, targets = [], []
    for start in range(0, len(rows), batch_size):
        index = rows[start : start + batch_size]
        predicted = model.head.predict(model(*_batch(states, index))).numpy()
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


# ---------------------------------------------------------------------------------------------- loop
def _export_again_if_damaged(config: TrainConfig, run_dir: Path, task: TaskData | None, result: RunResult) -> None:
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
    saved = load_checkpoint(run_dir / CHECKPOINT)
    if saved is None or saved["progress"].get("best_state") is None:
        raise ValueError(f"{model_dir} {reason}, and {run_dir / CHECKPOINT} that could export it again is gone; "
                         "delete the run folder and train again.")
    logger.warning("%s %s: exporting it again from the checkpoint", model_dir, reason)
    task = resolve_task(config, task)
    from sentence_transformers_glot.backbones.registry import is_decoder, resolve_backbone

    dim = _backbone_dim(resolve_backbone(config.backbone))
    pooling = build_pooling(config, dim, decoder=is_decoder(config.backbone))
    head = build_head(config, task, pooling.get_embedding_dimension())
    PoolingWithHead(pooling, head).load_state_dict(saved["progress"]["best_state"])
    export_model(config, pooling, head, model_dir, _card_training(config, task, head, result.test,
                                                                   result.validation, result.best_epoch))


def _backbone_dim(path: str) -> int:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(path)
    config = getattr(config, "text_config", None) or config
    return int(config.hidden_size)


def _card_training(config: TrainConfig, task: TaskData, head: TaskHead, test: float, validation: float,
                   best_epoch: int) -> dict:
    """What the model card says about the training run."""
    return {"task": task.name, "metric": run_metric(head, task), "test": round(test, 4),
            "validation": round(validation, 4), "best epoch": best_epoch,
            "training examples": len(task.splits["train"].texts), "head": head.kind, "epochs": config.epochs,
            "learning rate": config.lr, "batch size": config.batch_size, "seed": config.seed}


def warmup_factor(step: int, warmup_steps: int) -> float:
    """The share of the learning rate at (0-based) optimiser step ``step`` of a linear warm-up over
    ``warmup_steps`` steps (1 after it, and throughout when there is none): a function of the step alone, so a
    resumed run gets the same rates."""
    return min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0


def train(
    config: TrainConfig,
    run_dir: str | os.PathLike,
    task: TaskData | None = None,
    cache: StateCache | None = None,
    export: bool = True,
    stop_after_steps: int | None = None,
) -> RunResult:
    """Train ``config.pooling`` + a head on ``config.task``; resume if ``run_dir`` holds a checkpoint.

    Args:
        config: the run's settings.
        run_dir: the run folder (checkpoint, metrics, exported model).
        task: task data (default: loaded by name from ``config.task``).
        cache: the hidden-state cache (default: ``StateCache(dtype=config.cache_dtype)``).
        export: save the trained model as a sentence-transformers folder under ``run_dir/model``.
        stop_after_steps: stop (as if interrupted) after this many optimiser steps in this call; for tests.
    """
    run_dir = Path(run_dir)
    torch.set_num_threads(config.threads)
    if rank_and_world()[1] == 1:  # one process per run: a second `glot train` of it waits, then reads it back
        with _run_lock(run_dir):
            return _train(config, run_dir, task, cache, export, stop_after_steps)
    return _train(config, run_dir, task, cache, export, stop_after_steps)


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
           stop_after_steps: int | None) -> RunResult:
    rank, world = rank_and_world()
    config_path = run_dir / "run_config.json"
    if config_path.exists() and read_json(config_path) != config_dict(config):
        raise ValueError(f"{run_dir} holds a run with a different configuration ({config_path}); use a new run folder.")
    metrics_path = run_dir / METRICS_NAME
    finished = finished_result(run_dir)
    if finished is not None:  # a finished run with this configuration: report it again
        if export and rank == 0 and finished.model_dir is not None:
            _export_again_if_damaged(config, run_dir, task, finished)
        return finished

    # Everything that can be checked without the backbone fails here, before the (long) cache build; the
    # run folder is made only once the backbone has encoded every split (the cache resumes by itself), so
    # that a bad option, task or backbone leaves nothing behind.
    from sentence_transformers_glot.backbones.registry import check_max_length

    check_max_length(config.backbone, config.max_length)
    task = resolve_task(config, task)
    head_kind(config, task)
    started = time.perf_counter()
    if config.cache:
        states = cache_task_states(config, task, cache)
    else:  # the backbone runs on every batch (training/live.py)
        from sentence_transformers_glot.training.live import live_task_states

        states = live_task_states(config, task)
    cache_seconds = time.perf_counter() - started
    run_dir.mkdir(parents=True, exist_ok=True)
    if rank == 0:
        atomic_write_text(config_path, json.dumps(config_dict(config), indent=2))

    torch.manual_seed(config.seed)
    dim = states["train"][0].dim
    from sentence_transformers_glot.backbones.registry import is_decoder

    pooling = build_pooling(config, dim, decoder=is_decoder(config.backbone))
    head = build_head(config, task, pooling.get_embedding_dimension())
    model = PoolingWithHead(pooling, head)
    step_model = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    progress = {"epoch": 0, "step": 0, "loss_sum": 0.0, "best": None, "best_epoch": -1, "best_state": None,
                "history": [], "train_seconds": 0.0, "grad_sum": 0.0, "collapse": None, "first_loss": None}

    checkpoint_path = run_dir / CHECKPOINT
    saved = load_checkpoint(checkpoint_path)
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["rng"])
        # checkpoints of older versions lack the later keys
        progress = {"grad_sum": 0.0, "collapse": None, "first_loss": None, **saved["progress"]}
        logger.info("resuming %s at epoch %d, step %d", run_dir, progress["epoch"], progress["step"])

    def checkpoint() -> None:
        if rank != 0:
            return
        save_checkpoint(checkpoint_path, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                          "rng": torch.get_rng_state(), "progress": progress})

    train_rows = _rows(task, "train", head)
    if len(train_rows) == 0:
        raise ValueError(f"{task.name}: no training examples for a {head.kind} head.")
    steps_this_call = 0
    clock = time.perf_counter()

    def epoch_batches(epoch: int) -> list[np.ndarray]:
        order = train_rows[torch.randperm(len(train_rows), generator=torch.Generator().manual_seed(
            config.seed * 100_003 + epoch)).numpy()]
        batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
        if head.kind == "contrastive":
            batches = [b for b in batches if len(b) > 1]
        return [b for b in batches if len(b) >= world]

    # linear warm-up over the first warmup_ratio of all steps; a function of the step, so a resumed run agrees
    warmup_steps = int(np.ceil(config.warmup_ratio * config.epochs * len(epoch_batches(0))))
    clip = config.max_grad_norm if config.max_grad_norm is not None else float("inf")
    while progress["epoch"] < config.epochs:
        epoch = progress["epoch"]
        batches = epoch_batches(epoch)
        model.train()
        bar = tqdm(batches[progress["step"] :], desc=f"{config.pooling} epoch {epoch + 1}/{config.epochs}",
                   leave=False, unit="batch")
        for index in bar:
            index = index[rank::world]  # this process's slice of the batch
            a, b = _batch(states["train"], index)
            labels = None if head.kind == "contrastive" else torch.from_numpy(task.splits["train"].labels[index])
            loss = head.loss(step_model(a, b), labels)
            if not bool(torch.isfinite(loss)):
                progress["collapse"] = (f"the training loss became {loss.item()} at epoch {epoch + 1}, step "
                                        f"{progress['step'] + 1}; training stopped there")
                break
            if progress["first_loss"] is None:
                progress["first_loss"] = loss.item()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            progress["grad_sum"] += float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip))
            for group in optimizer.param_groups:
                group["lr"] = config.lr * warmup_factor(epoch * len(batches) + progress["step"], warmup_steps)
            optimizer.step()
            progress["step"] += 1
            progress["loss_sum"] += loss.item()
            steps_this_call += 1
            bar.set_postfix(loss=f"{loss.item():.4f}")
            if config.checkpoint_every and progress["step"] % config.checkpoint_every == 0:
                progress["train_seconds"] += time.perf_counter() - clock
                clock = time.perf_counter()
                checkpoint()
            if stop_after_steps is not None and steps_this_call >= stop_after_steps:
                checkpoint()
                raise KeyboardInterrupt(f"stopped after {steps_this_call} steps (stop_after_steps)")
        if progress["collapse"] is not None:  # a non-finite loss: keep the best epoch so far, train no more
            logger.warning("%s: %s", run_dir, progress["collapse"])
            tqdm.write(f"{config.pooling}: COLLAPSED: {progress['collapse']}")
            if progress["best"] is None:
                progress["best"] = evaluate(model, task, "validation", states["validation"], config.batch_size)
                progress["best_epoch"] = epoch + 1
                progress["best_state"] = {k: v.clone() for k, v in model.state_dict().items()}
            progress["epoch"] = config.epochs
            checkpoint()
            break
        predictions, targets = predict_split(model, task, "validation", states["validation"], config.batch_size)
        validation = compute_metric(run_metric(head, task), predictions, targets)
        constant = constant_prediction(predictions, targets, head.kind)
        steps = max(1, len(batches))
        progress["history"].append({"epoch": epoch + 1, "validation": validation,
                                    "loss": progress["loss_sum"] / steps, "grad_norm": progress["grad_sum"] / steps,
                                    "constant": constant})
        if progress["best"] is None or validation > progress["best"]:
            progress["best"], progress["best_epoch"] = validation, epoch + 1
            progress["best_state"] = {k: v.clone() for k, v in model.state_dict().items()}
        progress["epoch"], progress["step"], progress["loss_sum"], progress["grad_sum"] = epoch + 1, 0, 0.0, 0.0
        progress["train_seconds"] += time.perf_counter() - clock
        clock = time.perf_counter()
        checkpoint()
        if rank == 0:  # printed beside the progress bars, so a long run shows how it is going
            best = " (best so far)" if progress["best_epoch"] == epoch + 1 else ""
            tqdm.write(f"{config.pooling} epoch {epoch + 1}/{config.epochs}: validation {task.metric} "
                       f"{validation:.2f}{best}" + (f"; constant predictions: {constant}" if constant else ""))

    model.load_state_dict(progress["best_state"])
    test = evaluate(model, task, "test", states["test"], config.batch_size)
    collapse = progress["collapse"]
    if collapse is None and progress["history"]:  # the selected epoch never left the constant answer
        collapse = progress["history"][progress["best_epoch"] - 1].get("constant")
    if collapse is None:  # finite losses, varied answers, and still nothing learned
        labels = None if head.kind == "contrastive" else task.splits["validation"].labels
        collapse = divergence(progress["history"], progress["first_loss"], progress["best"], run_metric(head, task),
                              labels)
    if collapse is not None:
        logger.warning("%s collapsed: %s", run_dir, collapse)
        if rank == 0:
            tqdm.write(f"{config.pooling}: COLLAPSED ({collapse}); metrics.json says \"collapsed\": true")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    model_dir = None
    if rank != 0:
        export = False
    if export:
        if config.layer != -1:
            logger.warning("layer=%d cannot be exported as a SentenceTransformer (it computes the last layer)",
                           config.layer)
        else:
            training = _card_training(config, task, head, test, progress["best"], progress["best_epoch"])
            model_dir = str(export_model(config, pooling, head, run_dir / "model", training))
    result = RunResult(
        pooling=config.pooling, metric=run_metric(head, task),
        validation=progress["best"], test=test, best_epoch=progress["best_epoch"], history=progress["history"],
        trainable_parameters=trainable, cache_seconds=cache_seconds, train_seconds=progress["train_seconds"],
        model_dir=model_dir, collapsed=collapse is not None, collapse=collapse,
    )
    if rank == 0:
        atomic_write_text(metrics_path, json.dumps(dataclasses.asdict(result), indent=2))
    return result
