"""Model cards that load the model: install the plugin, then ``load_glot_model``; the GLOT configuration and,
for trained models, the task, metric and scores.

sentence-transformers writes ``README.md`` from ``model.model_card_data`` whenever a model is saved or pushed
(``model.save``, ``save_pretrained``, ``push_to_hub``). :func:`use_glot_card` swaps that object for a
:class:`GlotModelCardData`, which renders this package's template and carries the ``glot`` and
``sentence-transformers-glot`` tags. :func:`~sentence_transformers_glot.loading.load_glot_model`,
:func:`~sentence_transformers_glot.loading.save_glot_model` and the training export apply it, and so does
``GlotPooling.on_model_ready`` whenever sentence-transformers 6.x builds a model that holds one; on 5.x, for a
model you assemble yourself, call ``use_glot_card(model)`` before ``model.save`` or ``push_to_hub``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentence_transformers_glot._compat import SentenceTransformerModelCardData

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

TAGS = ("glot", "sentence-transformers-glot")
TEMPLATE = Path(__file__).parent / "model_card_template.md"
#: Lines of the template (this one's, and the one before it), by which a README is recognised as a GLOT card.
CARD_MARKS = ("Installing the plugin", "pip install sentence-transformers-glot")


@dataclasses.dataclass
class GlotModelCardData(SentenceTransformerModelCardData):
    """sentence-transformers' card data plus the GLOT configuration and training results, on GLOT's template.

    Attributes:
        glot_config: the GlotPooling configuration (``get_config_dict()``).
        glot_training: for a trained model: task, metric, validation and test scores, training examples and
            the optimisation settings.
        glot_title: the card's title: the model's own name, or "GLOT on <backbone>" (and its task when trained).
        glot_selection: for a model ``--pooling auto`` chose: every candidate's validation score, the choice and the
            rule (:mod:`sentence_transformers_glot.training.selection`).
    """

    glot_config: dict[str, Any] | None = None
    glot_training: dict[str, Any] | None = None
    glot_selection: dict[str, Any] | None = None
    glot_title: str | None = None

    def __post_init__(self) -> None:
        parent = getattr(super(), "__post_init__", None)
        if parent is not None:
            parent()
        self.template_path = TEMPLATE

    def to_dict(self) -> dict[str, Any]:
        """sentence-transformers' card values, titled when the card is written: a name the user set after the
        model was built (``model.model_card_data.model_name = ...``) is the title."""
        if self.__dict__.get("model") is not None:
            self.glot_title = _title(self.model, self)
        return super().to_dict()

    def __getattribute__(self, name: str) -> Any:
        # mteb files a SentenceTransformer's results under model_card_data.model_name and base_model_revision,
        # read when it evaluates: both follow the model's current weights and config (identity.live_identity),
        # so that a model never receives results computed for other weights, however it was built or loaded.
        value = super().__getattribute__(name)
        if name not in ("model_name", "base_model_revision"):
            return value
        model = super().__getattribute__("__dict__").get("model")
        if model is None:
            return value
        from sentence_transformers_glot.identity import live_identity

        derived, revision = live_identity(model, value if name == "model_name" else None)
        return derived if name == "model_name" else revision


def is_glot_pooling(module: Any) -> bool:
    """Whether ``module`` is a GlotPooling (or a subclass), told by its class's lineage, so that this module, which
    GlotPooling.on_model_ready calls, does not import the pooling back (no import cycle)."""
    return any(cls.__name__ == "GlotPooling" and cls.__module__ == "sentence_transformers_glot.pooling"
               for cls in type(module).__mro__)


def use_glot_card(model: SentenceTransformer, training: dict[str, Any] | None = None,
                  selection: dict[str, Any] | None = None) -> GlotModelCardData:
    """Give ``model`` a :class:`GlotModelCardData` (keeping everything its card data held) and return it; with
    ``training`` (a trained model's run) and ``selection`` (how ``--pooling auto`` chose its pooling) on it."""
    old = model.model_card_data
    if isinstance(old, GlotModelCardData):
        card = old
    else:
        card = GlotModelCardData()
        for spec in dataclasses.fields(old):  # every value, including those set after init (and its model)
            if spec.name != "template_path":
                setattr(card, spec.name, getattr(old, spec.name))
        card.template_path = TEMPLATE
        model.model_card_data = card
    # sentence-transformers writes a loaded model's own README back unchanged when it saves it again; a card
    # that is not GLOT's is dropped, so that the next save renders this one (a GLOT card is kept: it may hold
    # training results that the card data no longer has)
    text = getattr(model, "_model_card_text", None)
    if text and not any(mark in text for mark in CARD_MARKS):
        model._model_card_text = None
    card.add_tags(list(TAGS))
    poolings = [module for module in model if is_glot_pooling(module)]
    if poolings:
        card.glot_config = poolings[0].get_config_dict()
    if training is not None:
        card.glot_training = dict(training)
    if selection is not None:
        card.glot_selection = dict(selection)
    card.glot_title = _title(model, card)
    return card


def _title(model: SentenceTransformer, card: GlotModelCardData) -> str:
    """The model's own name when a user gave it one; else GLOT on its backbone, for its task when trained."""
    from sentence_transformers_glot.identity import is_users_name

    stored = card.__dict__.get("model_name")
    if is_users_name(model, stored):
        return stored
    from sentence_transformers_glot.backbones.registry import backbone_name

    backbone = card.base_model
    if not backbone:
        auto_model = getattr(next(iter(model), None), "auto_model", None)
        backbone = getattr(getattr(auto_model, "config", None), "_name_or_path", "") or ""
    backbone = backbone_name(backbone) if backbone else ""
    title = f"GLOT on {backbone}" if backbone else "GLOT sentence embedding model"
    if card.glot_training and card.glot_training.get("task"):
        title += f", trained for {card.glot_training['task']}"
    return title
