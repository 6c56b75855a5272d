r"""Task heads on top of a pooled sentence vector ``z`` (or a pair ``u``, ``v``) and their losses.

* ``classification`` (single text): logits ``= W z + b``, cross-entropy.
* ``pair-classification``: logits ``= W [u \| v \| |u - v| \| u \odot v] + b`` (the SBERT pair features;
  the reference code used ``[u \| v]``), cross-entropy.
* ``regression`` (single text): ``\hat y = w^\top z + b`` on the standardised target, MSE.
* ``similarity`` (text pairs with a score): ``\cos(P u, P v)`` against the score rescaled to [0, 1], MSE
  (the reference's STS head, ``P`` a ``D x D`` projection).
* ``contrastive`` (text pairs): symmetric InfoNCE over in-batch negatives, temperature 0.07, on ``P u``, ``P v``.

With ``head_dim`` set, every sentence vector first goes through one linear layer ``z -> R z`` to ``head_dim``
(shared by both sides of a pair), so that heads on poolings of different widths have the same capacity.

With ``normalize`` set, every sentence vector is first layer-normalised, ``z -> (z - mean(z)) / std(z)`` over its
``D`` coordinates (no learned scale or shift). The head's inputs then have unit scale whatever the backbone: a
decoder's pooled vectors have coordinates up to ~40-60 (SmolLM2, Gemma3; MiniLM's stay below ~1.5), so the pair
feature ``u \odot v`` reaches ~10^3, and one AdamW step (a fixed size per weight) moves the logits by whole units.
"""

from __future__ import annotations

import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from sentence_transformers_glot.io import read_json
from sentence_transformers_glot.options import HEADS, PAIR_HEADS


