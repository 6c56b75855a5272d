"""GlotPooling's contract: config checks, exact baselines, padding, dtypes, batch invariance, the prompt and the
attention sink left out, saved configs of every format version, and the module saved and loaded on its own."""

from __future__ import annotations

import json
import os

import pytest
import torch
from helpers import pooled, random_batch, to_left_padding, without_checksums

try:
    from sentence_transformers.sentence_transformer.modules import Pooling
except ImportError:  # sentence-transformers 5.x
    from sentence_transformers.models import Pooling

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.options import CONVS, READOUTS

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


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sequence_window": -1}, r"`sequence_window` must be an int in \[0, 4096\]"),
        ({"sequence_window": 1.5}, r"`sequence_window` must be an int in \[0, 4096\]"),
        ({"sequence_window": 2, "num_layers": 0}, r"`sequence_window`.*num_layers=0.*set num_layers >= 1"),
        ({"edge_weight": "soft"}, r"`edge_weight` must be one of \('binary', 'cosine'\)"),
        ({"input_norm": "batch"}, r"`input_norm` must be one of \('auto', 'none', 'layer', 'rms'\)"),
        ({"layers": []}, r"`layers` must be None or a non-empty list"),
        ({"layers": [1, 1]}, r"`layers` must be None or a non-empty list of distinct"),
        ({"layers": [1.0]}, r"`layers` must be None or a non-empty list"),
    ],
)
def test_bad_options_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GlotPooling(16, threshold=0.2, **kwargs)


def test_paper_defaults_and_output_dimension():
    pooling = GlotPooling(word_embedding_dimension=384)
    assert (pooling.threshold, pooling.num_layers, pooling.hidden_dim, pooling.conv) == (0.8, 2, 256, "auto")
    assert pooling.gnn.conv == "sage"  # conv="auto" before the module has seen its backbone: an encoder's
    assert pooling.get_embedding_dimension() == pooling.get_sentence_embedding_dimension() == 384 + 2 * 256
    assert GlotPooling(384, jumping_knowledge="none").get_embedding_dimension() == 256
    assert GlotPooling(384, num_layers=0).get_embedding_dimension() == 384
    x, mask = random_batch(3, 7, 384)
    out = pooling({"token_embeddings": x, "attention_mask": mask.long()})["sentence_embedding"]
    assert out.shape == (3, 896)


def test_defaults_add_no_parameters_and_keep_the_paper_state_dict():
    paper = GlotPooling(16, threshold=0.2)
    names = set(paper.state_dict())
    assert not any("sequence" in name or "layer_weights" in name for name in names)
    assert GlotPooling(16, threshold=0.2, edge_weight="binary", input_norm="none").state_dict().keys() == names


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
@pytest.mark.parametrize("conv", CONVS)
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


