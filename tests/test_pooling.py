"""GlotPooling's contract: config checks, exact baselines, padding, dtypes, and batch invariance."""

from __future__ import annotations

import pytest
import torch
from helpers import random_batch, to_left_padding

try:
    from sentence_transformers.sentence_transformer.modules import Pooling
except ImportError:  # sentence-transformers 5.x
    from sentence_transformers.models import Pooling

from sentence_transformers_glot import GlotPooling

ST_MODES = {"mean": "mean", "max": "max", "cls": "cls", "last": "lasttoken"}


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"threshold": 1.5}, "threshold"),
        ({"threshold": -1.01}, "threshold"),
        ({"threshold": "high"}, "threshold"),
        ({"num_layers": -1}, "num_layers"),
        ({"num_layers": 1.5}, "num_layers"),
        ({"conv": "transformer"}, "conv"),
        ({"readout": "sum"}, "readout"),
        ({"backend": "cuda"}, "backend"),
        ({"top_k": 0}, "top_k"),
        ({"top_k": True}, "top_k"),
        ({"hidden_dim": 0}, "hidden_dim"),
        ({"jumping_knowledge": "lstm"}, "jumping_knowledge"),
        ({"dropout": 1.0}, "dropout"),
        ({"readout_hidden_dim": 0}, "readout_hidden_dim"),
        ({"threshold": None, "top_k": None}, "threshold"),
    ],
)
def test_invalid_config_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        GlotPooling(16, **kwargs)


def test_invalid_choice_lists_allowed_values():
    with pytest.raises(ValueError, match="'sage', 'gat', 'gcn', 'gin'"):
        GlotPooling(16, conv="gatv2")
    with pytest.raises(ValueError, match="word_embedding_dimension"):
        GlotPooling(0)
    with pytest.raises(ValueError, match="one of"):
        GlotPooling.baseline("median", word_embedding_dimension=16)


def test_paper_defaults_and_output_dimension():
    pooling = GlotPooling(word_embedding_dimension=384)
    assert (pooling.threshold, pooling.num_layers, pooling.hidden_dim, pooling.conv) == (0.8, 2, 256, "sage")
    assert pooling.get_embedding_dimension() == pooling.get_sentence_embedding_dimension() == 384 + 2 * 256
    assert GlotPooling(384, jumping_knowledge="none").get_embedding_dimension() == 256
    assert GlotPooling(384, num_layers=0).get_embedding_dimension() == 384
    x, mask = random_batch(3, 7, 384)
    out = pooling({"token_embeddings": x, "attention_mask": mask.long()})["sentence_embedding"]
    assert out.shape == (3, 896)


@pytest.mark.parametrize("mode", ["mean", "max", "cls", "last"])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_presets_equal_sentence_transformers_pooling(mode, padding_side, dtype):
    x, mask = random_batch(8, 11, 32, seed=3, padding_side=padding_side)
    x = x.to(dtype)
    ours = GlotPooling.baseline(mode, word_embedding_dimension=32)
    assert sum(p.numel() for p in ours.parameters()) == 0
    theirs = Pooling(32, pooling_mode=ST_MODES[mode])
    # Half-precision inputs: the reference is Pooling on the fp32 values, rounded once to the input dtype
    # (what sentence-transformers 6 computes; 5.x also accumulated the mean in half precision).
    expected = theirs({"token_embeddings": x.float(), "attention_mask": mask.long()})["sentence_embedding"]
    got = ours({"token_embeddings": x, "attention_mask": mask.long()})["sentence_embedding"]
    assert got.dtype == dtype
    assert torch.allclose(got.float(), expected.to(dtype).float(), atol=1e-6, rtol=0)


def test_adapool_preset_is_masked_additive_attention():
    torch.manual_seed(0)
    x, mask = random_batch(4, 9, 16, seed=4)
    pooling = GlotPooling.baseline("adapool", word_embedding_dimension=16)
    readout = pooling.attention
    out = pooling.pool(x, mask)
    for b in range(4):
        tokens = x[b, mask[b]]
        weights = torch.softmax(readout.score(torch.tanh(readout.proj(tokens))).squeeze(-1), 0)
        assert torch.allclose(out[b], weights @ tokens, atol=1e-6)


