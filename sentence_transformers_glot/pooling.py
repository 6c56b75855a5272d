"""``GlotPooling``: GLOT as a sentence-transformers module (chain it after a ``Transformer`` exactly like ``Pooling``).

The module builds its layers from the options, adapts sentence-transformers' features to the layers of
:mod:`sentence_transformers_glot.nn` (which own the maths), and saves and loads itself.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import torch
from torch import Tensor, nn

from sentence_transformers_glot._compat import Module, keep_float32
from sentence_transformers_glot.decoders import concrete_option, model_is_decoder, warn_unresolved_backbone
from sentence_transformers_glot.nn.gnn import TokenGNN
from sentence_transformers_glot.nn.node_features import mix_layers, node_features
from sentence_transformers_glot.nn.packing import PackedNodes, varlen_mask, varlen_rows
from sentence_transformers_glot.nn.pipeline import pool_nodes, pool_padded
from sentence_transformers_glot.nn.readout import AttentionReadout
from sentence_transformers_glot.nn.tokens import check_token_states, layer_states, pooled_tokens, real_token_mask
from sentence_transformers_glot.options import (
    OPTION_NAMES,
    AttentionSink,
    Backend,
    ConvChoice,
    EdgeWeight,
    GlotOptions,
    InputNorm,
    JumpingKnowledge,
    Readout,
    check_option,
    is_int,
)
from sentence_transformers_glot.presets import baseline_options, preset_options
from sentence_transformers_glot.saved_format import (
    CONFIG_NAME,
    FORMAT_VERSION,
    load_pooling,
    load_pooling_config,
    save_module,
)

#: Names that moved to other modules and stay importable from here, loaded on first use.
_ELSEWHERE = {
    **dict.fromkeys(("ATTENTION_SINKS", "BACKENDS", "BASELINES", "CONVS", "EDGE_WEIGHTS", "INPUT_NORMS",
                     "JUMPING_KNOWLEDGE", "READOUTS"), "options"),
    "PRESETS": "presets", "spread_layers": "presets", "ADDED_KEYS": "saved_format", "stack_layers": "nn.node_features",
}
#: The options that shape the token graph (:func:`~sentence_transformers_glot.nn.graph_builders.token_graph`'s).
GRAPH_OPTIONS = ("threshold", "top_k", "backend", "edge_weight", "edge_density", "graph_window")
__all__ = ["GlotPooling", *sorted(set(_ELSEWHERE) - {"ADDED_KEYS"})]


def __getattr__(name: str) -> Any:
    if name in _ELSEWHERE:
        return getattr(importlib.import_module(f"sentence_transformers_glot.{_ELSEWHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class GlotPooling(Module):
    r"""GLOT pooling: cosine-similarity token graph, K GNN layers, attention readout.

    Args:
        word_embedding_dimension: dimension ``d`` of the backbone's token states.
        threshold: and every keyword after it (``top_k``, ``num_layers``, ``conv``, ... ``graph_window``): the
            options, checked when the module is built and saved in its ``config.json``.
            :class:`~sentence_transformers_glot.options.GlotOptions` documents each (the same names and defaults);
            the configuration page tables them.

    The ``"auto"`` options (``attention_sink``, ``input_norm``, ``conv``) follow the backbone, which the module
    learns from the model it is part of (sentence-transformers >= 6 tells it; otherwise :meth:`set_backbone`); until
    then ``"auto"`` acts as on an encoder, with a warning. With ``layers``, the module reads
    ``features["all_layer_embeddings"]``. The graph and GNN run in float32 whatever the model's dtype.
    """

    config_keys = ["word_embedding_dimension", *OPTION_NAMES]  # GlotOptions is the one list of the options
    config_file_name = CONFIG_NAME

    def __init__(
        self,
        word_embedding_dimension: int,
        threshold: float | str | None = 0.8,
        top_k: int | None = None,
        num_layers: int = 2,
        hidden_dim: int = 256,
        conv: ConvChoice = "auto",
        jumping_knowledge: JumpingKnowledge = "cat",
        readout: Readout = "attention",
        readout_hidden_dim: int | None = None,
        dropout: float = 0.0,
        backend: Backend = "auto",
        sequence_window: int = 0,
        edge_weight: EdgeWeight = "binary",
        input_norm: InputNorm = "auto",
        layers: list[int] | None = None,
        include_prompt: bool = True,
        attention_sink: AttentionSink = "auto",
        edge_density: float = 0.05,
        graph_window: int | None = None,
    ) -> None:
        super().__init__()
        check_option(is_int(word_embedding_dimension) and word_embedding_dimension >= 1, "word_embedding_dimension",
                     "a positive int (the backbone's hidden size)", word_embedding_dimension)
        # every keyword after the dimension is an option: GlotOptions checks them all and stores numpy numbers as
        # the Python ones config.json holds
        options = GlotOptions(**{name: value for name, value in locals().items() if name in OPTION_NAMES})
        self.word_embedding_dimension = int(word_embedding_dimension)
        for name in OPTION_NAMES:
            setattr(self, name, getattr(options, name))
        # the "auto" options: whether the backbone is a decoder, once the module has seen it; until then conv="auto"
        # builds an encoder's conv, rebuilt by set_backbone if the module has not pooled yet
        self.backbone_is_decoder: bool | None = None
        self._pooled = False
        # scalar mix of the chosen layers; zeros = equal weights (a single layer needs no weight)
        mixed = self.layers is not None and len(self.layers) > 1
        self.layer_weights = nn.Parameter(torch.zeros(len(self.layers))) if mixed else None
        self.gnn = self._build_gnn(concrete_option("conv", self.conv, False))
        self.output_dimension = self.gnn.out_dim
        if readout == "attention":
            scorer_dim = self.readout_hidden_dim or max(128, self.output_dimension // 2)
            self.attention = AttentionReadout(self.output_dimension, scorer_dim)
        else:
            self.attention = None

    # ------------------------------------------------------------------ presets
    @classmethod
    def baseline(cls, name: str, word_embedding_dimension: int, **kwargs: Any) -> GlotPooling:
        """A standard pooling as a GlotPooling: ``"mean"``, ``"max"``, ``"cls"`` (first real token) and ``"last"``
        (last real token) equal sentence-transformers' ``Pooling``; ``"adapool"`` is the paper's AdaPool baseline
        (the attention readout alone). On a decoder their ``"auto"`` options leave out the sink and LayerNorm the
        states; ``attention_sink="keep", input_norm="none"`` gives the plain pooling there too."""
        return cls(word_embedding_dimension, **baseline_options(name, **kwargs))

    @classmethod
    def preset(cls, name: str, word_embedding_dimension: int, num_hidden_layers: int | None = None,
               **kwargs: Any) -> GlotPooling:
        """A named configuration of :data:`~sentence_transformers_glot.presets.PRESETS`, ``kwargs`` on top: ``"paper"``
        (SAGE, every token, raw states) or ``"glot-plus"`` (LayerNorm-ed states, a learned mix of 7 hidden layers
        spread over the backbone: it needs ``num_hidden_layers``, the backbone's ``config.num_hidden_layers``)."""
        return cls(word_embedding_dimension, **preset_options(name, num_hidden_layers, **kwargs))

    # ------------------------------------------------------------------ ST interface
    def get_embedding_dimension(self) -> int:
        """Dimension of ``sentence_embedding`` (``get_sentence_embedding_dimension`` on sentence-transformers 5.x)."""
        return self.output_dimension

    get_sentence_embedding_dimension = get_embedding_dimension

    def get_config_dict(self) -> dict[str, Any]:
        """The options as saved: ``conv`` the conv built (``"auto"`` made concrete), so a loaded model is this one."""
        config = {"format_version": FORMAT_VERSION, **{key: getattr(self, key) for key in self.config_keys}}
        return {**config, "conv": self.gnn.conv}

    def _apply(self, fn, recurse: bool = True):
        # sentence-transformers casts every module to the backbone's dtype; thresholds on half-precision
        # cosines flip edges, so keep float32 parameters and honour only device moves.
        return super()._apply(keep_float32(fn), recurse)

    # ------------------------------------------------------------------ inputs
    def mix_layers(self, states: Tensor) -> Tensor:
        """``(..., len(layers), d)`` states of the chosen layers -> ``(..., d)``, mixed by the learned softmax
        weights (:func:`~sentence_transformers_glot.nn.node_features.mix_layers`)."""
        return mix_layers(states, self.layer_weights)

    def _features(self, states: Tensor) -> Tensor:
        """Node features of token ``states`` (``(..., len(layers), d)`` with ``layers``) in float32: the layer mix,
        then ``input_norm`` (:func:`~sentence_transformers_glot.nn.node_features.node_features`)."""
        return node_features(states, self.layers is not None, self.layer_weights, self.token_norm)

    # ------------------------------------------------------------------ which tokens are pooled
    def set_backbone(self, model: Any) -> None:
        """Tell the ``"auto"`` options (``attention_sink``, ``input_norm``, ``conv``) what the backbone is: a
        ``SentenceTransformer`` holding this module, a ``Transformer`` module, a transformers model or config, a
        config dict, or a bool (decoder-only or not). ``conv="auto"`` builds its layers here, unless the module
        has pooled already (its weights are kept, with a warning)."""
        self.backbone_is_decoder = model_is_decoder(model)
        conv = concrete_option("conv", self.conv, self.backbone_is_decoder)
        if conv != self.gnn.conv and self._pooled:
            warnings.warn(f"GlotPooling: conv='auto' built {self.gnn.conv} before it saw its backbone, and has pooled "
                          "since; it keeps it (set_backbone before training builds the backbone's conv).", stacklevel=2)
        elif conv != self.gnn.conv:  # on the device of the layers it replaces
            self.gnn = self._build_gnn(conv).to(next((p.device for p in self.gnn.parameters()), None))

    def _build_gnn(self, conv: str) -> TokenGNN:
        return TokenGNN(self.word_embedding_dimension, self.hidden_dim, self.num_layers, conv, self.jumping_knowledge,
                        self.dropout, self.sequence_window)

    @property
    def excludes_sink(self) -> bool:
        """Whether each sentence's first real token (a decoder's attention sink) is left out of the pooling."""
        return concrete_option("attention_sink", self.attention_sink, self.backbone_is_decoder) == "exclude"

    @property
    def token_norm(self) -> str:
        """The normalisation applied to each token state: ``input_norm``, with ``"auto"`` made concrete."""
        return concrete_option("input_norm", self.input_norm, self.backbone_is_decoder)

    def token_mask(self, attention_mask: Tensor, prompt_length: int | Tensor | None = None) -> Tensor:
        """The tokens this module pools: the real ones (``attention_mask``), less the attention sink when
        :attr:`excludes_sink`, less the prompt's ``prompt_length`` tokens when ``include_prompt`` is False."""
        return pooled_tokens(attention_mask, self.excludes_sink, self.include_prompt, prompt_length)

    # ------------------------------------------------------------------ pooling
    @property
    def _parameter_free(self) -> bool:  # mean, max, cls, last: computed on the padded batch, as Pooling does
        return self.num_layers == 0 and self.attention is None

    def pool(self, token_embeddings: Tensor, attention_mask: Tensor,
             prompt_length: int | Tensor | None = None) -> Tensor:
        """Sentence vectors ``(B, D)`` in float32 from token states and a ``(B, L)`` mask of the real tokens.

        ``token_embeddings`` is ``(B, L, d)``, or with ``layers`` set ``(B, L, len(layers), d)``: the chosen
        hidden layers in the order of ``layers`` (what the hidden-state cache stores). The pooled tokens are
        :meth:`token_mask` of the mask (``prompt_length``: as sentence-transformers' ``features``).
        """
        check_token_states(token_embeddings, 2, self.layers, self.word_embedding_dimension)
        mask = self.token_mask(attention_mask, prompt_length)
        if self._parameter_free:
            # padding may hold NaN (fully masked rows in some decoders): select, never multiply
            where = mask.view(*mask.shape, *([1] * (token_embeddings.dim() - 2)))
            return pool_padded(self._features(torch.where(where, token_embeddings, 0.0)), mask, self.readout)
        # Everything else runs on the N pooled tokens only: packing never reads padding (which may hold NaN
        # in some decoders), and the layer mix, the normalisation and every per-token layer skip it.
        nodes = PackedNodes.from_mask(mask)
        return self._pool_nodes(nodes.pack(token_embeddings), nodes, mask)

    def pool_packed(self, rows: Tensor, real: Tensor, prompt_length: int | Tensor | None = None) -> Tensor:
        """:meth:`pool` of token states that come packed: ``rows`` ``(N, d)`` (``(N, len(layers), d)`` with
        ``layers``) are the real tokens of the ``(B, L)`` mask ``real``, in order; they are pooled as they come,
        never padded (the training cache's layout and flash-attention's unpadded output)."""
        real = real.bool()
        check_token_states(rows, 1, self.layers, self.word_embedding_dimension)
        if self._parameter_free:  # these pool the padded batch, as sentence-transformers' Pooling does
            padded = rows.new_zeros(*real.shape, *rows.shape[1:])
            padded[real] = rows
            return self.pool(padded, real, prompt_length)
        mask = self.token_mask(real, prompt_length)
        return self._pool_nodes(rows[mask[real]], PackedNodes.from_mask(mask), mask)

    def _pool_nodes(self, states: Tensor, nodes: PackedNodes, mask: Tensor) -> Tensor:
        if self.num_layers and not self._pooled and self.conv == "auto" and self.backbone_is_decoder is None:
            warn_unresolved_backbone(stacklevel=4)
        self._pooled = True
        graph_options = {name: getattr(self, name) for name in GRAPH_OPTIONS}
        return pool_nodes(self._features(states), nodes, mask, self.gnn, self.attention, self.readout, graph_options)

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Reads ``token_embeddings`` (or, with ``layers``, ``all_layer_embeddings``) and ``attention_mask``
        (or flash-attention's unpadded ``cu_seq_lens_q``); writes ``sentence_embedding``."""
        x = features["token_embeddings"] if self.layers is None else layer_states(features, self.layers)
        if not x.is_floating_point():  # integer states would otherwise come back as integer "embeddings"
            x = x.to(torch.get_default_dtype())
        prompt_length = features.get("prompt_length")
        with torch.autocast(device_type=x.device.type, enabled=False):
            if "cu_seq_lens_q" in features:  # unpadded (flash-attention varlen) output: (1, total, ...)
                cu_seq_lens = features["cu_seq_lens_q"]
                z = self.pool_packed(varlen_rows(x, cu_seq_lens), varlen_mask(cu_seq_lens), prompt_length)
            else:
                check_token_states(x, 2, self.layers, self.word_embedding_dimension)
                z = self.pool(x, real_token_mask(x, features.get("attention_mask")), prompt_length)
        features["sentence_embedding"] = z.to(x.dtype)
        return features

    # ------------------------------------------------------------------ save / load
    def on_model_ready(self, model: Any) -> None:
        """sentence-transformers (6.0 and later) calls this once the model holding this module is built:
        :func:`~sentence_transformers_glot.assembly.prepare_model` gives the model GLOT's card, tells this module
        its backbone and, with ``layers``, makes the backbone emit its hidden states. (On 5.x, ``load_glot_model``
        calls it; for a model you assemble, call ``prepare_model(model, [pooling])``.)"""
        from sentence_transformers_glot.assembly import prepare_model

        prepare_model(model, [self])

    def save(self, output_path: str, *args: Any, safe_serialization: bool = True, **kwargs: Any) -> None:
        """Write ``config.json``, ``model.safetensors`` and their SHA-256 list (``glot_checksums.json``, which
        :meth:`load` verifies) to ``output_path``, each file atomically."""
        save_module(self.state_dict(), self.get_config_dict(), output_path)

    @classmethod
    def load_config(cls, model_name_or_path: str, subfolder: str = "", config_filename: str | None = None,
                    token: bool | str | None = None, cache_folder: str | None = None, revision: str | None = None,
                    local_files_only: bool = False) -> dict[str, Any]:
        """The keyword arguments of a saved GlotPooling: its ``config.json``, migrated from older format versions
        (:data:`~sentence_transformers_glot.saved_format.ADDED_KEYS`) and checked strictly (unknown or missing
        keys, a newer format, bad values each raise ``ValueError`` naming the file)."""
        return load_pooling_config(cls, str(model_name_or_path), config_filename, subfolder=subfolder, token=token,
                                   cache_folder=cache_folder, revision=revision, local_files_only=local_files_only)

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", token: bool | str | None = None,
             cache_folder: str | None = None, revision: str | None = None, local_files_only: bool = False,
             **kwargs: Any) -> GlotPooling:
        """Load a saved GlotPooling (:meth:`load_config`, then its weights); errors name the file and what is wrong
        with it. From a local folder its files are first checked against the SHA-256 lists the saves wrote (its
        own, and an exported model's), whichever loader called it (``SentenceTransformer``, ``load_glot_model``)."""
        return load_pooling(cls, str(model_name_or_path), subfolder=subfolder, token=token,
                            cache_folder=cache_folder, revision=revision, local_files_only=local_files_only)
