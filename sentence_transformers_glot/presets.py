"""Named GLOT configurations for :meth:`GlotPooling.preset <sentence_transformers_glot.pooling.GlotPooling.preset>`,
and the hidden layers a layer-mixing preset reads (:func:`spread_layers`)."""

from __future__ import annotations

from typing import Any

from sentence_transformers_glot.legacy import POOLING_BEFORE, TRAINING_BEFORE

#: Named GLOT configurations (:meth:`GlotPooling.preset`). ``"paper"`` is the paper's GLUE setting (the
#: defaults, with the paper's SAGE layer and every token pooled, the states as the backbone gives them:
#: ``conv="sage"``, ``attention_sink="keep"``, ``input_norm="none"``; train it with ``warmup_ratio=0``,
#: ``max_grad_norm=None`` and ``head_norm=False`` for the paper's optimisation and pair head too).
#: ``"glot-plus"`` is the variant with the best validation margin over the best baseline on the 11
#: mixed-layer cells that every candidate ran (benchmarks/results/options/options-*, ``options_search.py --compare``;
#: see ``benchmarks/results/options/README.md``): LayerNorm on the token states, on a learned mix of
#: hidden layers spread over the backbone (:func:`spread_layers`), with the SAGE layer it was chosen with.
#: Word-order and cosine edges lost there (one of them badly, Gemma's acceptability) and remain options.
PRESETS: dict[str, dict[str, Any]] = {
    # every token pooled, none normalised: the options as they were before their defaults changed
    "paper": {name: POOLING_BEFORE[name] for name in ("attention_sink", "input_norm", "conv")},
    "glot-plus": {"input_norm": "layer", "conv": "sage"},
}
#: The paper's optimisation and heads, for ``TrainConfig(**PAPER_TRAINING)``: no warm-up, no clipping, no head
#: normalisation (the training settings as they were before those options existed).
PAPER_TRAINING: dict[str, Any] = {name: TRAINING_BEFORE[name] for name in ("warmup_ratio", "max_grad_norm",
                                                                          "head_norm")}
#: Presets that pool a mix of hidden layers, so that they need the backbone's depth.
LAYER_MIX_PRESETS = ("glot-plus",)


def spread_layers(num_hidden_layers: int, count: int = 7) -> list[int]:
    """``count`` hidden-state indices spread evenly from the embedding output (0) to the last layer
    (``num_hidden_layers``); every one of them when the backbone has fewer. 6 layers give ``[0, 1, ..., 6]``,
    30 give ``[0, 5, 10, ..., 30]``, 18 give ``[0, 3, ..., 18]``."""
    if not (isinstance(num_hidden_layers, int) and not isinstance(num_hidden_layers, bool) and num_hidden_layers >= 1):
        raise ValueError("GlotPooling: `num_hidden_layers` must be a positive int (the backbone's "
                         f"config.num_hidden_layers); got {num_hidden_layers!r}.")
    if not (isinstance(count, int) and not isinstance(count, bool) and count >= 2):
        raise ValueError(f"GlotPooling: `count` must be an int >= 2; got {count!r}.")
    if num_hidden_layers + 1 <= count:
        return list(range(num_hidden_layers + 1))
    return sorted({round(i * num_hidden_layers / (count - 1)) for i in range(count)})


def baseline_options(name: str, **kwargs: Any) -> dict[str, Any]:
    """The GlotPooling options of the baseline ``name`` (:data:`~sentence_transformers_glot.options.BASELINES`)
    with ``kwargs`` on top."""
    from sentence_transformers_glot.options import BASELINES

    if name not in BASELINES:
        raise ValueError(f"GlotPooling.baseline: `name` must be one of {tuple(BASELINES)}; got {name!r}.")
    return {**BASELINES[name], **kwargs}


def preset_options(name: str, num_hidden_layers: int | None = None, **kwargs: Any) -> dict[str, Any]:
    """The GlotPooling options of the preset ``name`` (:data:`PRESETS`) with ``kwargs`` on top; a layer-mixing
    preset spreads its layers over ``num_hidden_layers`` (:func:`spread_layers`) unless ``layers`` is given."""
    if name not in PRESETS:
        raise ValueError(f"GlotPooling.preset: `name` must be one of {tuple(PRESETS)}; got {name!r}.")
    options = dict(PRESETS[name])
    if name in LAYER_MIX_PRESETS and "layers" not in kwargs:
        if num_hidden_layers is None:
            raise ValueError(
                f"GlotPooling.preset({name!r}) mixes hidden layers spread over the backbone: pass "
                "`num_hidden_layers` (e.g. model[0].auto_model.config.num_hidden_layers) or `layers=[...]`."
            )
        options["layers"] = spread_layers(num_hidden_layers)
    return {**options, **kwargs}
