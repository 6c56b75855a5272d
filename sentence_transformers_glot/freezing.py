"""Freeze a SentenceTransformer's backbone for head-only training with sentence-transformers' own trainer.

``SentenceTransformerTrainer`` optimises only parameters with ``requires_grad``, but the Hugging Face
Trainer calls ``model.train()`` each step, which would switch the frozen backbone's dropout back on and
make its token states random. :func:`freeze_backbone` sets ``requires_grad=False`` on every module before
the first :class:`GlotPooling` and pins those modules to eval mode.
"""

from __future__ import annotations

import types

from torch import nn

from sentence_transformers_glot.pooling import GlotPooling


def _stay_in_eval(module: nn.Module, mode: bool = True) -> nn.Module:
    return nn.Module.train(module, False)


def freeze_backbone(model: nn.Sequential) -> nn.Sequential:
    """Freeze and pin to eval mode every module of ``model`` that comes before its first GlotPooling.

    Returns ``model``. Raises ``ValueError`` if the model has no GlotPooling module.
    """
    modules = list(model.children())
    position = next((i for i, m in enumerate(modules) if isinstance(m, GlotPooling)), None)
    if position is None:
        raise ValueError("freeze_backbone: the model has no GlotPooling module to train.")
    for module in modules[:position]:
        module.requires_grad_(False)
        module.eval()
        for sub in module.modules():
            sub.train = types.MethodType(_stay_in_eval, sub)
    return model