class TaskHead(nn.Module):
    """One of :data:`HEADS` over ``dim``-dimensional sentence vectors.

    Args:
        kind: the head type.
        dim: sentence-vector dimension ``D``.
        num_labels: classes, for the classification heads.
        target_shift, target_scale: the target is ``(y - shift) / scale`` inside the loss (standardisation
            for ``regression``, rescaling to [0, 1] for ``similarity``); predictions are mapped back.
        temperature: InfoNCE temperature for ``contrastive``.
        label_names: class names (index = class id), for the classification heads; saved with the head so that
            predictions can name their class.
        head_dim: project sentence vectors to this width first (capacity-matched comparisons); None: no projection.
        normalize: layer-normalise every sentence vector (no learned affine) before anything else.
    """

    def __init__(self, kind: str, dim: int, num_labels: int | None = None, target_shift: float = 0.0,
                 target_scale: float = 1.0, temperature: float = 0.07, label_names: list[str] | None = None,
                 head_dim: int | None = None, normalize: bool = False) -> None:
        super().__init__()
        if kind not in HEADS:
            raise ValueError(f"TaskHead: `kind` must be one of {HEADS}; got {kind!r}.")
        if kind in ("classification", "pair-classification") and (num_labels is None or num_labels < 2):
            raise ValueError(f"TaskHead: a {kind} head needs `num_labels` >= 2; got {num_labels!r}.")
        if label_names is not None and len(label_names) != num_labels:
            raise ValueError(f"TaskHead: `label_names` has {len(label_names)} names for {num_labels} classes.")
        self.kind, self.dim, self.num_labels = kind, dim, num_labels
        self.label_names = None if label_names is None else [str(name) for name in label_names]
        self.target_shift, self.target_scale, self.temperature = float(target_shift), float(target_scale), temperature
        if head_dim is not None and not (isinstance(head_dim, int) and head_dim >= 1):
            raise ValueError(f"TaskHead: `head_dim` must be an int >= 1 or None; got {head_dim!r}.")
        self.head_dim = head_dim
        if not isinstance(normalize, bool):
            raise ValueError(f"TaskHead: `normalize` must be True or False; got {normalize!r}.")
        self.normalize = normalize
        self.reduce = nn.Linear(dim, head_dim) if head_dim is not None else None
        width = dim if head_dim is None else head_dim
        if kind == "classification":
            self.linear = nn.Linear(width, num_labels)
        elif kind == "pair-classification":
            self.linear = nn.Linear(4 * width, num_labels)
        elif kind == "regression":
            self.linear = nn.Linear(width, 1)
        else:
            self.projection = nn.Linear(width, width)

    @property
    def is_pair(self) -> bool:
        return self.kind in PAIR_HEADS

    def _inputs(self, u: Tensor) -> Tensor:
        """A sentence vector as the head's layers read it: layer-normalised (``normalize``), then reduced to
        ``head_dim`` (when set)."""
        if self.normalize:
            u = F.layer_norm(u, u.shape[-1:])
        return self.reduce(u) if self.reduce is not None else u

    def _projected(self, u: Tensor) -> Tensor:
        """Unit vectors of the projection ``P u`` (similarity and contrastive heads)."""
        return F.normalize(self.projection(self._inputs(u)), dim=-1)

    def pair_cosines(self, u: Tensor, v: Tensor) -> Tensor:
        """``cos(P u_i, P v_i)`` for each pair ``i`` (similarity and contrastive heads), ``(B,)``."""
        return (self._projected(u) * self._projected(v)).sum(-1)

    def forward(self, u: Tensor, v: Tensor | None = None) -> Tensor:
        """Logits (classification), standardised scores (regression) or cosines (similarity, contrastive)."""
        if self.kind == "similarity":
            return self.pair_cosines(u, v)
        if self.kind == "contrastive":
            return self._projected(u) @ self._projected(v).T  # (B, B) cosine matrix
        u, v = self._inputs(u), (self._inputs(v) if v is not None else None)
        if self.kind == "classification":
            return self.linear(u)
        if self.kind == "pair-classification":
            return self.linear(torch.cat([u, v, (u - v).abs(), u * v], dim=-1))
        return self.linear(u).squeeze(-1)  # regression

    def loss(self, output: Tensor, labels: Tensor | None) -> Tensor:
        if self.kind in ("classification", "pair-classification"):
            return F.cross_entropy(output, labels)
        if self.kind in ("regression", "similarity"):
            return F.mse_loss(output, (labels.float() - self.target_shift) / self.target_scale)
        logits = output / self.temperature
        targets = torch.arange(logits.shape[0], device=logits.device)
        return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))

    def predict(self, output: Tensor) -> Tensor:
        """Class ids, or scores on the original target scale."""
        if self.kind in ("classification", "pair-classification"):
            return output.argmax(-1)
        if self.kind in ("regression", "similarity"):
            return output * self.target_scale + self.target_shift
        return output.argmax(-1)  # contrastive: index of the retrieved partner

    def config(self) -> dict:
        return {"kind": self.kind, "dim": self.dim, "num_labels": self.num_labels, "target_shift": self.target_shift,
                "target_scale": self.target_scale, "temperature": self.temperature, "label_names": self.label_names,
                **({"head_dim": self.head_dim} if self.head_dim is not None else {}),
                **({"normalize": True} if self.normalize else {})}

    def save(self, folder: str) -> None:
        """Write ``head_config.json`` and ``head.safetensors`` to ``folder``."""
        os.makedirs(folder, exist_ok=True)
        state = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        save_file(state, os.path.join(folder, "head.safetensors"))
        with open(os.path.join(folder, "head_config.json"), "w", encoding="utf-8") as f:
            json.dump(self.config(), f, indent=2)

    @classmethod
    def load(cls, folder: str) -> TaskHead:
        """The head :meth:`save` wrote to ``folder`` (a model folder's ``task_head/``)."""
        head = cls(**read_json(os.path.join(folder, "head_config.json")))
        head.load_state_dict(load_file(os.path.join(folder, "head.safetensors")))
        return head
