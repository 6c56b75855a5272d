"""The option vocabulary: every choice a GLOT configuration accepts, and GlotPooling's keywords as data.

Torch-free, so that configs and the command line can name and check options without loading torch; the
layers (:mod:`sentence_transformers_glot.nn`), :class:`~sentence_transformers_glot.pooling.GlotPooling` and the
training config import their choices from here. :class:`GlotOptions` checks every option itself: GlotPooling
builds one to validate its keywords, and tools validate a configuration without building a module.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Conv = Literal["sage", "gat", "gcn", "gin"]
#: What the ``conv`` option takes: a conv, or ``"auto"`` (GAT on decoder backbones, SAGE on encoders).
ConvChoice = Literal["auto", Conv]
JumpingKnowledge = Literal["none", "cat", "max", "mean"]
Readout = Literal["attention", "mean", "max", "cls", "last"]
Backend = Literal["auto", "dense", "scatter"]
EdgeWeight = Literal["binary", "cosine"]
#: How token states are normalised before the graph ("auto": LayerNorm on decoder backbones, none on encoders).
InputNorm = Literal["auto", "none", "layer", "rms"]
#: What to do with a decoder's attention sink, the first position of every sentence (see GlotPooling).
AttentionSink = Literal["auto", "keep", "exclude"]

CONVS: tuple[str, ...] = get_args(Conv)
CONV_CHOICES: tuple[str, ...] = get_args(ConvChoice)
JUMPING_KNOWLEDGE: tuple[str, ...] = get_args(JumpingKnowledge)
READOUTS: tuple[str, ...] = get_args(Readout)
BACKENDS: tuple[str, ...] = get_args(Backend)
EDGE_WEIGHTS: tuple[str, ...] = get_args(EdgeWeight)
INPUT_NORMS: tuple[str, ...] = get_args(InputNorm)
ATTENTION_SINKS: tuple[str, ...] = get_args(AttentionSink)
#: Upper bounds of the size options, far beyond any useful value: a larger one would fail allocating the module
#: (or build it for hours) after the work had started, so configs refuse it in one line instead.
MAX_LAYERS = 64
MAX_WIDTH = 65536
MAX_WINDOW = 4096
#: torch threads any command takes, and the largest seed (numpy's generators take seeds below 2**32)
MAX_THREADS = 1024
MAX_SEED = 2**32 - 1
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
#: The options a baseline takes: which tokens it pools and how their states are prepared. The rest are the
#: graph's and the GNN's, which a baseline (``num_layers=0``) does not have; AdaPool also takes its scorer's width.
BASELINE_OPTIONS: dict[str, tuple[str, ...]] = {
    name: ("input_norm", "attention_sink", "include_prompt", "layers")
    + (("readout_hidden_dim",) if preset["readout"] == "attention" else ())
    for name, preset in BASELINES.items()
}


def options_taken(pooling: str) -> tuple[str, ...]:
    """The GlotPooling options ``pooling`` takes: all of them for ``"glot"``, :data:`BASELINE_OPTIONS` for a
    baseline."""
    return OPTION_NAMES if pooling == "glot" else BASELINE_OPTIONS[pooling]


def options_per_pooling(poolings: list[str], options: Mapping[str, Any], where: str) -> dict[str, dict[str, Any]]:
    """Per pooling of ``poolings``, the ``options`` it takes (:func:`options_taken`): one set of GLOT options
    given for several poolings (``glot train --pooling glot mean --input-norm rms``). An option that none of them
    takes would change nothing, and raises ``ValueError`` naming it (``where`` starts the message)."""
    unused = [name for name in options if not any(name in options_taken(pooling) for pooling in poolings)]
    if unused:
        raise ValueError(f"{where}: {', '.join(poolings)} take{'s' if len(poolings) == 1 else ''} none of the options "
                         f"{', '.join(unused)} (a baseline takes only {', '.join(BASELINE_OPTIONS['mean'])}; adapool "
                         "also readout_hidden_dim); add glot, or drop them.")
    return {pooling: {k: v for k, v in options.items() if k in options_taken(pooling)} for pooling in poolings}


HEADS = ("classification", "pair-classification", "regression", "similarity", "contrastive")
PAIR_HEADS = ("pair-classification", "similarity", "contrastive")
CACHE_DTYPES = ("float16", "float32")


def natural_head(objective: str, is_pair: bool) -> str:
    """The head a task trains when none is asked for: classification or regression, on one text or a pair."""
    return {("classification", False): "classification", ("classification", True): "pair-classification",
            ("regression", False): "regression", ("regression", True): "similarity"}[(objective, is_pair)]


def resolve_auto_options(options: Mapping[str, Any], decoder: bool) -> dict[str, Any]:
    """The ``"auto"`` options among ``options`` made concrete for a backbone that is (``decoder``) or is not
    decoder-only: ``attention_sink`` excludes a decoder's sink and keeps an encoder's first token; ``input_norm``
    is LayerNorm on a decoder's states and nothing on an encoder's; ``conv`` is GAT on a decoder and SAGE on an
    encoder (the convs validation prefers on each kind). Options that are not ``"auto"`` are left out."""
    concrete = {"attention_sink": "exclude" if decoder else "keep", "input_norm": "layer" if decoder else "none",
                "conv": "gat" if decoder else "sage"}
    return {name: value for name, value in concrete.items() if options.get(name) == "auto"}


@dataclass(frozen=True)
class GlotOptions:
    """GlotPooling's keywords besides the dimension, with their defaults, checked when built: the one source of
    GlotPooling's signature defaults, its ``config_keys`` and the command line's GLOT flags
    (``GlotPooling(d, **dataclasses.asdict(GlotOptions()))`` is ``GlotPooling(d)``; a test keeps the two in step).
    A bad value raises ``ValueError`` naming the option and what it accepts; numpy numbers are stored as Python
    numbers. The maths is in GlotPooling's docstring.

    Attributes:
        threshold: tau in [-1, 1]: an edge joins tokens whose cosine similarity is greater (the paper: 0.8);
            ``auto``: a tau per sentence that keeps ``edge_density`` of its token pairs as edges.
        top_k: keep only each token's top_k most similar tokens (a sparse k-NN graph, for long documents).
        num_layers: GNN layers K; 0 skips the graph (an AdaPool-style pooler).
        hidden_dim: width of each GNN layer.
        conv: the GNN layer: sage (the paper's), gat (the reference code's), gcn or gin; auto: gat on decoder
            backbones and sage on encoders, the conv validation prefers on each kind across the benchmark cells
            (its parameters are built once the backbone is known; a saved model records the conv it built).
        jumping_knowledge: how layer outputs combine (cat: [X | h1 | ... | hK], as the reference code).
        readout: the sentence readout (attention: learned, the paper's).
        readout_hidden_dim: width of the attention scorer (default: max(128, D // 2)).
        dropout: dropout after each GNN layer, in training only.
        backend: dense (B x L x L adjacency), scatter (CSR edge list) or auto (chosen per batch).
        sequence_window: also connect tokens at most this many positions apart, with their own weights (0: the
            paper, no word order).
        edge_weight: binary (the paper) or cosine (an edge weighs its similarity).
        input_norm: normalise token states before the graph: none, layer (LayerNorm without affine), rms, or
            auto (layer on decoder backbones, whose states are huge and anisotropic; none on encoders).
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
    conv: ConvChoice = field(default="auto", metadata={"choices": CONV_CHOICES})
    jumping_knowledge: JumpingKnowledge = field(default="cat", metadata={"choices": JUMPING_KNOWLEDGE})
    readout: Readout = field(default="attention", metadata={"choices": READOUTS})
    readout_hidden_dim: int | None = None
    dropout: float = 0.0
    backend: Backend = field(default="auto", metadata={"choices": BACKENDS})
    sequence_window: int = 0
    edge_weight: EdgeWeight = field(default="binary", metadata={"choices": EDGE_WEIGHTS})
    input_norm: InputNorm = field(default="auto", metadata={"choices": INPUT_NORMS})
    layers: list[int] | None = None
    include_prompt: bool = True
    attention_sink: AttentionSink = field(default="auto", metadata={"choices": ATTENTION_SINKS})
    edge_density: float = 0.05
    graph_window: int | None = None

    def __post_init__(self) -> None:
        check = check_option
        threshold, top_k, layers, hidden, window = (self.threshold, self.top_k, self.layers, self.readout_hidden_dim,
                                                    self.graph_window)
        check(threshold is None or threshold == AUTO_THRESHOLD or (is_real(threshold) and -1 <= threshold <= 1),
              "threshold", "a float in [-1, 1], 'auto' (a tau per sentence, see edge_density) or None", threshold)
        check(top_k is None or (is_int(top_k) and top_k >= 1), "top_k", "an int >= 1 or None", top_k)
        check(is_int(self.num_layers) and 0 <= self.num_layers <= MAX_LAYERS, "num_layers",
              f"an int in [0, {MAX_LAYERS}]", self.num_layers)
        check(is_int(self.hidden_dim) and 1 <= self.hidden_dim <= MAX_WIDTH, "hidden_dim",
              f"an int in [1, {MAX_WIDTH}]", self.hidden_dim)
        for spec in dataclasses.fields(self):
            if "choices" in spec.metadata:
                value = getattr(self, spec.name)
                check(value in spec.metadata["choices"], spec.name, f"one of {spec.metadata['choices']}", value)
        check(hidden is None or (is_int(hidden) and 1 <= hidden <= MAX_WIDTH), "readout_hidden_dim",
              f"an int in [1, {MAX_WIDTH}] or None", hidden)
        check(is_real(self.dropout) and 0.0 <= self.dropout < 1.0, "dropout", "a float in [0, 1)", self.dropout)
        check(is_int(self.sequence_window) and 0 <= self.sequence_window <= MAX_WINDOW, "sequence_window",
              f"an int in [0, {MAX_WINDOW}] (0: no word-order edges; e.g. 2)", self.sequence_window)
        check(layers is None or (isinstance(layers, (list, tuple)) and len(layers) > 0
                                 and all(is_int(layer) for layer in layers) and len(set(layers)) == len(layers)),
              "layers", "None or a non-empty list of distinct hidden-layer indices (e.g. [-1, 3])", layers)
        check(isinstance(self.include_prompt, bool), "include_prompt", "True or False", self.include_prompt)
        check(window is None or (is_int(window) and window >= 1), "graph_window", "None or an int >= 1 (e.g. 64)",
              window)
        check(is_real(self.edge_density) and 0.0 < self.edge_density <= 1.0, "edge_density",
              "a float in (0, 1] (the fraction of token pairs that are edges with threshold='auto'; e.g. 0.05)",
              self.edge_density)
        if self.graph_window is not None and threshold == AUTO_THRESHOLD:
            raise ValueError("GlotPooling: threshold='auto' needs every pair's similarity, which graph_window "
                             "avoids; give a number (e.g. threshold=0.8) or top_k with graph_window.")
        if self.sequence_window > 0 and self.num_layers == 0:
            raise ValueError("GlotPooling: `sequence_window` adds word-order edges to the GNN layers, but "
                             "num_layers=0 has none; set num_layers >= 1 or sequence_window=0.")
        if self.num_layers > 0 and threshold is None and top_k is None:
            raise ValueError("GlotPooling: with num_layers > 0 set `threshold` (e.g. 0.8) or `top_k` (e.g. 16); "
                             "with both None every token pair would be an edge.")
        # numpy numbers (np.int64(2), np.float32(0.8)) are stored as the Python numbers config.json can hold
        plain = {
            "threshold": threshold if threshold is None or threshold == AUTO_THRESHOLD else float(threshold),
            "top_k": None if top_k is None else int(top_k),
            "num_layers": int(self.num_layers), "hidden_dim": int(self.hidden_dim),
            "readout_hidden_dim": None if self.readout_hidden_dim is None else int(self.readout_hidden_dim),
            "dropout": float(self.dropout), "sequence_window": int(self.sequence_window),
            "layers": None if layers is None else [int(layer) for layer in layers],
            "edge_density": float(self.edge_density),
            "graph_window": None if self.graph_window is None else int(self.graph_window),
        }
        for name, value in plain.items():
            object.__setattr__(self, name, value)


    @classmethod
    def of_pooling(cls, pooling: str, overrides: Mapping[str, Any] | None = None) -> GlotOptions:
        """The options of ``pooling`` (``"glot"``: the defaults; a baseline: its entry in :data:`BASELINES`) with
        ``overrides`` on top; a key GlotPooling does not have raises ``ValueError`` naming it."""
        if pooling not in POOLINGS:
            raise ValueError(f"`pooling` must be one of {POOLINGS}; got {pooling!r}.")
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(OPTION_NAMES))
        if unknown:
            raise ValueError(f"GlotPooling has no option {', '.join(map(repr, unknown))}; its options are "
                             f"{', '.join(OPTION_NAMES)}.")
        fixed = BASELINES.get(pooling, {})
        # a baseline takes its own options, and its fixed ones only at their fixed values
        refused = [name for name, value in overrides.items()
                   if name not in options_taken(pooling) and not (name in fixed and fixed[name] == value)]
        if refused:
            raise ValueError(f"pooling {pooling!r} takes only the options {', '.join(options_taken(pooling))}, "
                             f"not {', '.join(refused)} (those are GLOT's: use pooling 'glot').")
        return cls(**{**fixed, **overrides})

    def changes(self, pooling: str = "glot") -> dict[str, Any]:
        """The options that differ from ``pooling``'s own (:meth:`of_pooling` without overrides), in field order:
        the short form that configs, run names and command lines show."""
        base = pooling_defaults(pooling)
        return {name: getattr(self, name) for name in OPTION_NAMES if getattr(self, name) != base[name]}


#: GlotPooling's ``config_keys`` beside ``word_embedding_dimension``, in order: the fields of GlotOptions.
OPTION_NAMES: tuple[str, ...] = tuple(spec.name for spec in dataclasses.fields(GlotOptions))


def pooling_defaults(pooling: str) -> dict[str, Any]:
    """The option values of ``pooling`` (:meth:`GlotOptions.of_pooling` without overrides), read from the field
    defaults and :data:`BASELINES` without building a GlotOptions."""
    if pooling not in POOLINGS:
        raise ValueError(f"`pooling` must be one of {POOLINGS}; got {pooling!r}.")
    defaults = {spec.name: spec.default for spec in dataclasses.fields(GlotOptions)}
    return {**defaults, **BASELINES.get(pooling, {})}


def is_int(value: Any) -> bool:
    """An integer, a numpy one included (``np.int64(3)``); not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and type(value).__name__ != "bool_"


def is_real(value: Any) -> bool:
    """A real number, numpy scalars included; not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and type(value).__name__ != "bool_"


def check_option(ok: bool, name: str, expected: str, value: Any) -> None:
    """Raise ``ValueError("GlotPooling: `name` must be expected; got value.")`` unless ``ok``."""
    if not ok:
        raise ValueError(f"GlotPooling: `{name}` must be {expected}; got {value!r}.")
