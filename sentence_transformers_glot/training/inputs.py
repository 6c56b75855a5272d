"""A run's inputs: its task, cut to the run's sample sizes, and the backbone's token states of every split
(from the hidden-state cache, built where missing)."""

from __future__ import annotations

import numpy as np

from sentence_transformers_glot.backbones.record import BackboneRecord
from sentence_transformers_glot.backbones.states import load_backbone, transformer_encoder
from sentence_transformers_glot.data import SPLITS, TaskData, subsample
from sentence_transformers_glot.training.cache import StateCache, TokenStates
from sentence_transformers_glot.training.config import TrainConfig


def resolve_task(config: TrainConfig, task: TaskData | None) -> TaskData:
    """``task`` (or the task named by ``config.task``), cut to ``config.max_train`` / ``config.max_eval``."""
    if task is None:
        from sentence_transformers_glot.data import load_task

        task = load_task(config.task, **config.task_options)
    return subsample(task, config.max_train, config.max_eval)


def cache_task_states(
    config: TrainConfig, task: TaskData, cache: StateCache | None = None, backbone: BackboneRecord | None = None
) -> dict[str, tuple[TokenStates, TokenStates | None]]:
    """Token states of every split (and both sides of pairs), built where missing.

    ``backbone``: the command's record of ``config.backbone`` (its folder and fingerprint, worked out once); made
    here when not given. The backbone is loaded only if something has to be encoded.
    """
    cache = cache or StateCache(dtype=config.cache_dtype)
    backbone = backbone or BackboneRecord.of(config.backbone)
    path, fingerprint = backbone.folder(), backbone.fingerprint()
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