@pytest.mark.parametrize("backend", ["dense", "scatter"])
@pytest.mark.parametrize("conv", ["sage", "gat", "gcn", "gin"])
def test_left_and_right_padding_give_identical_embeddings(backend, conv):
    torch.manual_seed(0)
    x, mask = random_batch(6, 10, 16, seed=5)
    x_left, mask_left = to_left_padding(x, mask)
    pooling = GlotPooling(16, threshold=0.2, hidden_dim=8, conv=conv, backend=backend).eval()
    assert torch.allclose(pooling.pool(x, mask), pooling.pool(x_left, mask_left), atol=1e-5)


@pytest.mark.parametrize("backend", ["dense", "scatter"])
def test_batch_invariance(backend):
    """A sentence's embedding does not depend on its batch mates or on the padded length."""
    torch.manual_seed(0)
    x, mask = random_batch(8, 14, 24, seed=6)
    pooling = GlotPooling(24, threshold=0.3, hidden_dim=16, conv="gat", backend=backend).eval()
    batched = pooling.pool(x, mask)
    for b in range(8):
        n = int(mask[b].sum())
        alone = pooling.pool(x[b : b + 1, :n], mask[b : b + 1, :n])
        padded = torch.cat([x[b : b + 1, :n], torch.randn(1, 20, 24)], 1)
        padded_mask = torch.cat([mask[b : b + 1, :n], torch.zeros(1, 20, dtype=torch.bool)], 1)
        assert (alone[0] - batched[b]).abs().max() <= 1e-5
        assert (pooling.pool(padded, padded_mask)[0] - batched[b]).abs().max() <= 1e-5