def test_each_row_alone_equals_its_row_of_the_batch():
    torch.manual_seed(0)
    module = GlotPooling(16, threshold=0.1, conv="gat", sequence_window=3, edge_weight="cosine",
                         input_norm="rms").eval()
    x, mask = random_batch(4, 10, 16, seed=6)
    batched = pooled(module, x, mask)
    for b in range(4):
        alone = pooled(module, x[b : b + 1, mask[b]], mask[b : b + 1, mask[b]])
        torch.testing.assert_close(alone[0], batched[b], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("backend", ["dense", "scatter"])
@pytest.mark.parametrize("conv", CONVS)
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


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    for conv in CONVS:
        pooling = GlotPooling(16, threshold=0.0, hidden_dim=8, conv=conv, dropout=0.1).train()
        x, mask = random_batch(4, 9, 16, seed=10)
        pooling.pool(x, mask).square().sum().backward()
        for name, p in pooling.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, (conv, name)


def test_pool_checks_the_stacked_layer_axis():
    module = GlotPooling(16, threshold=0.1, layers=[1, 2])
    with pytest.raises(ValueError, match=r"\(batch, length, 2, dim\)"):
        module.pool(torch.randn(2, 5, 16), torch.ones(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"hold 3 layers, but layers=\[1, 2\]"):
        module.pool(torch.randn(2, 5, 3, 16), torch.ones(2, 5, dtype=torch.bool))


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_include_prompt_false_pools_as_if_the_prompt_were_not_there(padding_side):
    torch.manual_seed(0)
    module = GlotPooling(16, threshold=0.1, sequence_window=1, include_prompt=False).eval()
    x, mask = random_batch(3, 9, 16, seed=2, padding_side=padding_side, min_length=4)
    prompt = 2
    with torch.no_grad():
        pooled_without = module({"token_embeddings": x, "attention_mask": mask, "prompt_length": prompt})
        alone = []
        for row, row_mask in zip(x, mask):
            rest = row[row_mask.bool()][prompt:]  # the sentence after its prompt, encoded on its own
            alone.append(module({"token_embeddings": rest[None], "attention_mask": torch.ones(1, len(rest))})[
                "sentence_embedding"][0])
        everything = module({"token_embeddings": x, "attention_mask": mask})["sentence_embedding"]
    torch.testing.assert_close(pooled_without["sentence_embedding"], torch.stack(alone), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(everything, pooled_without["sentence_embedding"])  # no prompt_length: every token


# -------------------------------------------------------------------------------------------------- the attention sink
@pytest.mark.parametrize("backend", ["dense", "scatter"])
@pytest.mark.parametrize("conv", CONVS)
def test_an_excluded_sink_pools_as_if_the_first_token_were_not_there(backend, conv):
    torch.manual_seed(0)
    x, mask = random_batch(4, 9, 16, seed=1, min_length=3)
    x[:, 0] *= 500.0  # a huge-norm first state, as a decoder's sink
    exclude = GlotPooling(16, threshold=0.2, hidden_dim=8, conv=conv, backend=backend, attention_sink="exclude")
    keep = GlotPooling(16, threshold=0.2, hidden_dim=8, conv=conv, backend=backend, attention_sink="keep")
    keep.load_state_dict(exclude.state_dict())
    expected = keep.pool(x[:, 1:], mask[:, 1:])  # right padding: the first real token is position 0
    assert torch.allclose(exclude.pool(x, mask), expected, atol=1e-5)
    x_left, mask_left = to_left_padding(x, mask)
    assert torch.allclose(exclude.pool(x_left, mask_left), expected, atol=1e-5)
    assert not torch.allclose(keep.pool(x, mask), expected, atol=1e-3)  # the sink did change the kept pooling


@pytest.mark.parametrize("name", ["mean", "max", "last", "adapool"])
def test_baselines_can_skip_the_sink_too(name):
    x, mask = random_batch(3, 6, 8, seed=2, min_length=2)
    pooled = GlotPooling.baseline(name, 8, attention_sink="exclude")
    plain = GlotPooling.baseline(name, 8, attention_sink="keep")
    plain.load_state_dict(pooled.state_dict())
    assert torch.allclose(pooled.pool(x, mask), plain.pool(x[:, 1:], mask[:, 1:]), atol=1e-6)


def test_auto_excludes_the_sink_on_decoders_only(tiny_llama_dir, tiny_bert_dir):
    from transformers import AutoConfig

    pooling = GlotPooling(8)
    with pytest.warns(RuntimeWarning, match="has not seen its backbone"):
        assert not pooling.excludes_sink
    pooling.set_backbone(AutoConfig.from_pretrained(tiny_llama_dir))
    assert pooling.excludes_sink
    pooling.set_backbone(AutoConfig.from_pretrained(tiny_bert_dir))
    assert not pooling.excludes_sink
    assert GlotPooling(8, attention_sink="keep").excludes_sink is False
    assert GlotPooling(8, attention_sink="exclude").excludes_sink is True
    with pytest.raises(ValueError, match="`attention_sink` must be one of"):
        GlotPooling(8, attention_sink="drop")


@pytest.mark.parametrize("parameter_free", [False, True])
def test_auto_input_norm_is_layer_norm_on_decoders_and_nothing_on_encoders(tiny_llama_dir, tiny_bert_dir,
                                                                            parameter_free):
    """``input_norm="auto"`` pools a decoder's states as ``"layer"`` does and an encoder's as ``"none"`` does;
    before the module has seen its backbone it normalises nothing, with a warning."""
    from transformers import AutoConfig

    x, mask = random_batch(3, 7, 16, seed=5, min_length=2)
    x = 40.0 * x + 3.0  # decoder-like: large and off-centre
    kwargs = {"num_layers": 0, "readout": "mean"} if parameter_free else {"threshold": 0.2, "hidden_dim": 8,
                                                                         "conv": "sage"}
    torch.manual_seed(0)
    auto = GlotPooling(16, attention_sink="keep", **kwargs)
    assert auto.input_norm == "auto"
    fixed = {norm: GlotPooling(16, attention_sink="keep", input_norm=norm, **kwargs) for norm in ("none", "layer")}
    for module in fixed.values():
        module.load_state_dict(auto.state_dict())
    with pytest.warns(RuntimeWarning, match="has not seen its backbone"):
        assert auto.token_norm == "none"
    for config_dir, norm in ((tiny_llama_dir, "layer"), (tiny_bert_dir, "none")):
        auto.set_backbone(AutoConfig.from_pretrained(config_dir))
        assert auto.token_norm == norm
        torch.testing.assert_close(auto.pool(x, mask), fixed[norm].pool(x, mask))
    assert not torch.allclose(fixed["none"].pool(x, mask), fixed["layer"].pool(x, mask), atol=1e-3)
    assert GlotPooling(16, input_norm="rms").token_norm == "rms"


# ------------------------------------------------------------------------------------------------------- saved configs
def test_a_version_1_config_loads_with_the_paper_defaults(tmp_path):
    torch.manual_seed(0)
    module = GlotPooling(16, threshold=0.2).eval()
    module.save(str(tmp_path))
    without_checksums(tmp_path)  # an older folder has no checksum list
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["format_version"] == 6
    old = {key: value for key, value in config.items()
           if key not in ("sequence_window", "edge_weight", "input_norm", "layers", "include_prompt",
                          "attention_sink", "edge_density", "graph_window")}
    old["format_version"] = 1
    (tmp_path / "config.json").write_text(json.dumps(old))
    loaded = GlotPooling.load(str(tmp_path))
    assert (loaded.sequence_window, loaded.edge_weight, loaded.input_norm, loaded.layers) == (0, "binary", "none", None)
    x, mask = random_batch(3, 7, 16, seed=1)
    assert torch.equal(pooled(loaded, x, mask), pooled(module, x, mask))


def test_a_version_2_config_loads_including_the_prompt(tmp_path):
    GlotPooling(16, threshold=0.2).save(str(tmp_path))
    without_checksums(tmp_path)  # an older folder has no checksum list
    config = json.loads((tmp_path / "config.json").read_text())
    for key in ("include_prompt", "attention_sink", "edge_density", "graph_window"):
        del config[key]
    config["format_version"] = 2
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert GlotPooling.load(str(tmp_path)).include_prompt is True
    # load_config (sentence-transformers' hook) gives the migrated keyword arguments, with no format_version
    config = GlotPooling.load_config(str(tmp_path))
    assert set(config) == set(GlotPooling.config_keys) and config["attention_sink"] == "keep"
    assert config["graph_window"] is None and config["edge_density"] == 0.05


def test_load_config_names_the_file_of_a_bad_value(tmp_path):
    GlotPooling(16).save(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "conv": "transformer"}))
    with pytest.raises(ValueError, match=r"`conv` must be one of .*\(in .*config.json\)"):
        GlotPooling.load_config(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no config.json"):
        GlotPooling.load_config(str(tmp_path / "missing"))


def test_a_current_config_must_be_complete(tmp_path):
    GlotPooling(16, threshold=0.2).save(str(tmp_path))
    without_checksums(tmp_path)  # an older folder has no checksum list
    config = json.loads((tmp_path / "config.json").read_text())
    del config["sequence_window"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"missing keys \['sequence_window'\]"):
        GlotPooling.load(str(tmp_path))


def test_configs_saved_before_attention_sink_load_keeping_every_token(tmp_path):
    pooling = GlotPooling(8, threshold=0.3, hidden_dim=4, attention_sink="exclude")
    pooling.save(str(tmp_path))
    without_checksums(tmp_path)  # an older folder has no checksum list
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["format_version"] == 6 and config["attention_sink"] == "exclude"
    for key in ("attention_sink", "edge_density", "graph_window"):
        config.pop(key)
    config["format_version"] = 3
    (tmp_path / "config.json").write_text(json.dumps(config))
    old = GlotPooling.load(str(tmp_path))
    assert old.attention_sink == "keep" and old.edge_density == 0.05
    x, mask = random_batch(2, 5, 8, seed=3)
    pooling.attention_sink = "keep"
    assert torch.equal(old.pool(x, mask), pooling.pool(x, mask))


def test_auto_threshold_round_trips_and_bad_values_name_the_parameter(tmp_path):
    pooling = GlotPooling(8, threshold="auto", edge_density=0.2, hidden_dim=4)
    pooling.save(str(tmp_path))
    loaded = GlotPooling.load(str(tmp_path))
    assert loaded.threshold == "auto" and loaded.edge_density == 0.2
    with pytest.raises(ValueError, match="`threshold` must be"):
        GlotPooling(8, threshold="0.8")
    with pytest.raises(ValueError, match="`edge_density` must be"):
        GlotPooling(8, threshold="auto", edge_density=0.0)


# --------------------------------------------------------------------- the module alone: saved, loaded, broken folders
def small_pooling() -> GlotPooling:
    torch.manual_seed(0)
    return GlotPooling(16, threshold=0.5, hidden_dim=8, conv="gat")


@pytest.fixture()
def saved_pooling(tmp_path) -> str:
    """A saved GlotPooling without its checksum list, so that the config and weight readers' own errors show."""
    small_pooling().save(str(tmp_path))
    without_checksums(tmp_path)
    return str(tmp_path)


DELETE = object()


def edit_config(folder: str, **changes) -> None:
    path = os.path.join(folder, "config.json")
    with open(path) as f:
        config = json.load(f)
    for key, value in changes.items():
        if value is DELETE:
            config.pop(key)
        else:
            config[key] = value
    with open(path, "w") as f:
        json.dump(config, f)


def test_round_trip_of_the_module_alone(saved_pooling):
    original = small_pooling()
    loaded = GlotPooling.load(saved_pooling)
    assert loaded.get_config_dict() == original.get_config_dict()
    assert loaded.state_dict().keys() == original.state_dict().keys()
    for name, tensor in original.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name]), name


