"""The training export: backbone + trained pooling as a normal sentence-transformers folder, the task head in
``task_head/`` beside them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sentence_transformers_glot.backbones.states import backbone_transformer
from sentence_transformers_glot.io import atomic_write_folder, write_checksums
from sentence_transformers_glot.model_card import use_glot_card
from sentence_transformers_glot.pooling import GlotPooling
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.heads import TaskHead

#: Baselines with a sentence-transformers ``Pooling`` twin: ``pooling_mode`` per baseline name.
PLAIN_POOLING = {"mean": "mean", "max": "max", "cls": "cls", "last": "lasttoken"}


def export_model(config: TrainConfig, pooling: GlotPooling, head: TaskHead, folder: Path,
                 training: dict[str, Any] | None = None, backbone_folder: str | None = None,
                 selection: dict[str, Any] | None = None, more_heads: dict[str, TaskHead] | None = None) -> Path:
    """Save backbone + pooling as a sentence-transformers folder, with the head in ``task_head/``; ``training``
    (task, metric, scores, ...) goes into the model card. The folder lists the SHA-256 of every file it holds
    (``glot_checksums.json``), which the loaders verify.

    A parameter-free baseline (``mean``, ``max``, ``cls``, ``last`` without options, pooling every token: an
    encoder's, or a decoder's with ``attention_sink="keep"``) is saved as
    sentence-transformers' own ``Pooling``, so that the folder loads without this plugin; everything else is
    saved as GlotPooling, with a model card that says how to install the plugin and load the model.
    ``backbone_folder``: the backbone already resolved (a record's folder); ``config.backbone`` otherwise.
    ``selection``: how ``--pooling auto`` chose this pooling (:mod:`sentence_transformers_glot.training.selection`),
    shown on the card (which is then GLOT's card whatever the module). ``more_heads``: a multi-task run's other
    tasks' heads, by task name, saved in ``task_heads/<name>/`` (``/`` and ``:`` in a name become ``_``).
    """
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot._compat import Pooling

    # GlotPooling(layers=...) reads all_layer_embeddings; the setting is saved with the model's config
    transformer = backbone_transformer(backbone_folder or config.backbone, config.max_length,
                                       hidden_states=pooling.layers is not None)
    if config.pooling in PLAIN_POOLING and not config.glot.changes(config.pooling) and not pooling.excludes_sink:
        module = Pooling(pooling.word_embedding_dimension, pooling_mode=PLAIN_POOLING[config.pooling])
        model = SentenceTransformer(modules=[transformer, module], device="cpu")
    else:
        model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    if selection is not None or not isinstance(model[1], Pooling):
        use_glot_card(model, training, selection)

    def write(tmp: str) -> None:
        model.save(tmp)
        head.save(os.path.join(tmp, "task_head"))
        for name, other in (more_heads or {}).items():
            other.save(os.path.join(tmp, "task_heads", head_folder(name)))
        write_checksums(tmp)  # load_glot_model, load_predictor and glot predict verify them

    atomic_write_folder(folder, write)  # an interrupted export leaves no half-written model folder
    return folder


def head_folder(task: str) -> str:
    """The folder name of a task's head in ``task_heads/``."""
    return task.replace("/", "_").replace(":", "_")
