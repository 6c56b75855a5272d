"""What defines a training run and what it reports: :class:`TrainConfig` (checked on construction) and
:class:`RunResult`; a run's name and ``run_config.json`` are :mod:`.run_identity`'s.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sentence_transformers_glot.io import read_json
from sentence_transformers_glot.options import (
    BASELINES,
    CACHE_DTYPES,
    HEADS,
    MAX_SEED,
    MAX_THREADS,
    MAX_WIDTH,
    POOLINGS,
    GlotOptions,
    is_int,
    options_taken,
)

#: How a multi-task epoch mixes the tasks' batches (:attr:`TrainConfig.sampling`).
SAMPLINGS = ("proportional", "balanced")


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved as ``run_config.json`` in the run folder).

    Attributes:
        backbone: short name (``minilm``, ...), local folder or Hugging Face id.
        task: task name or data file (see :func:`sentence_transformers_glot.data.registry.load_task`).
        pooling: ``"glot"`` or a baseline: ``mean``, ``max``, ``cls``, ``last``, ``adapool``.
        glot: the pooling's :class:`~sentence_transformers_glot.options.GlotOptions`. Give a ``GlotOptions``, or a
            dict of the options that differ from the pooling's own (``{"conv": "gat"}``; for a baseline, on top
            of its :data:`~sentence_transformers_glot.options.BASELINES` entry), which becomes one; checked on
            construction. ``run_config.json`` and the run's name hold only those differences
            (:meth:`GlotOptions.changes`).
        head: head type (default: from the task: classification, pair-classification, regression, similarity).
        epochs, batch_size, lr, weight_decay: optimisation (AdamW); the paper: 3 epochs, batch 32, lr 2e-4.
        warmup_ratio: the learning rate rises linearly from 0 over this fraction of all optimiser steps, then
            stays at ``lr`` (0: none, as the paper). Large-norm decoder states make the first steps unstable.
        max_grad_norm: clip the gradients' global L2 norm to this before every step (None, ``none`` on the
            command line: no clipping).
        head_dim: project every pooled vector to this width with one linear layer before the task head, so
            that heads have the same capacity whatever the pooling's output width (None: the head reads the
            pooled vector itself).
        head_norm: layer-normalise every pooled vector (no learned scale) before the task head, so that the
            head's inputs have unit scale on every backbone (``TaskHead(normalize=True)``). ``None`` (default):
            only a ``pair-classification`` head does, whose ``u * v`` feature squares the pooled vectors' scale
            (a decoder's coordinates reach ~40-60); ``True`` / ``False``: every head does / none does (the
            paper's and the package's behaviour before this option).
        max_length: backbone truncation length (part of the cache key, and of the exported model).
        layer: which hidden layer feeds the pooling (-1: last; only -1 can be exported as a model). To pool
            other layers in an exportable model, set ``glot={"layers": [...]}`` instead (and leave ``layer``
            at -1): the cache then stores those layers and the exported model reads them itself.
        seed: initialisation, data order and the task split.
        cache_dtype: ``"float16"`` or ``"float32"`` storage of cached states.
        checkpoint_every: steps between mid-epoch checkpoints (0: only at epoch ends).
        threads: torch threads (1 was fastest for these small models on 2 cores).
        task_options: extra keyword arguments for the task loader (columns of a user file, ...).
        max_train: train on a seeded sample of at most this many training examples; ``None`` uses them all.
        max_eval: validate and test on seeded samples of at most this many examples each (for backbones too
            slow to encode whole test sets); ``None`` uses them all.
        cache: ``True`` (default): encode every text once into the hidden-state cache and train from it.
            ``False`` (``--no-cache``): run the frozen backbone on every batch instead (no disk at all, but
            the backbone runs again every epoch); for corpora whose token states do not fit on disk.
        init_from: start the pooling from trained weights: a run folder, an exported model or a saved
            GlotPooling with the same options, trained on the same backbone (checked; its weights are part of the
            run's identity). None: a fresh pooling.
        freeze_pooling: keep the pooling loaded with ``init_from`` fixed and train only the new task head.
        also_tasks: more tasks trained in the same run on the one shared pooling, each with a head of its own
            (multi-task training; ``task_options`` apply to ``task`` only). None: one task.
        sampling: how a multi-task epoch mixes the tasks' batches: proportional (every batch of every task, in a
            seeded order) or balanced (each task the same number of batches, the mean count, its own cut or
            repeated).
    """

    backbone: str = "minilm"
    task: str = "movie-polarity"
    pooling: str = "glot"
    glot: GlotOptions = field(default_factory=dict)  # a dict of changes becomes a GlotOptions in __post_init__
    head: str | None = field(default=None, metadata={"choices": HEADS})
    epochs: int = 3
    batch_size: int = 32
    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_ratio: float = 0.1
    max_grad_norm: float | None = 1.0
    head_dim: int | None = None
    head_norm: bool | None = None
    max_length: int = 128
    layer: int = -1
    seed: int = 0
    cache_dtype: str = field(default="float16", metadata={"choices": CACHE_DTYPES})
    checkpoint_every: int = 200
    threads: int = 1
    task_options: dict[str, Any] = field(default_factory=dict)
    max_train: int | None = None
    max_eval: int | None = None
    cache: bool = True
    init_from: str | None = None
    freeze_pooling: bool = False
    also_tasks: list[str] | None = None
    sampling: str = field(default="proportional", metadata={"choices": SAMPLINGS})

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"TrainConfig: `pooling` must be one of {POOLINGS}; got {self.pooling!r}.")
        if self.head is not None and self.head not in HEADS:
            raise ValueError(f"TrainConfig: `head` must be one of {HEADS} or None; got {self.head!r}.")
        for name, low, high, optional in _INTEGER_FIELDS:
            value = getattr(self, name)
            if value is None and optional:
                continue
            if not is_int(value) or (low is not None and value < low) or (high is not None and value > high):
                expected = "an int" + ("" if low is None else f" >= {low}") + ("" if high is None else f", <= {high}")
                expected += " or None" if optional else ""
                raise ValueError(f"TrainConfig: `{name}` must be {expected}; got {value!r}.")
            setattr(self, name, int(value))  # numpy integers are stored as Python ints (the config is JSON)
        for name, ok, expected in _REAL_FIELDS:
            value = getattr(self, name)
            if value is None and name == "max_grad_norm":
                continue
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value) \
                    or not ok(float(value)):
                raise ValueError(f"TrainConfig: `{name}` must be {expected}; got {value!r}.")
            setattr(self, name, float(value))
        if self.lr * self.weight_decay > 1.0:
            raise ValueError(f"TrainConfig: `lr` x `weight_decay` must be <= 1 (AdamW multiplies the weights by "
                             f"1 - lr x weight_decay every step); got {self.lr!r} x {self.weight_decay!r}.")
        if not isinstance(self.cache, bool):
            raise ValueError(f"TrainConfig: `cache` must be True or False; got {self.cache!r}.")
        if self.init_from is not None and not (isinstance(self.init_from, (str, os.PathLike)) and str(self.init_from)):
            raise ValueError(f"TrainConfig: `init_from` must be a folder (a run, an exported model or a saved "
                             f"GlotPooling) or None; got {self.init_from!r}.")
        if self.init_from is not None:
            self.init_from = str(self.init_from)
        if not isinstance(self.freeze_pooling, bool) or (self.freeze_pooling and self.init_from is None):
            raise ValueError("TrainConfig: `freeze_pooling` trains only the head on a pooling loaded with "
                             f"`init_from`; set init_from, or freeze_pooling=False (got {self.freeze_pooling!r}).")
        if self.also_tasks is not None:
            names = [self.task, *self.also_tasks]
            if not self.also_tasks or not all(isinstance(n, str) and n for n in names) or len(set(names)) < len(names):
                raise ValueError(f"TrainConfig: `also_tasks` must name other tasks than `task`, each once, or be None; "
                                 f"got task={self.task!r}, also_tasks={self.also_tasks!r}.")
            if not self.cache or self.head is not None:
                raise ValueError("TrainConfig: multi-task training (`also_tasks`) trains from the hidden-state cache "
                                 "with each task's own head; drop --no-cache and --head.")
            self.also_tasks = list(self.also_tasks)
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"TrainConfig: `sampling` must be one of {SAMPLINGS}; got {self.sampling!r}.")
        if self.head_norm is not None and not isinstance(self.head_norm, bool):
            raise ValueError(f"TrainConfig: `head_norm` must be True, False or None (pair-classification heads "
                             f"only); got {self.head_norm!r}.")
        self.glot = _pooling_options(self.pooling, self.glot)
        if self.glot.layers is not None and self.layer != -1:
            raise ValueError(
                f"TrainConfig: `layer`={self.layer} and glot `layers`={self.glot.layers} both choose hidden "
                "layers; keep one (layers=[...] mixes several and exports, layer=N takes one and does not)."
            )

    def head_norm_for(self, head: str | None) -> bool | None:
        """Whether a ``head`` head layer-normalises its inputs under this config (``None``: ``head`` unknown and
        ``head_norm`` left to the head)."""
        if self.head_norm is not None:
            return self.head_norm
        head = self.head or head
        return None if head is None else head == "pair-classification"

    @property
    def state_layers(self) -> int | list[int]:
        """The hidden layer(s) the cache stores for this run: ``glot.layers`` when set, else ``layer``."""
        layers = self.glot.layers
        return self.layer if layers is None else list(layers)


