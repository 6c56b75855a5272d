"""Benchmark method names: what ``glot``, ``glot-gat``, ``glot-plus``, ``adapool+ln`` ... build, the default
methods per backbone, and the task labels of cells on hidden layers (``task@L3``, ``task@L0+1+2``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

OFFLINE_SUITE = ("movie-polarity", "movie-rating", "tweet-sentiment", "subjectivity", "20newsgroups", "reuters-r8")
ENCODER_METHODS = ("glot-sage", "glot-gat", "adapool", "mean", "max", "cls")


def default_methods(backbone: Any) -> tuple[str, ...]:
    """GLOT with the paper's layer (``glot-sage``) and the reference code's (``glot-gat``): the default GLOT
    (``glot``, ``conv="auto"``) is one of them, GAT on a decoder and SAGE on an encoder; and the baselines:
    AdaPool, mean, max, first token ([CLS]); decoders also get the last token ([EOS]), since their first
    token sees no other token. ``backbone``: a name, or a command's record of it (which knows)."""
    from sentence_transformers_glot.backbones.registry import is_decoder

    decoder = backbone.decoder if hasattr(backbone, "decoder") else is_decoder(backbone)
    return (*ENCODER_METHODS, "last") if decoder else ENCODER_METHODS


#: Options beyond the paper a method name can add, as ``+<name>`` (e.g. ``glot-gat+seq2+ln``); ``seq<N>`` is
#: ``sequence_window=N``. Baselines take only the input normalisations.
VARIANTS: dict[str, dict[str, Any]] = {
    "cos": {"edge_weight": "cosine"},
    "ln": {"input_norm": "layer"},
    "rms": {"input_norm": "rms"},
    "noln": {"input_norm": "none"},
    "keepsink": {"attention_sink": "keep"},
    "autotau": {"threshold": "auto"},
}
BASELINE_VARIANTS = ("ln", "rms", "noln", "keepsink")

LayerSpec = Union[int, Sequence[int]]


def _variant(name: str, method: str) -> dict[str, Any]:
    if name in VARIANTS:
        return VARIANTS[name]
    if name.startswith("seq") and name[3:].isdigit() and int(name[3:]) > 0:
        return {"sequence_window": int(name[3:])}
    raise ValueError(
        f"benchmark: method {method!r} has an unknown option +{name}; options are "
        f"{', '.join('+' + v for v in VARIANTS)} and +seq<N> (sequence_window=N)."
    )


def method_pooling(method: str, glot: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """(``TrainConfig.pooling``, GlotPooling options) of a benchmark method.

    ``glot`` is GlotPooling with ``glot`` options; ``glot-<conv>`` (``glot-gat``, ``glot-gcn``, ``glot-gin``,
    ``glot-sage``) is the same with ``conv=<conv>``; a name from :data:`~sentence_transformers_glot.pooling.PRESETS`
    (``glot-plus``) is ``glot`` with that preset's options (its hidden layers come from the cell's ``--layers``);
    any other name is a baseline preset, which takes those of the ``glot`` options a baseline has
    (:func:`~sentence_transformers_glot.options.options_taken`: ``input_norm``, ``attention_sink``, ...).
    Any of them may end in ``+<option>`` parts from :data:`VARIANTS` (``glot-gat+seq2+cos+ln``; baselines only
    ``+ln``/``+rms``).
    """
    from sentence_transformers_glot.nn.gnn import CONVS
    from sentence_transformers_glot.options import options_taken
    from sentence_transformers_glot.pooling import PRESETS
    from sentence_transformers_glot.training.config import POOLINGS

    base, *extras = method.split("+")
    choices = ", ".join([*POOLINGS, *(f"glot-{conv}" for conv in CONVS), *(p for p in PRESETS if p != "paper")])
    if base == "glot":
        pooling, options = "glot", dict(glot or {})
    elif base in PRESETS and base != "paper":  # the preset's options; its layers come from the cell (--layers)
        pooling, options = "glot", {**(glot or {}), **PRESETS[base]}
    elif base.startswith("glot-") and base[5:] in CONVS:
        pooling, options = "glot", {**(glot or {}), "conv": base[5:]}
    elif base in POOLINGS:  # a baseline takes the GLOT options it has (input_norm, attention_sink, ...)
        pooling, options = base, {k: v for k, v in (glot or {}).items() if k in options_taken(base)}
        wrong = [extra for extra in extras if extra not in BASELINE_VARIANTS]
        if wrong:
            raise ValueError(f"benchmark: method {method!r}: a baseline takes only "
                             f"{', '.join('+' + v for v in BASELINE_VARIANTS)}, not +{wrong[0]}.")
    else:
        raise ValueError(f"benchmark: unknown method {method!r}; use one of {choices}, optionally with +options.")
    for extra in extras:
        options.update(_variant(extra, method))
    return pooling, options


def check_options_taken(methods: Sequence[str], glot: dict[str, Any] | None) -> None:
    """Refuse ``glot`` options that none of ``methods`` takes (GLOT options given with baselines alone), which
    would change nothing."""
    from sentence_transformers_glot.options import options_per_pooling

    options_per_pooling(list(dict.fromkeys(method_pooling(m, glot)[0] for m in methods)), glot or {},
                        f"benchmark --methods {' '.join(methods)}")


def layer_options(layer: LayerSpec) -> tuple[int, dict[str, Any]]:
    """(``TrainConfig.layer``, GlotPooling options) for a cell's layer: an int is one hidden layer
    (``TrainConfig.layer``); a list is mixed by ``GlotPooling(layers=...)``."""
    if isinstance(layer, int):
        return layer, {}
    return -1, {"layers": [int(i) for i in layer]}


def task_label(row: dict[str, Any]) -> str:
    """A row's task as tables show it: the task name, with ``@L<layer>`` when states come from a hidden layer
    other than the last (``@L8+9+10`` for a mix of layers)."""
    layer = row.get("layer", -1)
    if isinstance(layer, list):
        return f"{row['task']}@L" + "+".join(str(i) for i in layer)
    return row["task"] if layer == -1 else f"{row['task']}@L{layer}"


def ordered_methods(methods) -> list[str]:
    """Methods in the order of :func:`default_methods` (others after them, in first-seen order)."""
    order = ("glot", *ENCODER_METHODS, "last")
    seen = list(dict.fromkeys(methods))
    return sorted(seen, key=lambda m: (order.index(m) if m in order else len(order), seen.index(m)))


def is_glot(method: str) -> bool:
    """Whether a benchmark method is GLOT (``glot`` or ``glot-<conv>``, with any ``+options``) rather than a
    baseline."""
    base = method.split("+")[0]
    return base == "glot" or base.startswith("glot-")
