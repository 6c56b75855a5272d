"""Predictions from a trained model folder: the exported model encodes, its ``task_head/`` predicts.

    predictor = load_predictor("runs/minilm-movie-polarity-glot-seed0-74049b87/model")
    predictor.predict(["A gripping, funny film."])            # ['positive']
    predictor.predict(["A man plays."], ["Someone performs."])  # pair tasks take the second texts too

Classification heads answer with the class name (the class id when the task had no names), regression and
similarity heads with a score on the task's scale, contrastive heads with the cosine of the projected pair.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot.training.heads import TaskHead


@dataclass
class Predictor:
    """A trained model (``model``) and its task head (``head``)."""

    model: SentenceTransformer
    head: TaskHead

    def predict(self, texts: Sequence[str], texts_b: Sequence[str] | None = None, batch_size: int = 32) -> list[Any]:
        """One prediction per text (per pair when ``texts_b`` is given; pair heads need it)."""
        import torch

        if self.head.is_pair != (texts_b is not None):
            need = "pairs: pass texts_b" if self.head.is_pair else "single texts: leave texts_b out"
            raise ValueError(f"predict: this {self.head.kind} head takes {need}.")
        if texts_b is not None and len(texts_b) != len(texts):
            raise ValueError(f"predict: {len(texts)} texts but {len(texts_b)} texts_b; pass one of each per pair.")
        encode = lambda batch: self.model.encode(list(batch), batch_size=batch_size, convert_to_tensor=True)  # noqa: E731
        with torch.inference_mode():
            u = encode(texts).float().cpu()
            v = encode(texts_b).float().cpu() if texts_b is not None else None
            self.head.eval()
            if self.head.kind == "contrastive":  # each pair's own cosine (the head's forward is all-pairs)
                return self.head.pair_cosines(u, v).tolist()
            predicted = self.head.predict(self.head(u, v)).tolist()
        names = self.head.label_names
        if self.head.kind in ("classification", "pair-classification"):
            return [names[i] if names else int(i) for i in predicted]
        return [float(score) for score in predicted]


def load_predictor(folder: str | os.PathLike, **kwargs: Any) -> Predictor:
    """The model in ``folder`` (a training run's ``model/``) and its ``task_head/``; keyword arguments go to
    ``load_glot_model``."""
    from sentence_transformers_glot.loading import load_glot_model
    from sentence_transformers_glot.training.heads import TaskHead

    folder = Path(folder)
    if not (folder / "task_head" / "head_config.json").is_file():
        raise FileNotFoundError(f"{folder} has no task_head/: pass the model folder of a training run "
                                "(runs/<run>/model), exported by `glot train`.")
    kwargs.setdefault("device", "cpu")
    return Predictor(load_glot_model(str(folder), **kwargs), TaskHead.load(str(folder / "task_head")))