def _pooling_options(pooling: str, glot: GlotOptions | dict[str, Any]) -> GlotOptions:
    """``TrainConfig.glot`` as a checked GlotOptions: a dict holds changes to ``pooling``'s own options; a
    GlotOptions given for a baseline must keep what makes it that baseline and change only the options it has."""
    if isinstance(glot, GlotOptions):
        fixed = {key: value for key, value in BASELINES.get(pooling, {}).items() if getattr(glot, key) != value}
        if fixed:
            raise ValueError(f"TrainConfig: pooling={pooling!r} is GlotPooling with {BASELINES[pooling]}, but `glot` "
                             f"sets {fixed}; use pooling='glot', or GlotOptions.of_pooling({pooling!r}, ...).")
        # the rule a dict of changes meets in GlotOptions.of_pooling: a baseline takes only its own options
        refused = [name for name in glot.changes(pooling) if name not in options_taken(pooling)]
        if refused:
            raise ValueError(f"TrainConfig: pooling {pooling!r} takes only the options "
                             f"{', '.join(options_taken(pooling))}, not {', '.join(refused)} (use pooling 'glot').")
        return glot
    if not isinstance(glot, dict):
        raise ValueError(f"TrainConfig: `glot` must be a GlotOptions or a dict of options; got {glot!r}.")
    return GlotOptions.of_pooling(pooling, glot)