@pytest.mark.parametrize(
    "changes,error",
    [
        ({"hidden_dim": 12}, r"weights in .*model\.safetensors.*has shape \(8, 16\), config implies \(12, 16\)"),
        ({"num_layers": 3}, r"missing gnn\.layers\.2"),
        ({"temperature": 0.1, "top_k": DELETE},
         r"config\.json.*unknown keys \['temperature'\], missing keys \['top_k'\]"),
        ({"format_version": 99}, r"config\.json has format_version 99.*Upgrade"),
        ({"threshold": 3.0}, r"`threshold`.*config\.json"),
    ],
    ids=["shape-mismatch", "missing-weights", "unknown-and-missing-keys", "newer-format", "invalid-value"],
)
def test_broken_config_gives_an_error_naming_file_and_problem(saved_pooling, changes, error):
    edit_config(saved_pooling, **changes)
    with pytest.raises(ValueError, match=error):
        GlotPooling.load(saved_pooling)


def test_truncated_weights(saved_pooling):
    path = os.path.join(saved_pooling, "model.safetensors")
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot read .*model.safetensors"):
        GlotPooling.load(saved_pooling)


def test_config_that_is_not_json_names_the_file(saved_pooling):
    with open(os.path.join(saved_pooling, "config.json"), "w") as f:
        f.write('{"word_embedding_dimension": 16,')  # cut off mid-write by some other tool
    with pytest.raises(ValueError, match=r"config\.json: not valid JSON \(.*line 1 column"):
        GlotPooling.load(saved_pooling)