@pytest.mark.parametrize("backend", ["dense", "scatter"])
@pytest.mark.parametrize("conv", ["sage", "gat", "gcn", "gin"])
def test_single_token_and_edgeless_sentences_are_finite(backend, conv):
    pooling = GlotPooling(8, threshold=0.99, conv=conv, backend=backend)
    x = torch.randn(3, 5, 8)
    mask = torch.tensor([[1, 0, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=torch.bool)
    out = pooling.pool(x, mask)
    assert torch.isfinite(out).all()
    assert torch.equal(out[2], torch.zeros_like(out[2])), "a sentence without tokens pools to zeros"


def test_wrong_dimension_names_both_numbers():
    pooling = GlotPooling(32)
    with pytest.raises(ValueError, match=r"dimension 48.*word_embedding_dimension=32"):
        pooling({"token_embeddings": torch.randn(2, 5, 48), "attention_mask": torch.ones(2, 5)})


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("make", [lambda: GlotPooling(8), lambda: GlotPooling.baseline("mean", 8),
                                  lambda: GlotPooling.baseline("adapool", 8)], ids=["glot", "mean", "adapool"])
def test_non_finite_tokens_raise(bad, make):
    x = torch.randn(2, 5, 8)
    x[1, 2, 3] = bad
    with pytest.raises(ValueError, match="NaN or Inf"):
        make()({"token_embeddings": x, "attention_mask": torch.ones(2, 5)})


def test_non_finite_padding_is_ignored():
    """Decoders can leave NaN in fully masked positions; they are not tokens, so they must not leak."""
    x, mask = random_batch(3, 6, 8, seed=7, padding_side="left")
    clean = GlotPooling(8, threshold=0.0).eval()
    expected = clean.pool(x, mask)
    x = x.masked_fill(~mask[..., None], float("nan"))
    assert torch.allclose(clean.pool(x, mask), expected, atol=1e-6)


def test_graph_runs_in_fp32_when_the_model_is_cast_to_half():
    torch.manual_seed(0)
    pooling = GlotPooling(16, threshold=0.2, hidden_dim=8)
    x, mask = random_batch(4, 9, 16, seed=8)
    x = x.to(torch.bfloat16)
    expected = pooling.pool(x, mask)  # fp32 parameters, fp32 maths on the bf16 input
    pooling.to(torch.bfloat16)
    pooling.half()
    assert all(p.dtype == torch.float32 for p in pooling.parameters())
    out = pooling({"token_embeddings": x, "attention_mask": mask})["sentence_embedding"]
    assert out.dtype == torch.bfloat16
    assert torch.allclose(out.float(), expected.to(torch.bfloat16).float())


def test_unpadded_flash_attention_input_matches_padded():
    torch.manual_seed(0)
    x, mask = random_batch(4, 7, 16, seed=9)
    pooling = GlotPooling(16, threshold=0.2).eval()
    padded = pooling({"token_embeddings": x, "attention_mask": mask})["sentence_embedding"]
    lengths = mask.sum(1)
    flat = x[mask].unsqueeze(0)
    cu = torch.cat([torch.zeros(1, dtype=torch.int32), lengths.cumsum(0).int()])
    unpadded = pooling({"token_embeddings": flat, "cu_seq_lens_q": cu})["sentence_embedding"]
    assert torch.allclose(padded, unpadded, atol=1e-6)


@pytest.mark.parametrize("options", [
    {"attention_sink": "exclude"},
    {"layers": [0, 1], "input_norm": "layer"},
    {"readout": "mean", "num_layers": 0},
    {"readout": "last", "num_layers": 2, "conv": "gat"},
    {"graph_window": 3},
])
def test_unpadded_input_matches_padded_for_every_route(options):
    """The varlen rows are pooled as they come (no padding) on the GLOT route, and padded for the exact
    parameter-free poolings: both equal the padded batch, with the sink left out, a layer mix or a window."""
    torch.manual_seed(0)
    layers = options.get("layers")
    x, mask = random_batch(4, 7, 16, seed=9)
    if layers is not None:
        x = torch.stack([x, 0.5 * x.flip(-1)], dim=2)
    pooling = GlotPooling(16, threshold=0.2, **options).eval()
    padded = pooling.pool(x, mask)
    cu = torch.cat([torch.zeros(1, dtype=torch.int32), mask.sum(1).cumsum(0).int()])
    features = {"token_embeddings": x[mask].unsqueeze(0), "cu_seq_lens_q": cu}
    if layers is not None:
        features = {"all_layer_embeddings": [x[mask][:, 0].unsqueeze(0), x[mask][:, 1].unsqueeze(0)],
                    "token_embeddings": features["token_embeddings"][..., 0, :], "cu_seq_lens_q": cu}
    unpadded = pooling(features)["sentence_embedding"]
    torch.testing.assert_close(unpadded, padded, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("options", [{"backend": "dense"}, {"backend": "scatter"}, {"graph_window": 4},
                                     {"conv": "gat", "sequence_window": 1}, {"readout": "max"}])
def test_the_packed_layout_is_made_once_per_forward(monkeypatch, options):
    """Pack once: the PackedNodes that pooling makes reach the graph builders, the GNN and the readout."""
    from sentence_transformers_glot.nn.packing import PackedNodes

    made = []
    original = PackedNodes.from_mask.__func__
    monkeypatch.setattr(PackedNodes, "from_mask", classmethod(lambda cls, m: made.append(1) or original(cls, m)))
    x, mask = random_batch(3, 8, 16, seed=2)
    GlotPooling(16, threshold=0.0, **options)({"token_embeddings": x, "attention_mask": mask})
    assert made == [1]


def test_varlen_helpers_read_the_unpadded_layout():
    from sentence_transformers_glot.nn.packing import PackedNodes, split_varlen, varlen_mask, varlen_rows

    cu = torch.tensor([0, 2, 2, 5], dtype=torch.int32)  # lengths 2, 0, 3
    mask = varlen_mask(cu)
    assert mask.tolist() == [[True, True, False], [False, False, False], [True, True, True]]
    x = torch.arange(12.0).view(1, 6, 2)  # one trailing row beyond cu[-1] is not a token
    assert torch.equal(varlen_rows(x, cu), x[0, :5])
    assert [part.shape[0] for part in split_varlen(x, cu)] == [2, 0, 3]
    nodes = PackedNodes.from_mask(mask)
    assert nodes.batch_index.tolist() == [0, 0, 2, 2, 2] and nodes.ptr.tolist() == [0, 2, 2, 5]
    assert torch.equal(nodes.pack(nodes.to_padded(varlen_rows(x, cu))), varlen_rows(x, cu))
    assert varlen_mask(torch.zeros(1, dtype=torch.int32)).shape == (0, 0)


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    for conv in ("sage", "gat", "gcn", "gin"):
        pooling = GlotPooling(16, threshold=0.0, hidden_dim=8, conv=conv, dropout=0.1).train()
        x, mask = random_batch(4, 9, 16, seed=10)
        pooling.pool(x, mask).square().sum().backward()
        for name, p in pooling.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, (conv, name)


def test_readout_on_column_blocks_equals_the_tanh_formula_on_their_concatenation():
    """Jumping knowledge's blocks are never concatenated, and the scores use 2 sigma(2a) - 1 = tanh(a) with the
    constant dropped: both must give the paper's softmax(v^T tanh(W u + b)) weighted sum."""
    from sentence_transformers_glot.nn.packing import PackedNodes
    from sentence_transformers_glot.nn.readout import AttentionReadout

    torch.manual_seed(0)
    x, mask = random_batch(4, 7, 24, seed=5)
    readout = AttentionReadout(24, 16)
    with torch.no_grad():  # large scores, far from tanh's linear range, so a wrong identity would show
        readout.proj.weight.mul_(8)
        readout.score.weight.mul_(8)
    nodes = PackedNodes.from_mask(mask)
    u = nodes.pack(x)
    blocks = readout([u[:, :8], u[:, 8:20], u[:, 20:]], nodes.batch_index, nodes.ptr, 4)
    whole = readout(u, nodes.batch_index)
    expected = []
    for b in range(4):
        tokens = x[b, mask[b]]
        weights = torch.softmax(readout.score(torch.tanh(readout.proj(tokens))).squeeze(-1), 0)
        expected.append(weights @ tokens)
    torch.testing.assert_close(blocks, whole, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(whole, torch.stack(expected), atol=1e-5, rtol=1e-5)


def test_packed_attention_readout_equals_the_padded_one():
    from sentence_transformers_glot.nn.packing import PackedNodes
    from sentence_transformers_glot.nn.readout import AttentionReadout

    torch.manual_seed(0)
    x, mask = random_batch(5, 9, 16, seed=11)
    mask[2] = False  # an empty sentence pools to zeros on both paths
    readout = AttentionReadout(16, 8)
    nodes = PackedNodes.from_mask(mask)
    packed = readout(nodes.pack(x), nodes.batch_index, nodes.ptr, 5)
    # the padded formula, as a reader would write it: softmax over each row's real tokens
    scores = readout.score(torch.tanh(readout.proj(x))).squeeze(-1).masked_fill(~mask, float("-inf"))
    weights = torch.nan_to_num(torch.softmax(scores, dim=-1))  # the empty row: all -inf -> NaN -> 0
    padded = torch.einsum("bl,bld->bd", weights, torch.where(mask[..., None], x, 0.0))
    assert torch.allclose(packed, padded, atol=1e-6)
    assert torch.equal(packed[2], torch.zeros(16))
    # dim_size and ptr default from the index (PyG's convention): the same vectors
    assert torch.equal(readout(nodes.pack(x), nodes.batch_index, dim_size=5), packed)
    pi = readout.weights(nodes.pack(x), nodes.batch_index, nodes.ptr, 5)
    assert torch.allclose(nodes.to_padded(pi[:, None]).squeeze(-1), weights, atol=1e-6)


def test_packed_readout_sparse_product_matches_the_segment_sum(monkeypatch):
    """Encoding (no gradient) takes the weighted sums as one CSR product, other devices and training take segment
    sums: the two agree, with an empty sentence in the batch; with gradients the segment path runs."""
    from sentence_transformers_glot.nn import functional
    from sentence_transformers_glot.nn import readout as readout_module
    from sentence_transformers_glot.nn.packing import PackedNodes
    from sentence_transformers_glot.nn.readout import AttentionReadout

    torch.manual_seed(0)
    x, mask = random_batch(5, 9, 16, seed=3)
    mask[1] = False
    readout = AttentionReadout(16, 8)
    nodes = PackedNodes.from_mask(mask)
    built = []
    monkeypatch.setattr(readout_module, "segment_matrix", lambda *a: built.append(1) or functional.segment_matrix(*a))

    def pooled():
        with torch.no_grad():
            u = nodes.pack(x)
            return readout([u[:, :5], u[:, 5:]], nodes.batch_index, nodes.ptr, 5)

    sparse = pooled()
    assert built == [1]
    monkeypatch.setattr(readout_module, "SPARSE_DEVICES", ())
    segment = pooled()
    assert built == [1]
    assert torch.equal(sparse[1], torch.zeros(16))
    torch.testing.assert_close(sparse, segment, atol=1e-6, rtol=1e-5)
    monkeypatch.setattr(readout_module, "SPARSE_DEVICES", ("cpu", "cuda"))
    u = nodes.pack(x).requires_grad_()
    readout(u, nodes.batch_index, nodes.ptr, 5).sum().backward()
    assert built == [1] and u.grad is not None