@dataclass
class RunResult:
    """What a run reports: the selected epoch's validation and test metric, timings and sizes, and whether
    training collapsed (``collapse`` says how: constant predictions, or a loss that became NaN/inf)."""

    pooling: str
    metric: str
    validation: float
    test: float
    best_epoch: int
    history: list[dict[str, float]]
    trainable_parameters: int
    cache_seconds: float
    train_seconds: float
    model_dir: str | None
    collapsed: bool = False
    collapse: str | None = None


METRICS_NAME = "metrics.json"


def finished_result(run_dir: str | os.PathLike) -> RunResult | None:
    """The result a finished run folder holds (its ``metrics.json``, written last), or ``None``."""
    metrics = Path(run_dir) / METRICS_NAME
    return RunResult(**read_json(metrics)) if metrics.is_file() else None


#: (field, test, what it must be) of TrainConfig's real-valued fields (each also finite; ``max_grad_norm`` may be
#: None). ``lr`` stops where AdamW's first step, lr / (1 - beta1), would overflow float32 (3.4e38).
_REAL_FIELDS = (
    ("lr", lambda v: 0.0 < v <= 1e37, "a finite number in (0, 1e37] (e.g. 2e-4)"),
    ("weight_decay", lambda v: v >= 0.0, "a finite number >= 0 (e.g. 0.01)"),
    ("warmup_ratio", lambda v: 0.0 <= v <= 1.0, "a number in [0, 1] (e.g. 0.1)"),
    ("max_grad_norm", lambda v: v > 0.0, "a finite number > 0 (e.g. 1.0), or None for no clipping"),
)
#: (field, minimum or None, maximum or None, may be None) of TrainConfig's integer fields; the maxima stop values
#: that would fail after the work had started (torch takes at most 2**31 - 1 threads; a wider head than
#: :data:`~sentence_transformers_glot.options.MAX_WIDTH` fails allocating).
_INTEGER_FIELDS = (("epochs", 1, None, False), ("batch_size", 1, None, False), ("max_length", 1, None, False),
                   ("threads", 1, MAX_THREADS, False), ("max_train", 1, None, True), ("max_eval", 1, None, True),
                   ("layer", None, None, False), ("seed", 0, MAX_SEED, False), ("checkpoint_every", 0, None, False),
                   ("head_dim", 1, MAX_WIDTH, True))
