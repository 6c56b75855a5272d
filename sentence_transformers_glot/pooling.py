r"""``GlotPooling``: GLOT as a sentence-transformers module.

Given the token states :math:`X \in \mathbb{R}^{L \times d}` of a frozen backbone, GLOT

1. builds a token graph with an edge :math:`j \to i` when :math:`\cos(x_i, x_j) > \tau` (optionally only
   each token's ``top_k`` nearest tokens),
2. refines the tokens with ``num_layers`` GNN layers, :math:`h' = \mathrm{ReLU}(W[h_i \| \mathrm{AGG}_{j} h_j])`
   for the default ``conv="sage"``,
3. reads out :math:`z = \sum_i \pi_i u_i` with :math:`\pi = \mathrm{softmax}(v^\top \tanh(W_m u + b_m))`.

Beyond the paper, all off by default: ``layers`` mixes several hidden layers with learned softmax
weights (a scalar mix, :math:`x = \sum_l \mathrm{softmax}(s)_l X^{(l)}`) before the graph; ``input_norm``
normalises each token state first; ``sequence_window`` adds word-order relations to every GNN layer;
``edge_weight="cosine"`` weighs each similarity edge by its cosine.

Chain it after a ``Transformer`` exactly like ``Pooling``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from sentence_transformers_glot._compat import Module
from sentence_transformers_glot.decoders import model_is_decoder, warn_unresolved_backbone
from sentence_transformers_glot.nn.band import build_window_graph
from sentence_transformers_glot.nn.gnn import TokenGNN
from sentence_transformers_glot.nn.graph import build_graph
from sentence_transformers_glot.nn.node_features import mix_layers, normalize_inputs, stack_layers  # noqa: F401
from sentence_transformers_glot.nn.packing import PackedNodes, varlen_mask, varlen_rows
from sentence_transformers_glot.nn.readout import AttentionReadout, functional_readout
from sentence_transformers_glot.nn.similarity import normalize_tokens
from sentence_transformers_glot.nn.tokens import (
    check_token_states,
    finite_output,
    layer_states,
    pooled_tokens,
    real_token_mask,
)
from sentence_transformers_glot.options import (  # noqa: F401  (the choice tuples stay importable from here)
    ATTENTION_SINKS,
    BACKENDS,
    BASELINES,
    CONVS,
    EDGE_WEIGHTS,
    INPUT_NORMS,
    JUMPING_KNOWLEDGE,
    OPTION_NAMES,
    READOUTS,
    AttentionSink,
    Backend,
    Conv,
    EdgeWeight,
    GlotOptions,
    InputNorm,
    JumpingKnowledge,
    Readout,
    check_option,
    is_int,
    resolve_auto_options,
)
from sentence_transformers_glot.presets import PRESETS, baseline_options, preset_options, spread_layers
from sentence_transformers_glot.saved_format import (  # noqa: F401  (FORMAT_VERSION stays importable from here)
    ADDED_KEYS,
    CONFIG_NAME,
    FORMAT_VERSION,
    load_pooling,
    load_pooling_config,
    save_module,
)

__all__ = ["ATTENTION_SINKS", "BACKENDS", "BASELINES", "CONVS", "EDGE_WEIGHTS", "INPUT_NORMS", "JUMPING_KNOWLEDGE",
           "PRESETS", "READOUTS", "GlotPooling", "spread_layers", "stack_layers"]


class GlotPooling(Module):
    r"""GLOT pooling: cosine-similarity token graph, K GNN layers, attention readout.

    Args:
        word_embedding_dimension: dimension ``d`` of the backbone's token states.
        threshold: :math:`\tau` in ``[-1, 1]``; an edge joins two tokens whose cosine similarity is strictly
            greater. ``None`` keeps every pair (use with ``top_k``). The paper uses 0.8 on GLUE.
        top_k: if set, each token keeps only its ``top_k`` most similar other tokens (on top of the threshold).
            A sparse k-NN graph; what long documents need.
        num_layers: number of GNN layers ``K``; 0 skips the graph (an AdaPool-style pooler with the
            attention readout).
        hidden_dim: width of each GNN layer.
        conv: ``"sage"`` (the paper's :math:`W[h_i \| \mathrm{mean}_j h_j]`), ``"gat"`` (the reference code's
            default), ``"gcn"`` or ``"gin"``.
        jumping_knowledge: how layer outputs are combined: ``"cat"`` (:math:`[X \| h^1 \| \dots \| h^K]`,
            as the reference code), ``"none"`` (:math:`h^K`), ``"max"`` or ``"mean"`` over :math:`h^1..h^K`.
        readout: ``"attention"`` (learned, the paper's), or ``"mean"``, ``"max"``, ``"cls"``, ``"last"``.
        readout_hidden_dim: width of the attention scorer; ``None`` gives ``max(128, D // 2)``.
        dropout: dropout after each GNN layer, in training mode only.
        backend: ``"dense"`` (batched masked matmul over a ``(B, L, L)`` adjacency), ``"scatter"`` (CSR edge
            list over the real tokens), or ``"auto"`` (per batch, from the padded length and the graph's
            measured density; see :mod:`sentence_transformers_glot.nn.backend`).
        sequence_window: ``w > 0`` adds, in every GNN layer, messages from the ``w`` real tokens before and
            after each token, with their own weights per direction (R-GCN style; see
            :mod:`sentence_transformers_glot.nn.gnn`). 0 (the paper): the graph ignores word order.
        edge_weight: ``"binary"`` (the paper: every edge weighs 1) or ``"cosine"`` (an edge weighs its
            cosine similarity in the mean, sum, GCN normalisation and GAT softmax; edges with cosine <= 0
            are dropped).
        input_norm: ``"none"``, ``"layer"`` (LayerNorm without affine parameters) or ``"rms"``
            (:math:`x / \mathrm{rms}(x)`), applied to each token state before the graph and the GNN;
            ``"auto"`` (default) is ``"layer"`` when the backbone is decoder-only and ``"none"`` otherwise,
            learned from the backbone as ``attention_sink="auto"`` is. Decoders' states have norms in the tens
            to thousands (a middle layer's); unnormalised, their gradients swamp the head and the GNN trains
            poorly, while an encoder's states are already on a small scale.
        layers: hidden layers to pool, as indices into the backbone's ``hidden_states`` (0 is the embedding
            output, -1 the last layer). ``None`` reads ``token_embeddings`` (the last layer). With a list,
            the module reads ``features["all_layer_embeddings"]`` (the ``Transformer`` emits it when its
            model's ``config.output_hidden_states`` is True) and mixes the layers with learned softmax
            weights.
        include_prompt: as in sentence-transformers' ``Pooling``: ``False`` leaves the prompt's tokens
            (``features["prompt_length"]``, set by ``encode(..., prompt=...)``) out of the graph and the readout.
        attention_sink: a decoder's first position (its BOS token, or the first real token when the tokenizer
            adds none) is an attention sink: a state of huge norm that is nearly the same in every sentence.
            ``"exclude"`` leaves each sentence's first real token out of the graph and the readout (a sentence
            whose only token it is keeps it); ``"keep"`` pools it like any token; ``"auto"`` (default)
            excludes it when the backbone is decoder-only. The module learns that from the model it is part
            of (sentence-transformers >= 6 tells it; otherwise call :meth:`set_backbone`); until then
            ``"auto"`` keeps the token, with a warning.
        edge_density: with ``threshold="auto"``, the fraction of each sentence's ordered pairs of pooled tokens
            that become edges: the sentence's tau is its ``1 - edge_density`` similarity quantile, so one setting
            serves encoders and anisotropic decoders (whose cosines are all high) alike.
        graph_window: ``W``: similarity edges only between real tokens at most ``W`` positions apart
            (:func:`~sentence_transformers_glot.nn.band.build_window_graph`): time and memory linear in the
            length, for long documents; equal to the full graph when ``W`` covers the sentence. ``None`` (the
            paper): every pair. Always the edge-list backend.

    The graph and GNN always run in float32: parameters stay float32 even when the model is cast to
    fp16/bf16, and the output is cast back to the input's dtype.
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
        conv: Conv = "sage",
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
        # GlotOptions checks every option and stores numpy numbers as Python ones (config.json holds them)
        options = GlotOptions(
            threshold=threshold, top_k=top_k, num_layers=num_layers, hidden_dim=hidden_dim, conv=conv,
            jumping_knowledge=jumping_knowledge, readout=readout, readout_hidden_dim=readout_hidden_dim,
            dropout=dropout, backend=backend, sequence_window=sequence_window, edge_weight=edge_weight,
            input_norm=input_norm, layers=layers, include_prompt=include_prompt, attention_sink=attention_sink,
            edge_density=edge_density, graph_window=graph_window,
        )
        self.word_embedding_dimension = int(word_embedding_dimension)
        for name in OPTION_NAMES:
            setattr(self, name, getattr(options, name))
        # attention_sink/input_norm "auto": whether the backbone is a decoder, once the module has seen it
        self.backbone_is_decoder: bool | None = None

        # scalar mix of the chosen layers; zeros = equal weights (a single layer needs no weight)
        mixed = self.layers is not None and len(self.layers) > 1
        self.layer_weights = nn.Parameter(torch.zeros(len(self.layers))) if mixed else None
        self.gnn = TokenGNN(self.word_embedding_dimension, self.hidden_dim, self.num_layers, conv, jumping_knowledge,
                            self.dropout, self.sequence_window)
        self.output_dimension = self.gnn.out_dim
        if readout == "attention":
            scorer_dim = self.readout_hidden_dim or max(128, self.output_dimension // 2)
            self.attention = AttentionReadout(self.output_dimension, scorer_dim)
        else:
            self.attention = None

    # ------------------------------------------------------------------ presets
    @classmethod
    def baseline(cls, name: str, word_embedding_dimension: int, **kwargs: Any) -> GlotPooling:
        """A GlotPooling that reproduces a standard pooling exactly.

        ``"mean"``, ``"max"``, ``"cls"`` (first real token) and ``"last"`` (last real token) equal
        sentence-transformers' ``Pooling`` and have no parameters; ``"adapool"`` is the additive-attention
        pooler (GLOT with ``num_layers=0``), the AdaPool baseline of the GLOT paper. They take the same
        ``"auto"`` options as GLOT, so on a decoder backbone they leave out the sink and LayerNorm the states;
        ``attention_sink="keep", input_norm="none"`` gives the plain pooling there too.
        """
        return cls(word_embedding_dimension, **baseline_options(name, **kwargs))

    @classmethod
    def preset(cls, name: str, word_embedding_dimension: int, num_hidden_layers: int | None = None,
               **kwargs: Any) -> GlotPooling:
        """A named GLOT configuration from :data:`PRESETS`; ``kwargs`` override any of its options.

        ``"paper"`` is the paper's configuration (the constructor's defaults). ``"glot-plus"`` is the paper's
        GLOT with LayerNorm on the token states (``input_norm="layer"``) and a learned mix of 7 hidden
        layers spread from the embeddings to the last layer (:func:`spread_layers`), so it needs
        ``num_hidden_layers`` (the backbone's ``config.num_hidden_layers``) or an explicit ``layers=[...]``.
        A layer mix reads ``all_layer_embeddings``: sentence-transformers 6.x makes the ``Transformer`` emit
        them when the model is assembled; on 5.x set ``model[0].auto_model.config.output_hidden_states = True``
        (or ``Transformer(..., config_kwargs={"output_hidden_states": True})``; saved models keep it).
        """
        return cls(word_embedding_dimension, **preset_options(name, num_hidden_layers, **kwargs))

    # ------------------------------------------------------------------ ST interface
    def get_embedding_dimension(self) -> int:
        """Dimension of ``sentence_embedding`` (sentence-transformers >= 6 name)."""
        return self.output_dimension

    def get_sentence_embedding_dimension(self) -> int:
        """Dimension of ``sentence_embedding`` (sentence-transformers 5.x name)."""
        return self.output_dimension

    def get_config_dict(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, **{key: getattr(self, key) for key in self.config_keys}}

    def _apply(self, fn, recurse: bool = True):
        # sentence-transformers casts every module to the backbone's dtype; thresholds on half-precision
        # cosines flip edges, so keep float32 parameters and honour only device moves.
        def keep_fp32(t: Tensor) -> Tensor:
            out = fn(t)
            if t.dtype == torch.float32 and out.dtype in (torch.float16, torch.bfloat16):
                return t.to(out.device)
            return out

        return super()._apply(keep_fp32, recurse)

    # ------------------------------------------------------------------ inputs
    def _check_states(self, x: Tensor, leading: int) -> None:
        check_token_states(x, leading, self.layers, self.word_embedding_dimension)

    def mix_layers(self, states: Tensor) -> Tensor:
        """``(..., len(layers), d)`` states of the chosen layers -> ``(..., d)``, mixed by the learned softmax
        weights (:func:`~sentence_transformers_glot.nn.node_features.mix_layers`)."""
        return mix_layers(states, self.layer_weights)

    # ------------------------------------------------------------------ which tokens are pooled
    def set_backbone(self, model: Any) -> None:
        """Tell the ``"auto"`` options (``attention_sink``, ``input_norm``) what the backbone is: a
        ``SentenceTransformer`` holding this module, a ``Transformer`` module, a transformers model or config, a
        config dict, or a bool (decoder-only or not)."""
        self.backbone_is_decoder = model_is_decoder(model)

    def _concrete(self, name: str) -> str:
        """Option ``name`` with ``"auto"`` made concrete for the backbone
        (:func:`~sentence_transformers_glot.options.resolve_auto_options`); before the module has seen its
        backbone, an encoder's value, with a warning."""
        value = getattr(self, name)
        if value != "auto":
            return value
        if self.backbone_is_decoder is None:
            warn_unresolved_backbone()
        return resolve_auto_options({name: value}, bool(self.backbone_is_decoder))[name]

    @property
    def excludes_sink(self) -> bool:
        """Whether each sentence's first real token (a decoder's attention sink) is left out of the pooling."""
        return self._concrete("attention_sink") == "exclude"

    @property
    def token_norm(self) -> str:
        """The normalisation applied to each token state: ``input_norm``, with ``"auto"`` made concrete
        (``"layer"`` on a decoder backbone, ``"none"`` otherwise or before the module has seen its backbone)."""
        return self._concrete("input_norm")

    def token_mask(self, attention_mask: Tensor, prompt_length: int | Tensor | None = None) -> Tensor:
        """The tokens this module pools: the real ones (``attention_mask``), less the attention sink when
        :attr:`excludes_sink`, less the prompt's ``prompt_length`` tokens when ``include_prompt`` is False."""
        return pooled_tokens(attention_mask, self.excludes_sink, self.include_prompt, prompt_length)

    # ------------------------------------------------------------------ pooling
    @property
    def _parameter_free(self) -> bool:
        """The exact parameter-free poolings (mean, max, cls, last), computed on the padded batch."""
        return self.num_layers == 0 and self.attention is None

    def pool(self, token_embeddings: Tensor, attention_mask: Tensor,
             prompt_length: int | Tensor | None = None) -> Tensor:
        """Sentence vectors ``(B, D)`` in float32 from token states and a ``(B, L)`` mask of the real tokens.

        ``token_embeddings`` is ``(B, L, d)``, or with ``layers`` set ``(B, L, len(layers), d)``: the chosen
        hidden layers in the order of ``layers`` (what the hidden-state cache stores). The pooled tokens are
        :meth:`token_mask` of the mask (``prompt_length``: as sentence-transformers' ``features``).
        """
        self._check_states(token_embeddings, leading=2)
        mask = self.token_mask(attention_mask, prompt_length)
        if self._parameter_free:
            # padding may hold NaN (fully masked rows in some decoders): select, never multiply
            where = mask.view(*mask.shape, *([1] * (token_embeddings.dim() - 2)))
            x = torch.where(where, token_embeddings.float(), 0.0)
            x = normalize_inputs(self.mix_layers(x) if self.layers is not None else x, self.token_norm)
            z = functional_readout(self.readout)(x, mask) if x.shape[1] else x.new_zeros(len(x), x.shape[-1])
            return finite_output(z, x)
        # Everything else runs on the N pooled tokens only: packing never reads padding (which may hold NaN
        # in some decoders), and the layer mix, the normalisation and every per-token layer skip it.
        nodes = PackedNodes.from_mask(mask)
        return self._pool_nodes(nodes.pack(token_embeddings), nodes, mask)

    def pool_packed(self, rows: Tensor, real: Tensor, prompt_length: int | Tensor | None = None) -> Tensor:
        """:meth:`pool` of token states that come packed: ``rows`` ``(N, d)`` (``(N, len(layers), d)`` with
        ``layers``) are the real tokens of the ``(B, L)`` mask ``real``, in order; they are pooled as they come,
        never padded (the training cache's layout and flash-attention's unpadded output)."""
        return self._pool_unpadded(rows, real.bool(), prompt_length)

    def _pool_unpadded(self, rows: Tensor, real: Tensor, prompt_length: int | Tensor | None) -> Tensor:
        """:meth:`pool` of a flash-attention varlen batch: ``rows`` ``(total, [n,] d)`` are the real tokens of the
        ``(B, L)`` mask ``real``, in order; they are used packed as they come, never padded."""
        self._check_states(rows, leading=1)
        if self._parameter_free:  # these pool the padded batch, as sentence-transformers' Pooling does
            padded = rows.new_zeros(*real.shape, *rows.shape[1:])
            padded[real] = rows
            return self.pool(padded, real, prompt_length)
        mask = self.token_mask(real, prompt_length)
        return self._pool_nodes(rows[mask[real]], PackedNodes.from_mask(mask), mask)

    def _pool_nodes(self, x: Tensor, nodes: PackedNodes, mask: Tensor) -> Tensor:
        """Sentence vectors from the packed pooled tokens ``x`` ``(N, [n,] d)``: the ``nodes`` of the ``(B, L)``
        ``mask``, made once and shared by the graph, the GNN and the readout."""
        x = x.float()
        if self.layers is not None:
            x = self.mix_layers(x)
        x = normalize_inputs(x, self.token_norm)
        batch, length = nodes.batch_shape
        if length == 0:
            # No token position at all: a decoder tokenizer that adds no BOS on empty strings, or an unpadded
            # (cu_seq_lens_q) batch of empty rows. Every sentence is empty and pools to zeros, as an empty row
            # of a longer batch does; the max/cls/last reductions and the edge-list builder fail on L = 0.
            return x.new_zeros(batch, self.output_dimension)
        if self.num_layers > 0:
            if self.graph_window is not None:  # a band of W positions: linear in the length
                graph = build_window_graph(normalize_tokens(x), nodes, self.graph_window, self.threshold,
                                           self.top_k, edge_weight=self.edge_weight)
            else:
                # the graph needs the padded (B, L, d) unit vectors for its batched similarity; they are
                # scattered back once, after normalising only the real tokens
                unit = nodes.to_padded(normalize_tokens(x))
                graph = build_graph(unit, mask, self.threshold, self.top_k, self.backend, self.edge_weight,
                                    normalized=True, edge_density=self.edge_density, nodes=nodes)
            # the attention readout takes jumping knowledge's [x | h1 | h2] as blocks, so the concatenation is
            # never built
            h = self.gnn(x, graph, cat_blocks=self.attention is not None)
        else:
            h = x
        if self.attention is not None:
            z = self.attention(h, nodes.batch_index, nodes.ptr, batch)
        else:
            z = functional_readout(self.readout)(nodes.to_padded(h), mask)
        return finite_output(z, x)

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
                z = self._pool_unpadded(varlen_rows(x, cu_seq_lens), varlen_mask(cu_seq_lens), prompt_length)
            else:
                self._check_states(x, leading=2)
                z = self.pool(x, real_token_mask(x, features.get("attention_mask")), prompt_length)
        features["sentence_embedding"] = z.to(x.dtype)
        return features

    # ------------------------------------------------------------------ save / load
    def on_model_ready(self, model: Any) -> None:
        """sentence-transformers (6.0 and later) calls this once the model holding this module is built: give
        the model GLOT's card, so that a plain ``model.save`` or ``push_to_hub`` writes a README that says how
        to install the plugin and load the model, let the ``"auto"`` options see the backbone, and, with
        ``layers`` set, make the backbone emit its hidden states (``output_hidden_states``). (On 5.x,
        call ``use_glot_card(model)`` and :meth:`set_backbone` yourself; ``load_glot_model`` does both.)"""
        from sentence_transformers_glot.model_card import use_glot_card

        use_glot_card(model)
        try:
            self.set_backbone(model)
        except ValueError:  # no transformers backbone first: "auto" keeps the sink and normalises nothing
            pass
        if self.layers is not None:  # a layer mix reads all_layer_embeddings: make the backbone emit them
            config = getattr(getattr(model[0], "auto_model", None), "config", None)
            if config is not None:
                config.output_hidden_states = True

    def save(self, output_path: str, *args: Any, safe_serialization: bool = True, **kwargs: Any) -> None:
        """Write ``config.json``, ``model.safetensors`` and their SHA-256 list (``glot_checksums.json``, which
        :meth:`load` verifies) to ``output_path``, each file atomically."""
        save_module(self.state_dict(), self.get_config_dict(), output_path)

    @classmethod
    def load_config(
        cls,
        model_name_or_path: str,
        subfolder: str = "",
        config_filename: str | None = None,
        token: bool | str | None = None,
        cache_folder: str | None = None,
        revision: str | None = None,
        local_files_only: bool = False,
    ) -> dict[str, Any]:
        """The keyword arguments of a saved GlotPooling: its ``config.json``, migrated from older format versions
        (:data:`ADDED_KEYS`) and checked strictly (unknown or missing keys, a newer format, bad values each raise
        ``ValueError`` naming the file)."""
        return load_pooling_config(cls, str(model_name_or_path), config_filename, subfolder=subfolder, token=token,
                                   cache_folder=cache_folder, revision=revision, local_files_only=local_files_only)

    @classmethod
    def load(
        cls,
        model_name_or_path: str,
        subfolder: str = "",
        token: bool | str | None = None,
        cache_folder: str | None = None,
        revision: str | None = None,
        local_files_only: bool = False,
        **kwargs: Any,
    ) -> GlotPooling:
        """Load a saved GlotPooling (:meth:`load_config`, then its weights); errors name the file and what is wrong
        with it. From a local folder its files are first checked against the SHA-256 lists the saves wrote (its
        own, and an exported model's), whichever loader called it (``SentenceTransformer``, ``load_glot_model``)."""
        return load_pooling(cls, str(model_name_or_path), subfolder=subfolder, token=token,
                            cache_folder=cache_folder, revision=revision, local_files_only=local_files_only)


