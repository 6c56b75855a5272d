"""What a model holding GlotPooling modules needs once it is assembled: GLOT's model card, each GlotPooling told
its backbone, and the hidden states a layer mix reads. ``GlotPooling.on_model_ready`` runs it on
sentence-transformers 6.x; :func:`~sentence_transformers_glot.loading.load_glot_model` on 5.x."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sentence_transformers_glot.model_card import use_glot_card


def prepare_model(model: Any, poolings: Sequence[Any]) -> None:
    """Prepare ``model`` (a ``SentenceTransformer``) for its GlotPooling modules ``poolings``: GLOT's card, so that
    a plain ``model.save`` or ``push_to_hub`` writes a README saying how to install the plugin and load the model;
    each pooling told its backbone (the ``"auto"`` options); with ``layers`` set, the backbone made to emit its
    hidden states (``output_hidden_states``). Nothing happens without a pooling; a model whose first module is
    no transformers backbone leaves the ``"auto"`` options unresolved."""
    if not poolings:
        return
    use_glot_card(model)
    config = getattr(getattr(model[0], "auto_model", None), "config", None)
    for pooling in poolings:
        try:
            pooling.set_backbone(model)
        except ValueError:  # no transformers backbone first: "auto" keeps the sink and normalises nothing
            pass
        if pooling.layers is not None and config is not None:  # a layer mix reads all_layer_embeddings
            config.output_hidden_states = True
