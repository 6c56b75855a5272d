"""What the package did before each default changed or each option was added: the one table that old run
folders (their names and ``run_config.json``), old saved models (``config.json`` of an older format) and the
``paper`` preset read, so that each reproduces what it always did.

Torch-free; written down once here, read by :mod:`sentence_transformers_glot.training.run_identity`,
:mod:`sentence_transformers_glot.saved_format` and :mod:`sentence_transformers_glot.presets`.
"""

from __future__ import annotations

from typing import Any

#: TrainConfig fields added after run folders were first written, with the value that reproduces a run made
#: before each: every epoch to the end, no warm-up, no clipping, no head projection or normalisation, a fresh pooling.
TRAINING_BEFORE: dict[str, Any] = {"max_eval": None, "cache": True, "warmup_ratio": 0.0, "max_grad_norm": None,
                                   "head_dim": None, "head_norm": False, "init_from": None, "freeze_pooling": False,
                                   "also_tasks": None, "sampling": "proportional"}

#: GlotPooling options added (or whose default changed) after models were first saved, with the value that
#: reproduces a model made before: the paper's graph over every token, as the backbone gives them.
POOLING_BEFORE: dict[str, Any] = {"conv": "sage", "sequence_window": 0, "edge_weight": "binary", "input_norm": "none",
                                  "layers": None, "include_prompt": True, "attention_sink": "keep",
                                  "edge_density": 0.05, "graph_window": None}

#: The saved-format version that added each GlotPooling option to ``config.json`` (6 allowed
#: ``input_norm="auto"`` and added no key).
ADDED_IN_FORMAT: dict[int, tuple[str, ...]] = {
    2: ("sequence_window", "edge_weight", "input_norm", "layers"),
    3: ("include_prompt",),
    4: ("attention_sink", "edge_density"),
    5: ("graph_window",),
    6: (),
}

#: The GlotPooling options whose *default* changed since run folders were first written (a run's identity holds
#: them as what they do on its backbone, and leaves them out at the old value, so older runs keep their names).
CHANGED_DEFAULTS: tuple[str, ...] = ("input_norm", "conv")
