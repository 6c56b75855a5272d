"""Freeze a SentenceTransformer's backbone for head-only training with sentence-transformers' own trainer.

``SentenceTransformerTrainer`` optimises only parameters with ``requires_grad``, but the Hugging Face
Trainer calls ``model.train()`` each step, which would switch the frozen backbone's dropout back on and
make its token states random. :func:`freeze_backbone` sets ``requires_grad=False`` on every module before
the first :class:`GlotPooling` and gives each a forward pre-hook that puts it back in eval mode before it
runs. The hook is a module-level function, so a frozen model still pickles (multi-process encoding).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from sentence_transformers_glot.pooling import GlotPooling


def _run_in_eval_mode(module: nn.Module, args: Any) -> None:
    if module.training:
        module.eval()


def freeze_backbone(model: nn.Sequential) -> nn.Sequential:
    """Freeze every module of ``model`` before its first GlotPooling and keep it in eval mode when it runs.

    Returns ``model``. Raises ``ValueError`` if the model has no GlotPooling module.
    """
    modules = list(model.children())
    position = next((i for i, m in enumerate(modules) if isinstance(m, GlotPooling)), None)
    if position is None:
        raise ValueError("freeze_backbone: the model has no GlotPooling module to train.")
    for module in modules[:position]:
        module.requires_grad_(False)
        module.eval()
        module.register_forward_pre_hook(_run_in_eval_mode)
    return model
