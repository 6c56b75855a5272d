"""The option vocabulary: every choice a GLOT configuration accepts, and GlotPooling's keywords as data.

Torch-free, so that configs and the command line can name and check options without loading torch; the
layers (:mod:`sentence_transformers_glot.nn`), :class:`~sentence_transformers_glot.pooling.GlotPooling` and the
training config import their choices from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CONVS = ("sage", "gat", "gcn", "gin")
JUMPING_KNOWLEDGE = ("none", "cat", "max", "mean")
READOUTS = ("attention", "mean", "max", "cls", "last")
BACKENDS = ("auto", "dense", "scatter")
EDGE_WEIGHTS = ("binary", "cosine")
INPUT_NORMS = ("none", "layer", "rms")
#: What to do with a decoder's attention sink, the first position of every sentence (see GlotPooling).
ATTENTION_SINKS = ("auto", "keep", "exclude")
#: ``threshold="auto"``: each sentence gets its own tau, the similarity that keeps ``edge_density`` of its pairs.
AUTO_THRESHOLD = "auto"


def parse_threshold(text: str) -> float | str:
    """A command-line threshold: ``auto`` or a number (``0.8``)."""
    if text == AUTO_THRESHOLD:
        return AUTO_THRESHOLD
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"`threshold` must be a number in [-1, 1] or 'auto'; got {text!r}") from None

#: The baselines as GlotPooling configurations: no graph (``num_layers=0``) and a fixed or learned readout.
BASELINES: dict[str, dict[str, Any]] = {
    "mean": {"num_layers": 0, "readout": "mean"},
    "max": {"num_layers": 0, "readout": "max"},
    "cls": {"num_layers": 0, "readout": "cls"},
    "last": {"num_layers": 0, "readout": "last"},
    "adapool": {"num_layers": 0, "readout": "attention"},
}
#: What ``TrainConfig.pooling`` accepts.
POOLINGS = ("glot", *BASELINES)
HEADS = ("classification", "pair-classification", "regression", "similarity", "contrastive")
PAIR_HEADS = ("pair-classification", "similarity", "contrastive")
CACHE_DTYPES = ("float16", "float32")


@dataclass(frozen=True)
class GlotOptions:
    """GlotPooling's keywords besides the dimension, with the paper's defaults (``GlotPooling(d,
    **dataclasses.asdict(GlotOptions()))`` is ``GlotPooling(d)``; a test keeps the two in step). The command
    line's GLOT flags are generated from these fields; the maths is in GlotPooling's docstring.

    Attributes:
        threshold: tau in [-1, 1]: an edge joins tokens whose cosine similarity is greater (the paper: 0.8);
            ``auto``: a tau per sentence that keeps ``edge_density`` of its token pairs as edges.
        top_k: keep only each token's top_k most similar tokens (a sparse k-NN graph, for long documents).
        num_layers: GNN layers K; 0 skips the graph (an AdaPool-style pooler).
        hidden_dim: width of each GNN layer.
        conv: the GNN layer (sage: the paper's; gat: the reference code's).
        jumping_knowledge: how layer outputs combine (cat: [X | h1 | ... | hK], as the reference code).
        readout: the sentence readout (attention: learned, the paper's).
        readout_hidden_dim: width of the attention scorer (default: max(128, D // 2)).
        dropout: dropout after each GNN layer, in training only.
        backend: dense (B x L x L adjacency), scatter (CSR edge list) or auto (chosen per batch).
        sequence_window: also connect tokens at most this many positions apart, with their own weights (0: the
            paper, no word order).
        edge_weight: binary (the paper) or cosine (an edge weighs its similarity).
        input_norm: normalise token states before the graph: none, layer (LayerNorm without affine) or rms.
        layers: hidden layers to mix with learned weights (0: the embeddings, -1: the last); None: the last.
        include_prompt: as in sentence-transformers' Pooling: False leaves the prompt's tokens out of the pooling.
        attention_sink: a decoder's first position (BOS, or the first token) is an attention sink, a huge-norm
            state shared by every sentence: exclude leaves it out of the graph and the readout, keep keeps it,
            auto excludes it on decoder backbones only.
        edge_density: with threshold auto, the fraction of a sentence's token pairs that are edges.
        graph_window: similarity edges only between tokens at most this many positions apart (time and memory
            linear in the length, for long documents); None: every pair, the paper.
    """

    threshold: float | str | None = field(default=0.8, metadata={"type": parse_threshold})
    top_k: int | None = None
    num_layers: int = 2
    hidden_dim: int = 256
    conv: str = field(default="sage", metadata={"choices": CONVS})
    jumping_knowledge: str = field(default="cat", metadata={"choices": JUMPING_KNOWLEDGE})
    readout: str = field(default="attention", metadata={"choices": READOUTS})
    readout_hidden_dim: int | None = None
    dropout: float = 0.0
    backend: str = field(default="auto", metadata={"choices": BACKENDS})
    sequence_window: int = 0
    edge_weight: str = field(default="binary", metadata={"choices": EDGE_WEIGHTS})
    input_norm: str = field(default="none", metadata={"choices": INPUT_NORMS})
    layers: list[int] | None = None
    include_prompt: bool = True
    attention_sink: str = field(default="auto", metadata={"choices": ATTENTION_SINKS})
    edge_density: float = 0.05
    graph_window: int | None = None