@pytest.mark.parametrize("options", [{"conv": conv} for conv in CONVS] + [{"num_layers": 0, "readout": readout}
                                                                          for readout in READOUTS])
def test_pooling_packed_states_equals_pooling_the_padded_batch(options):
    """The training path (the cache's packed rows) gives the padded path's vectors exactly."""
    torch.manual_seed(0)
    pooling = GlotPooling(16, threshold=0.2, hidden_dim=8, attention_sink="exclude", input_norm="layer", **options)
    x, mask = random_batch(5, 9, 16, seed=3, min_length=2)
    assert torch.equal(pooling.pool_packed(x[mask], mask), pooling.pool(x, mask))


def test_names_that_moved_out_stay_importable_from_the_pooling_module():
    import sentence_transformers_glot.pooling as pooling_module
    from sentence_transformers_glot import nn, options, presets, saved_format  # noqa: F401

    for name in pooling_module.__all__:
        assert getattr(pooling_module, name) is not None
    from sentence_transformers_glot.pooling import ADDED_KEYS, CONVS, PRESETS, stack_layers

    assert CONVS is options.CONVS and PRESETS is presets.PRESETS and ADDED_KEYS is saved_format.ADDED_KEYS
    assert stack_layers.__module__ == "sentence_transformers_glot.nn.node_features"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        pooling_module.nothing  # noqa: B018


