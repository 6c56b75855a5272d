"""Training without a cache: token states computed by the frozen backbone for each batch.

For corpora whose token states do not fit on disk (see the table of disk per million texts in ``docs/performance.md``).
:class:`LiveStates` has the interface of the cache's :class:`~sentence_transformers_glot.training.cache.TokenStates`
(``len``, ``dim``, ``batch(indices)``), so the training loop does not know which it has; the backbone runs in
eval mode under ``torch.inference_mode`` through the same
:func:`~sentence_transformers_glot.backbones.states.transformer_encoder` that fills the cache, so the states
are those a float32 cache would hold (up to the rounding that a different batch composition gives the
backbone). The price: the backbone runs on every batch of every epoch, and on
every validation pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from torch import Tensor

from sentence_transformers_glot.backbones.states import load_backbone, transformer_encoder
from sentence_transformers_glot.data import SPLITS, TaskData
from sentence_transformers_glot.training.cache import pack_states, pad_states
from sentence_transformers_glot.training.config import TrainConfig


class LiveStates:
    """Token states of ``texts``, encoded by ``encode`` whenever a batch is asked for.

    ``encode(list_of_texts)`` returns one ``(length_i, d)`` (or ``(length_i, n, d)``) array per text, as for
    :meth:`StateCache.get_or_build`.
    """

    def __init__(self, texts: Sequence[str], encode: Callable[[list[str]], list[np.ndarray]]) -> None:
        self.texts, self.encode = texts, encode
        self._token_shape: tuple[int, ...] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def dim(self) -> int:
        """``d``, the backbone's hidden size (found by encoding the first text)."""
        return self._shape()[-1]

    def _shape(self) -> tuple[int, ...]:
        if self._token_shape is None:
            self._token_shape = tuple(self.encode([self.texts[0]])[0].shape[1:])
        return self._token_shape

    def _rows(self, indices: Sequence[int] | np.ndarray) -> list[np.ndarray]:
        rows = self.encode([self.texts[int(i)] for i in indices])
        if self._token_shape is None:
            self._token_shape = tuple(rows[0].shape[1:])
        return rows

    def batch(self, indices: Sequence[int] | np.ndarray) -> tuple[Tensor, Tensor]:
        return pad_states(self._rows(indices), self._shape())

    def packed(self, indices: Sequence[int] | np.ndarray) -> tuple[Tensor, Tensor]:
        return pack_states(self._rows(indices), self._shape())


def live_task_states(config: TrainConfig, task: TaskData,
                     folder: str | None = None) -> dict[str, tuple[LiveStates, LiveStates | None]]:
    """:class:`LiveStates` for every split (and both sides of pairs), sharing one backbone, loaded once (from
    ``folder``, the resolved backbone, when given)."""
    from sentence_transformers_glot.backbones.registry import resolve_backbone

    model = load_backbone(folder or resolve_backbone(config.backbone), config.max_length)
    encode = transformer_encoder(model, config.state_layers)
    states = {}
    for split in SPLITS:
        data = task.splits[split]
        states[split] = (LiveStates(data.texts, encode),
                         LiveStates(data.texts_b, encode) if data.texts_b is not None else None)
    return states