def test_conv_auto_builds_gat_on_a_decoder_and_sage_on_an_encoder_once_it_knows_the_backbone(tiny_llama_dir,
                                                                                          tiny_bert_dir, tmp_path):
    """conv="auto": SAGE until the backbone is known; set_backbone (or sentence-transformers 6's on_model_ready)
    builds the backbone's conv before training; a saved model records the conv it built and loads as it."""
    import warnings

    from helpers import glot_model

    from sentence_transformers_glot import load_glot_model

    pooling = GlotPooling(16, threshold=0.2, hidden_dim=8)
    assert pooling.gnn.conv == "sage" and pooling.get_config_dict()["conv"] == "sage"
    pooling.set_backbone(True)
    assert pooling.gnn.conv == "gat" and pooling.get_config_dict()["conv"] == "gat" and pooling.conv == "auto"
    assert any("att" in name for name in pooling.state_dict())  # GAT's attention vectors
    pooling.set_backbone(False)
    assert pooling.gnn.conv == "sage"
    # a module that pooled before it knew its backbone keeps its (trained) layers, with a warning
    used = GlotPooling(16, threshold=0.2, hidden_dim=8, attention_sink="keep", input_norm="none")
    x, mask = random_batch(2, 5, 16)
    with pytest.warns(RuntimeWarning, match="conv='auto' is SAGE"):
        used.pool(x, mask)
    before = {k: v.clone() for k, v in used.state_dict().items()}
    with pytest.warns(UserWarning, match="keeps it"):
        used.set_backbone(True)
    assert used.gnn.conv == "sage" and all(torch.equal(before[k], v) for k, v in used.state_dict().items())
    # a model: the decoder's GAT, saved as "gat"; a model saved with an explicit conv keeps it on any backbone
    model = glot_model(tiny_llama_dir, threshold=0.2, hidden_dim=8)
    model[1].set_backbone(model)  # what sentence-transformers 6 does when the model is built
    assert model[1].gnn.conv == "gat"
    model.save(str(tmp_path / "decoder"))
    loaded = load_glot_model(str(tmp_path / "decoder"))
    assert loaded[1].conv == "gat" and loaded[1].gnn.conv == "gat"
    assert all(torch.equal(a, b) for a, b in zip(model[1].state_dict().values(), loaded[1].state_dict().values()))
    old = glot_model(tiny_llama_dir, threshold=0.2, hidden_dim=8, conv="sage")
    old.save(str(tmp_path / "sage"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_glot_model(str(tmp_path / "sage"))[1].gnn.conv == "sage"
    assert glot_model(tiny_bert_dir, threshold=0.2, hidden_dim=8)[1].gnn.conv == "sage"
